"""A local HTTP double of the Fortnox API v3 (customers, invoices) and its OAuth2 server.

Faithful to ``shared/specs/fortnox-openapi.json`` and fortnox.se's guides: ``/3/...`` resources
with ``MetaInformation`` paging (``page`` from 1, ``limit`` up to 500), one ``filter`` plus
``lastmodified`` (Stockholm time), ``ErrorInformation`` error bodies, 429 beyond 25 requests per
sliding 5 s per tenant (no Retry-After), and ``/oauth-v1/token`` with client credentials plus
``TenantId``, authorization code, and single-use rotating refresh tokens. The push endpoints
(Fortnox Finans, invoice PDFs, invoice updates) and the record of what they received live in
``push_api``.

    with FortnoxSandbox(today=date(2026, 3, 2)) as sb:
        requests.get(sb.base_url + "/3/invoices", headers={"Authorization": f"Bearer {sb.token}"})
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from array import array
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from connector.clock import Clock
from providers.fortnox.sandbox import seed
from providers.fortnox.sandbox.push_api import Pdf, PushApi, Received
from providers.sandbox_server import SandboxHTTPServer, sandbox_clock

SANDBOX_CODE = "sandbox-code"
MAX_LIMIT = 500
DEFAULT_LIMIT = 100
INVOICE_FILTERS = ("cancelled", "fullypaid", "unpaid", "unpaidoverdue", "unbooked")
CUSTOMER_FILTERS = ("active", "inactive")
_STATE_CODES = {"unpaid": 0, "fullypaid": 1, "cancelled": 2, "unbooked": 3}


@dataclass
class Fault:
    path_contains: str
    status: int | None
    times: int
    body: Any
    headers: dict[str, str]
    malformed: bool
    drop_rows: bool
    method: str | None = None


@dataclass
class Stats:
    requests: int = 0
    rate_limited: int = 0
    per_path: Counter[str] = field(default_factory=Counter)
    token_grants: Counter[str] = field(default_factory=Counter)
    refreshes: int = 0
    invalid_grants: int = 0
    unauthorized: int = 0


class _Reply(Exception):
    """Raised inside a handler to answer with ``status`` and a JSON ``body``."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def error_body(message: str, code: int) -> dict[str, Any]:
    return {"ErrorInformation": {"Error": 1, "Message": message, "Code": code}}


def _oauth_error(error: str, description: str) -> _Reply:
    return _Reply(400, {"error": error, "error_description": description})


class FortnoxSandbox:
    """See the module docstring. Thread-safe; start/stop or use as a context manager."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str = "kravsync-sandbox",
        client_secret: str = "sandbox-secret",
        tenant_id: str = "1234567",
        today: date | None = None,
        clock: Clock | None = None,
        customers: int | None = None,
        invoices: int | None = None,
        rate_limit: bool = True,
        max_requests: int = 25,
        window_seconds: float = 5.0,
        access_token_ttl: float = 3600.0,
        finans: bool = True,
        token: str | None = None,
    ) -> None:
        """``token``: a long-lived access token the sandbox accepts (``kravsync sandbox
        --token T``, for curl); by default one is made up."""
        self.host, self.port = host, port
        self.client_id, self.client_secret, self.tenant_id = client_id, client_secret, tenant_id
        self.clock = sandbox_clock(today, clock)
        self.seed_day = self.clock.today()  # the seed's data are dated relative to this day
        self.customer_count = max(customers or seed.BASE_CUSTOMER_COUNT, seed.BASE_CUSTOMER_COUNT)
        self.invoice_count = max(invoices or seed.BASE_INVOICE_COUNT, seed.BASE_INVOICE_COUNT)
        self.rate_limit, self.max_requests = rate_limit, max_requests
        self.window_seconds, self.access_token_ttl = window_seconds, access_token_ttl
        self.stats = Stats()
        self._lock = threading.Lock()
        self._access: dict[str, float] = {}  # token -> monotonic expiry
        self._refresh: set[str] = set()
        self._revoked = False
        self._hits: deque[float] = deque()
        self._faults: list[Fault] = []
        self._invoice_over: dict[int, dict[str, Any]] = {}
        self._customer_over: dict[int, dict[str, Any]] = {}
        self._inv_state: array[int] | None = None
        self._inv_due: array[int] | None = None
        self._inv_mod: array[int] | None = None
        self._inv_issued: array[int] | None = None
        self._cust_mod: array[int] | None = None
        self._cust_active: array[int] | None = None
        self._index_cache: dict[tuple[Any, ...], list[int]] = {}
        self.push_api = PushApi(self, finans=finans)  # Fortnox Finans activated or not
        self.token = self._issue_access(ttl=10 * 365 * 86400.0, token=token)
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    @property
    def today(self) -> date:
        """The sandbox's current day: changes made now are stamped with it."""
        return self.clock.today()

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> FortnoxSandbox:
        handler = type("_Handler", (_Handler,), {"sandbox": self})
        self._server = SandboxHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base_url = f"http://{self.host}:{self.port}"
        # A short poll interval: stop() waits for it, and tests start many sandboxes.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FortnoxSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/oauth-v1/token"

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/oauth-v1/auth"

    def demo_secret(self) -> str:
        """What a tenant pointed at this sandbox keeps in its credential store."""
        return json.dumps({"client_id": self.client_id, "client_secret": self.client_secret})

    def tenant_settings(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "token_url": self.token_url,
            "authorize_url": self.authorize_url,
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
        }

    # --- test controls -------------------------------------------------------------------
    def inject(
        self,
        path_contains: str,
        *,
        status: int | None = None,
        times: int = 1,
        body: Any = None,
        headers: dict[str, str] | None = None,
        malformed: bool = False,
        drop_rows: bool = False,
        method: str | None = None,
    ) -> None:
        """Make the next ``times`` requests whose path contains ``path_contains`` (and whose
        method is ``method``, when given) misbehave."""
        with self._lock:
            self._faults.append(
                Fault(
                    path_contains, status, times, body, headers or {}, malformed, drop_rows, method
                )
            )

    # What the shared provider contract test injects faults into.
    LIST_PATHS = {"customers": "/3/customers", "invoices": "/3/invoices"}

    def revoke(self) -> None:
        """The customer revoked consent: every token and refresh token stops working."""
        with self._lock:
            self._revoked = True
            self._access.clear()
            self._refresh.clear()

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access = dict.fromkeys(self._access, 0.0)

    def update_invoice(self, number: int, **fields: Any) -> None:
        """Change fields of invoice ``number`` as a Fortnox user would (bumps lastmodified)."""
        with self._lock:
            over = self._invoice_over.setdefault(number, {})
            over.update(fields)
            over["_modified"] = self.clock.now().astimezone(seed.STOCKHOLM)
            self._index_cache.clear()
            self._inv_state = None
            self._inv_issued = None

    def update_customer(self, number: int, **fields: Any) -> None:
        with self._lock:
            over = self._customer_over.setdefault(number, {})
            over.update(fields)
            over["_modified"] = self.clock.now().astimezone(seed.STOCKHOLM)
            self._index_cache.clear()
            self._cust_mod = None

    def received_summary(self) -> list[str]:
        """One line per push request answered with success, for `kravsync demo`."""
        lines = []
        for r in self.received():
            if r.status >= 300:
                continue
            record = r.body.get("NoxFinansInvoice") if isinstance(r.body, dict) else None
            detail = ""
            if isinstance(record, dict):
                detail = f" invoice {record.get('InvoiceNumber')} service {record.get('Service')}"
            elif isinstance(r.body, dict) and isinstance(r.body.get("Invoice"), dict):
                comments = str(r.body["Invoice"].get("Comments", "")).strip().splitlines()
                detail = f" Comments: {comments[-1][:70]}" if comments else ""
            lines.append(f"{r.method} {r.path}{detail}")
        return lines

    def received(self, method: str | None = None, path_contains: str = "") -> list[Received]:
        """The push requests (writes, PDFs, Finans) the sandbox answered, in order."""
        return self.push_api.received(method, path_contains)

    def finans_record(self, number: int) -> dict[str, Any] | None:
        """Invoice ``number``'s Fortnox Finans record (seeded NoxFinans invoices have one)."""
        return self.push_api.finans_record(number)

    def issue_refresh_token(self) -> str:
        """A valid refresh token, as an authorization-code grant would have left behind."""
        with self._lock:
            return self._issue_refresh()

    # --- tokens --------------------------------------------------------------------------
    def _issue_access(self, ttl: float | None = None, token: str | None = None) -> str:
        token = token or "fnx_at_" + secrets.token_urlsafe(24)
        self._access[token] = time.monotonic() + (self.access_token_ttl if ttl is None else ttl)
        return token

    def _issue_refresh(self) -> str:
        token = "fnx_rt_" + secrets.token_urlsafe(24)
        self._refresh.add(token)
        return token

    def _grant(self, form: dict[str, str], headers: Any) -> dict[str, Any]:
        auth = headers.get("Authorization", "")
        client = None
        if auth.startswith("Basic "):
            try:
                client = base64.b64decode(auth[6:]).decode()
            except ValueError:
                client = None
        if client != f"{self.client_id}:{self.client_secret}":
            raise _Reply(401, {"error": "invalid_client", "error_description": "Bad client"})
        grant = form.get("grant_type", "")
        with self._lock:
            self.stats.token_grants[grant] += 1
            if self._revoked:
                self.stats.invalid_grants += 1
                raise _oauth_error("invalid_grant", "Consent has been revoked")
            refresh: str | None = None
            if grant == "client_credentials":
                if headers.get("TenantId") != self.tenant_id:
                    raise _oauth_error("invalid_request", "Unknown or missing TenantId")
            elif grant == "authorization_code":
                if form.get("code") != SANDBOX_CODE:
                    self.stats.invalid_grants += 1
                    raise _oauth_error("invalid_grant", "Invalid authorization code")
                refresh = self._issue_refresh()
            elif grant == "refresh_token":
                given = form.get("refresh_token", "")
                if given not in self._refresh:
                    self.stats.invalid_grants += 1
                    raise _oauth_error("invalid_grant", "Invalid refresh token")
                self._refresh.discard(given)  # single use
                self.stats.refreshes += 1
                refresh = self._issue_refresh()
            else:
                raise _oauth_error("unsupported_grant_type", f"Unsupported grant {grant!r}")
            body: dict[str, Any] = {
                "access_token": self._issue_access(),
                "scope": "companyinformation customer invoice",
                "expires_in": int(self.access_token_ttl),
                "token_type": "bearer",
            }
            if refresh:
                body["refresh_token"] = refresh
            return body

    def _authenticate(self, headers: Any) -> None:
        if headers.get("Access-Token") or headers.get("Client-Secret"):
            raise _Reply(
                401, error_body("Access-Token/Client-Secret is no longer supported", 2000311)
            )
        auth = headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with self._lock:
            expiry = self._access.get(token)
            if expiry is None or expiry <= time.monotonic():
                self.stats.unauthorized += 1
                raise _Reply(401, error_body("Invalid or expired access token", 2000310))

    def _throttle(self) -> None:
        if not self.rate_limit:
            return
        now = time.monotonic()
        with self._lock:
            while self._hits and self._hits[0] <= now - self.window_seconds:
                self._hits.popleft()
            if len(self._hits) >= self.max_requests:
                self.stats.rate_limited += 1
                raise _Reply(429, {"message": "Too Many Requests"})
            self._hits.append(now)

    def _take_fault(self, path: str, method: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method not in (None, method):
                    continue
                if fault.path_contains in path and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    # --- data ----------------------------------------------------------------------------
    def invoice(self, n: int) -> dict[str, Any]:
        detail = seed.invoice_detail(n, self.seed_day, self.customer_count)
        over = self._invoice_over.get(n)
        if over:
            detail.update({k: v for k, v in over.items() if not k.startswith("_")})
        return detail

    def customer(self, n: int) -> dict[str, Any]:
        detail = seed.customer_detail(n, self.seed_day)
        over = self._customer_over.get(n)
        if over:
            detail.update({k: v for k, v in over.items() if not k.startswith("_")})
        return detail

    def _customer_item(self, n: int) -> dict[str, Any]:
        detail = self.customer(n)
        detail["Phone"] = detail.get("Phone1", "")
        return {k: detail[k] for k in seed.CUSTOMER_LIST_FIELDS if k in detail}

    @staticmethod
    def _minute(ts: datetime) -> int:
        return int(ts.timestamp() // 60)

    def _invoice_arrays(self) -> tuple[array[int], array[int], array[int], array[int]]:
        with self._lock:
            if (
                self._inv_state is None
                or self._inv_due is None
                or self._inv_mod is None
                or self._inv_issued is None
            ):
                state, due, mod, issued = array("b"), array("l"), array("l"), array("l")
                for n in range(1, self.invoice_count + 1):
                    over = self._invoice_over.get(n)
                    if over:
                        d = self.invoice(n)
                        st = (
                            "cancelled"
                            if d["Cancelled"]
                            else "unbooked"
                            if not d["Booked"]
                            else "fullypaid"
                            if float(d["Balance"]) <= 0
                            else "unpaid"
                        )
                        due_d = date.fromisoformat(d["DueDate"])
                        issued_d = date.fromisoformat(d["InvoiceDate"])
                        ts = over["_modified"]
                    else:
                        st, due_d = seed.invoice_state(n, self.seed_day, self.customer_count)
                        issued_d = due_d - timedelta(days=30)  # as seed.invoice_detail
                        ts = seed.invoice_modified(n, self.seed_day, self.customer_count)
                    state.append(_STATE_CODES[st])
                    due.append(due_d.toordinal())
                    issued.append(issued_d.toordinal())
                    mod.append(self._minute(ts))
                self._inv_state, self._inv_due, self._inv_mod = state, due, mod
                self._inv_issued = issued
            return self._inv_state, self._inv_due, self._inv_mod, self._inv_issued

    def _customer_arrays(self) -> tuple[array[int], array[int]]:
        with self._lock:
            if self._cust_mod is None or self._cust_active is None:
                mod, active = array("l"), array("b")
                for n in range(1, self.customer_count + 1):
                    over = self._customer_over.get(n)
                    ts = over["_modified"] if over else seed.customer_modified(n, self.seed_day)
                    mod.append(self._minute(ts))
                    active.append(1 if self.customer(n).get("Active", True) else 0)
                self._cust_mod, self._cust_active = mod, active
            return self._cust_mod, self._cust_active

    def _invoice_numbers(
        self,
        flt: str | None,
        since: int | None,
        dates: tuple[int | None, int | None] = (None, None),
    ) -> list[int]:
        """Document numbers matching ``filter``, ``lastmodified`` (minutes) and ``fromdate`` /
        ``todate`` (InvoiceDate ordinals, both inclusive)."""
        key = ("invoices", flt, since, dates)
        cached = self._index_cache.get(key)
        if cached is not None:
            return cached
        state, due, mod, issued = self._invoice_arrays()
        today = self.today.toordinal()
        want = {"unpaidoverdue": 0}.get(flt or "", _STATE_CODES.get(flt or "", -1))
        low, high = dates
        out = [
            i + 1
            for i in range(len(state))
            if (flt is None or state[i] == want)
            and (flt != "unpaidoverdue" or due[i] < today)
            and (since is None or mod[i] >= since)
            and (low is None or issued[i] >= low)
            and (high is None or issued[i] <= high)
        ]
        with self._lock:
            self._index_cache[key] = out
        return out

    def _customer_numbers(self, flt: str | None, since: int | None) -> list[int]:
        key = ("customers", flt, since)
        cached = self._index_cache.get(key)
        if cached is not None:
            return cached
        mod, active = self._customer_arrays()
        want = {"active": 1, "inactive": 0}.get(flt or "")
        out = [
            i + 1
            for i in range(len(mod))
            if (want is None or active[i] == want) and (since is None or mod[i] >= since)
        ]
        with self._lock:
            self._index_cache[key] = out
        return out

    # --- request handling ----------------------------------------------------------------
    def handle(
        self, method: str, raw_path: str, headers: Any, body: bytes
    ) -> tuple[int, Any, dict]:
        url = urlsplit(raw_path)
        path = url.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        with self._lock:
            self.stats.requests += 1
        if path == "/oauth-v1/token" and method == "POST":
            form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
            return 200, self._grant(form, headers), {}
        if path == "/oauth-v1/auth" and method == "GET":
            target = query.get("redirect_uri", "http://127.0.0.1/")
            params = urlencode({"code": SANDBOX_CODE, "state": query.get("state", "")})
            return 302, None, {"Location": f"{target}?{params}"}
        parts = path.split("/")
        if len(parts) < 3 or parts[1] != "3":
            raise _Reply(404, error_body("Not found", 2000404))
        self._authenticate(headers)
        self._throttle()
        route = "/".join(parts[:3]) + ("/{n}" if len(parts) > 3 else "")
        route += "".join(f"/{p}" for p in parts[4:])
        with self._lock:
            self.stats.per_path[f"{method} {route}"] += 1
        if not self.push_api.watches(method, parts):
            return self._serve_api(method, raw_path, parts, query, body)
        try:
            status, payload, extra = self._serve_api(method, raw_path, parts, query, body)
        except _Reply as reply:
            self.push_api.record(method, path, body, reply.status)
            raise
        self.push_api.record(method, path, body, status)
        return status, payload, extra

    def _serve_api(
        self, method: str, raw_path: str, parts: list[str], query: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict]:
        fault = self._take_fault(raw_path, method)
        if fault and fault.status is not None:
            raise _Reply(
                fault.status, fault.body or error_body("Injected error", 2000000), fault.headers
            )
        pushed = self.push_api.handle(method, parts, body)
        if pushed is not None:
            status, payload = pushed
            if status >= 400:
                raise _Reply(status, payload)
            return status, payload, fault.headers if fault else {}
        if method != "GET":
            raise _Reply(405, error_body("Method not allowed", 2000405))
        result = self._get(parts[2], parts[3:], query)
        if fault and fault.drop_rows:
            for key in ("Invoices", "Customers"):
                if result.get(key):
                    result[key] = result[key][1:]
        if fault and fault.malformed:
            return 200, b'{"Invoices": [{"DocumentNumber": ', fault.headers
        return 200, result, fault.headers if fault else {}

    def _get(self, resource: str, rest: list[str], query: dict[str, str]) -> dict[str, Any]:
        if resource == "companyinformation" and not rest:
            return {
                "CompanyInformation": {
                    "CompanyName": "Sandbox AB",
                    "DatabaseNumber": int(self.tenant_id) if self.tenant_id.isdigit() else 0,
                    "OrganizationNumber": "556000-0001",
                }
            }
        if resource not in ("invoices", "customers"):
            raise _Reply(404, error_body(f"Unknown resource {resource}", 2000404))
        if rest:
            if len(rest) != 1 or not rest[0].isdigit():
                raise _Reply(404, error_body("Not found", 2000404))
            n = int(rest[0])
            if resource == "invoices":
                if not 1 <= n <= self.invoice_count:
                    raise _Reply(404, error_body("Kan inte hitta fakturan.", 2000434))
                return {"Invoice": self.invoice(n)}
            if not 1 <= n <= self.customer_count:
                raise _Reply(404, error_body("Kan inte hitta kunden.", 2000433))
            return {"Customer": self.customer(n)}
        flt = query.get("filter")
        allowed = INVOICE_FILTERS if resource == "invoices" else CUSTOMER_FILTERS
        if flt is not None and flt not in allowed:
            raise _Reply(400, error_body(f"Ogiltigt filter: {flt}", 2000587))
        since = None
        if "lastmodified" in query:
            since = self._parse_lastmodified(query["lastmodified"])
        try:
            page = int(query.get("page", "1"))
            limit = int(query.get("limit", str(DEFAULT_LIMIT)))
        except ValueError:
            raise _Reply(400, error_body("Ogiltig parameter: page/limit", 2001101)) from None
        if page < 1 or not 1 <= limit <= MAX_LIMIT:
            raise _Reply(400, error_body(f"Ogiltig parameter: limit {limit}", 2001101))
        if resource == "invoices":
            numbers = self._invoice_numbers(flt, since, self._date_range(query))
        else:
            numbers = self._customer_numbers(flt, since)
        total = len(numbers)
        pages = max(1, -(-total // limit))
        chosen = numbers[(page - 1) * limit : page * limit]
        meta = {"@TotalResources": total, "@TotalPages": pages, "@CurrentPage": page}
        if resource == "invoices":
            rows = [seed.invoice_list_item(self.invoice(n)) for n in chosen]
            return {"Invoices": rows, "MetaInformation": meta}
        return {"Customers": [self._customer_item(n) for n in chosen], "MetaInformation": meta}

    @staticmethod
    def _date_range(query: dict[str, str]) -> tuple[int | None, int | None]:
        """``fromdate`` / ``todate`` (YYYY-MM-DD) as inclusive InvoiceDate ordinals."""
        out: list[int | None] = []
        for key in ("fromdate", "todate"):
            value = query.get(key)
            if value is None:
                out.append(None)
                continue
            try:
                out.append(date.fromisoformat(value).toordinal())
            except ValueError:
                raise _Reply(400, error_body(f"Ogiltigt datum: {value}", 2000588)) from None
        return out[0], out[1]

    @classmethod
    def _parse_lastmodified(cls, value: str) -> int:
        for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                parsed = datetime.strptime(value, fmt).replace(tzinfo=seed.STOCKHOLM)
            except ValueError:
                continue
            return cls._minute(parsed)
        raise _Reply(400, error_body(f"Ogiltigt datum: {value}", 2000588))


class _Handler(BaseHTTPRequestHandler):
    sandbox: FortnoxSandbox
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else delayed ACKs add ~40 ms to every response

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        pass

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, payload, headers = self.sandbox.handle(method, self.path, self.headers, body)
        except _Reply as reply:
            status, payload, headers = reply.status, reply.body, reply.headers
        data = (
            b""
            if payload is None
            else payload
            if isinstance(payload, bytes)
            else (json.dumps(payload, ensure_ascii=False).encode())
        )
        self.send_response(status)
        kind = "application/pdf" if isinstance(payload, Pdf) else "application/json; charset=utf-8"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")
