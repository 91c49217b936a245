"""Fiken behind the Provider protocol: cursor semantics, mapping, record errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from connector.models import Customer, Invoice, ReminderAction
from mappings import fiken as mapping
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
from providers.fiken.client import FikenClient
from providers.fiken.push import FEE_INCOME_ACCOUNT, ROUTE, FikenPush

# lastModified* filters have day precision: ask from the day before the cursor, so a change made
# late on the cursor's day (or on a clock slightly behind ours) is still seen.
OVERLAP = timedelta(days=1)


class FikenProvider:
    name = "fiken"

    def __init__(
        self,
        client: FikenClient,
        *,
        today: Callable[[], date],
        sleep: Callable[[float], None] = time.sleep,
        fee_account: str = FEE_INCOME_ACCOUNT,
    ) -> None:
        self.client = client
        self._push = FikenPush(client, today=today, sleep=sleep, fee_account=fee_account)

    def _since(self, since: datetime | None) -> dict[str, Any]:
        if since is None:
            return {}
        return {"lastModifiedGe": (since.date() - OVERLAP).isoformat()}

    def iter_customers(self, since: datetime | None) -> Iterator[Customer | RecordError]:
        params = {"customer": "true", **self._since(since)}
        for page in self.client.contacts(params):
            for raw in page:
                yield map_record("customer", mapping.customer, raw)

    def iter_invoices(
        self, since: datetime | None, open_only: bool
    ) -> Iterator[Invoice | RecordError]:
        params: dict[str, Any] = dict(self._since(since))
        if open_only:
            params["settled"] = "false"
        for page in self.client.invoices(params):
            for raw in page:
                yield map_record("invoice", mapping.invoice, raw)

    def get_invoice(self, provider_id: str) -> Invoice:
        return map_one(self.name, "invoice", mapping.invoice, self.client.invoice(provider_id))

    def capabilities(self) -> Capabilities:
        return Capabilities(countries=("NO",), push_routes=(ROUTE,))

    @property
    def account_id(self) -> str:
        """The Fiken company slug the tenant's requests go to."""
        return self.client.company

    def push(
        self, letter: Letter, channel: MessageChannel | None, steps: StepRecorder | None = None
    ) -> dict[str, PushResult]:
        """Fiken sends the letter itself (see ``providers.fiken.push``): ``channel`` is unused.
        A handover files only an audit note on the contact; nothing goes to the customer."""
        return self._push.push(letter, steps)

    def lookup_action(self, action: ReminderAction) -> PushResult | None:
        return self._push.lookup(action)

    def close(self) -> None:
        self.client.http.close()

    @property
    def requests_sent(self) -> int:
        return self.client.http.requests_sent
