"""One request budget per provider credential, shared by every process on the host.

Providers pace their requests with ``providers.http.RateLimiter``; a limiter given a
:class:`StoreBudget` also waits for a place in the budget kept in the state store, so two
processes (or two tenants) on one credential stay within the provider's limit together. The
budget is keyed by :func:`budget_key`: the provider and the credential's identity, hashed (never
the secret). A PostgreSQL store shares it across hosts the same way (issue 14).
"""

from __future__ import annotations

import hashlib
import time

from connector.config import TenantConfig
from connector.store import Store


def budget_key(tenant: TenantConfig) -> str:
    """``provider:hash``: the same for every tenant whose requests count against one limit.

    The credential is named by where its secret lives (the keyring entry, shared through
    ``keyring:NAME``, or the environment variable) plus the app's client id and the provider
    account the limit is counted for (Fortnox's TenantId); companies reached through one login
    with no such account share the login's budget (Tripletex, a Fiken user's token)."""
    setting = tenant.credentials
    entry = tenant.name if setting == "keyring" else setting.removeprefix("keyring:")
    identity = "\x1f".join(
        (tenant.provider, entry, tenant.client_id or "", str(tenant.tenant_id or ""))
    )
    return f"{tenant.provider}:{hashlib.sha256(identity.encode()).hexdigest()[:20]}"


class StoreBudget:
    """A ``providers.http.RateBudget`` kept in the state store under one key."""

    def __init__(self, store: Store, key: str, *, deadline: float = 300.0) -> None:
        self.store = store
        self.key = key
        self.deadline = deadline

    def acquire(self, max_calls: int, period: float, max_concurrent: int | None) -> object:
        give_up = time.monotonic() + self.deadline
        while True:
            place, wait = self.store.budget_take(self.key, max_calls, period, max_concurrent)
            if place is not None:
                return place
            if time.monotonic() >= give_up:
                raise TimeoutError(
                    f"no place in the shared request budget within {self.deadline:g} s"
                )
            time.sleep(min(wait, 1.0))

    def release(self, token: object) -> None:
        if isinstance(token, int):
            self.store.budget_give_back(token)
