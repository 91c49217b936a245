"""A local HTTP double of the Tripletex API v2 (``shared/specs/tripletex-openapi.json``, 2.72.00).

Serves what kravsync uses, under ``/v2`` on 127.0.0.1, in Tripletex's shapes: the session token
endpoint and Basic auth with a company id (``access``), several client companies behind one
employee (``seed``), the list envelope ``{fullResultSize, from, count, versionDigest, values}``
paged by ``from``/``count`` and the value envelope ``{value}``, the ``fields`` filter
(``fields``), the rate-limit headers and 429, the error envelope ``{status, code, message, link,
developerMessage, validationMessages, requestId}`` with ``x-tlx-request-id`` on every answer,
and ``:createReminder``, which records a reminder with the company's charges (``reminders``).
Query parameters are the spec's, exactly: an undeclared one is refused (400), a required one
missing is refused (422), and a declared filter the sandbox does not implement says so (400).

    with TripletexSandbox() as sb:
        session = requests.put(sb.base_url + "/token/session/:create", params={
            "consumerToken": sb.consumer_token, "employeeToken": sb.employee_token,
            "expirationDate": "2030-01-01"}).json()["value"]["token"]
        requests.get(sb.base_url + "/customer", auth=(str(sb.company), session))
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from connector.clock import NORDIC, Clock
from providers.sandbox_server import SandboxHTTPServer, sandbox_clock
from providers.tripletex.sandbox import fields as fieldsel
from providers.tripletex.sandbox import reminders as reminder_desk
from providers.tripletex.sandbox import seed as s
from providers.tripletex.sandbox.access import Denied, Gate, Session

API_PREFIX = "/v2"
DEFAULT_COUNT = 1000
LINK = "https://tripletex.no/v2-docs/"
# The sandbox's rate limit (Tripletex does not publish its figure): 60 requests per 10 s period.
DEFAULT_LIMIT, DEFAULT_PERIOD = 60, 10.0
_PAGING = ("from", "count", "sorting", "fields")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    params: tuple[str, ...]
    required: tuple[str, ...] = ()
    implemented: tuple[str, ...] | None = None  # filters the sandbox applies (None: all)


OPERATIONS: dict[str, Operation] = {
    "TokenSessionCreate_create": Operation(
        "PUT", "/token/session/:create", ("consumerToken", "employeeToken", "expirationDate"),
        ("consumerToken", "employeeToken", "expirationDate"),
    ),
    "TokenSessionWhoAmI_whoAmI": Operation("GET", "/token/session/>whoAmI", ("fields",)),
    "CompanyWithLoginAccess_getWithLoginAccess": Operation(
        "GET", "/company/>withLoginAccess", _PAGING
    ),
    "Customer_search": Operation(
        "GET", "/customer",
        ("id", "customerAccountNumber", "organizationNumber", "email", "invoiceEmail",
         "customerName", "phoneNumberMobile", "isInactive", "accountManagerId", "changedSince",
         *_PAGING),
        implemented=("id", "organizationNumber", "email", "invoiceEmail", "customerName",
                     "isInactive", "changedSince", "customerAccountNumber"),
    ),
    "Customer_get": Operation("GET", "/customer/{id}", ("fields",)),
    "Contact_search": Operation(
        "GET", "/contact",
        ("id", "firstName", "lastName", "email", "customerId", "departmentId", *_PAGING),
        implemented=("id", "customerId", "email"),
    ),
    "Invoice_search": Operation(
        "GET", "/invoice",
        ("id", "invoiceDateFrom", "invoiceDateTo", "invoiceNumber", "kid", "voucherId",
         "customerId", *_PAGING),
        ("invoiceDateFrom", "invoiceDateTo"),
        implemented=("id", "invoiceDateFrom", "invoiceDateTo", "invoiceNumber", "kid", "customerId"),
    ),
    "Invoice_get": Operation("GET", "/invoice/{id}", ("fields",)),
    "InvoiceCreateReminder_createReminder": Operation(
        "PUT", "/invoice/{id}/:createReminder",
        ("type", "date", "includeCharge", "includeInterest", "dispatchType", "dispatchTypes",
         "smsNumber", "email", "address", "postalCode", "city"),
        ("type", "date"),
        implemented=("type", "date", "includeCharge", "includeInterest", "dispatchType",
                     "dispatchTypes", "email"),
    ),
    "Reminder_search": Operation(
        "GET", "/reminder",
        ("id", "dateFrom", "dateTo", "termOfPaymentTo", "termOfPaymentFrom", "invoiceId",
         "customerId", *_PAGING),
        ("dateFrom", "dateTo"),
        implemented=("id", "dateFrom", "dateTo", "invoiceId", "customerId"),
    ),
    "Reminder_get": Operation("GET", "/reminder/{id}", ("fields",)),
}  # fmt: skip
_ROUTES = [
    (re.compile("^" + re.escape(op.path).replace(r"\{id\}", "(?P<id>[0-9]+)") + "$"), name)
    for name, op in OPERATIONS.items()
]


class Reply(Exception):
    """Answer with ``status`` and the error envelope (or ``body``)."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        field: str | None = None,
        developer: str | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.field, self.developer = field, developer
        self.headers = headers or {}
        self.body = body


@dataclass
class Fault:
    path_contains: str
    status: int | None
    times: int
    malformed: bool
    headers: dict[str, str]
    method: str | None = None
    after: bool = False  # the request is carried out, then its answer is lost (status)


@dataclass
class Seen:
    """One request the sandbox answered (for the contract test and the demo)."""

    method: str
    operation: str | None
    path: str
    query: dict[str, list[str]]
    status: int
    company: str | None = None
    detail: str = ""


@dataclass
class Stats:
    requests: int = 0
    rate_limited: int = 0
    unauthorized: int = 0
    per_operation: Counter[str] = field(default_factory=Counter)


_NUMBER = re.compile(r'"\\u0000D(-?[0-9]+(?:\.[0-9]+)?)\\u0000"')


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"\x00D{value}\x00"
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def dumps(payload: Any) -> bytes:
    """JSON with every Decimal as an exact JSON number (never through float)."""
    text = json.dumps(_plain(payload), ensure_ascii=False, separators=(",", ":"))
    return _NUMBER.sub(r"\1", text).encode()


class TripletexSandbox:
    """See the module docstring. Thread-safe; start/stop or use as a context manager."""

    # What the shared provider contract test injects faults into.
    LIST_PATHS = {"customers": "/v2/customer", "invoices": "/v2/invoice"}

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        today: date | None = None,
        clock: Clock | None = None,
        customers: int | None = None,
        invoices: int | None = None,
        rate_limit: bool = True,
        max_requests: int = DEFAULT_LIMIT,
        period_seconds: float = DEFAULT_PERIOD,
        token: str | None = None,
        consumer_token: str = s.CONSUMER_TOKEN,
        employee_token: str = s.EMPLOYEE_TOKEN,
        company: int = s.DEMO_COMPANY_ID,
    ) -> None:
        self.host, self.port = host, port
        self.clock = sandbox_clock(today, clock)
        self.seed_day = self.clock.today()
        self.world = s.build_world(self.seed_day, customers, invoices)
        self.company = company
        self.consumer_token, self.employee_token = consumer_token, employee_token
        self.gate = Gate(
            consumer_tokens={consumer_token},
            employee_tokens={employee_token},
            limit=max_requests,
            period=period_seconds,
            enabled=rate_limit,
        )
        # A session that `kravsync sandbox` prints, for trying things with curl right away.
        self.token = token or "sandbox-session-" + uuid.uuid4().hex[:16]
        self.gate.issue(consumer_token, employee_token, date.max, self.token)
        self.stats = Stats()
        self.log: deque[Seen] = deque(maxlen=50_000)
        self._lock = threading.RLock()
        self._faults: list[Fault] = []
        self._cache: dict[tuple[Any, ...], tuple[list[int], str | None]] = {}
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> TripletexSandbox:
        if self._server is not None:
            return self
        handler = type("_Handler", (_Handler,), {"sandbox": self})
        self._server = SandboxHTTPServer((self.host, self.port), handler)
        self.port = self._server.server_address[1]
        self.base_url = f"http://{self.host}:{self.port}{API_PREFIX}"
        for book in self.world.books.values():
            book.base_url = self.base_url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> TripletexSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def today(self) -> date:
        return self.clock.today()

    def demo_secret(self) -> str:
        return json.dumps(
            {"consumer_token": self.consumer_token, "employee_token": self.employee_token}
        )

    def tenant_settings(self) -> dict[str, Any]:
        # A Tripletex reminder cannot carry the B2B compensation: see providers/tripletex/push.py.
        return {
            "base_url": self.base_url,
            "company": str(self.company),
            "policy": {"b2b_compensation": False},
        }

    def usage(self) -> list[str]:
        """How to try the sandbox with curl (printed by `kravsync sandbox`)."""
        return [
            f"consumer token: {self.consumer_token}",
            f"employee token: {self.employee_token}",
            "Basic auth: user = company id (0 = the bureau's own company), password = token",
            f"try: curl -u {self.company}:{self.token} '{self.base_url}/customer?fields=id,name'",
            f"clients: curl -u 0:{self.token} '{self.base_url}/company/%3EwithLoginAccess'",
        ]

    @property
    def announced_rate(self) -> float | None:
        """Requests per second the sandbox's rate-limit headers allow (None: no limit)."""
        return self.gate.limit / self.gate.period if self.gate.enabled else None

    # --- test hooks ------------------------------------------------------------------------------
    def inject(
        self,
        path_contains: str,
        *,
        status: int | None = None,
        times: int = 1,
        malformed: bool = False,
        headers: dict[str, str] | None = None,
        method: str | None = None,
        after: bool = False,
    ) -> None:
        """The next ``times`` requests whose path contains ``path_contains`` (and whose method is
        ``method``, when given) misbehave: answered with ``status`` instead of being served, or
        served and then answered with ``status`` (``after``: a lost answer), or ``malformed``."""
        with self._lock:
            self._faults.append(
                Fault(path_contains, status, times, malformed, headers or {}, method, after)
            )

    def revoke(self) -> None:
        self.gate.revoke()

    def expire_sessions(self) -> None:
        self.gate.expire_sessions()

    def book(self, company: int | None = None) -> s.Book:
        found = self.world.book(company or self.company)
        if found is None:
            raise KeyError(f"no company {company}")
        return found

    def pay(
        self, invoice_id: int, amount: Decimal | None = None, company: int | None = None
    ) -> None:
        """The customer pays ``amount`` (all that is open by default) on an invoice."""
        book = self.book(company)
        i = book.invoice_index(invoice_id)
        if i is None:
            raise KeyError(invoice_id)
        with self._lock:
            paid = book.outstanding(i) if amount is None else amount
            book.paid_extra[invoice_id] = book.paid_extra.get(invoice_id, Decimal("0")) + paid
            self._cache.clear()

    def update_customer(self, customer_id: int, company: int | None = None, **fields: Any) -> None:
        """Change a customer as a Tripletex user would (its change time moves to now)."""
        book = self.book(company)
        i = book.customer_index(customer_id)
        if i is None:
            raise KeyError(customer_id)
        with self._lock:
            book.customer_over.setdefault(i, {}).update(fields)
            book.forget_customer(i)
            book.changed[i] = self.clock.now()
            self._cache.clear()

    def reminders_of(self, invoice_id: int, company: int | None = None) -> list[s.Reminder]:
        return list(self.book(company).reminders.get(invoice_id, ()))

    def received(self, operation: str | None = None, status: int | None = None) -> list[Seen]:
        """The requests answered so far (optionally of one operation / status)."""
        with self._lock:
            return [
                r
                for r in self.log
                if (operation is None or r.operation == operation)
                and (status is None or r.status == status)
            ]

    def received_summary(self) -> list[str]:
        """One line per reminder ``:createReminder`` made, for `kravsync demo`."""
        lines = []
        for r in self.received("InvoiceCreateReminder_createReminder"):
            q = {k: v[-1] for k, v in r.query.items()}
            what = f"{q.get('type')} {q.get('date')} charge={q.get('includeCharge')} interest={q.get('includeInterest')} {q.get('dispatchType')}"
            lines.append(f"PUT {r.path} {what} -> {r.status} {r.detail}".rstrip())
        return lines

    # --- request handling ------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: Any) -> tuple[int, Any, dict[str, str]]:
        url = urlsplit(raw_path)
        path = unquote(url.path)
        query = parse_qs(url.query, keep_blank_values=True)
        seen = Seen(method, None, path, query, 0)
        try:
            status, payload, extra = self._dispatch(method, path, query, headers, seen)
        except Reply as reply:
            seen.status = reply.status
            if reply.status == 401:
                self.stats.unauthorized += 1
            raise
        finally:
            with self._lock:
                self.stats.requests += 1
                if seen.operation:
                    self.stats.per_operation[seen.operation] += 1
                self.log.append(seen)
        seen.status = status
        return status, payload, extra

    def _dispatch(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, seen: Seen
    ) -> tuple[int, Any, dict[str, str]]:
        if not path.startswith(API_PREFIX + "/"):
            raise Reply(404, 6000, f"Fant ikke ressursen: {path}")
        sub = path[len(API_PREFIX) :]
        match = next(((m, name) for rx, name in _ROUTES if (m := rx.match(sub))), None)
        if match is None:
            raise Reply(404, 6000, f"Fant ikke ressursen: {sub}")
        found, name = match
        op = OPERATIONS[name]
        seen.operation = name
        if op.method != method:
            raise Reply(405, 4000, f"Metoden {method} støttes ikke for {op.path}")
        params = _params(op, query)
        if name == "TokenSessionCreate_create":
            return 200, self._create_session(params), {}
        try:
            session, company = self.gate.authenticate(headers.get("Authorization"))
        except Denied as exc:
            raise Reply(exc.status, exc.code, exc.message) from None
        seen.company = company
        rate = self.gate.admit(session.employee)
        if rate is None:
            with self._lock:
                self.stats.rate_limited += 1
            raise Reply(429, 0, "For mange forespørsler: grensen for perioden er nådd.")
        book = self._book_for(session, company)
        fault = self._take_fault(path, method)
        if fault is not None and fault.status is not None and not fault.after:
            raise Reply(fault.status, 1000, "Injected error", headers={**rate, **fault.headers})
        record_id = int(found.group("id")) if "id" in found.groupdict() else None
        status, payload, detail = self._serve(name, book, record_id, params, session, company)
        seen.detail = detail
        if fault is not None and fault.status is not None:
            raise Reply(fault.status, 1000, "Injected error after the request was carried out",
                        headers={**rate, **fault.headers})  # fmt: skip
        if fault is not None and fault.malformed:
            return 200, b'{"from":0,"count":1,"values":[{"id":', {**rate, **fault.headers}
        return status, payload, {**rate, **(fault.headers if fault else {})}

    def _take_fault(self, path: str, method: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method not in (None, method):
                    continue
                if fault.path_contains in path and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _create_session(self, params: dict[str, str]) -> dict[str, Any]:
        try:
            expires = date.fromisoformat(params["expirationDate"])
        except ValueError:
            raise Reply(422, 15000, "Ugyldig dato.", field="expirationDate") from None
        if expires <= self.gate.today():
            raise Reply(422, 15000, "Utløpsdatoen må være frem i tid.", field="expirationDate")
        try:
            session = self.gate.create_session(
                params["consumerToken"], params["employeeToken"], expires
            )
        except Denied as exc:
            raise Reply(exc.status, exc.code, exc.message) from None
        sid = self.gate.sessions_created
        return {
            "value": {
                "id": sid,
                "version": 0,
                "url": f"{self.base_url}/token/session/{sid}",
                "consumerToken": {"id": 1, "url": f"{self.base_url}/token/consumer/1"},
                "employeeToken": {"id": 2, "url": f"{self.base_url}/token/employee/2"},
                "expirationDate": session.expires.isoformat(),
                "token": session.token,
            }
        }

    def _book_for(self, session: Session, company: str) -> s.Book:
        if company == "0":
            return self.world.books[self.world.own.id]
        if not company.isdigit() or int(company) not in self.world.books:
            raise Reply(403, 9000, f"Du har ikke tilgang til firma {company}.")
        return self.world.books[int(company)]

    # --- operations ------------------------------------------------------------------------------
    def _serve(
        self,
        name: str,
        book: s.Book,
        record_id: int | None,
        params: dict[str, str],
        session: Session,
        company: str,
    ) -> tuple[int, Any, str]:
        selection = _selection(params)
        with self._lock:
            if name == "TokenSessionWhoAmI_whoAmI":
                return 200, {"value": _project(self._who_am_i(book, company), selection)}, ""
            if name == "CompanyWithLoginAccess_getWithLoginAccess":
                rows = [
                    self._client(b.company)
                    for cid, b in self.world.books.items()
                    if cid != self.world.own.id
                ]
                return 200, _envelope(rows, params, selection), ""
            if name == "Customer_get":
                i = book.customer_index(record_id or 0)
                if i is None:
                    raise Reply(404, 6000, f"Fant ikke kunde {record_id}.")
                return 200, {"value": _project(book.customer(i), selection)}, ""
            if name == "Customer_search":
                found = self._customers(book, params)
                return 200, _list(found, book.customer, params, selection), ""
            if name == "Contact_search":
                keys = self._contacts(book, params)
                build = lambda key: book.contact(key // 10, key % 10)  # noqa: E731
                return 200, _list(keys, build, params, selection), ""
            if name == "Invoice_get":
                i = book.invoice_index(record_id or 0)
                if i is None:
                    raise Reply(404, 6000, f"Fant ikke faktura {record_id}.")
                return 200, {"value": _project(book.invoice(i), selection)}, ""
            if name == "Invoice_search":
                found = self._invoices(book, params)
                return 200, _list(found, book.invoice, params, selection), ""
            if name == "InvoiceCreateReminder_createReminder":
                i = book.invoice_index(record_id or 0)
                if i is None:
                    raise Reply(404, 6000, f"Fant ikke faktura {record_id}.")
                try:
                    made = reminder_desk.create(book, i, params, self.clock.today(), self.world.ids)
                except reminder_desk.Refusal as exc:
                    raise Reply(exc.status, exc.code, exc.message, field=exc.field) from None
                self._cache.clear()
                return (
                    200,
                    {"value": made.id},
                    f"reminder {made.id}: charge {made.charge} interest {made.interests}",
                )
            if name == "Reminder_search":
                return 200, _envelope(self._reminders(book, params), params, selection), ""
            if name == "Reminder_get":
                for r, i in book.reminder_list():
                    if r.id == record_id:
                        return 200, {"value": _project(self._reminder(book, r, i), selection)}, ""
                raise Reply(404, 6000, f"Fant ikke purring {record_id}.")
        raise Reply(404, 6000, "Fant ikke ressursen.")  # pragma: no cover

    def _who_am_i(self, book: s.Book, company: str) -> dict[str, Any]:
        own = self.world.own
        base = self.base_url
        return {
            "employeeId": s.EMPLOYEE_ID,
            "actualEmployeeId": s.EMPLOYEE_ID,
            "employee": {
                "id": s.EMPLOYEE_ID,
                "version": 0,
                "url": f"{base}/employee/{s.EMPLOYEE_ID}",
                "firstName": "Siri",
                "lastName": "Åsheim",
                "displayName": "Siri Åsheim",
                "email": "siri@fjordbyraa.no",
            },
            "companyId": book.company.id,
            "company": self._company(book.company),
            "language": "no",
            "loggedInWithConnect": False,
            "employeeIsProxy": book.company.id != own.id,
        }

    def _company(self, c: s.Company) -> dict[str, Any]:
        base = self.base_url
        return {
            "id": c.id,
            "version": 0,
            "url": f"{base}/company/{c.id}",
            "name": c.name,
            "displayName": c.name,
            "startDate": "2015-01-01",
            "organizationNumber": c.org,
            "email": c.email,
            "phoneNumber": "",
            "address": s.address(base, 9 * c.id, c.street, c.postcode, c.city, "NO"),
            "type": c.kind,
            "currency": s.currency(base, "NOK"),
            "accountantOrSimilar": c.id == self.world.own.id,
        }

    def _client(self, c: s.Company) -> dict[str, Any]:
        return {**self._company(c), "customerCompanyId": 1_500_000 + c.id % 1000}

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], list[int]]) -> list[int]:
        found = self._cache.get(key)
        if found is None:
            rows = compute()
            found = (
                rows,
                hashlib.sha1(repr(rows[:5] + rows[-5:] + [len(rows)]).encode()).hexdigest()
                if rows
                else None,
            )
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = found
        return found[0]

    def _customers(self, book: s.Book, params: dict[str, str]) -> list[int]:
        inactive = _bool(params.get("isInactive", "false"), "isInactive")
        since = (
            _datetime(params["changedSince"], "changedSince") if "changedSince" in params else None
        )
        ids = _ids(params.get("id"), "id")
        numbers = _ids(params.get("customerAccountNumber"), "customerAccountNumber")
        key = (id(book), "customers", tuple(sorted(params.items())))

        def compute() -> list[int]:
            out = []
            for i in range(book.n_customers):
                if book.customer_inactive(i) != inactive:
                    continue
                if since is not None and book.customer_changed(i) < since:
                    continue
                if ids is not None and book.customer_id(i) not in ids:
                    continue
                simple = [
                    k
                    for k in ("organizationNumber", "email", "invoiceEmail", "customerName")
                    if k in params
                ]
                if numbers is not None or simple:
                    record = book.customer(i)
                    if numbers is not None and record["customerNumber"] not in numbers:
                        continue
                    if any(
                        (params[k].lower() not in record["name"].lower())
                        if k == "customerName"
                        else record[k] != params[k]
                        for k in simple
                    ):
                        continue
                out.append(i)
            return out

        return self._cached(key, compute)

    def _contacts(self, book: s.Book, params: dict[str, str]) -> list[int]:
        """Contact keys ``10 * customer index + k`` in id order (ids follow the same order)."""
        owners = _ids(params.get("customerId"), "customerId")
        ids = _ids(params.get("id"), "id")
        key = (id(book), "contacts", tuple(sorted(params.items())))

        def compute() -> list[int]:
            indices = (
                sorted(i for c in owners if (i := book.customer_index(c)) is not None)
                if owners is not None
                else range(book.n_customers)
            )
            out = []
            for i in indices:
                for k, (_name, email, _phone) in enumerate(book.customer_facts(i).persons):
                    if ids is not None and book.contact_id(i, k) not in ids:
                        continue
                    if "email" in params and params["email"].lower() not in (email or "").lower():
                        continue
                    out.append(10 * i + k)
            return out

        return self._cached(key, compute)

    def _invoices(self, book: s.Book, params: dict[str, str]) -> list[int]:
        first = _date(params["invoiceDateFrom"], "invoiceDateFrom").toordinal()
        last = _date(params["invoiceDateTo"], "invoiceDateTo").toordinal()
        ids = _ids(params.get("id"), "id")
        customer = _ids(params.get("customerId"), "customerId")
        key = (id(book), "invoices", tuple(sorted(params.items())))

        def compute() -> list[int]:
            if isinstance(book, s.GeneratedBook):
                lo, hi = book.window(first, last)
                indices: range | list[int] = range(lo, hi)
            else:
                indices = [
                    i for i in range(book.n_invoices) if first <= book.issue_ordinal(i) < last
                ]
            out = []
            for i in indices:
                if ids is not None and book.invoice_id(i) not in ids:
                    continue
                if customer is not None or "invoiceNumber" in params or "kid" in params:
                    f = book.invoice_facts(i)
                    if customer is not None and book.customer_id(f.customer) not in customer:
                        continue
                    if "invoiceNumber" in params and str(f.number) != params["invoiceNumber"]:
                        continue
                    if "kid" in params and book.kid(i) != params["kid"]:
                        continue
                out.append(i)
            return out

        return self._cached(key, compute)

    def _reminder(self, book: s.Book, r: s.Reminder, i: int) -> dict[str, Any]:
        total = s.money(book.outstanding(i) + r.charge_currency + r.interests)
        return s.reminder_record(book.base_url, r, book.kid(i), total)

    def _reminders(self, book: s.Book, params: dict[str, str]) -> list[dict[str, Any]]:
        first = _date(params["dateFrom"], "dateFrom")
        last = _date(params["dateTo"], "dateTo")
        ids = _ids(params.get("id"), "id")
        invoice = _ids(params.get("invoiceId"), "invoiceId")
        customer = _ids(params.get("customerId"), "customerId")
        out = []
        for r, i in book.reminder_list():
            if not first <= r.on < last:
                continue
            if ids is not None and r.id not in ids:
                continue
            if invoice is not None and r.invoice_id not in invoice:
                continue
            if customer is not None:
                owner = book.customer_id(book.invoice_facts(i).customer)
                if owner not in customer:
                    continue
            out.append(self._reminder(book, r, i))
        return out


# --- request parsing -------------------------------------------------------------------------------


def _params(op: Operation, query: dict[str, list[str]]) -> dict[str, str]:
    unknown = sorted(set(query) - set(op.params))
    if unknown:
        raise Reply(400, 4000, f"Ukjent parameter: {unknown[0]}", field=unknown[0])
    params = {k: v[-1] for k, v in query.items()}
    for name in op.required:
        if not params.get(name):
            raise Reply(422, 15000, "Kan ikke være null.", field=name)
    if op.implemented is not None:
        for name in params:
            if name not in op.implemented and name not in _PAGING:
                raise Reply(
                    400, 4000, f"The sandbox does not implement the filter {name}", field=name
                )
    sorting = params.get("sorting", "")
    if sorting not in ("", "id", "-id"):
        raise Reply(422, 17000, f"Sortering støttes ikke i sandkassen: {sorting}", field="sorting")
    return params


def _selection(params: dict[str, str]) -> fieldsel.Selection:
    try:
        return fieldsel.parse(params.get("fields"))
    except fieldsel.FieldsError as exc:
        raise Reply(400, 11000, str(exc), field="fields") from None


def _project(record: dict[str, Any], selection: fieldsel.Selection) -> dict[str, Any]:
    try:
        return fieldsel.project(record, selection)
    except fieldsel.FieldsError as exc:
        raise Reply(400, 11000, str(exc), field="fields") from None


def _paging(params: dict[str, str]) -> tuple[int, int]:
    try:
        start = int(params.get("from", "0"))
        count = int(params.get("count", str(DEFAULT_COUNT)))
    except ValueError:
        raise Reply(422, 21000, "from/count må være heltall.", field="from") from None
    if start < 0 or count < 0:
        raise Reply(422, 21000, "from/count kan ikke være negative.", field="count")
    return start, count


def _envelope(
    rows: list[dict[str, Any]], params: dict[str, str], selection: fieldsel.Selection
) -> dict[str, Any]:
    if params.get("sorting") == "-id":
        rows = sorted(rows, key=lambda r: -int(r["id"]))
    start, count = _paging(params)
    chosen = rows[start : start + count]
    digest = hashlib.sha1(repr([r.get("id") for r in rows]).encode()).hexdigest() if rows else None
    return {
        "fullResultSize": len(rows),
        "from": start,
        "count": len(chosen),
        "versionDigest": digest,
        "values": [_project(r, selection) for r in chosen],
    }


def _list(indices: list[int], build: Callable[[int], dict[str, Any]], params: dict[str, str],
          selection: fieldsel.Selection) -> dict[str, Any]:  # fmt: skip
    if params.get("sorting") == "-id":
        indices = indices[::-1]
    start, count = _paging(params)
    chosen = indices[start : start + count]
    digest = (
        hashlib.sha1(repr((len(indices), indices[:3], indices[-3:])).encode()).hexdigest()
        if indices
        else None
    )
    return {
        "fullResultSize": len(indices),
        "from": start,
        "count": len(chosen),
        "versionDigest": digest,
        "values": [_project(build(i), selection) for i in chosen],
    }


def _ids(value: str | None, name: str) -> set[int] | None:
    if value is None:
        return None
    try:
        return {int(v) for v in value.split(",") if v.strip()}
    except ValueError:
        raise Reply(422, 21000, f"Ugyldig liste av id-er: {value[:40]}", field=name) from None


def _bool(value: str, name: str) -> bool:
    if value not in ("true", "false"):
        raise Reply(422, 21000, f"Ugyldig verdi {value!r} (true/false)", field=name)
    return value == "true"


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Reply(422, 21000, f"Ugyldig dato {value!r} (yyyy-MM-dd)", field=name) from None


def _datetime(value: str, name: str) -> datetime:
    """``changedSince``: a local date-time (``yyyy-MM-ddTHH:mm:ss``) or a date."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Reply(422, 21000, f"Ugyldig tidspunkt {value!r}", field=name) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=NORDIC)


def error_body(status: int, code: int, message: str, request_id: str, *, field: str | None = None,
               developer: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "status": status,
        "code": code,
        "message": message,
        "link": LINK,
        "developerMessage": developer or message,
        "validationMessages": [{"field": field, "message": message}] if field else None,
        "requestId": request_id,
    }


class _Handler(BaseHTTPRequestHandler):
    sandbox: TripletexSandbox
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        pass

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        request_id = str(uuid.uuid4())
        try:
            status, payload, headers = self.sandbox.handle(method, self.path, self.headers)
            data = payload if isinstance(payload, bytes) else dumps(payload)
        except Exception as exc:  # noqa: BLE001 - a sandbox bug answers like Tripletex's 500
            reply = (
                exc
                if isinstance(exc, Reply)
                else Reply(500, 1000, f"Intern feil: {type(exc).__name__}")
            )
            status, headers = reply.status, reply.headers
            body = reply.body or error_body(
                reply.status, reply.code, reply.message, request_id,
                field=reply.field, developer=reply.developer,
            )  # fmt: skip
            data = dumps(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-tlx-request-id", request_id)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._serve("GET")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")


__all__ = ["OPERATIONS", "TripletexSandbox", "dumps", "error_body"]
