"""Shared pieces of the hostile-input suite (tests/test_hostile_*.py): good records to spoil,
and a Fiken tenant whose API answers come from ``responses`` (no sockets, no sleeping)."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import responses
from responses import matchers

from connector.clock import Clock
from connector.config import TenantConfig
from connector.cycle.pull import SyncResult, pull
from connector.store import SqliteStore
from providers.fiken.adapter import FikenProvider
from providers.fiken.client import FikenClient, error_message
from providers.http import HttpClient, RetryPolicy
from providers.oauth import StaticBearer

FIXTURES = Path(__file__).parent / "fixtures" / "fiken"
TODAY = date(2026, 11, 23)
BASE = "https://api.fiken.no/api/v2"
COMPANY = "fjord-as"
TOKEN = "fiken-token-7f3a9c2e51"


def contact(contact_id: int = 1001, **changes: Any) -> dict[str, Any]:
    """A Fiken contact (the spec's example) with ``changes`` applied."""
    raw = json.loads((FIXTURES / "contact_spec_example.json").read_text(encoding="utf-8"))
    raw.update(contactId=contact_id, customerNumber=contact_id, inactive=False)
    raw.update(changes)
    return raw


def invoice(invoice_id: int = 5001, **changes: Any) -> dict[str, Any]:
    """An open Fiken invoice (the spec's example, unsettled) with ``changes`` applied."""
    raw = json.loads((FIXTURES / "invoice_spec_example.json").read_text(encoding="utf-8"))
    raw = copy.deepcopy(raw)
    raw["sale"].update({"settled": False, "outstandingBalance": 125000, "totalPaid": 0})
    raw.update(
        invoiceId=invoice_id,
        invoiceNumber=invoice_id,
        issueDate="2026-10-01",
        dueDate="2026-10-15",
        associatedCreditNotes=[],
    )
    raw.update(changes)
    return raw


def tenant(name: str = "fjord") -> TenantConfig:
    return TenantConfig.model_validate(
        {
            "name": name,
            "provider": "fiken",
            "country": "NO",
            "company": COMPANY,
            "base_url": BASE,
            "requests_per_window": 1000,
        }
    )


def provider(clock: Clock, *, deadline: float = 60.0) -> FikenProvider:
    http = HttpClient(
        provider="fiken",
        base_url=BASE,
        auth=StaticBearer(TOKEN),
        retry=RetryPolicy(max_tries=2),
        error_message=error_message,
        sleep=lambda _s: None,
        deadline=deadline,
    )
    return FikenProvider(FikenClient(http, COMPANY), today=clock.today)


def serve_pages(
    rsps: responses.RequestsMock,
    resource: str,
    pages: Sequence[Sequence[Any] | str],
    *,
    total: int | None = None,
    page_count: int | None = None,
    params: dict[str, str] | None = None,
) -> None:
    """Answer ``resource`` page by page (a page is rows, or a raw body string)."""
    rows = sum(_count(p) for p in pages)
    for number, page in enumerate(pages):
        body = page if isinstance(page, str) else json.dumps(page)
        query = {**(params or {}), "page": str(number), "pageSize": "100"}
        # Other parameters (a cursor's lastModifiedGe) may come along.
        rsps.get(
            f"{BASE}/companies/{COMPANY}/{resource}",
            body=body,
            content_type="application/json",
            headers={
                "Fiken-Api-Page-Count": str(page_count or len(pages)),
                "Fiken-Api-Result-Count": str(total if total is not None else rows),
            },
            match=[matchers.query_param_matcher(query, strict_match=False)],
        )


def _count(page: Sequence[Any] | str) -> int:
    if not isinstance(page, str):
        return len(page)
    try:
        return len(json.loads(page))
    except (ValueError, RecursionError):
        return 1


def pull_fiken(
    store: SqliteStore,
    clock: Clock,
    contacts: Sequence[Sequence[Any] | str],
    invoices: Sequence[Sequence[Any] | str] = ((),),
    *,
    name: str = "fjord",
) -> SyncResult:
    """One pull of tenant ``name`` whose API lists ``contacts`` and ``invoices`` pages."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_pages(rsps, "contacts", contacts, params={"customer": "true"})
        serve_pages(rsps, "invoices", invoices)
        p = provider(clock)
        try:
            return pull(tenant(name), p, store, clock=clock)
        finally:
            p.close()
