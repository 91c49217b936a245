"""Config and CLI: every bad input is one clear line (exit 2), never a traceback; messages say
what is actually wrong.

Each case is one the tester hit (issue 12): bad store URLs, non-https API URLs, unbounded
numbers, a tenant name with a trailing newline, plain SMTP to a remote host, `sandbox --token`
for Fortnox, `auth` with no terminal, ports in use, misleading credential messages, and
``--config`` after the command name.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from connector.cli import main
from connector.clock import Clock

TODAY = date(2026, 11, 23)
CLOCK = Clock.starting_at(TODAY)
KRAVSYNC = [sys.executable, "-m", "connector.cli"]

TENANT = """
[[tenants]]
name = "acme-no"
provider = "fiken"
country = "NO"
company = "acme-as"
{extra}
"""


def write(tmp_path: Path, *, store: str = "sqlite:///state.db", extra: str = "") -> Path:
    path = tmp_path / "kravsync.toml"
    path.write_text(f'[store]\nurl = "{store}"\n' + TENANT.format(extra=extra), encoding="utf-8")
    return path


def run(config: Path, *args: str) -> tuple[int, list[str], str]:
    """``kravsync --config CONFIG ARGS`` in-process: (exit code, stderr lines, stdout)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--config", str(config), *args], clock=CLOCK)
    return code, err.getvalue().strip().splitlines(), out.getvalue()


def one_line(code: int, err: list[str], *expected: str) -> None:
    assert code == 2, err
    assert len(err) == 1, err
    assert err[0].startswith("kravsync: ") and "Traceback" not in err[0]
    for text in expected:
        assert text in err[0], err[0]


# --- store URLs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sqlite:///a\\u0000b.db", "control character"),
        ("sqlite:///", "no path after sqlite:///"),
        ("sqlite:///.", "is a folder"),
        ("sqlite:///" + "x" * 300 + ".db", "file name too long"),
        ("sqlite:////proc/x.db", "cannot create /proc/x.db"),
        ("sqlite:///afolder", "is a folder"),
        ("sqlite:///notadb.txt", "is not a kravsync state store"),
        ("sqlite:////dev/null", "not a regular file"),
        ("mysql://x", "must start with 'sqlite:///'"),
        ("postgresql://u@127.0.0.1:9/db", "cannot connect to postgresql://u@127.0.0.1:9/db"),
        ("postgres://u:pw@127.0.0.1:9/db", "cannot connect to postgresql://u:***@127.0.0.1:9/db"),
    ],
)
def test_every_bad_store_url_is_one_line_exit_2(tmp_path: Path, url: str, says: str) -> None:
    (tmp_path / "afolder").mkdir()
    (tmp_path / "notadb.txt").write_text("hello, not a database\n" * 100)
    journals = set(Path("/dev").glob("null*"))
    code, err, _ = run(write(tmp_path, store=url), "plan")
    one_line(code, err, says)
    assert set(Path("/dev").glob("null*")) == journals  # no /dev/null-journal


# --- API URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["base_url", "token_url", "authorize_url"])
@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("file:///etc/passwd", "must be an https:// URL (got file:)"),
        ("ftp://api.fiken.no/", "got ftp:"),
        ("javascript:alert(1)", "got javascript:"),
        ("api.fiken.no/api/v2", "got no scheme"),
        ("https://exa mple.com", "no valid host"),
        ("https://-bad-.example", "no valid host"),
        ("https://[::1", "not a valid URL"),
        ("https://api.fiken.no:99999/", "not a valid URL"),
        ("", "is empty"),
        ("http://api.fiken.no/api/v2", "must use https"),
        ("https://user:pw@api.fiken.no/", "must not carry a user name or password"),
    ],
)
def test_api_urls_are_https_only_and_refused_at_load(
    tmp_path: Path, key: str, value: str, says: str
) -> None:
    code, err, _ = run(write(tmp_path, extra=f'{key} = "{value}"'), "plan")
    one_line(code, err, f"tenants[0].{key}", says)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/api", "http://localhost:1/x", "http://[::1]:9/"])
def test_plain_http_is_fine_to_a_loopback_sandbox(tmp_path: Path, url: str) -> None:
    code, err, _ = run(write(tmp_path, extra=f'base_url = "{url}"'), "plan")
    assert code == 0, err


def test_the_registry_url_follows_the_same_rule(tmp_path: Path) -> None:
    extra = '[tenants.validation]\nregistry_url = "http://data.brreg.no/enhetsregisteret/api"'
    code, err, _ = run(write(tmp_path, extra=extra), "plan")
    one_line(code, err, "tenants[0].validation.registry_url", "must use https")


# --- numbers, names, SMTP ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ("window_seconds = 1e308", "tenants[0].window_seconds"),
        ("window_seconds = inf", "tenants[0].window_seconds"),
        ("window_seconds = nan", "tenants[0].window_seconds"),
        ("requests_per_window = 9223372036854775807", "tenants[0].requests_per_window"),
        ("interval_minutes = -5", "tenants[0].interval_minutes"),
        ('[tenants.validation]\nregistry_ttl_hours = 10000000', "registry_ttl_hours"),
        ('[tenants.email]\nhost = "smtp.x.no"\nfrom_address = "a@x.no"\ntimeout_seconds = 1e300',
         "tenants[0].email.timeout_seconds"),
    ],
)  # fmt: skip
def test_numbers_are_bounded(tmp_path: Path, extra: str, where: str) -> None:
    code, err, _ = run(write(tmp_path, extra=extra), "plan")
    one_line(code, err, where)


def test_tenant_names_are_matched_in_full(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_text(path.read_text().replace('name = "acme-no"', 'name = "acme-no\\n"'))
    code, err, _ = run(path, "plan")
    one_line(code, err, "tenants[0].name")


@pytest.mark.parametrize("value", ["bad\\u0000", "x\\r\\nBcc: all@example.com", "\\u001b[2J"])
def test_control_characters_in_settings_are_refused(tmp_path: Path, value: str) -> None:
    extra = f'[tenants.email]\nhost = "smtp.x.no"\nfrom_address = "{value}"'
    code, err, _ = run(write(tmp_path, extra=extra), "plan")
    one_line(code, err, "tenants[0].email.from_address", "control character")


def test_plain_smtp_is_refused_to_a_remote_host(tmp_path: Path) -> None:
    extra = '[tenants.email]\nhost = "smtp.example.no"\nsecurity = "none"\nfrom_address = "a@x.no"'
    code, err, _ = run(write(tmp_path, extra=extra), "plan")
    one_line(code, err, "tenants[0].email.security", "unencrypted", "smtp.example.no")
    local = extra.replace("smtp.example.no", "127.0.0.1")
    code, err, _ = run(write(tmp_path, extra=local), "plan")
    assert code == 0, err


# --- tracebacks that became one line ---------------------------------------------------------------


def test_sandbox_for_fortnox_takes_the_token_the_readme_documents() -> None:
    env = {**os.environ, **CLOCK.environment()}
    proc = subprocess.Popen(
        [*KRAVSYNC, "sandbox", "--provider", "fortnox", "--token", "T0k3n"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(7)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "fortnox sandbox running" in lines[0]
    assert "  token: T0k3n\n" in lines


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_sandbox_on_a_port_in_use_is_one_line(busy_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sandbox", "--port", str(busy_port)], clock=CLOCK)
    err = capsys.readouterr().err.strip().splitlines()
    one_line(code, err, f"--port {busy_port}", "in use")


def test_daemon_healthz_on_a_port_in_use_is_one_line(tmp_path: Path, busy_port: int) -> None:
    config = write(tmp_path, extra='credentials = "env:NOT_SET_ANYWHERE"')
    result = subprocess.run(
        [*KRAVSYNC, "--config", str(config), "daemon", "--healthz-port", str(busy_port)],
        capture_output=True, text=True, timeout=60, env={**os.environ, **CLOCK.environment()},
    )  # fmt: skip
    one_line(result.returncode, result.stderr.strip().splitlines(), f"--healthz-port {busy_port}", "in use")


@pytest.mark.parametrize("stdin", ["devnull", "closed"])
def test_auth_with_no_terminal_is_one_line(tmp_path: Path, stdin: str) -> None:
    config = write(tmp_path)
    command = [*KRAVSYNC, "--config", str(config), "auth", "acme-no"]
    if stdin == "closed":  # fd 0 closed altogether: sys.stdin is None
        command = ["sh", "-c", 'exec "$@" <&-', "sh", *command]
    result = subprocess.run(
        command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
        start_new_session=True,  # no controlling terminal: getpass cannot open /dev/tty
        env={**os.environ, **CLOCK.environment()},
    )  # fmt: skip
    one_line(result.returncode, result.stderr.strip().splitlines(), "no terminal")
    assert "Traceback" not in result.stderr and "EOFError" not in result.stderr


# --- messages that misled --------------------------------------------------------------------------


def test_a_missing_environment_variable_is_named_not_kravsync_auth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ACME_FIKEN_TOKEN", raising=False)
    config = write(tmp_path, extra='credentials = "env:ACME_FIKEN_TOKEN"')
    code, _err, out = run(config, "sync")
    assert code == 1
    assert "environment variable ACME_FIKEN_TOKEN is not set" in out
    assert "kravsync auth" not in out


def test_auth_refuses_a_tenant_that_reads_its_secret_from_the_environment(tmp_path: Path) -> None:
    config = write(tmp_path, extra='credentials = "env:ACME_FIKEN_TOKEN"')
    code, err, _ = run(config, "auth", "acme-no")
    one_line(code, err, "environment variable ACME_FIKEN_TOKEN", 'credentials = "keyring"')


def test_a_token_endpoint_that_is_down_says_connection_failed_and_names_it(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token_url = f"http://127.0.0.1:{port}/oauth-v1/token"
    path = tmp_path / "kravsync.toml"
    path.write_text(
        f'[[tenants]]\nname = "skog-se"\nprovider = "fortnox"\ncountry = "SE"\n'
        f'auth = "client_credentials"\nclient_id = "c"\ntenant_id = "1"\ntoken_url = "{token_url}"\n'
        'credentials = "env:SKOG_SECRET"\n',
        encoding="utf-8",
    )
    from connector.config import load_config
    from connector.secrets import MemoryCredentials
    from providers.fortnox.auth import build_auth
    from providers.http import AuthError, TransportError

    tenant = load_config(path).tenant("skog-se")
    auth = build_auth(tenant, MemoryCredentials({"skog-se": "the-client-secret"}))
    with pytest.raises(TransportError) as err:
        auth.headers()
    assert not isinstance(err.value, AuthError)
    assert "connection failed" in str(err.value) and token_url in str(err.value)
    assert "rejected the credentials" not in str(err.value) and "HTTP None" not in str(err.value)


def test_a_keyring_error_names_the_tenant_once(tmp_path: Path) -> None:
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        code, _err, out = run(write(tmp_path), "sync")
    finally:
        keyring.set_keyring(previous)
    assert code == 1
    assert out.count("tenant acme-no:") == 1 and "keyring is not usable" in out


# --- --config where users type it ------------------------------------------------------------------


def test_config_is_accepted_after_the_command_name(tmp_path: Path) -> None:
    config = write(tmp_path)
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["plan", "--config", str(config)], clock=CLOCK) == 0
        assert main(["status", "--config", str(config), "--format", "json"], clock=CLOCK) == 0
    assert "acme-no" in out.getvalue()
