"""Fortnox credentials: which OAuth2 set-up a tenant uses, and the `kravsync auth` flow.

Two set-ups (fortnox.se, "Authorization"):

* client credentials + ``TenantId`` header (service accounts; preferred): the stored secret is
  the client secret (or a JSON object with ``client_id``/``client_secret``); a new access token
  can be asked for at any time and there is no refresh token to lose;
* authorization code: the stored secret is the JSON of :class:`OAuthTokens` with a single-use
  refresh token that rotates on every refresh (45 days). :class:`providers.oauth.OAuth2Auth`
  refreshes under the store-wide lock and persists the new refresh token before use.

The legacy ``Access-Token``/``Client-Secret`` headers stopped working in 2025: a stored legacy
credential is refused with a line saying what to run.
"""

from __future__ import annotations

import secrets as _random
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from connector.secrets import CredentialStore, OAuthTokens, missing_credential, parse_secret
from providers.fortnox.client import AUTHORIZE_URL, FINANS_SCOPE, SCOPES, TOKEN_URL
from providers.http import AuthError
from providers.oauth import LockFactory, OAuth2Auth, exchange_code

if TYPE_CHECKING:
    from connector.config import TenantConfig
    from connector.interaction import Interaction

PROVIDER = "fortnox"
_LEGACY_KEYS = {"access-token", "client-secret", "authorization-code", "accesstoken"}


def _hint(tenant: str) -> str:
    return f"run `kravsync auth {tenant}`"


def grant_for(tenant: TenantConfig, secret: str) -> str:
    """``client_credentials`` or ``refresh_token``, from the config and the stored secret."""
    parsed = parse_secret(secret)
    if isinstance(parsed, OAuthTokens):
        if {k.lower() for k in parsed.extra} & _LEGACY_KEYS:
            raise AuthError(
                PROVIDER,
                f"tenant {tenant.name}: the stored credential is a legacy Access-Token/"
                f"Client-Secret pair, which Fortnox stopped accepting in 2025; {_hint(tenant.name)}",
            )
    if tenant.auth == "client_credentials" or (tenant.auth is None and tenant.tenant_id):
        if not tenant.tenant_id:
            raise AuthError(
                PROVIDER,
                f"tenant {tenant.name}: client credentials need tenant_id (Fortnox TenantId) "
                "in the config",
            )
        return "client_credentials"
    if isinstance(parsed, OAuthTokens) and parsed.refresh_token:
        return "refresh_token"
    raise AuthError(
        PROVIDER,
        f"tenant {tenant.name}: the stored credential is neither OAuth2 tokens nor a client "
        "secret with tenant_id (legacy Access-Token credentials stopped working in 2025); "
        f"{_hint(tenant.name)}",
    )


def build_auth(
    tenant: TenantConfig,
    credentials: CredentialStore,
    lock: LockFactory | None = None,
    *,
    leeway: float = 60.0,
) -> OAuth2Auth:
    """The request auth for ``tenant``; raises :class:`AuthError` naming what to run."""
    secret = credentials.get(tenant.name)
    if not secret:
        raise AuthError(PROVIDER, missing_credential(tenant.name, credentials))
    grant = grant_for(tenant, secret)
    return OAuth2Auth(
        provider=PROVIDER,
        tenant=tenant.name,
        token_url=tenant.token_url or TOKEN_URL,
        credentials=credentials,
        grant=grant,
        client_id=tenant.client_id,
        token_headers={"TenantId": tenant.tenant_id or ""} if grant == "client_credentials" else {},
        lock=lock,
        leeway=leeway,
    )


def authorize_link(tenant: TenantConfig, state: str) -> str:
    """The consent URL (``account_type=service`` so that client credentials work afterwards)."""
    query = {
        "client_id": tenant.client_id or "",
        "scope": f"{SCOPES} {FINANS_SCOPE}" if tenant.fortnox_finans else SCOPES,
        "state": state,
        "access_type": "offline",
        "response_type": "code",
        "account_type": "service",
    }
    if tenant.redirect_uri:
        query["redirect_uri"] = tenant.redirect_uri
    return f"{tenant.authorize_url or AUTHORIZE_URL}?{urlencode(query)}"


def auth(tenant: TenantConfig, credentials: CredentialStore, io: Interaction) -> None:
    """`kravsync auth TENANT` for Fortnox: store a client secret (client credentials, checked
    by asking for a token) or run the authorization-code flow and store the tokens."""
    if not tenant.client_id:
        raise AuthError(PROVIDER, f"tenant {tenant.name}: set client_id in the config")
    client_secret = io.secret("Fortnox client secret: ").strip()
    if not client_secret:
        raise AuthError(PROVIDER, f"tenant {tenant.name}: no client secret entered")
    token_url = tenant.token_url or TOKEN_URL
    extra: dict[str, Any] = {"client_id": tenant.client_id, "client_secret": client_secret}
    if tenant.auth == "client_credentials" or (tenant.auth is None and tenant.tenant_id):
        from connector.secrets import MemoryCredentials

        trial = MemoryCredentials({tenant.name: OAuthTokens(None, None, None, extra).to_json()})
        build_auth(tenant, trial).headers()  # raises AuthError if Fortnox refuses
        credentials.set(tenant.name, trial.get(tenant.name) or "")
        io.say(f"Stored the Fortnox client credentials for tenant {tenant.name}.")
        return
    state = _random.token_urlsafe(16)
    io.say("Open this URL as the Fortnox system administrator, approve, then paste the `code`:")
    io.say(authorize_link(tenant, state))
    code = io.ask("code: ").strip()
    tokens = exchange_code(
        token_url=token_url,
        client_id=tenant.client_id,
        client_secret=client_secret,
        code=code,
        redirect_uri=tenant.redirect_uri,
    )
    credentials.set(tenant.name, tokens.to_json())
    io.say(f"Stored OAuth2 tokens for tenant {tenant.name}.")
