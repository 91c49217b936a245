"""Tripletex (Norway): registered under the ``kravsync.providers`` entry point as ``tripletex``.

A tenant is one Tripletex company: ``company`` is its id (``0``, the default, is the employee's
own company; a bureau's client companies have their own ids, listed by ``kravsync tenants
discover``). ``dispatch_type`` says how Tripletex sends the reminders kravsync asks for.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import requests

from connector.clock import Clock
from connector.secrets import CredentialStore
from providers.base import DiscoveredTenant, ProviderFactory, Sandbox
from providers.http import HttpClient
from providers.oauth import LockFactory
from providers.tripletex.adapter import TripletexProvider
from providers.tripletex.auth import SessionAuth, Tokens, company_id, parse_tokens
from providers.tripletex.auth import auth as auth_command
from providers.tripletex.client import BASE_URL, HeaderPacer, TripletexClient, error_message
from providers.tripletex.push import DEFAULT_DISPATCH, DISPATCH_TYPES

if TYPE_CHECKING:
    from connector.config import TenantConfig

NAME = "tripletex"


def connect(tenant: TenantConfig, tokens: Tokens) -> TripletexClient:
    """The client for ``tenant``'s company: session auth, header pacing, the error envelope."""
    base_url = tenant.base_url or BASE_URL
    pacer = HeaderPacer(
        max_calls=tenant.requests_per_window or 1_000_000, period=tenant.window_seconds or 1.0
    )
    session = requests.Session()
    session.hooks["response"].append(pacer.observe)
    http = HttpClient(
        provider=NAME,
        base_url=base_url,
        auth=SessionAuth(
            tenant=tenant.name, base_url=base_url, tokens=tokens, company=company_id(tenant)
        ),
        limiter=pacer,
        session=session,
        error_message=error_message,
        request_id_header="x-tlx-request-id",
    )
    return TripletexClient(http)


def create(
    tenant: TenantConfig,
    credentials: CredentialStore,
    *,
    clock: Clock,
    lock: LockFactory | None = None,
) -> TripletexProvider:
    tokens = parse_tokens(tenant.name, credentials.get(tenant.name))
    return TripletexProvider(
        connect(tenant, tokens),
        today=clock.today,
        dispatch_type=tenant.dispatch_type or DEFAULT_DISPATCH,
        country=tenant.country,
    )


def sandbox(**kwargs: Any) -> Sandbox:
    from providers.tripletex.sandbox import TripletexSandbox

    return TripletexSandbox(**kwargs)


def check_settings(tenant: TenantConfig) -> list[str]:
    problems = []
    if tenant.company is not None and not str(tenant.company).strip().isdigit():
        problems.append(
            f"company: {tenant.company!r} is not a Tripletex company id (digits; 0 = your own)"
        )
    if tenant.dispatch_type is not None and tenant.dispatch_type not in DISPATCH_TYPES:
        problems.append(
            f"dispatch_type: {tenant.dispatch_type!r} is not one of {', '.join(DISPATCH_TYPES)}"
        )
    return problems


def _slug(text: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "o", "å": "aa", "é": "e", "ä": "a", "ö": "o"})
    return re.sub(r"[^a-z0-9]+", "-", text.lower().translate(table)).strip("-")


def discover(
    tenant: TenantConfig, credentials: CredentialStore, *, clock: Clock | None = None
) -> list[DiscoveredTenant]:
    """The client companies the tenant's login reaches as their accountant
    (``GET /company/>withLoginAccess``), each ready to be a tenant of its own."""
    tokens = parse_tokens(tenant.name, credentials.get(tenant.name))
    client = connect(tenant, tokens)
    try:
        found = client.clients()
    finally:
        client.http.close()
    out = []
    for raw in found:
        cid, name = raw.get("id"), str(raw.get("name") or "").strip()
        if cid is None:
            continue
        org = str(raw.get("organizationNumber") or "").strip()
        slug = _slug(name)[:40].strip("-") or str(cid)
        settings: dict[str, Any] = {"company": str(cid)}
        if tenant.base_url:
            settings["base_url"] = tenant.base_url
        label = f"{name or '?'} (Tripletex company {cid}{', org ' + org if org else ''})"
        out.append(DiscoveredTenant(name=f"{slug}-{cid}"[:63], settings=settings, label=label))
    return out


def delivery(tenant: TenantConfig) -> tuple[str, ...]:
    """The provider's own sending: always there."""
    return ("tripletex_native",)


PROVIDER = ProviderFactory(
    name=NAME,
    countries=("NO",),
    create=create,
    sandbox=sandbox,
    delivery=delivery,
    auth=auth_command,
    discover=discover,
    check_settings=check_settings,
)
__all__ = ["PROVIDER", "connect", "create", "discover"]
