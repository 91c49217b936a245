"""Shared by the console tests: a synced Fiken sandbox tenant with push = "approve", users, a
logged-in client."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import TOKEN, fiken_config

from connector.clock import Clock
from connector.config import load_config
from connector.console.app import Console
from connector.console.auth import hash_password
from connector.console.serve import make_console
from connector.store import Store, open_store
from providers.fiken.sandbox import FikenSandbox

PASSWORD = "correct horse battery"
USERS = {"ada": "admin", "alf": "approver", "vera": "viewer"}


def approve_config(tmp_path: Path, sandbox: FikenSandbox, monkeypatch: object) -> Path:
    monkeypatch.setenv("FIKEN_E2E_TOKEN", TOKEN)  # type: ignore[attr-defined]
    return fiken_config(
        tmp_path / "kravsync.toml",
        sandbox,
        token_env="FIKEN_E2E_TOKEN",
        extra='push = "approve"\n\n[tenants.validation]\npostcode_register_source = "fixture"\n',
    )


def console_for(config_path: Path, clock: Clock, *, warm: bool = True) -> tuple[Console, Store]:
    """A console as `kravsync console` starts it: with ``warm``, its figures worked out (the
    server starts that at once) before the first page is asked for."""
    config = load_config(config_path)
    store = open_store(config.store_url(), clock)
    for name, role in USERS.items():
        store.put_user(name, role, hash_password(PASSWORD))
    console = make_console(config, store, clock, secure=False)
    if warm:
        console.warm()
        assert console.review.wait_idle()
    return console, store


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)
