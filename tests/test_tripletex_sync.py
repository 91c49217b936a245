"""Tripletex cycles after the first: changed customers only, open invoices, settlements seen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from connector.config import TenantConfig
from connector.cycle.pull import pull
from connector.models import InvoiceStatus
from connector.secrets import MemoryCredentials
from connector.store import SqliteStore
from providers.base import registry
from providers.tripletex.auth import forget_sessions
from providers.tripletex.sandbox import TripletexSandbox
from providers.tripletex.sandbox import seed as s

pytestmark = pytest.mark.e2e
TODAY = date(2026, 11, 23)


@pytest.fixture
def sandbox() -> Iterator[TripletexSandbox]:
    forget_sessions()
    with TripletexSandbox(today=TODAY, rate_limit=False) as sb:
        yield sb


def run(sb: TripletexSandbox, store: SqliteStore) -> tuple[object, list[str | None]]:
    tenant = TenantConfig.model_validate(
        {"name": "fjell", "provider": "tripletex", "country": "NO", **sb.tenant_settings()}
    )
    factory = registry()["tripletex"]
    provider = factory.create(
        tenant, MemoryCredentials({tenant.name: sb.demo_secret()}), clock=sb.clock
    )
    before = len(sb.received())
    try:
        result = pull(tenant, provider, store, clock=sb.clock)
    finally:
        provider.close()
    return result, [r.operation for r in sb.received()[before:]]


def test_a_settlement_is_seen_on_the_next_cycle_and_only_changes_are_read(
    sandbox: TripletexSandbox, tmp_path: Path
) -> None:
    store = SqliteStore(str(tmp_path / "s.db"), sandbox.clock)
    first, _ = run(sandbox, store)
    assert first.ok  # type: ignore[attr-defined]
    book = sandbox.book()
    assert isinstance(book, s.ListBook)
    paid = book.invoice_id(book.tags["overdue_20"])
    part = book.invoice_id(book.tags["overdue_40"])
    assert store.invoice("fjell", str(paid)).status is InvoiceStatus.OPEN  # type: ignore[union-attr]
    sandbox.clock.advance(timedelta(hours=1))
    sandbox.pay(paid)
    sandbox.pay(part, amount=sandbox.book().outstanding(book.invoice_index(part) or 0) / 2)
    sandbox.update_customer(
        book.customer_id(book.customer_keys["baker"]), invoiceEmail="ny@aerlig.no"
    )
    second, calls = run(sandbox, store)
    assert second.ok  # type: ignore[attr-defined]
    settled = store.invoice("fjell", str(paid))
    assert settled is not None and settled.status is InvoiceStatus.PAID  # re-read, no longer listed
    halved = store.invoice("fjell", str(part))
    assert halved is not None and halved.is_open and halved.outstanding < halved.gross
    assert second.customers == 1  # type: ignore[attr-defined]
    baker = store.customer("fjell", str(book.customer_id(book.customer_keys["baker"])))
    assert baker is not None and baker.email == "ny@aerlig.no" and baker.contact_persons
    # A later cycle: two customer lists (active, inactive) since the cursor, the contacts of
    # the one changed customer, one invoice window, one re-read of the settled invoice.
    assert calls.count("Customer_search") == 2 and calls.count("Contact_search") == 1
    assert calls.count("Invoice_search") == 1 and calls.count("Invoice_get") == 1
    changed = [r for r in sandbox.received("Customer_search")][-2:]
    assert all("changedSince" in r.query for r in changed)


def test_tripletex_is_not_asked_for_changed_invoices(sandbox: TripletexSandbox) -> None:
    factory = registry()["tripletex"]
    tenant = TenantConfig.model_validate(
        {"name": "fjell", "provider": "tripletex", "country": "NO", **sandbox.tenant_settings()}
    )
    provider = factory.create(
        tenant, MemoryCredentials({"fjell": sandbox.demo_secret()}), clock=sandbox.clock
    )
    assert provider.capabilities().invoice_changes_since is False
    open_now = list(provider.iter_invoices(None, open_only=True))
    everything = list(provider.iter_invoices(None, open_only=False))
    assert 0 < len(open_now) < len(everything) == sandbox.book().n_invoices
    provider.close()
