"""Bearer-token auth shared by the providers: static tokens and OAuth2 with rotating refresh tokens.

The rotating case (Fortnox's single-use refresh tokens, Fiken's refresh tokens that may rotate)
is the one that loses customers' consent when done carelessly. The rule here:

1. one refresh at a time per tenant: a process-local lock plus a lock shared through the state
   store (every process on the store), held across read → exchange → persist;
2. after taking the lock, re-read the stored tokens: another worker may have refreshed already,
   in which case its access token is adopted and nothing is sent;
3. the new refresh token is persisted (atomically, one keyring write of the whole JSON) before
   the new access token is used for anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import requests

from connector.clock import host_time
from connector.scrub import register_secret
from connector.secrets import (
    CredentialStore,
    OAuthTokens,
    credential_fix,
    missing_credential,
    parse_secret,
)
from providers.http import (
    AuthError,
    ServerError,
    TransportError,
    guarded_request,
    json_body,
    new_session,
)

LockFactory = Callable[[str], AbstractContextManager[Any]]

_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def _process_lock(key: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(key, threading.Lock())


def _auth_hint(tenant: str, credentials: CredentialStore | None = None) -> str:
    return credential_fix(tenant, credentials) if credentials is not None else (
        f"run `kravsync auth {tenant}`"
    )


class StaticBearer:
    """A token that never expires (Fiken personal API token)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def refresh(self) -> bool:
        return False


class OAuth2Auth:
    """OAuth2 bearer auth: refresh-token grant (rotating) or client-credentials grant."""

    def __init__(
        self,
        *,
        provider: str,
        tenant: str,
        token_url: str,
        credentials: CredentialStore,
        grant: str = "refresh_token",
        client_id: str | None = None,
        token_headers: dict[str, str] | None = None,
        lock: LockFactory | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] = host_time,
        leeway: float = 30.0,
        timeout: tuple[float, float] = (5.0, 30.0),
    ) -> None:
        if grant not in {"refresh_token", "client_credentials"}:
            raise ValueError(f"unsupported grant {grant!r}")
        self.provider = provider
        self.tenant = tenant
        self.token_url = token_url
        self.credentials = credentials
        self.grant = grant
        self.client_id = client_id
        self.token_headers = token_headers or {}
        self._lock = lock or (lambda _name: nullcontext())
        self._session = session or new_session()
        self._clock = clock
        self._leeway = leeway
        self._timeout = timeout
        self._local = _process_lock(f"{provider}:{tenant}")
        self._tokens: OAuthTokens | None = None
        self.refreshes = 0  # grants this object actually sent (for tests and benchmarks)

    # -- Auth protocol ------------------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        tokens = self._tokens or self._load()
        if not tokens.access_token or self._expired(tokens):
            tokens = self._renew(stale=tokens.access_token)
        return {"Authorization": f"Bearer {tokens.access_token}"}

    def refresh(self) -> bool:
        """Called after a 401: renew unless another worker already did."""
        stale = self._tokens.access_token if self._tokens else None
        self._renew(stale=stale)
        return True

    # -- internals ----------------------------------------------------------------------------
    def _expired(self, tokens: OAuthTokens) -> bool:
        return tokens.expires_at is not None and tokens.expires_at - self._leeway <= self._clock()

    def _load(self) -> OAuthTokens:
        secret = self.credentials.get(self.tenant)
        if not secret:
            raise AuthError(self.provider, missing_credential(self.tenant, self.credentials))
        parsed = parse_secret(secret)
        if isinstance(parsed, str):
            # A bare string is a client secret (client credentials) or a static access token.
            if self.grant == "client_credentials":
                parsed = OAuthTokens(None, None, None, {"client_secret": parsed})
            else:
                parsed = OAuthTokens(parsed, None, None, {})
        return parsed

    def _renew(self, stale: str | None) -> OAuthTokens:
        with self._local, self._lock(f"oauth:{self.provider}:{self.tenant}"):
            current = self._load()
            if (
                current.access_token
                and current.access_token != stale
                and not self._expired(current)
            ):
                self._tokens = current  # another worker refreshed while we waited
                return current
            fresh = self._grant(current)
            if fresh.refresh_token != current.refresh_token or self.grant == "refresh_token":
                self.credentials.set(self.tenant, fresh.to_json())  # persist before use
            self._tokens = fresh
            return fresh

    def _grant(self, current: OAuthTokens) -> OAuthTokens:
        client_id = current.extra.get("client_id") or self.client_id
        client_secret = current.extra.get("client_secret")
        if self.grant == "refresh_token":
            if not current.refresh_token:
                raise AuthError(
                    self.provider,
                    f"tenant {self.tenant}: access token expired and no refresh token stored; "
                    f"{_auth_hint(self.tenant, self.credentials)}",
                )
            form = {"grant_type": "refresh_token", "refresh_token": current.refresh_token}
        else:
            form = {"grant_type": "client_credentials"}
        if not client_id or not client_secret:
            raise AuthError(
                self.provider,
                f"tenant {self.tenant}: client id or secret missing; "
                f"{_auth_hint(self.tenant, self.credentials)}",
            )
        register_secret(client_secret, user=client_id)
        try:
            response = guarded_request(
                self._session,
                "POST",
                self.token_url,
                data=form,
                auth=(client_id, client_secret),
                headers=self.token_headers,
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            # Not a refusal of the credentials: the endpoint did not answer. Retried.
            raise TransportError(
                self.provider,
                f"tenant {self.tenant}: connection failed to the token endpoint "
                f"{self.token_url} ({type(exc).__name__})",
            ) from None
        self.refreshes += 1
        if response.status_code >= 500 or 300 <= response.status_code < 400:
            raise ServerError(
                self.provider,
                f"tenant {self.tenant}: the token endpoint {self.token_url} answered "
                f"HTTP {response.status_code}",
                status=response.status_code,
            )
        body: dict[str, Any] = {}
        try:
            parsed = json_body(response)
            if isinstance(parsed, dict):
                body = parsed
        except ValueError:
            pass
        if response.status_code != 200 or "access_token" not in body:
            error = str(body.get("error") or f"HTTP {response.status_code}")
            description = str(body.get("error_description") or "")[:160]
            what = {
                "invalid_grant": "consent revoked or refresh token expired/already used",
                "invalid_client": "client id or secret rejected",
                "unauthorized_client": "client not allowed this grant",
            }.get(error, "token request refused")
            detail = f" ({description})" if description else ""
            raise AuthError(
                self.provider,
                f"tenant {self.tenant}: {what}: {error}{detail}; "
                f"{_auth_hint(self.tenant, self.credentials)}",
                status=response.status_code,
            )
        register_secret(str(body["access_token"]))
        if body.get("refresh_token"):
            register_secret(str(body["refresh_token"]))
        expires_in = _seconds(body.get("expires_in"))
        return OAuthTokens(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"])
            if body.get("refresh_token")
            else current.refresh_token,
            expires_at=self._clock() + expires_in if expires_in is not None else None,
            extra=current.extra,
        )


def exchange_code(
    *,
    token_url: str,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str | None,
    session: requests.Session | None = None,
    clock: Callable[[], float] = host_time,
    extra: dict[str, Any] | None = None,
) -> OAuthTokens:
    """The authorization-code exchange of `kravsync auth`: code → tokens (nothing persisted here)."""
    form = {"grant_type": "authorization_code", "code": code}
    if redirect_uri:
        form["redirect_uri"] = redirect_uri
    register_secret(client_secret, user=client_id)
    http = session or new_session()
    try:
        response = guarded_request(
            http, "POST", token_url, data=form, auth=(client_id, client_secret), timeout=(5, 30)
        )
    except requests.RequestException as exc:
        raise TransportError(
            "oauth", f"connection failed to the token endpoint {token_url} ({type(exc).__name__})"
        ) from None
    try:
        body = json_body(response)
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        error = body.get("error") if isinstance(body, dict) else None
        raise AuthError(
            "oauth", f"code exchange refused: {error or 'HTTP ' + str(response.status_code)}"
        )
    register_secret(str(body["access_token"]))
    if body.get("refresh_token"):
        register_secret(str(body["refresh_token"]))
    expires_in = _seconds(body.get("expires_in"))
    return OAuthTokens(
        access_token=str(body["access_token"]),
        refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
        expires_at=clock() + expires_in if expires_in is not None else None,
        extra={"client_id": client_id, "client_secret": client_secret, **(extra or {})},
    )


def _seconds(value: Any) -> float | None:
    """``expires_in`` as seconds: a number or digits within a year; anything else unknown."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(str(value))
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 366 * 86400 else None
