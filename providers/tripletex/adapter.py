"""Tripletex behind the Provider protocol: which lists a cycle reads, and how they are joined.

* **Customers**: ``GET /customer`` (``changedSince`` after the first sync, two minutes early),
  once for active and once for inactive customers (``isInactive`` defaults to false, and an
  inactive customer can still owe money). Contact persons are ``Contact`` records: all of them
  on a full pull, those of the changed customers (``customerId=…``) on an incremental one.
* **Invoices**: ``GET /invoice`` has no "open" or "changed since" filter and needs a date
  window, so every cycle reads the whole window (``INVOICE_EPOCH`` .. a year ahead) with only the
  fields the mapping uses and each invoice's reminders embedded, and keeps the open ones
  (``amountCurrencyOutstanding`` > 0, Tripletex's own open balance; the others are not even
  mapped). ``invoice_changes_since=False`` tells the sync to ask for the open invoices every
  cycle and to re-read a stored open invoice that is no longer listed: that is how a settlement
  is seen. The README ("Tripletex: which reads") compares this with the ledger's open posts and
  webhooks, with request counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from connector.clock import NORDIC
from connector.models import Customer, Invoice, ReminderAction
from mappings import tripletex as mapping
from providers.base import (
    Capabilities,
    Letter,
    MessageChannel,
    PushResult,
    RecordError,
    StepRecorder,
    map_record,
)
from providers.http import ProviderError
from providers.tripletex.client import INVOICE_EPOCH, TripletexClient
from providers.tripletex.push import DEFAULT_DISPATCH, ROUTE, TripletexPush

# ``changedSince`` is a local date-time; ask a little earlier than the cursor so a change in
# the cursor's minute, or on a server clock slightly behind ours, is still seen.
OVERLAP = timedelta(minutes=2)
FUTURE_DAYS = 366  # invoices dated ahead (forward-dated) are in the window too


def changed_since(since: datetime) -> str:
    """A cursor as Tripletex's ``changedSince``: ``YYYY-MM-DDTHH:MM:SS``, Norwegian time."""
    if since.tzinfo is None:
        raise ValueError("since must be timezone-aware")
    return (since - OVERLAP).astimezone(NORDIC).strftime("%Y-%m-%dT%H:%M:%S")


class TripletexProvider:
    name = "tripletex"

    def __init__(
        self,
        client: TripletexClient,
        *,
        today: Callable[[], date],
        dispatch_type: str = DEFAULT_DISPATCH,
        country: str = "NO",
        company: str = "0",
    ) -> None:
        self.client = client
        self._today = today
        self._account = company if company not in ("", "0") else None
        self._push = TripletexPush(
            client, today=lambda: self._today(), dispatch_type=dispatch_type, country=country
        )

    # -- reading ----------------------------------------------------------------------------
    def _contacts(self, customer_ids: list[str] | None) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if customer_ids == []:
            return found
        for page in self.client.contacts(customer_ids):
            for raw in page:
                owner = mapping.contact_customer_id(raw)
                if owner is not None:
                    found[owner].append(raw)
        return found

    def iter_customers(self, since: datetime | None) -> Iterator[Customer | RecordError]:
        params: dict[str, Any] = {} if since is None else {"changedSince": changed_since(since)}
        everyone = self._contacts(None) if since is None else None
        for inactive in ("false", "true"):
            for page in self.client.customers({**params, "isInactive": inactive}):
                if everyone is not None:
                    contacts = everyone
                else:
                    contacts = self._contacts([str(r.get("id")) for r in page if r.get("id")])
                for raw in page:
                    people = contacts.get(str(raw.get("id")), []) if isinstance(raw, dict) else []
                    yield map_record("customer", partial(mapping.customer, contacts=people), raw)

    def iter_invoices(
        self, since: datetime | None, open_only: bool
    ) -> Iterator[Invoice | RecordError]:
        until = self._today() + timedelta(days=FUTURE_DAYS)
        for page in self.client.invoices(INVOICE_EPOCH, until):
            for raw in page:
                if open_only and mapping.settled(raw):
                    continue
                found = map_record("invoice", mapping.invoice, raw)
                if open_only and isinstance(found, Invoice) and not found.is_open:
                    continue
                yield found

    def get_invoice(self, provider_id: str) -> Invoice:
        return mapping.invoice(self.client.invoice(provider_id))

    # -- pushing (the native route and its charge check: providers/tripletex/push.py) ---------
    def capabilities(self) -> Capabilities:
        return Capabilities(countries=("NO",), push_routes=(ROUTE,), invoice_changes_since=False)

    @property
    def account_id(self) -> str:
        """The Tripletex company id: the config's ``company``, or for ``0`` (the login's own
        company) ``companyId`` from ``whoAmI`` (asked once)."""
        if self._account is None:
            found = self.client.who_am_i().get("companyId")
            if isinstance(found, bool) or not isinstance(found, int | str) or not str(found):
                raise ProviderError("tripletex", "whoAmI has no companyId")
            self._account = str(found)
        return self._account

    def push(
        self, letter: Letter, channel: MessageChannel | None, steps: StepRecorder | None = None
    ) -> dict[str, PushResult]:
        """Tripletex writes and sends each reminder itself: ``channel`` and the letter's PDF are
        unused."""
        return self._push.push(letter, steps)

    def lookup_action(self, action: ReminderAction) -> PushResult | None:
        return self._push.lookup(action)

    def close(self) -> None:
        self.client.http.close()

    @property
    def requests_sent(self) -> int:
        return self.client.http.requests_sent
