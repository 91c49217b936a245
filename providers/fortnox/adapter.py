"""Fortnox behind the Provider protocol: cursors, detail fetches, mapping, record errors.

The list shapes lack fields the domain needs: a customer's Type, Active, CountryCode,
VATNumber and YourReference; an invoice's Reminders and LastRemindDate (whether Fortnox itself
has reminded). So each customer the list returns is read in full, and so is each open, overdue
invoice; both lists are asked only for records changed since the last sync (``lastmodified``),
which keeps an incremental cycle to a few requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any

from connector.models import Customer, Invoice, ReminderAction
from mappings import fortnox as mapping
from mappings.common import record_id
from mappings.errors import MappingError
from providers.base import (
    Capabilities,
    Letter,
    MessageChannel,
    PushResult,
    RecordError,
    map_one,
    map_record,
)
from providers.fortnox.client import FortnoxClient, lastmodified
from providers.fortnox.push import FortnoxPush
from providers.http import ClientError, ProtocolError

# Detail reads in flight at once; the shared limiter still caps the rate at 25 per 5 s, this
# only hides network latency (at ~200 ms a request one at a time would reach 5 req/s at best).
DETAIL_WORKERS = 4


def _id(row: Any, key: str) -> str | None:
    """The row's id when it has a usable one (what a detail read needs), else None."""
    try:
        return record_id("record", row, key)
    except MappingError:
        return None


class FortnoxProvider:
    name = "fortnox"

    def __init__(
        self,
        client: FortnoxClient,
        *,
        today: Callable[[], date],
        customer_details: bool = True,
        invoice_details: bool = True,
        finans: bool = False,
    ) -> None:
        self.client = client
        self._today = today
        # The tenant has Fortnox Finans and hands its SEK reminders to it (see push.py).
        self._push = FortnoxPush(client, finans=finans, today=lambda: self._today())
        self.customer_details = customer_details
        self.invoice_details = invoice_details
        self.details_fetched = 0

    # -- reading ----------------------------------------------------------------------------
    @staticmethod
    def _since(since: datetime | None) -> dict[str, Any]:
        return {} if since is None else {"lastmodified": lastmodified(since)}

    def _details(
        self,
        rows: list[dict[str, Any]],
        wanted: Callable[[dict[str, Any]], bool],
        fetch: Callable[[str], dict[str, Any]],
        key: str,
    ) -> list[dict[str, Any] | Exception]:
        """``rows`` in order, each replaced by its detail where ``wanted``; a record that has
        vanished since the list (404) or fails is returned as the exception, not raised. A row
        without a usable id is left as it is (its mapping reports it)."""
        todo = [i for i, row in enumerate(rows) if _id(row, key) is not None and wanted(row)]
        out: list[dict[str, Any] | Exception] = list(rows)
        if not todo:
            return out

        def one(i: int) -> dict[str, Any] | Exception:
            try:
                return fetch(_id(rows[i], key) or "")
            except (ClientError, ProtocolError) as exc:  # vanished, or not the record's shape
                return exc

        with ThreadPoolExecutor(DETAIL_WORKERS) as pool:
            for i, detail in zip(todo, pool.map(one, todo), strict=True):
                out[i] = detail
        self.details_fetched += len(todo)
        return out

    def iter_customers(self, since: datetime | None) -> Iterator[Customer | RecordError]:
        for page in self.client.customers(self._since(since)):
            rows = self._details(
                page, lambda _row: self.customer_details, self.client.customer, "CustomerNumber"
            )
            for raw, listed in zip(rows, page, strict=True):
                if isinstance(raw, Exception):
                    yield RecordError("customer", _id(listed, "CustomerNumber") or "?", str(raw))
                    continue
                yield map_record("customer", mapping.customer, raw)

    def _wants_invoice_detail(self, row: dict[str, Any]) -> bool:
        if not self.invoice_details or not mapping.needs_detail(row):
            return False
        due = str(row.get("DueDate") or "")
        return not due or due < self._today().isoformat()  # only overdue ones can be reminded

    def iter_invoices(
        self, since: datetime | None, open_only: bool
    ) -> Iterator[Invoice | RecordError]:
        params = self._since(since)
        if open_only:
            params["filter"] = "unpaid"
        for page in self.client.invoices(params):
            rows = self._details(
                page, self._wants_invoice_detail, self.client.invoice, "DocumentNumber"
            )
            for raw, listed in zip(rows, page, strict=True):
                if isinstance(raw, Exception):
                    yield RecordError("invoice", _id(listed, "DocumentNumber") or "?", str(raw))
                    continue
                yield map_record("invoice", mapping.invoice, raw)

    def get_invoice(self, provider_id: str) -> Invoice:
        return map_one(self.name, "invoice", mapping.invoice, self.client.invoice(provider_id))

    # -- pushing (routes and crash safety: providers/fortnox/push.py) -------------------------
    def capabilities(self) -> Capabilities:
        return Capabilities(countries=("SE",), push_routes=self._push.routes())

    def push(self, letter: Letter, channel: MessageChannel | None) -> dict[str, PushResult]:
        return self._push.push(letter, channel)

    def lookup_action(self, action: ReminderAction) -> PushResult | None:
        return self._push.lookup(action)

    def close(self) -> None:
        self.client.http.close()

    @property
    def requests_sent(self) -> int:
        return self.client.http.requests_sent
