"""Tripletex API v2 transport: declarations on top of the shared HTTP layer, and two quirks.

Declarations: the base URL, the ``fields`` each read asks for (only what the mappings use), the
envelopes (``{from, count, versionDigest, values}`` / ``{value}``) and the error envelope.

Quirks (overrides, not copies):

* **Paging by offset.** Tripletex pages with ``from``/``count`` and announces no reliable total
  (``fullResultSize`` is deprecated and "not exact"), so a list ends at its first short page.
  Lists are sorted by ``id``: new records (higher ids) land at the end and never shift a page.
* **Pacing from headers.** Tripletex limits requests per employee and API consumer and says how
  much is left in every answer (``X-Rate-Limit-Limit/-Remaining/-Reset``); past the limit it
  answers 429 for the rest of the period, without ``X-Rate-Limit-Reset`` (tripletex-api2#103).
  :class:`HeaderPacer` lets the first half of a period's budget go at once (a short cycle stays
  quick), then spreads what remains evenly over what is left of the period, so a steady pull
  never sees a 429; several tenants on one employee token, which share that budget, slow down
  together as the announced remainder shrinks.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from typing import Any

import requests

from providers.http import SINGLE_TRY, HttpClient, RateLimiter, json_body

BASE_URL = "https://tripletex.no/v2"
PAGE_SIZE = 1000  # the documented default ``count``
# GET /invoice needs a date window; every invoice of a company is after this day. (An invoice
# from before it would be time-barred decades ago: foreldelsesloven gives three years.)
INVOICE_EPOCH = date(2000, 1, 1)

CUSTOMER_FIELDS = (
    "id,customerNumber,name,organizationNumber,isPrivateIndividual,isInactive,email,"
    "invoiceEmail,overdueNoticeEmail,phoneNumber,phoneNumberMobile,currency(code),"
    "postalAddress(addressLine1,addressLine2,postalCode,city,country(isoAlpha2Code)),"
    "physicalAddress(addressLine1,addressLine2,postalCode,city,country(isoAlpha2Code))"
)
CONTACT_FIELDS = (
    "id,firstName,lastName,email,phoneNumberMobile,phoneNumberWork,isInactive,customer(id)"
)
REMINDER_FIELDS = "id,type,reminderDate,charge,chargeCurrency,interests,interestRate,termOfPayment"
INVOICE_FIELDS = (
    "id,invoiceNumber,invoiceDate,invoiceDueDate,kid,amountCurrency,amountCurrencyOutstanding,"
    "isCreditNote,isCredited,isCharged,currency(code),"
    "customer(id,customerNumber,name,isFactoring),"
    f"reminders({REMINDER_FIELDS})"
)
CLIENT_FIELDS = "id,name,organizationNumber,type"
WHOAMI_FIELDS = (
    "employeeId,companyId,employeeIsProxy,employee(firstName,lastName,email),"
    "company(id,name,organizationNumber)"
)
SESSION_PATH = "/token/session/:create"
# Ids per request when a list is asked for by id (``id=1,2,3``): keeps the URL well under 8 KB.
IDS_PER_REQUEST = 200


def error_message(response: requests.Response) -> str | None:
    """The error envelope: ``message`` (``developerMessage``), the validation messages and the
    internal ``code``; the request id goes into the error separately (``x-tlx-request-id``)."""
    try:
        body = json_body(response)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    parts = [str(body["message"])] if body.get("message") else []
    developer = body.get("developerMessage")
    if developer and developer != body.get("message"):
        parts.append(f"({developer})")
    for item in body.get("validationMessages") or ():
        if isinstance(item, dict) and item.get("message"):
            field = f"{item['field']}: " if item.get("field") else ""
            parts.append(f"[{field}{item['message']}]")
    if body.get("code") is not None and parts:
        parts.append(f"code {body['code']}")
    return " ".join(parts) or None


def _values(response: requests.Response) -> dict[str, Any]:
    body = json_body(response)
    if not isinstance(body, dict) or not isinstance(body.get("values"), list):
        raise ValueError("expected a list envelope {from, count, values}")
    if any(not isinstance(row, dict) for row in body["values"]):
        raise ValueError("values holds something other than objects")
    count = body.get("count")
    if count is not None and count != len(body["values"]):
        raise ValueError(f"count {count} but {len(body['values'])} values")
    return body


def _value(response: requests.Response) -> Any:
    body = json_body(response)
    if not isinstance(body, dict) or "value" not in body:
        raise ValueError("expected a value envelope {value}")
    return body["value"]


def iter_offset(
    http: HttpClient, path: str, params: Mapping[str, Any], page_size: int = PAGE_SIZE
) -> Iterator[list[dict[str, Any]]]:
    """Each page of a list, until the first page shorter than ``page_size``.

    The next page is asked for while the caller works on this one (one request ahead, never
    more: the pacer still spaces every start), so the server's time and ours overlap."""

    def fetch(start: int) -> list[dict[str, Any]]:
        def parse(response: requests.Response) -> list[dict[str, Any]]:
            body = _values(response)
            if body.get("from") not in (None, start):
                raise ValueError(f"asked for rows from {start}, got a page from {body['from']}")
            rows: list[dict[str, Any]] = body["values"]
            return rows

        return http.call("GET", path, parse, params={**params, "from": start, "count": page_size})

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tripletex-page") as ahead:
        start = 0
        pending: Future[list[dict[str, Any]]] = ahead.submit(fetch, start)
        while True:
            rows = pending.result()
            full = len(rows) >= page_size
            if full:
                start += len(rows)
                pending = ahead.submit(fetch, start)
            if rows:
                yield rows
            if not full:
                return


class HeaderPacer(RateLimiter):
    """A :class:`RateLimiter` that also paces from the ``X-Rate-Limit-*`` headers.

    The base class keeps the static ceiling (a tenant's ``requests_per_window``, if set) and the
    number in flight; :meth:`observe` (a ``requests`` response hook) learns the budget. While
    more than ``burst_share`` of the period's limit is left a request goes at once; after that
    each start waits until ``time left in the period / requests left`` after the previous one.
    """

    def __init__(
        self,
        *,
        max_calls: int = 1_000_000,
        period: float = 1.0,
        max_concurrent: int = 2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        reset_margin: float = 0.05,
        unknown_block: float = 5.0,
        burst_share: float = 0.5,
    ) -> None:
        super().__init__(max_calls, period, max_concurrent=max_concurrent, clock=clock, sleep=sleep)
        self._mono = clock
        self._pause = sleep
        self._state = threading.Lock()
        self.limit: int | None = None
        self.remaining: int | None = None
        self.reset_at: float | None = None
        self.blocked_until = 0.0
        self._in_flight = 0
        self._last_start = -math.inf
        self.reset_margin = reset_margin
        self.unknown_block = unknown_block
        self.burst_share = burst_share

    @contextmanager
    def slot(self) -> Iterator[None]:
        with super().slot():
            self._pace()
            try:
                yield
            finally:
                with self._state:
                    self._in_flight -= 1

    def _delay(self, now: float) -> float:
        if now < self.blocked_until:
            return self.blocked_until - now
        if self.reset_at is None or self.remaining is None or now >= self.reset_at:
            return 0.0  # a new period: its budget is learnt from this request's answer
        left = self.remaining - self._in_flight
        if left <= 0:
            return self.reset_at - now + self.reset_margin
        if self.limit is not None and left > self.limit * self.burst_share:
            return 0.0
        spacing = (self.reset_at - now) / left
        return max(0.0, self._last_start + spacing - now)

    def _pace(self) -> None:
        while True:
            with self._state:
                now = self._mono()
                wait = self._delay(now)
                if wait <= 0:
                    self._in_flight += 1
                    self._last_start = now
                    return
            self._pause(min(wait, 5.0))

    def observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        """Learn the budget from an answer; on a 429 hold every request until the period ends
        and tell the retry rule how long that is (``Retry-After``, which Tripletex omits)."""
        now = self._mono()
        headers = response.headers
        with self._state:
            try:
                remaining = int(headers["X-Rate-Limit-Remaining"])
                reset = float(headers["X-Rate-Limit-Reset"])
            except (KeyError, ValueError):
                remaining = -1
                reset = -1.0
            if remaining >= 0 and reset >= 0:
                # ``Reset`` is whole seconds, rounded up: each answer bounds the period's end
                # from above. Within one period (the remainder only shrinks) keep the tightest.
                bound = now + reset + self.reset_margin
                same_period = (
                    self.reset_at is not None
                    and now < self.reset_at
                    and self.remaining is not None
                    and remaining <= self.remaining
                )
                self.reset_at = (
                    min(bound, self.reset_at) if same_period and self.reset_at else bound
                )
                self.remaining = remaining
                try:
                    self.limit = int(headers["X-Rate-Limit-Limit"])
                except (KeyError, ValueError):
                    pass
            if response.status_code == 429:
                known = self.reset_at if self.reset_at and self.reset_at > now else None
                self.blocked_until = known or now + self.unknown_block
                self.remaining = 0
                if "Retry-After" not in headers:
                    headers["Retry-After"] = str(math.ceil(self.blocked_until - now))
        return response


class TripletexClient:
    """One company's reads and the reminder write, through one shared :class:`HttpClient`."""

    def __init__(self, http: HttpClient, page_size: int = PAGE_SIZE) -> None:
        self.http = http
        self.page_size = page_size

    def _list(self, path: str, params: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        return iter_offset(self.http, path, params, self.page_size)

    def customers(self, params: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        return self._list("/customer", {**params, "fields": CUSTOMER_FIELDS, "sorting": "id"})

    def contacts(self, customer_ids: list[str] | None = None) -> Iterator[list[dict[str, Any]]]:
        """Every contact, or those of ``customer_ids`` (in batches)."""
        params = {"fields": CONTACT_FIELDS, "sorting": "id"}
        if customer_ids is None:
            yield from self._list("/contact", params)
            return
        for i in range(0, len(customer_ids), IDS_PER_REQUEST):
            batch = ",".join(customer_ids[i : i + IDS_PER_REQUEST])
            yield from self._list("/contact", {**params, "customerId": batch})

    def invoices(
        self, date_from: date, date_to: date, **params: Any
    ) -> Iterator[list[dict[str, Any]]]:
        query = {
            **params,
            "invoiceDateFrom": date_from.isoformat(),
            "invoiceDateTo": date_to.isoformat(),
            "fields": INVOICE_FIELDS,
            "sorting": "id",
        }
        return self._list("/invoice", query)

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        found = self.http.call(
            "GET", f"/invoice/{int(invoice_id)}", _value, params={"fields": INVOICE_FIELDS}
        )
        if not isinstance(found, dict):
            raise ValueError("invoice is not an object")
        return found

    def reminders(
        self, date_from: date, date_to: date, invoice_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Reminders dated ``date_from`` up to (excluding) ``date_to``, of one invoice or all."""
        params: dict[str, Any] = {
            "dateFrom": date_from.isoformat(),
            "dateTo": date_to.isoformat(),
            "fields": REMINDER_FIELDS,
            "sorting": "id",
        }
        if invoice_id is not None:
            params["invoiceId"] = int(invoice_id)
        return [row for page in self._list("/reminder", params) for row in page]

    def create_reminder(
        self,
        invoice_id: str,
        *,
        kind: str,
        on: date,
        include_charge: bool,
        include_interest: bool,
        dispatch_type: str,
    ) -> int:
        """``PUT /invoice/{id}/:createReminder``; the new reminder's id. Sent once: a write that
        failed may still have happened, so the push route looks for its evidence first."""
        params = {
            "type": kind,
            "date": on.isoformat(),
            "includeCharge": str(include_charge).lower(),
            "includeInterest": str(include_interest).lower(),
            "dispatchType": dispatch_type,
        }
        found = self.http.call(
            "PUT",
            f"/invoice/{int(invoice_id)}/:createReminder",
            _value,
            params=params,
            retry=SINGLE_TRY,
        )
        if isinstance(found, bool) or not isinstance(found, int):
            raise ValueError(f"expected the new reminder's id, got {found!r}")
        return found

    def who_am_i(self) -> dict[str, Any]:
        found = self.http.call(
            "GET", "/token/session/>whoAmI", _value, params={"fields": WHOAMI_FIELDS}
        )
        if not isinstance(found, dict):
            raise ValueError("whoAmI is not an object")
        return found

    def clients(self) -> list[dict[str, Any]]:
        """The client companies this login reaches as their accountant (proxy login)."""
        params = {"fields": CLIENT_FIELDS, "sorting": "id"}
        return [r for page in self._list("/company/>withLoginAccess", params) for r in page]


__all__ = [
    "BASE_URL",
    "INVOICE_EPOCH",
    "HeaderPacer",
    "TripletexClient",
    "error_message",
    "iter_offset",
]
