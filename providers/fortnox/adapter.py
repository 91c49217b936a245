"""Fortnox behind the Provider protocol: cursors, list pulls, detail reads, mapping.

The list shapes lack fields the domain needs: a customer's Type, Active, CountryCode,
VATNumber and YourReference; an invoice's Reminders and LastRemindDate (whether Fortnox itself
has reminded). The lists are mapped as they are, and this adapter declares (``DetailReads``)
which of those records need a detail read: every customer, and every open invoice from its due
date on (Fortnox reminds only from then). When to read them is the shared engine's business
(``connector.cycle.backlog``). Both lists are asked only for records changed since the last sync
(``lastmodified``), which keeps an incremental cycle to a few requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from connector.models import Customer, Invoice, ReminderAction
from mappings import fortnox as mapping
from mappings.errors import MappingError
from providers.base import (
    Capabilities,
    Letter,
    MessageChannel,
    PushResult,
    RecordError,
    StepRecorder,
    map_one,
    map_record,
)
from providers.fortnox.client import FortnoxClient, lastmodified
from providers.fortnox.probe import unreminded
from providers.fortnox.push import FortnoxPush
from providers.http import ProviderError


class FortnoxProvider:
    name = "fortnox"

    def __init__(
        self,
        client: FortnoxClient,
        *,
        today: Callable[[], date],
        finans: bool = False,
        tenant_id: str | None = None,
    ) -> None:
        self.client = client
        self._today = today
        self._account = tenant_id.strip() if tenant_id and tenant_id.strip() else None
        # The tenant has Fortnox Finans and hands its SEK reminders to it (see push.py).
        self._push = FortnoxPush(client, finans=finans, today=lambda: self._today())

    # -- reading ----------------------------------------------------------------------------
    @staticmethod
    def _since(since: datetime | None) -> dict[str, Any]:
        return {} if since is None else {"lastmodified": lastmodified(since)}

    def iter_customers(self, since: datetime | None) -> Iterator[Customer | RecordError]:
        for page in self.client.customers(self._since(since)):
            for raw in page:
                yield map_record("customer", mapping.customer, raw)

    def iter_invoices(
        self, since: datetime | None, open_only: bool
    ) -> Iterator[Invoice | RecordError]:
        params = self._since(since)
        if open_only:
            params["filter"] = "unpaid"
        for page in self.client.invoices(params):
            for raw in page:
                yield map_record("invoice", mapping.invoice, raw)

    def get_invoice(self, provider_id: str) -> Invoice:
        return map_one(self.name, "invoice", mapping.invoice, self.client.invoice(provider_id))

    # -- detail reads (connector.cycle.backlog decides when) ------------------------------------------
    def needs_detail(self, record: Customer | Invoice) -> bool:
        if isinstance(record, Customer):
            return True  # the list has no Type, Active, CountryCode, VATNumber, YourReference
        return record.is_open and record.due_date <= self._today()

    def read_detail(self, kind: str, provider_id: str) -> Customer | Invoice:
        """One record read in full; a detail that does not map raises MappingError (the
        engine reports it and keeps the record waiting), whatever the record holds."""
        found: Customer | Invoice | RecordError
        if kind == "customer":
            found = map_record(kind, mapping.customer, self.client.customer(provider_id))
        else:
            found = map_record(kind, mapping.invoice, self.client.invoice(provider_id))
        if isinstance(found, RecordError):
            raise MappingError(kind, found.record_id, found.message)
        return found

    def confirm_complete(self, kind: str, records: Sequence[Customer | Invoice]) -> set[str]:
        if kind != "invoice":
            return set()
        return unreminded(self.client, [r for r in records if isinstance(r, Invoice)])

    @property
    def requests_per_second(self) -> float:
        limiter = self.client.http.limiter
        return limiter.max_calls / limiter.period if limiter is not None else 5.0

    # -- pushing (routes and crash safety: providers/fortnox/push.py) -------------------------
    def capabilities(self) -> Capabilities:
        return Capabilities(countries=("SE",), push_routes=self._push.routes())

    @property
    def account_id(self) -> str:
        """The Fortnox TenantId: the config's ``tenant_id`` (client credentials), else the
        company's ``DatabaseNumber`` (``GET /3/companyinformation``, asked once), which is the
        same number."""
        if self._account is None:
            info = self.client.company_information()
            number = info.get("DatabaseNumber") or info.get("OrganizationNumber")
            if number in (None, ""):
                raise ProviderError("fortnox", "companyinformation has no DatabaseNumber")
            self._account = str(number).strip()
        return self._account

    def push(
        self, letter: Letter, channel: MessageChannel | None, steps: StepRecorder | None = None
    ) -> dict[str, PushResult]:
        return self._push.push(letter, channel, steps)

    def lookup_action(self, action: ReminderAction) -> PushResult | None:
        return self._push.lookup(action)

    def close(self) -> None:
        self.client.http.close()

    @property
    def requests_sent(self) -> int:
        return self.client.http.requests_sent
