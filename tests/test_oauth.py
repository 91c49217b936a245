"""OAuth2 refresh that never loses a rotating refresh token; `kravsync auth` for Fiken."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import keyring
import pytest
import responses
from keyring.backend import KeyringBackend

from connector.cli import main
from connector.config import TenantConfig
from connector.secrets import MemoryCredentials, parse_secret
from providers import fiken
from providers.http import AuthError
from providers.oauth import OAuth2Auth

TOKEN_URL = "https://fiken.example.test/oauth/token"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def stored(
    creds: MemoryCredentials, refresh: str = "r1", access: str = "a1", expires: float = 0
) -> None:
    creds.set(
        "acme",
        json.dumps(
            {
                "access_token": access,
                "refresh_token": refresh,
                "expires_at": expires,
                "client_id": "cid",
                "client_secret": "csecret",
            }
        ),
    )


def rotating_token_endpoint() -> list[str]:
    """A token endpoint whose refresh tokens are single-use and rotate."""
    valid = {"r1"}
    issued: list[str] = []
    lock = threading.Lock()

    def callback(request):  # type: ignore[no-untyped-def]
        form = dict(pair.split("=") for pair in request.body.split("&"))
        with lock:
            if form.get("refresh_token") not in valid:
                return 400, {}, json.dumps({"error": "invalid_grant"})
            valid.discard(form["refresh_token"])
            n = len(issued) + 2
            valid.add(f"r{n}")
            issued.append(f"r{n}")
        return (
            200,
            {},
            json.dumps({"access_token": f"a{n}", "refresh_token": f"r{n}", "expires_in": 3600}),
        )

    responses.add_callback(responses.POST, TOKEN_URL, callback=callback)
    return issued


@responses.activate
def test_refresh_persists_the_new_refresh_token_before_use() -> None:
    issued = rotating_token_endpoint()
    creds = MemoryCredentials()
    stored(creds)
    auth = OAuth2Auth(
        provider="fiken", tenant="acme", token_url=TOKEN_URL, credentials=creds, clock=Clock()
    )
    assert auth.headers() == {"Authorization": "Bearer a2"}
    tokens = parse_secret(creds.get("acme") or "")
    assert not isinstance(tokens, str)
    assert tokens.refresh_token == "r2" and issued == ["r2"]
    assert tokens.extra["client_secret"] == "csecret"  # the rest of the secret is kept
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")


@responses.activate
def test_many_threads_refresh_once_and_never_reuse_a_refresh_token() -> None:
    issued = rotating_token_endpoint()
    creds = MemoryCredentials()
    stored(creds)
    clock = Clock()
    auths = [
        OAuth2Auth(
            provider="fiken", tenant="acme", token_url=TOKEN_URL, credentials=creds, clock=clock
        )
        for _ in range(10)
    ]
    errors: list[Exception] = []

    def work(auth: OAuth2Auth) -> None:
        try:
            auth.headers()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    for _round in range(3):  # three expiries
        threads = [threading.Thread(target=work, args=(a,)) for a in auths]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        clock.now += 7200
    assert errors == []
    assert issued == ["r2", "r3", "r4"]  # exactly one refresh per expiry


@responses.activate
def test_rejected_refresh_is_one_line_naming_tenant_and_command() -> None:
    responses.post(
        TOKEN_URL, status=400, json={"error": "invalid_grant", "error_description": "token revoked"}
    )
    creds = MemoryCredentials()
    stored(creds)
    auth = OAuth2Auth(
        provider="fiken", tenant="acme", token_url=TOKEN_URL, credentials=creds, clock=Clock()
    )
    with pytest.raises(AuthError) as err:
        auth.headers()
    text = str(err.value)
    assert "tenant acme" in text and "kravsync auth acme" in text and "invalid_grant" in text
    assert "csecret" not in text and "r1" not in text.split("invalid_grant")[0]


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
def memory_keyring():  # type: ignore[no-untyped-def]
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_cli_auth_stores_a_personal_token_in_the_keyring(
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "kravsync.toml"
    config.write_text(
        '[[tenants]]\nname = "acme-no"\nprovider = "fiken"\ncountry = "NO"\ncompany = "acme"\n'
    )
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "  personal-token-123 ")
    assert main(["--config", str(config), "auth", "acme-no"]) == 0
    assert memory_keyring.data[("kravsync", "acme-no")] == "personal-token-123"
    out = capsys.readouterr()
    assert "personal-token-123" not in out.out + out.err


class Answers:
    def __init__(self, secret: str, code: str) -> None:
        self._secret, self._code = secret, code
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def ask(self, prompt: str) -> str:
        return self._code

    def secret(self, prompt: str) -> str:
        return self._secret


@responses.activate
def test_fiken_oauth_code_exchange_prints_authorize_url_and_stores_tokens() -> None:
    responses.post(
        TOKEN_URL, json={"access_token": "acc", "refresh_token": "ref", "expires_in": 3600}
    )
    tenant = TenantConfig(
        name="acme-no",
        provider="fiken",
        country="NO",
        company="acme",
        auth="oauth",
        client_id="my-app",
        token_url=TOKEN_URL,
        redirect_uri="https://localhost/cb",
    )
    creds = MemoryCredentials()
    io = Answers("app-secret", "the-code")
    fiken.auth(tenant, creds, io)
    assert any(
        "response_type=code" in s and "client_id=my-app" in s and "state=" in s for s in io.said
    )
    assert "code=the-code" in (responses.calls[0].request.body or "")
    tokens = parse_secret(creds.get("acme-no") or "")
    assert not isinstance(tokens, str)
    assert (tokens.access_token, tokens.refresh_token) == ("acc", "ref")
    assert not any("app-secret" in s for s in io.said)
