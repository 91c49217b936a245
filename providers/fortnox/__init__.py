"""Fortnox (Sweden): registered under the ``kravsync.providers`` entry point as ``fortnox``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connector.clock import Clock
from connector.secrets import CredentialStore
from providers.base import ProviderFactory, Sandbox
from providers.fortnox.adapter import FortnoxProvider
from providers.fortnox.auth import auth, build_auth
from providers.fortnox.client import BASE_URL, FortnoxClient, default_limiter, error_message
from providers.http import HttpClient
from providers.oauth import LockFactory

if TYPE_CHECKING:
    from connector.config import TenantConfig


def create(
    tenant: TenantConfig,
    credentials: CredentialStore,
    *,
    clock: Clock,
    lock: LockFactory | None = None,
) -> FortnoxProvider:
    http = HttpClient(
        provider="fortnox",
        base_url=tenant.base_url or BASE_URL,
        auth=build_auth(tenant, credentials, lock),
        limiter=default_limiter(tenant.requests_per_window, tenant.window_seconds),
        error_message=error_message,
    )
    return FortnoxProvider(FortnoxClient(http), today=clock.today, finans=tenant.fortnox_finans)


def sandbox(**kwargs: Any) -> Sandbox:
    from providers.fortnox.sandbox import FortnoxSandbox

    return FortnoxSandbox(**kwargs)


def delivery(tenant: TenantConfig) -> tuple[str, ...]:
    """Fortnox Finans (when the tenant has it) and kravsync's own e-mail (``[tenants.email]``);
    Fortnox itself sends no reminder through its API."""
    return (("fortnox_finans",) if tenant.fortnox_finans else ()) + (
        ("email",) if tenant.email is not None else ()
    )


PROVIDER = ProviderFactory(
    name="fortnox",
    countries=("SE",),
    create=create,
    sandbox=sandbox,
    auth=auth,
    delivery=delivery,
    delivery_hint="set fortnox_finans = true (Fortnox Finans) or add [tenants.email] (SMTP)",
)
