"""The Tripletex user journey on the command line: auth, discover the bureau's clients, sync."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from connector.cli import main
from connector.clock import Clock
from connector.config import load_config
from providers.tripletex.auth import forget_sessions
from providers.tripletex.sandbox import TripletexSandbox
from providers.tripletex.sandbox import seed as s

pytestmark = pytest.mark.e2e
TODAY = date(2026, 11, 23)


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.data.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    forget_sessions()
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def clock() -> Clock:
    return Clock.starting_at(TODAY)


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[TripletexSandbox]:
    with TripletexSandbox(clock=clock, rate_limit=False) as sb:
        yield sb


def write_config(
    path: Path, sandbox: TripletexSandbox, extra: str = "", company: str = "0"
) -> Path:
    path.write_text(
        f"""
[store]
url = "sqlite:///state.db"

[[tenants]]
name = "byraa"
provider = "tripletex"
country = "NO"
company = "{company}"
base_url = "{sandbox.base_url}"
credentials = "keyring"
{extra}""",
        encoding="utf-8",
    )
    return path


def answers(monkeypatch: pytest.MonkeyPatch, *secrets: str) -> None:
    given = iter(secrets)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(given))


def test_auth_checks_both_tokens_with_a_session_and_who_am_i(
    tmp_path: Path, sandbox: TripletexSandbox, memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], clock: Clock,
) -> None:  # fmt: skip
    config = write_config(tmp_path / "kravsync.toml", sandbox)
    answers(monkeypatch, sandbox.consumer_token, f" {sandbox.employee_token} ")
    assert main(["--config", str(config), "auth", "byraa"], clock=clock) == 0
    stored = json.loads(memory_keyring.data[("kravsync", "byraa")])
    assert stored == {
        "consumer_token": sandbox.consumer_token,
        "employee_token": sandbox.employee_token,
    }
    out = capsys.readouterr()
    assert "Siri Åsheim" in out.err and "Fjordbyrå Regnskap AS" in out.err
    assert sandbox.employee_token not in out.out + out.err
    assert [r.operation for r in sandbox.received()] == [
        "TokenSessionCreate_create",
        "TokenSessionWhoAmI_whoAmI",
    ]


def test_auth_with_wrong_tokens_fails_with_one_line_and_stores_nothing(
    tmp_path: Path, sandbox: TripletexSandbox, memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], clock: Clock,
) -> None:  # fmt: skip
    config = write_config(tmp_path / "kravsync.toml", sandbox)
    answers(monkeypatch, "wrong-consumer-XYZ", "wrong-employee-XYZ")
    assert main(["--config", str(config), "auth", "byraa"], clock=clock) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Tripletex refused" in err and "XYZ" not in err
    assert memory_keyring.data == {}


def test_auth_for_a_company_the_login_does_not_reach(
    tmp_path: Path, sandbox: TripletexSandbox, memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], clock: Clock,
) -> None:  # fmt: skip
    config = write_config(tmp_path / "kravsync.toml", sandbox, company="4242")
    answers(monkeypatch, sandbox.consumer_token, sandbox.employee_token)
    assert main(["--config", str(config), "auth", "byraa"], clock=clock) == 1
    assert "firma 4242" in capsys.readouterr().err and memory_keyring.data == {}


def test_discover_prints_the_clients_as_tenants_that_load_and_sync(
    tmp_path: Path, sandbox: TripletexSandbox, memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str], clock: Clock,
) -> None:  # fmt: skip
    memory_keyring.data[("kravsync", "byraa")] = sandbox.demo_secret()
    already = f'\n[[tenants]]\nname = "elvebakken"\nprovider = "tripletex"\ncountry = "NO"\ncompany = "{s.SMALL_COMPANY_ID}"\n'
    config = write_config(tmp_path / "kravsync.toml", sandbox, extra=already)
    assert main(["--config", str(config), "tenants", "discover", "byraa"], clock=clock) == 0
    printed = capsys.readouterr().out
    tables = tomllib.loads(printed)["tenants"]
    assert [t["company"] for t in tables] == [str(s.DEMO_COMPANY_ID), str(s.FIXED_FEE_COMPANY_ID)]
    assert all(t["credentials"] == "keyring:byraa" and t["push"] is False for t in tables)
    assert "# already configured as tenant elvebakken" in printed
    assert "Sørvik Bygg AS" in printed
    # Pasted under the bureau's own tenant, the new tenants load and sync on the shared secret.
    config.write_text(config.read_text(encoding="utf-8") + "\n" + printed, encoding="utf-8")
    loaded = load_config(config)
    names = [t.name for t in loaded.tenants]
    assert names[:2] == ["byraa", "elvebakken"] and len(names) == 4
    assert main(["--config", str(config), "sync", "--tenant", names[2]], clock=clock) == 0
    assert "ok: 18 customers" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ('company = "0"', 'company = "acme"'),
        ('credentials = "keyring"', 'credentials = "keyring"\ndispatch_type = "PIGEON"'),
    ],
)
def test_bad_tripletex_settings_name_the_key(tmp_path: Path, sandbox: TripletexSandbox,
                                             edit: tuple[str, str] | str, message: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    config = write_config(tmp_path / "kravsync.toml", sandbox)
    config.write_text(config.read_text().replace(str(edit), message))
    assert main(["--config", str(config), "status"]) == 2
    err = capsys.readouterr().err
    key = "company" if "acme" in message else "dispatch_type"
    assert f"kravsync.toml: tenants[0].{key}:" in err


def test_sync_with_tokens_from_the_environment(
    tmp_path: Path, sandbox: TripletexSandbox, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], clock: Clock,
) -> None:  # fmt: skip
    forget_sessions()
    monkeypatch.setenv("TRIPLETEX_TOKENS", sandbox.demo_secret())
    config = write_config(tmp_path / "kravsync.toml", sandbox, company=str(s.DEMO_COMPANY_ID))
    config.write_text(
        config.read_text().replace(
            'credentials = "keyring"', 'credentials = "env:TRIPLETEX_TOKENS"'
        )
    )
    assert main(["--config", str(config), "sync"], clock=clock) == 0
    out = capsys.readouterr().out
    assert "byraa: ok: 18 customers" in out and sandbox.gate.sessions_created == 1
