"""Validation wired to the store: customers and invoices of a tenant → stored findings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from connector.clock import Clock
from connector.config import TenantConfig
from connector.store import Store
from connector.store.records import FindingChange
from connector.validation import (
    BrregClient,
    PostcodeRegister,
    fixture_register,
    load_postcode_register,
    validate_customers,
    validate_invoices,
)
from connector.validation.findings import Finding
from connector.validation.postcodes import parse_bring

log = logging.getLogger("kravsync.validation")


@dataclass
class CheckResult:
    findings: int = 0
    errors: int = 0
    change: FindingChange | None = None
    notes: list[str] = field(default_factory=list)
    checked: int = 0  # customers validated
    customers: int = 0  # customers stored (the rest wait for their detail reads)

    def coverage(self) -> str:
        return f"customers checked {self.checked} of {self.customers}"


class StoreRegistryCache:
    """Brønnøysund answers kept in the state store between runs."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, orgnr: str) -> tuple[datetime, dict[str, Any] | int] | None:
        return self.store.registry_get(orgnr)

    def put(self, orgnr: str, fetched_at: datetime, value: dict[str, Any] | int) -> None:
        self.store.registry_put(orgnr, fetched_at, value)


def postcode_register(tenant: TenantConfig) -> PostcodeRegister | None:
    """The tenant's Norwegian postcode register, or None (checks skipped, and said so)."""
    settings = tenant.validation
    if tenant.country != "NO" or not settings.postcode_register:
        return None
    source = settings.postcode_register_source
    if source == "fixture":
        return fixture_register()
    if source == "bring":
        return load_postcode_register()
    try:
        data = Path(source).read_bytes()
    except OSError as exc:
        log.warning("%s: postcode register %s unreadable: %s", tenant.name, source, exc.strerror)
        return None
    return PostcodeRegister(parse_bring(data), complete=True, source=source)


def registry_client(tenant: TenantConfig, store: Store, clock: Clock) -> BrregClient | None:
    settings = tenant.validation
    if tenant.country != "NO" or not settings.registry_check:
        return None
    return BrregClient(
        settings.registry_url,
        cache=StoreRegistryCache(store),
        ttl=timedelta(hours=settings.registry_ttl_hours),
        now=clock.now,
    )


def malformed_findings(store: Store, tenant: str) -> list[Finding]:
    """A ``record.malformed`` finding for each provider record skipped as malformed."""
    return [
        Finding.make(
            "record.malformed",
            customer_id=m.record_id if m.kind == "customer" else None,
            customer_number=None,
            customer_name=None,
            field=m.kind,
            message=f"{m.kind} {m.record_id} was skipped: {m.message}",
        )
        for m in store.malformed_records(tenant)
    ]


def check_tenant(
    tenant: TenantConfig,
    store: Store,
    *,
    today: date,
    postcodes: PostcodeRegister | None = None,
    registry: BrregClient | None = None,
    waiting: set[str] | None = None,
) -> CheckResult:
    """Validate every stored customer and open invoice of ``tenant`` and store the findings.

    ``waiting``: customers whose detail reads are still due: not checked (their list rows lack
    facts, so a finding would be a guess) and their earlier findings are left as they were."""
    waiting = waiting or set()
    every_customer = list(store.customers(tenant.name))
    customers = [c for c in every_customer if c.provider_id not in waiting]
    found = validate_customers(
        customers,
        country=tenant.country,
        today=today,
        settings=tenant.validation,
        postcodes=postcodes,
        registry=registry,
    )
    known = {c.provider_id for c in every_customer}
    orphans = validate_invoices(store.invoices(tenant.name, open_only=True), known)
    every = [*found, *orphans, *malformed_findings(store, tenant.name)]
    change = store.replace_findings(tenant.name, every, keep=waiting)
    notes = list(found.notes) + list(orphans.notes)
    return CheckResult(
        findings=len(every),
        errors=sum(1 for f in every if f.severity == "error"),
        change=change,
        notes=notes,
        checked=len(customers),
        customers=len(every_customer),
    )
