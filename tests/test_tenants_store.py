"""Tenants kept in the store: `kravsync tenants add|list|remove|import|export`, validated as the
config file's [[tenants]] are, shared by every process on the store, never holding a secret."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from backends import fresh_store_url
from conftest import TODAY, Kravsync, clock_env

from connector.cli import main
from connector.clock import Clock
from connector.config import ConfigError, load_config
from connector.secrets import CredentialError, FileCredentials
from connector.store import Store, open_store
from providers.fiken.sandbox import FikenSandbox

pytestmark = pytest.mark.backends

TABLE = """
[[tenants]]
name = "acme-no"
provider = "fiken"
country = "NO"
company = "acme-as"
credentials = "env:FIKEN_TOKEN"
"""


def cli(config: Path, clock: Clock, *args: str) -> int:
    return main(["--config", str(config), *args], clock=clock)


NewUrl = Callable[[str], str]


@pytest.fixture
def new_url(tmp_path: Path, backend: str) -> NewUrl:
    """``new_url(name)``: the URL of a fresh, empty store per name: a SQLite file, or a fresh
    PostgreSQL schema."""
    urls: dict[str, str] = {}

    def url(name: str) -> str:
        if name not in urls:
            urls[name] = (
                f"sqlite:///{tmp_path / name}.db" if backend == "sqlite" else fresh_store_url(backend)
            )
        return urls[name]

    return url


def store_only_config(folder: Path, url: str) -> Path:
    """A config file with no [[tenants]], on the store at ``url``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kravsync.toml"
    path.write_text(f"[store]\nurl = {json.dumps(url)}\n", encoding="utf-8")
    return path


def store_of(config: Path, clock: Clock) -> Store:
    return open_store(load_config(config).store_url(), clock)


def stored_rows(config: Path, clock: Clock) -> dict[str, str]:
    """name → stored JSON, as the store holds them."""
    store = store_of(config, clock)
    try:
        return {row.name: row.config for row in store.stored_tenants()}
    finally:
        store.close()


def err_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err  # one line, no traceback
    return err.strip()


# -- add, list, export, import, remove ---------------------------------------------------------
def test_add_list_export_import_round_trip_keeps_nordic_letters(
    tmp_path: Path,
    new_url: NewUrl, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    one = store_only_config(tmp_path / "one", new_url("one"))
    assert cli(
        one, clock, "tenants", "add", "fjord-as", "--provider", "fiken", "--country", "NO",
        "--company", "fjord-as", "--credentials", "env:FJORD_TOKEN", "--interval", "30",
        "--set", "creditor_name=Ærlige Ølbryggeri på Å AS",
        "--set", "creditor_account=12345678903",
        "--set", "push=approve",
        "--set", "validation.registry_check=true",
        "--set", 'fee_invoices.numbers=["9001", "9002"]',
    ) == 0
    assert cli(
        one, clock, "tenants", "add", "berg", "--provider", "fiken", "--country", "NO",
        "--company", "berg", "--credentials", "keyring:bureau",
    ) == 0
    capsys.readouterr()

    assert cli(one, clock, "tenants", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "PROVIDER", "COUNTRY", "INTERVAL", "PUSH", "SOURCE"]
    assert lines[1].split() == ["berg", "fiken", "NO", "60", "min", "false", "store"]
    assert lines[2].split() == ["fjord-as", "fiken", "NO", "30", "min", '"approve"', "store"]

    assert cli(one, clock, "tenants", "export") == 0
    exported = capsys.readouterr().out
    assert "Ærlige Ølbryggeri på Å AS" in exported  # not \u-escaped
    export_file = tmp_path / "exported.toml"
    export_file.write_text(exported, encoding="utf-8")

    two = store_only_config(tmp_path / "two", new_url("two"))
    assert cli(two, clock, "tenants", "import", str(export_file)) == 0
    assert "2 tenant(s) imported" in capsys.readouterr().out
    first, second = stored_rows(one, clock), stored_rows(two, clock)
    assert first == second
    acme = json.loads(second["fjord-as"])
    assert acme["creditor_name"] == "Ærlige Ølbryggeri på Å AS"
    assert acme["creditor_account"] == "12345678903"  # digits for a text setting stay text
    assert acme["fee_invoices"] == {"numbers": ["9001", "9002"]}
    assert acme["validation"] == {"registry_check": True}
    assert acme["push"] == "approve" and acme["interval_minutes"] == 30
    assert cli(two, clock, "tenants", "export") == 0
    assert capsys.readouterr().out == exported  # export → import → export is stable

    # every command now sees the store's tenants
    config = load_config(two)
    assert config.tenants == []
    assert cli(two, clock, "plan", "--tenant", "fjord-as") == 0


def test_export_names_and_json_list(
    tmp_path: Path,
    new_url: NewUrl, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    config = store_only_config(tmp_path, new_url("k"))
    source = tmp_path / "in.toml"
    source.write_text(TABLE + TABLE.replace("acme-no", "beta-no"), encoding="utf-8")
    assert cli(config, clock, "tenants", "import", str(source)) == 0
    capsys.readouterr()
    assert cli(config, clock, "tenants", "export", "beta-no") == 0
    out = capsys.readouterr().out
    assert 'name = "beta-no"' in out and "acme-no" not in out
    assert cli(config, clock, "tenants", "export", "gamma") == 2
    assert "not in the store: gamma" in err_line(capsys)
    assert cli(config, clock, "tenants", "list", "--format", "json") == 0
    rows = json.loads(capsys.readouterr().out)["tenants"]
    assert [(r["name"], r["source"]) for r in rows] == [("acme-no", "store"), ("beta-no", "store")]


def test_list_escapes_text_for_the_terminal(
    tmp_path: Path,
    new_url: NewUrl, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    # names and providers are validated on the way in; a row written behind kravsync's back
    # (another tool, a damaged store) still cannot put an escape sequence on the terminal
    config = store_only_config(tmp_path, new_url("k"))
    assert cli(config, clock, "tenants", "list") == 0
    capsys.readouterr()
    store = store_of(config, clock)
    store.put_tenants([("evil\x1b[2J", "fiken\x07", "NO", "{}")])
    store.close()
    assert cli(config, clock, "tenants", "list") == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "evil" in out
    # ... and every other command refuses the damaged row, naming it
    assert cli(config, clock, "status") == 2
    assert "store: tenant evil" in err_line(capsys)


def test_remove_forgets_the_configuration_not_the_history(
    tmp_path: Path,
    new_url: NewUrl, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    config = store_only_config(tmp_path, new_url("k"))
    source = tmp_path / "in.toml"
    source.write_text(TABLE, encoding="utf-8")
    assert cli(config, clock, "tenants", "import", str(source)) == 0
    store = store_of(config, clock)
    store.ensure_tenant("acme-no", "fiken", "NO")  # its history: a row in tenants, a cursor
    store.set_cursor("acme-no", "invoices", "2026-11-01")
    capsys.readouterr()
    assert cli(config, clock, "tenants", "remove", "acme-no") == 0
    assert "its history (invoices, actions, notes, runs) stays" in capsys.readouterr().out
    assert stored_rows(config, clock) == {}
    assert store.get_cursor("acme-no", "invoices") == "2026-11-01"
    assert cli(config, clock, "status", "--tenant", "acme-no") == 2
    assert "no tenant named 'acme-no'" in err_line(capsys)
    assert cli(config, clock, "tenants", "remove", "acme-no") == 2
    assert "no tenant 'acme-no' in the store" in err_line(capsys)


# -- validation: the config file's, with its errors --------------------------------------------
BAD_EDITS = [
    ('provider = "fiken"', 'provider = "fikn"'),
    ('country = "NO"', 'country = "DK"'),
    ('company = "acme-as"\n', ""),
    ('company = "acme-as"', 'company = "acme as!"'),
    ('name = "acme-no"', 'name = "acme no!"'),
    ('credentials = "env:FIKEN_TOKEN"', 'credentials = "access-token"'),
    ('company = "acme-as"', 'company = "acme-as"\ninterval_minutes = 0'),
    ('company = "acme-as"', 'company = "acme-as"\ninterval_minute = 5'),
    ('company = "acme-as"', 'company = "acme-as"\npush = "sometimes"'),
    ('FIKEN_TOKEN"', 'FIKEN_TOKEN"\n[tenants.policy]\nnotice_fee = 40'),
    ('FIKEN_TOKEN"', 'FIKEN_TOKEN"\n[tenants.validation]\nregistry_url = "http://x.no"'),
]


@pytest.mark.parametrize("edit", BAD_EDITS, ids=[e[1].strip()[:30] for e in BAD_EDITS])
def test_import_errors_are_the_config_files_own(
    tmp_path: Path,
    new_url: NewUrl, clock: Clock, capsys: pytest.CaptureFixture[str], edit: tuple[str, str]
) -> None:
    bad = TABLE.replace(*edit)
    file_config = tmp_path / "file" / "kravsync.toml"
    file_config.parent.mkdir()
    file_config.write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(file_config)
    expected = str(err.value)
    assert expected.startswith("kravsync.toml: tenants[0].")

    config = store_only_config(tmp_path / "store", new_url("k"))
    source = tmp_path / "import" / "kravsync.toml"  # the same name, so the same whole line
    source.parent.mkdir()
    source.write_text(bad, encoding="utf-8")
    assert cli(config, clock, "tenants", "import", str(source)) == 2
    assert err_line(capsys) == f"kravsync: {expected}"
    assert stored_rows(config, clock) == {}


@pytest.mark.parametrize(
    ("flags", "edit"),
    [
        (["--provider", "fikn"], ('provider = "fiken"', 'provider = "fikn"')),
        (["--country", "DK"], ('country = "NO"', 'country = "DK"')),
        (["--set", "company="], ('company = "acme-as"', 'company = ""')),
        (["--credentials", "access-token"], ('credentials = "env:FIKEN_TOKEN"', 'credentials = "access-token"')),
        (["--interval", "0"], ('company = "acme-as"', 'company = "acme-as"\ninterval_minutes = 0')),
        (["--set", "interval_minute=5"], ('company = "acme-as"', 'company = "acme-as"\ninterval_minute = 5')),
        (["--set", "policy.notice_fee=40"], ('FIKEN_TOKEN"', 'FIKEN_TOKEN"\n[tenants.policy]\nnotice_fee = 40')),
    ],
)
def test_add_errors_are_the_config_files_own(
    tmp_path: Path,
    new_url: NewUrl,
    clock: Clock,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    edit: tuple[str, str],
) -> None:
    path = tmp_path / "kravsync.toml"
    path.write_text(TABLE.replace(*edit), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    key_and_problem = str(err.value).removeprefix("kravsync.toml: tenants[0].")

    config = store_only_config(tmp_path / "store", new_url("k"))
    good = {"--provider": "fiken", "--country": "NO", "--company": "acme-as", "--credentials": "env:FIKEN_TOKEN"}
    for flag in flags[::2]:
        good.pop(flag, None)
    if flags == ["--set", "company="]:
        good.pop("--company")
    args = [x for pair in good.items() for x in pair] + flags
    assert cli(config, clock, "tenants", "add", "acme-no", *args) == 2
    assert err_line(capsys) == f"kravsync: tenants add: {key_and_problem}"
    assert stored_rows(config, clock) == {}


def test_import_is_all_or_nothing_and_names_file_table_and_key(
    tmp_path: Path,
    new_url: NewUrl, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    config = store_only_config(tmp_path, new_url("k"))
    source = tmp_path / "bureau.toml"
    source.write_text(
        TABLE
        + TABLE.replace("acme-no", "beta-no")
        + TABLE.replace("acme-no", "gamma-no").replace('"env:FIKEN_TOKEN"', '"env:9BAD"'),
        encoding="utf-8",
    )
    assert cli(config, clock, "tenants", "import", str(source)) == 2
    assert err_line(capsys).startswith("kravsync: bureau.toml: tenants[2].credentials: must be")
    assert stored_rows(config, clock) == {}
    # two tables of one name in one file: the config file's own duplicate error
    source.write_text(TABLE + TABLE, encoding="utf-8")
    assert cli(config, clock, "tenants", "import", str(source)) == 2
    assert err_line(capsys) == (
        "kravsync: bureau.toml: tenants[1].name: duplicate tenant name 'acme-no'"
    )
    # a tenant already stored: refused as a whole unless --replace
    source.write_text(TABLE, encoding="utf-8")
    assert cli(config, clock, "tenants", "import", str(source)) == 0
    source.write_text(TABLE.replace("acme-no", "new-no") + TABLE.replace("acme-as", "other"), encoding="utf-8")
    assert cli(config, clock, "tenants", "import", str(source)) == 2
    assert "already in the store: acme-no" in err_line(capsys)
    assert set(stored_rows(config, clock)) == {"acme-no"}
    assert cli(config, clock, "tenants", "import", "--replace", str(source)) == 0
    rows = stored_rows(config, clock)
    assert set(rows) == {"acme-no", "new-no"} and json.loads(rows["acme-no"])["company"] == "other"
    # broken files: one line naming the file
    source.write_text("[[tenants]\nname=1", encoding="utf-8")
    assert cli(config, clock, "tenants", "import", str(source)) == 2
    assert err_line(capsys).startswith("kravsync: bureau.toml: TOML syntax")
    assert cli(config, clock, "tenants", "import", str(tmp_path / "nope.toml")) == 2
    assert err_line(capsys).endswith("nope.toml: no such file")


# -- secrets are refused, never echoed, never stored -------------------------------------------
SECRET = "fk_live_7Hq2x9ZrTb41LmN0pQ"


def test_a_literal_secret_is_refused_without_echo(
    tmp_path: Path,
    new_url: NewUrl, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    config = store_only_config(tmp_path, new_url("k"))
    assert cli(
        config, clock, "tenants", "add", "acme-no", "--provider", "fiken", "--country", "NO",
        "--company", "acme-as", "--credentials", SECRET,
    ) == 2
    line = err_line(capsys)
    assert line.startswith("kravsync: tenants add: credentials: must be 'keyring' or 'env:VARNAME'")
    assert SECRET not in line

    source = tmp_path / "in.toml"
    source.write_text(TABLE.replace('"env:FIKEN_TOKEN"', json.dumps(SECRET)), encoding="utf-8")
    assert cli(config, clock, "tenants", "import", str(source)) == 2
    out_err = capsys.readouterr()
    assert "in.toml: tenants[0].credentials: must be" in out_err.err
    assert SECRET not in out_err.err + out_err.out

    email = (
        '\n[tenants.email]\nhost = "smtp.example.no"\nusername = "u"\nfrom_address = "a@b.no"\n'
        f'password = "{SECRET}"\n'
    )
    source.write_text(TABLE + email, encoding="utf-8")
    assert cli(config, clock, "tenants", "import", str(source)) == 2
    out_err = capsys.readouterr()
    assert "in.toml: tenants[0].email.password: must be" in out_err.err
    assert SECRET not in out_err.err + out_err.out

    assert stored_rows(config, clock) == {}
    for file in tmp_path.glob("*.db*"):  # SQLite: not in any page of the file either
        assert SECRET.encode() not in file.read_bytes()


def test_secrets_file_reference(
    tmp_path: Path, new_url: NewUrl, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_file = tmp_path / "acme.secret"
    config = store_only_config(tmp_path, new_url("k"))
    assert cli(
        config, clock, "tenants", "add", "acme-no", "--provider", "fiken", "--country", "NO",
        "--company", "acme-as", "--credentials", f"file:{secret_file}",
    ) == 0
    assert json.loads(stored_rows(config, clock)["acme-no"])["credentials"] == f"file:{secret_file}"
    creds = FileCredentials(str(secret_file))
    assert creds.get("acme-no") is None  # not there yet: the caller says what to do
    creds.set("acme-no", SECRET)
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert creds.get("acme-no") == SECRET
    os.chmod(secret_file, 0o644)
    with pytest.raises(CredentialError) as err:
        creds.get("acme-no")
    assert "chmod 600" in str(err.value) and SECRET not in str(err.value)
    # a relative path is no reference
    assert cli(
        config, clock, "tenants", "add", "beta-no", "--provider", "fiken", "--country", "NO",
        "--company", "acme-as", "--credentials", "file:acme.secret",
    ) == 2
    assert "credentials: must be" in err_line(capsys)


# -- a store-only tenant syncs; one name in file and store -------------------------------------
def test_sync_works_a_tenant_kept_only_in_the_store(
    tmp_path: Path,
    new_url: NewUrl,
    clock: Clock,
    sandbox: FikenSandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FIKEN_STORE_TOKEN", "e2e-token")
    config = store_only_config(tmp_path, new_url("k"))
    assert cli(
        config, clock, "tenants", "add", "fjord", "--provider", "fiken", "--country", "NO",
        "--company", sandbox.company, "--base-url", sandbox.base_url,
        "--credentials", "env:FIKEN_STORE_TOKEN",
        "--set", "validation.postcode_register_source=fixture",
    ) == 0
    capsys.readouterr()
    assert cli(config, clock, "sync") == 0
    assert "fjord: ok" in capsys.readouterr().out
    store = store_of(config, clock)
    assert store.customer_count("fjord") > 0
    assert store.open_invoice_ids("fjord")
    run = store.last_run("fjord")
    assert run is not None and run.outcome == "ok"
    assert cli(config, clock, "status", "--format", "json") == 0
    status = json.loads(capsys.readouterr().out)
    assert [t["tenant"] for t in status["tenants"]] == ["fjord"]
    # `auth` finds it too, and says where its secret lives
    assert cli(config, clock, "auth", "fjord") == 2
    assert "environment variable FIKEN_STORE_TOKEN" in err_line(capsys)


def test_import_reads_standard_input(
    tmp_path: Path,
    new_url: NewUrl, clock: Clock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = store_only_config(tmp_path, new_url("k"))
    text = TABLE.replace('"acme-as"', '"acme-as"\ncreditor_name = "Sørli Ærø Å"')
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))
    assert cli(config, clock, "tenants", "import", "-") == 0
    assert "from <stdin>" in capsys.readouterr().out
    assert json.loads(stored_rows(config, clock)["acme-no"])["creditor_name"] == "Sørli Ærø Å"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"[[tenants]]\nname = 5\n")))
    assert cli(config, clock, "tenants", "import", "-") == 2
    assert err_line(capsys).startswith("kravsync: <stdin>: tenants[0].name: ")


def test_one_name_in_file_and_store_stops_every_command_until_one_goes(
    kravsync: Kravsync, config: Path, clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the `config` fixture defines "fjord" in its file: adding it to the store from there is refused
    add = ["tenants", "add", "fjord", "--provider", "fiken", "--country", "NO", "--company", "x"]
    assert kravsync(*add) == 2
    assert err_line(capsys) == (
        "kravsync: tenants add: tenant 'fjord' is already defined in kravsync.toml "
        "(tenants[0]); a name lives in the file or in the store, not both"
    )
    # another worker, whose file lacks it, adds it to the same store
    other = tmp_path / "other" / "kravsync.toml"
    other.parent.mkdir()
    other.write_text(f"[store]\nurl = {json.dumps(load_config(config).store_url())}\n", encoding="utf-8")
    assert cli(other, clock, *add) == 0
    capsys.readouterr()
    for command in (["status"], ["sync"], ["plan"], ["report"], ["actions"]):
        assert kravsync(*command) == 2, command
        assert err_line(capsys) == (
            "kravsync: kravsync.toml: tenants[0].name: tenant 'fjord' is defined both in this "
            "file and in the store; keep one: delete the [[tenants]] table, or run "
            "`kravsync tenants remove fjord`"
        )
    assert kravsync("tenants", "list") == 0
    out = capsys.readouterr().out
    assert "file+store (conflict)" in out and "every other command refuses" in out
    assert kravsync("tenants", "remove", "fjord") == 0
    capsys.readouterr()
    assert kravsync("status") == 0
    # the file's own tenant cannot be removed from the store: it is not there
    assert kravsync("tenants", "remove", "fjord") == 2
    assert "is defined in kravsync.toml, not in the store" in err_line(capsys)


def test_processes_on_one_store_share_its_tenants(tmp_path: Path, new_url: NewUrl) -> None:
    """One process adds, another (another config file, same store) lists and plans it."""
    url = new_url("shared")
    configs = []
    for name in ("worker-a", "worker-b"):
        path = tmp_path / name / "kravsync.toml"
        path.parent.mkdir()
        path.write_text(f"[store]\nurl = {json.dumps(url)}\n", encoding="utf-8")
        configs.append(path)

    def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "connector.cli", "--config", str(config), *args],
            env=clock_env(TODAY), capture_output=True, text=True, timeout=60,
        )

    added = run(configs[0], "tenants", "add", "acme-no", "--provider", "fiken", "--country", "NO",
                "--company", "acme-as", "--credentials", "env:ACME_TOKEN")
    assert added.returncode == 0, added.stderr
    listed = run(configs[1], "tenants", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1].split() == ["acme-no", "fiken", "NO", "60", "min", "false", "store"]
    planned = run(configs[1], "plan", "--format", "json")
    assert planned.returncode == 0, planned.stderr
    assert "acme-no" in planned.stdout
