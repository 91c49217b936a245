"""Fiken's OAuth2 token endpoint, as the API description documents it, for the sandbox.

Authorization code ``sandbox-code`` (any redirect_uri) is exchanged for an access token and a
refresh token. A refresh returns a new access token *and* a new refresh token; the old refresh
token is dead from then on (``invalid_grant``), which is what a client must survive when refresh
tokens rotate. Client authentication: HTTP Basic, or client_id/client_secret in the form.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

SANDBOX_CODE = "sandbox-code"
CLIENT_ID = "kravsync-sandbox-client"
CLIENT_SECRET = "kravsync-sandbox-secret"


class OAuthServer:
    def __init__(
        self,
        *,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        code: str = SANDBOX_CODE,
        expires_in: int = 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.code = code
        self.expires_in = expires_in
        self._clock = clock
        self._lock = threading.Lock()
        self._access: dict[str, float] = {}  # token -> expiry (clock time)
        self._refresh: set[str] = set()
        self.issued = 0

    def is_valid(self, access_token: str) -> bool:
        with self._lock:
            expiry = self._access.get(access_token)
            return expiry is not None and self._clock() < expiry

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far expired (refresh tokens stay valid)."""
        with self._lock:
            self._access = dict.fromkeys(self._access, float("-inf"))

    def revoke_all(self) -> None:
        with self._lock:
            self._access.clear()
            self._refresh.clear()

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        """Answer a POST to the token endpoint: (status, JSON body)."""
        client = _client_credentials(form, authorization)
        if client != (self.client_id, self.client_secret):
            return 401, _error("invalid_client", "Client authentication failed.")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            if not form.get("code"):
                return 400, _error("invalid_request", "Missing parameter: code")
            if form["code"] != self.code:
                return 400, _error("invalid_grant", "The authorization code is invalid or expired.")
            return 200, self._issue()
        if grant == "refresh_token":
            old = form.get("refresh_token")
            if not old:
                return 400, _error("invalid_request", "Missing parameter: refresh_token")
            with self._lock:
                if old not in self._refresh:
                    return 400, _error("invalid_grant", "The refresh token is invalid or expired.")
                self._refresh.discard(old)
            return 200, self._issue()
        return 400, _error("unsupported_grant_type", f"Unsupported grant_type: {grant!r}")

    def _issue(self) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
        with self._lock:
            self._access[access] = self._clock() + self.expires_in
            self._refresh.add(refresh)
            self.issued += 1
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "refresh_token": refresh,
        }


def _client_credentials(form: dict[str, str], authorization: str | None) -> tuple[str, str]:
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return ("", "")
        user, _, password = decoded.partition(":")
        return (user, password)
    return (form.get("client_id", ""), form.get("client_secret", ""))


def _error(code: str, description: str) -> dict[str, str]:
    return {"error": code, "error_description": description}
