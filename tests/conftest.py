"""Shared fixtures: a clock, a Fiken sandbox on it, and a config file whose one tenant ("fjord")
points at that sandbox.

No test reads the real date: the clock guard is on for this process and every process it starts,
so a clock read without an injected :class:`Clock` raises (see ``connector/clock.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from connector.cli import main
from connector.clock import GUARD_ENV, START_ENV, Clock
from connector.models import ActionStage, ReminderAction
from providers.fiken.sandbox import FikenSandbox

os.environ[GUARD_ENV] = "1"
pytest_plugins = ("backends",)  # both store back-ends: the `backend`, `store_url`, `make_store` fixtures

TODAY = date(2026, 11, 23)
TOKEN = "e2e-token"


def reminder_action(tenant: str = "fjord") -> ReminderAction:
    """A first reminder on invoice 1 of ``tenant``: what the lease and worker tests journal."""
    return ReminderAction(
        tenant=tenant,
        invoice_id="1",
        invoice_number="1",
        customer_id="c1",
        stage=ActionStage.REMINDER,
        sequence=1,
        planned_on=TODAY,
        currency="NOK",
        outstanding="100.00",
    )


def clock_env(day: date = TODAY) -> dict[str, str]:
    """The environment for a ``kravsync`` subprocess whose clock starts at noon on ``day``."""
    return {**os.environ, START_ENV: f"{day.isoformat()}T12:00:00+01:00"}


@pytest.fixture
def clock() -> Clock:
    """The test's clock: noon on TODAY (Nordic time), ticking. Shared with the sandbox."""
    return Clock.starting_at(TODAY)


def fiken_config(
    path: Path,
    sandbox: FikenSandbox,
    *,
    token_env: str,
    extra: str = "",
    store_url: str = "sqlite:///state.db",
) -> Path:
    """Write a kravsync.toml with one Fiken tenant "fjord" on ``sandbox`` (token from env)."""
    path.write_text(
        f"""
[store]
url = "{store_url}"

[[tenants]]
name = "fjord"
provider = "fiken"
country = "NO"
company = "{sandbox.company}"
base_url = "{sandbox.base_url}"
credentials = "env:{token_env}"
{extra}""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[FikenSandbox]:
    with FikenSandbox(clock=clock, token=TOKEN) as sb:
        yield sb


Kravsync = Callable[..., int]


@pytest.fixture
def kravsync(config: Path, clock: Clock) -> Kravsync:
    """``kravsync(*args)``: the CLI on the ``config`` fixture, on the test's clock."""
    return lambda *args: main(["--config", str(config), *args], clock=clock)


@pytest.fixture
def config(
    tmp_path: Path, sandbox: FikenSandbox, monkeypatch: pytest.MonkeyPatch, store_url: str
) -> Path:
    """A config for the `sandbox` fixture; Norwegian postcodes from the shipped extract."""
    monkeypatch.setenv("FIKEN_E2E_TOKEN", TOKEN)
    return fiken_config(
        tmp_path / "kravsync.toml",
        sandbox,
        store_url=store_url,
        token_env="FIKEN_E2E_TOKEN",
        extra='\n[tenants.validation]\npostcode_register_source = "fixture"\n',
    )


_LOOPBACK = {"127.0.0.1", "localhost", "::1", "", None}


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the internet: name look-ups and connections off loopback fail loudly."""
    import socket

    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host not in _LOOPBACK and not str(host).startswith("127."):
            raise OSError(f"test tried to reach {host!r}: no test touches the internet")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):  # type: ignore[no-untyped-def]
        host = address[0] if isinstance(address, tuple) else None
        if isinstance(address, tuple) and host not in _LOOPBACK and not str(host).startswith("127."):
            raise OSError(f"test tried to connect to {address!r}: no test touches the internet")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
