"""The contract every registered provider meets, run over the real client and its sandbox.

A new provider joins by registering a ProviderFactory whose sandbox has ``tenant_settings()``,
``demo_secret()``, ``LIST_PATHS``, ``inject()`` and ``revoke()``: nothing here names a provider.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from connector.config import TenantConfig
from connector.cycle.pull import SyncResult, pull
from connector.models import Customer, Invoice
from connector.secrets import MemoryCredentials
from connector.store import SqliteStore
from providers.base import Provider, RecordError, registry

pytestmark = pytest.mark.e2e
TODAY = date(2026, 11, 23)
PROVIDERS = sorted(registry())


class Harness:
    def __init__(self, name: str, tmp_path: Path, **sandbox: Any) -> None:
        self.factory = registry()[name]
        self.sandbox: Any = self.factory.sandbox(today=TODAY, rate_limit=False, **sandbox).start()
        self.tenant = TenantConfig.model_validate(
            {
                "name": f"contract-{name}",
                "provider": name,
                "country": self.factory.countries[0],
                "requests_per_window": 1000,  # the sandbox runs unthrottled here
                **self.sandbox.tenant_settings(),
            }
        )
        self.credentials = MemoryCredentials({self.tenant.name: self.sandbox.demo_secret()})
        self.clock = self.sandbox.clock
        self.store = SqliteStore(str(tmp_path / "contract.db"), self.clock)

    def provider(self) -> Provider:
        return self.factory.create(
            self.tenant, self.credentials, lock=self.store.advisory_lock, clock=self.clock
        )

    def pull(self) -> SyncResult:
        provider = self.provider()
        try:
            return pull(self.tenant, provider, self.store, clock=self.clock)
        finally:
            provider.close()

    def stop(self) -> None:
        self.sandbox.stop()


@pytest.fixture(params=PROVIDERS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    h = Harness(request.param, tmp_path)
    yield h
    h.stop()


@pytest.mark.parametrize("name", PROVIDERS)
def test_paging_stops_and_every_generated_record_maps(name: str, tmp_path: Path) -> None:
    # Enough rows for several pages of every provider's page size.
    h = Harness(name, tmp_path, customers=1100, invoices=1200)
    try:
        provider = h.provider()
        customers = list(provider.iter_customers(None))
        invoices = list(provider.iter_invoices(None, open_only=False))
        provider.close()
    finally:
        h.stop()
    assert [c for c in customers if isinstance(c, RecordError)] == []
    assert [i for i in invoices if isinstance(i, RecordError)] == []
    assert all(isinstance(c, Customer) for c in customers) and len(customers) > 1000
    assert len(invoices) == 1200 and all(isinstance(i, Invoice) for i in invoices)
    assert len({c.provider_id for c in customers}) == len(customers)  # no page read twice


def test_every_seeded_record_maps_and_is_stored(harness: Harness) -> None:
    result = harness.pull()
    assert result.ok, result.error
    assert result.skipped == []
    assert result.customers > 10 and result.invoices > 10
    assert len(list(harness.store.customers(harness.tenant.name))) == result.customers


def test_429_is_backed_off_and_the_pull_completes(harness: Harness) -> None:
    harness.sandbox.inject(harness.sandbox.LIST_PATHS["customers"], status=429, times=1)
    provider = harness.provider()
    result = pull(harness.tenant, provider, harness.store, clock=harness.clock)
    assert result.ok, result.error
    http = provider.client.http  # type: ignore[attr-defined]
    assert http.rate_limited == 1
    provider.close()


def test_401_is_an_auth_error_naming_the_command(harness: Harness) -> None:
    harness.sandbox.revoke()
    result = harness.pull()
    assert not result.ok
    assert result.error is not None and f"kravsync auth {harness.tenant.name}" in result.error


def test_malformed_page_fails_the_tenant_and_the_cursor_stays(harness: Harness) -> None:
    assert harness.pull().ok
    cursor = harness.store.get_cursor(harness.tenant.name, "invoices")
    stored = harness.store.open_invoice_ids(harness.tenant.name)
    harness.sandbox.inject(harness.sandbox.LIST_PATHS["invoices"], malformed=True, times=100)
    result = harness.pull()
    assert not result.ok and result.error is not None and "malformed" in result.error
    assert harness.store.get_cursor(harness.tenant.name, "invoices") == cursor
    assert harness.store.open_invoice_ids(harness.tenant.name) == stored
