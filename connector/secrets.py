"""Credentials: the OS keyring (service ``kravsync``), or an environment variable or a secrets file
(mode 0600) on headless hosts.

A tenant's secret is one string: a personal API token, or a JSON object for OAuth2 tokens
(``{"access_token", "refresh_token", "expires_at", "client_id", "client_secret", ...}``).
Secrets are never logged, never written to the state store and never put into an exception.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from connector.scrub import register_credential

KEYRING_SERVICE = "kravsync"


class CredentialError(Exception):
    """No usable credential for a tenant; the message says what to run. ``reason`` is the
    message without its "tenant X: " prefix, for callers that name the tenant themselves."""

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class CredentialStore(Protocol):
    def get(self, tenant: str) -> str | None: ...

    def set(self, tenant: str, secret: str) -> None: ...


class KeyringCredentials:
    """The OS keyring: one entry per tenant under the service ``kravsync``, or one ``entry``
    shared by several tenants (``credentials = "keyring:ENTRY"``: one login, many companies)."""

    def __init__(self, service: str = KEYRING_SERVICE, entry: str | None = None) -> None:
        self.service = service
        self.entry = entry

    def get(self, tenant: str) -> str | None:
        import keyring
        from keyring.errors import KeyringError

        try:
            secret = keyring.get_password(self.service, self.entry or tenant)
        except KeyringError as exc:
            reason = (
                f"the OS keyring is not usable here ({type(exc).__name__}); "
                'on a headless host set credentials = "env:VARNAME" (see README)'
            )
            raise CredentialError(f"tenant {tenant}: {reason}", reason=reason) from None
        register_credential(secret)
        return secret

    def set(self, tenant: str, secret: str) -> None:
        import keyring
        from keyring.errors import KeyringError

        register_credential(secret)
        try:
            keyring.set_password(self.service, self.entry or tenant, secret)
        except KeyringError as exc:
            reason = (
                f"cannot write to the OS keyring ({type(exc).__name__}); "
                'install a keyring backend or use credentials = "env:VARNAME" (see README)'
            )
            raise CredentialError(f"tenant {tenant}: {reason}", reason=reason) from None


class EnvCredentials:
    """A secret read from an environment variable; rotated tokens are kept in memory only."""

    def __init__(self, variable: str) -> None:
        self.variable = variable
        self._rotated: dict[str, str] = {}

    def get(self, tenant: str) -> str | None:
        secret = self._rotated.get(tenant) or os.environ.get(self.variable) or None
        register_credential(secret)
        return secret

    def set(self, tenant: str, secret: str) -> None:
        register_credential(secret)
        self._rotated[tenant] = secret


class FileCredentials:
    """A secret in a file of its own (``credentials = "file:/etc/kravsync/acme.secret"``): the
    file's text, trimmed. The file must be the user's and not readable by group or others (as
    ssh insists for its keys); a rotated token is written back atomically with mode 0600."""

    def __init__(self, path: str) -> None:
        self.path = path

    def get(self, tenant: str) -> str | None:
        try:
            info = os.stat(self.path)
            if info.st_mode & 0o077:
                reason = (
                    f"secrets file {self.path} is readable by group or others; "
                    f"run `chmod 600 {self.path}`"
                )
                raise CredentialError(f"tenant {tenant}: {reason}", reason=reason)
            with open(self.path, encoding="utf-8") as handle:
                secret = handle.read().strip() or None
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            reason = f"cannot read secrets file {self.path}: {why}"
            raise CredentialError(f"tenant {tenant}: {reason}", reason=reason) from None
        register_credential(secret)
        return secret

    def set(self, tenant: str, secret: str) -> None:
        from connector.files import FileError, write_private

        register_credential(secret)
        try:
            write_private(self.path, secret + "\n", what="secrets file")
        except FileError as exc:
            raise CredentialError(f"tenant {tenant}: {exc}", reason=str(exc)) from None


class MemoryCredentials:
    """In-process credentials for the demo and tests."""

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        self._secrets = dict(secrets or {})
        self._lock = threading.Lock()

    def get(self, tenant: str) -> str | None:
        with self._lock:
            secret = self._secrets.get(tenant)
        register_credential(secret)
        return secret

    def set(self, tenant: str, secret: str) -> None:
        register_credential(secret)
        with self._lock:
            self._secrets[tenant] = secret


def credential_fix(tenant: str, setting: str | CredentialStore) -> str:
    """What the user does about a missing or refused credential: set the environment variable
    (``credentials = "env:VAR"``), or run `kravsync auth` (the keyring)."""
    variable = None
    if isinstance(setting, str) and setting.startswith("env:"):
        variable = setting[4:]
    elif isinstance(setting, EnvCredentials):
        variable = setting.variable
    if variable is not None:
        return f'check environment variable {variable} (credentials = "env:{variable}")'
    path = _secrets_file(setting)
    if path is not None:
        return f"check secrets file {path}, or run `kravsync auth {tenant}` to write it"
    return f"run `kravsync auth {tenant}`"


def _secrets_file(setting: str | CredentialStore) -> str | None:
    if isinstance(setting, str) and setting.startswith("file:"):
        return setting[len("file:") :]
    if isinstance(setting, FileCredentials):
        return setting.path
    return None


def missing_credential(tenant: str, setting: str | CredentialStore) -> str:
    """One line for a credential that is not there at all."""
    variable = setting[4:] if isinstance(setting, str) and setting.startswith("env:") else None
    if isinstance(setting, EnvCredentials):
        variable = setting.variable
    if variable is not None:
        return (
            f"tenant {tenant}: environment variable {variable} is not set or empty "
            f'(credentials = "env:{variable}")'
        )
    path = _secrets_file(setting)
    if path is not None:
        return (
            f"tenant {tenant}: secrets file {path} is missing or empty; "
            f"write the secret there (mode 0600) or run `kravsync auth {tenant}`"
        )
    return f"tenant {tenant}: no credentials stored; run `kravsync auth {tenant}`"


def credentials_for(setting: str) -> CredentialStore:
    """The credential store a tenant's ``credentials`` setting names."""
    if setting == "keyring":
        return KeyringCredentials()
    if setting.startswith("keyring:"):
        return KeyringCredentials(entry=setting[len("keyring:") :])
    if setting.startswith("env:"):
        return EnvCredentials(setting[4:])
    if setting.startswith("file:/"):
        return FileCredentials(setting[len("file:") :])
    raise CredentialError("unknown credentials setting (not keyring, env:VAR or file:/PATH)")


@dataclass(frozen=True)
class OAuthTokens:
    access_token: str | None
    refresh_token: str | None
    expires_at: float | None  # epoch seconds
    extra: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(
            {
                **self.extra,
                "type": "oauth",
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_at": self.expires_at,
            }
        )


def parse_secret(secret: str) -> OAuthTokens | str:
    """A plain token string, or the OAuth tokens a JSON secret holds."""
    text = secret.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise CredentialError("stored credential is not valid JSON") from None
        extra = {
            k: v
            for k, v in data.items()
            if k not in {"type", "access_token", "refresh_token", "expires_at"}
        }
        return OAuthTokens(
            access_token=data.get("access_token"),
            refresh_token=data.get("refresh_token"),
            expires_at=data.get("expires_at"),
            extra=extra,
        )
    return text
