"""Fiken (Norway): registered under the ``kravsync.providers`` entry point as ``fiken``."""

from __future__ import annotations

import secrets as _random
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from connector.clock import Clock
from connector.secrets import CredentialStore, OAuthTokens, missing_credential, parse_secret
from providers.base import ProviderFactory, Sandbox
from providers.fiken.adapter import FikenProvider
from providers.fiken.client import (
    AUTHORIZE_URL,
    BASE_URL,
    TOKEN_URL,
    FikenClient,
    default_limiter,
    error_message,
)
from providers.http import AuthError, HttpClient
from providers.oauth import LockFactory, OAuth2Auth, StaticBearer, exchange_code

if TYPE_CHECKING:
    from connector.config import TenantConfig
    from connector.interaction import Interaction


def create(
    tenant: TenantConfig,
    credentials: CredentialStore,
    *,
    clock: Clock,
    lock: LockFactory | None = None,
) -> FikenProvider:
    secret = credentials.get(tenant.name)
    if not secret:
        raise AuthError("fiken", missing_credential(tenant.name, credentials))
    parsed = parse_secret(secret)
    auth: Any
    if isinstance(parsed, OAuthTokens) and parsed.refresh_token:
        auth = OAuth2Auth(
            provider="fiken",
            tenant=tenant.name,
            token_url=tenant.token_url or TOKEN_URL,
            credentials=credentials,
            client_id=tenant.client_id,
            lock=lock,
        )
    else:
        token = parsed.access_token if isinstance(parsed, OAuthTokens) else parsed
        auth = StaticBearer(token or "")
    http = HttpClient(
        provider="fiken",
        base_url=tenant.base_url or BASE_URL,
        auth=auth,
        limiter=default_limiter(tenant.requests_per_window, tenant.window_seconds),
        error_message=error_message,
    )
    assert tenant.company is not None  # required_settings guarantees it
    return FikenProvider(FikenClient(http, tenant.company), today=clock.today)


def sandbox(**kwargs: Any) -> Sandbox:
    from providers.fiken.sandbox import FikenSandbox

    return FikenSandbox(**kwargs)


def auth(tenant: TenantConfig, credentials: CredentialStore, io: Interaction) -> None:
    """`kravsync auth`: store a personal API token, or run the OAuth2 authorization-code flow."""
    if tenant.auth in (None, "token"):
        token = io.secret("Fiken personal API token (Rediger konto -> API): ")
        if not token.strip():
            raise AuthError("fiken", f"tenant {tenant.name}: no token entered")
        credentials.set(tenant.name, token.strip())
        io.say(f"Stored the Fiken API token for tenant {tenant.name} in the keyring.")
        return
    if not tenant.client_id:
        raise AuthError("fiken", f"tenant {tenant.name}: set client_id in the config for OAuth2")
    client_secret = io.secret("Fiken OAuth2 client secret: ").strip()
    state = _random.token_urlsafe(16)
    query = {"response_type": "code", "client_id": tenant.client_id, "state": state}
    if tenant.redirect_uri:
        query["redirect_uri"] = tenant.redirect_uri
    io.say("Open this URL, approve access, then paste the `code` from the redirect:")
    io.say(f"{tenant.authorize_url or AUTHORIZE_URL}?{urlencode(query)}")
    code = io.ask("code: ").strip()
    tokens = exchange_code(
        token_url=tenant.token_url or TOKEN_URL,
        client_id=tenant.client_id,
        client_secret=client_secret,
        code=code,
        redirect_uri=tenant.redirect_uri,
    )
    credentials.set(tenant.name, tokens.to_json())
    io.say(f"Stored OAuth2 tokens for tenant {tenant.name} in the keyring.")


def delivery(tenant: TenantConfig) -> tuple[str, ...]:
    """The provider's own sending: always there."""
    return ("fiken_resend",)


PROVIDER = ProviderFactory(
    name="fiken",
    countries=("NO",),
    create=create,
    sandbox=sandbox,
    required_settings=("company",),
    auth=auth,
    delivery=delivery,
)
