"""A local HTTP double of Fiken's API v2 (``shared/specs/fiken-openapi-2026.yaml``).

Serves what kravsync uses on 127.0.0.1 with Fiken's paths, field names, paging headers, bearer
auth, strict query parameters, rate limits (429 past one request in flight or 4 per second, on
writes too) and an OAuth2 token endpoint with rotating refresh tokens: the read side (user,
companies, contacts, invoices, bank accounts) and the writes a reminder needs (invoice and
contact attachments, ``POST /invoices/send``, ``POST /invoices``; see ``writes``). Test
hooks inject faults, hold requests in flight, change records and show what was received
(:attr:`FikenSandbox.received`, :meth:`FikenSandbox.sent_invoices`, ...).

    with FikenSandbox() as sandbox:
        requests.get(f"{sandbox.base_url}/companies/{sandbox.company}/invoices",
                     params={"settled": "false"},
                     headers={"Authorization": f"Bearer {sandbox.token}"})

Error bodies: the spec declares no schema for API errors, so the sandbox answers every error
with the one error shape Fiken documents (its OAuth errors): ``{"error", "error_description"}``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from connector.clock import Clock
from providers.sandbox_server import SandboxHTTPServer, sandbox_clock

from . import seed as s
from .control import Fault, FaultBook, Hold, RateLimiter, Stats
from .ledger import Ledger, UnknownRecord
from .oauth import CLIENT_ID, CLIENT_SECRET, SANDBOX_CODE, OAuthServer
from .params import DEFAULT_PAGE_SIZE, OPERATIONS, WRITE_OPERATIONS, ParamError, parse_query
from .writes import BodyError, Outcome, Received, WriteDesk, parse_json, parse_multipart

API_PREFIX = "/api/v2"
JSON_TYPE = "application/json;charset=UTF-8"


def _route_regex(spec_path: str) -> re.Pattern[str]:
    pattern = re.sub(r"\{companySlug\}", r"(?P<companySlug>[^/]+)", spec_path)
    pattern = re.sub(r"\{(\w+Id)\}", r"(?P<\1>[0-9]+)", pattern)
    return re.compile(pattern)


ROUTES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (_route_regex(path), method, op) for op, (method, path, _params) in OPERATIONS.items()
)
_MULTIPART_OPS = frozenset({"addAttachmentToInvoice", "addAttachmentToContact"})


class Headers(Protocol):
    """Case-insensitive header lookup (``email.message.Message`` or a dict in tests)."""

    def get(self, name: str, /) -> Any: ...


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    injected: bool = False


def _json(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(status, body, {"Content-Type": JSON_TYPE, **(headers or {})})


def error(status: int, code: str, description: str, **headers: str) -> Response:
    return _json(status, {"error": code, "error_description": description}, headers)


class FikenSandbox:
    """Fiken API v2 double. Construction builds the data; :meth:`start` opens the port."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = "fiken-sandbox-token",
        company: str = s.DEFAULT_COMPANY_SLUG,
        today: date | None = None,
        clock: Clock | None = None,
        customers: int | None = None,
        invoices: int | None = None,
        rate_limit: bool = True,
        max_per_second: float = 4.0,
        max_concurrent: int = 1,
        monotonic: Callable[[], float] = time.monotonic,
        oauth_client_id: str = CLIENT_ID,
        oauth_client_secret: str = CLIENT_SECRET,
    ) -> None:
        self.host, self.port = host, port
        self.token = token
        self.company = company
        self.clock = sandbox_clock(today, clock)
        self.seed_day = self.clock.today()  # the seed's data are dated relative to this day
        self.seed = s.make_seed(self.seed_day, customers, invoices)
        self.ledger = Ledger(self.seed)
        self.writes = WriteDesk(self.ledger, self.clock.today)
        self.stats = Stats()
        self.limiter = RateLimiter(
            max_per_second, max_concurrent, enabled=rate_limit, clock=monotonic
        )
        self.oauth = OAuthServer(
            client_id=oauth_client_id, client_secret=oauth_client_secret, clock=monotonic
        )
        self.oauth_code = SANDBOX_CODE
        self._faults = FaultBook()
        self._holds: list[Hold] = []
        self._token_revoked = False
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.root_url = ""

    @property
    def today(self) -> date:
        """The sandbox's current day: changes made now are stamped with it."""
        return self.clock.today()

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FikenSandbox:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.sandbox = self
        self.port = server.server_address[1]
        self.root_url = f"http://{self.host}:{self.port}"
        self.base_url = self.root_url + API_PREFIX
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() waits, at most
            name=f"fiken-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        for hold in list(self._holds):
            hold.release()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FikenSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def demo_secret(self) -> str:
        """What a tenant pointed at this sandbox keeps in its credential store."""
        return self.token

    def tenant_settings(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "company": self.company}

    @property
    def oauth_token_url(self) -> str:
        return f"{self.root_url}/oauth/token"

    @property
    def oauth_authorize_url(self) -> str:
        return f"{self.root_url}/oauth/authorize"

    @property
    def oauth_client_id(self) -> str:
        return self.oauth.client_id

    @property
    def oauth_client_secret(self) -> str:
        return self.oauth.client_secret

    # --- test hooks ----------------------------------------------------------------------------

    def inject(
        self,
        path_contains: str,
        *,
        status: int | None = None,
        times: int = 1,
        body: str | None = None,
        headers: dict[str, str] | None = None,
        malformed: bool = False,
        drop_rows: bool = False,
        processed: bool = False,
        method: str | None = None,
        operation: str | None = None,
    ) -> None:
        """Make the next ``times`` API requests whose path+query contains ``path_contains`` fail.

        ``status``: answer it (with ``body``, default a Fiken error body, and ``headers``).
        ``malformed``: 200 with the real body cut in half (not valid JSON).
        ``drop_rows``: 200 with the last row of the page missing; paging headers unchanged.
        ``processed``: with ``status``, carry the request out first and then answer ``status``
        (a lost response: the write happened, the client cannot know).
        ``method``: only requests with this method (e.g. ``"POST"``) match.
        ``operation``: only requests routed to this operationId (e.g. ``"createInvoice"``) match.
        Faults apply after authentication and rate limiting.
        """
        self._faults.add(
            Fault(
                path_contains,
                times,
                status,
                body,
                dict(headers or {}),
                malformed,
                drop_rows,
                processed,
                method,
                operation,
            )
        )

    def clear_faults(self) -> None:
        self._faults.clear()

    def hold(self, path_contains: str) -> Hold:
        """Park the next matching API request (admitted, so it counts as in flight) until
        ``release()``; use as a context manager. See :class:`Hold`."""
        hold = Hold(path_contains)
        with self._lock:
            self._holds.append(hold)
        return hold

    # What the shared provider contract test injects faults into.
    LIST_PATHS = {"customers": "/contacts", "invoices": "/invoices"}

    def revoke(self) -> None:
        """Revoked consent: every credential stops working (see :meth:`revoke_token`)."""
        self.revoke_token()

    def revoke_token(self) -> None:
        """Every token (personal and OAuth) stops working: each API call gets 401."""
        self._token_revoked = True
        self.oauth.revoke_all()

    def set_token(self, token: str) -> None:
        self.token = token
        self._token_revoked = False

    def expire_access_tokens(self) -> None:
        """OAuth access tokens issued so far expire now (refresh tokens still work)."""
        self.oauth.expire_access_tokens()

    # --- data ----------------------------------------------------------------------------------

    @property
    def demo(self) -> s.DemoSeed:
        """The demo seed's keys (``contact_keys``, ``invoice_tags``, ``defects``)."""
        if not isinstance(self.seed, s.DemoSeed):
            raise AttributeError("this sandbox was built with a generated seed")
        return self.seed

    def demo_contact_id(self, key: str) -> int:
        return s.contact_id(self.demo.contact_keys[key])

    def demo_invoice_id(self, tag: str) -> int:
        return s.invoice_id(self.demo.invoice_tags[tag])

    def contact(self, contact_id: int) -> dict[str, Any]:
        return self.ledger.contact(self.ledger.contact_index(contact_id), self.root_url)

    def invoice(self, invoice_id: int) -> dict[str, Any]:
        return self.ledger.invoice(self.ledger.invoice_index(invoice_id), self.root_url)

    @property
    def received(self) -> list[Received]:
        """Every write request that reached its operation (refused ones too), in order."""
        return self.writes.snapshot()

    def received_summary(self) -> list[str]:
        """One line per write request carried out, for `kravsync demo`."""
        lines = []
        for r in self.received:
            if r.status >= 300:
                continue
            files = ", ".join(u.filename or "?" for u in r.uploads.values())
            detail = f"invoice {r.body['invoiceId']}" if "invoiceId" in r.body else ""
            if r.operation == "createInvoice":
                detail = f"fee invoice: {r.body.get('invoiceText', '')[:60]}"
            lines.append(" ".join(x for x in (r.method, r.path.split("/", 4)[-1], detail, files) if x))
        return lines

    def received_ok(self, operation: str) -> list[Received]:
        """Write requests of ``operation`` (e.g. ``"sendInvoice"``) that were carried out."""
        return [r for r in self.received if r.operation == operation and r.status < 300]

    def sent_invoices(self) -> list[dict[str, Any]]:
        """The bodies of every ``POST /invoices/send`` carried out."""
        return [r.body for r in self.received_ok("sendInvoice")]

    def created_invoices(self) -> list[dict[str, Any]]:
        """The bodies of every ``POST /invoices`` carried out."""
        return [r.body for r in self.received_ok("createInvoice")]

    def attachments_for(self, invoice_id: int) -> list[dict[str, Any]]:
        """The invoice's attachments as served (Fiken's own reminders included)."""
        attachments: list[dict[str, Any]] = self.invoice(invoice_id).get("attachments", [])
        return attachments

    def documents_for(self, contact_id: int) -> list[dict[str, Any]]:
        """The documents filed on a contact."""
        documents: list[dict[str, Any]] = self.contact(contact_id).get("documents", [])
        return documents

    def file(self, download_url: str) -> bytes:
        """The content of an uploaded file, by its (absolute or relative) download URL."""
        return self.writes.files[urlsplit(download_url).path]

    def settle(
        self, invoice_id: int, amount_ore: int | None = None, *, on: date | None = None
    ) -> dict[str, Any]:
        """Register a payment of ``amount_ore`` (in the invoice's currency; None = all that is
        open) on ``on`` (default ``today``); lastModifiedDate moves to that day."""
        return self.ledger.settle(invoice_id, amount_ore, on or self.today)

    def touch(self, invoice_id: int, *, on: date | None = None) -> None:
        """Bump an invoice's lastModifiedDate (default ``today``)."""
        self.ledger.touch_invoice(invoice_id, on or self.today)

    def update_contact(
        self, contact_id: int, *, on: date | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Change top-level contact fields (None removes one); bumps lastModifiedDate."""
        return self.ledger.update_contact(contact_id, fields, on or self.today)

    def add_contact(
        self,
        name: str,
        *,
        organization_number: str | None = None,
        email: str | None = None,
        street: str | None = None,
        postcode: str | None = None,
        city: str | None = None,
        country: str = "Norge",
        contact_persons: tuple[tuple[str, str, str | None], ...] = (),
        customer: bool = True,
        supplier: bool = False,
        inactive: bool = False,
    ) -> dict[str, Any]:
        """Add a contact created today; contact persons are (name, email, phone)."""
        return self.ledger.add_contact(
            lambda i: s.build_contact(
                i,
                name=name,
                created=self.today,
                last_modified=self.today,
                customer_number=s.FIRST_CUSTOMER_NUMBER + i if customer else None,
                supplier_number=s.FIRST_SUPPLIER_NUMBER + i if supplier else None,
                org=organization_number,
                email=email,
                street=street,
                postcode=postcode,
                city=city,
                country=country,
                persons=contact_persons,
                inactive=inactive,
            )
        )

    def add_invoice(
        self,
        customer_id: int,
        *,
        issue_date: date | None = None,
        due_date: date | None = None,
        lines: tuple[tuple[str, int, int], ...] = (("Regnskapsføring, månedlig", 350_000, 1),),
        currency: str = "NOK",
    ) -> dict[str, Any]:
        """Add an invoice (lines: description, net unit price in øre, quantity; 25 % VAT)."""
        issue = issue_date or self.today
        due = due_date or issue + timedelta(days=14)
        return self.ledger.add_invoice(
            customer_id,
            lambda i, customer: s.build_invoice(
                i,
                customer=customer,
                issue=issue,
                due=due,
                lines=tuple(s.Line(d, p, q) for d, p, q in lines),
                currency=currency,
                dispatches=((issue, "email"),),
            ),
        )

    # --- request handling ----------------------------------------------------------------------

    def respond(self, method: str, target: str, headers: Headers, body: bytes) -> Response:
        split = urlsplit(target)
        if split.path.startswith("/oauth/"):
            return self._oauth(method, split.path, split.query, headers, body)
        if split.path.startswith("/files/") and method == "GET":
            return self._download(split.path, headers)
        if not (split.path == API_PREFIX or split.path.startswith(API_PREFIX + "/")):
            return error(404, "not_found", f"No resource at {split.path}")
        refused = self.limiter.try_acquire()
        if refused is not None:
            return error(429, "too_many_requests", f"Rate limit exceeded: {refused}")
        try:
            self._park_if_held(target)
            return self._api(
                method, split.path[len(API_PREFIX) :], split.query, headers, target, body
            )
        finally:
            self.limiter.release()

    def _download(self, path: str, headers: Headers) -> Response:
        """An uploaded file at its ``downloadUrl`` (bearer token required, like the API)."""
        if not self._authorized(headers.get("Authorization")):
            return error(401, "unauthorized", "Missing or invalid bearer token")
        content = self.writes.files.get(path)
        if content is None:
            return error(404, "not_found", f"No resource at {path}")
        ctype = "application/pdf" if content.startswith(b"%PDF") else "application/octet-stream"
        return Response(200, content, {"Content-Type": ctype})

    def _park_if_held(self, target: str) -> None:
        with self._lock:
            hold = next((h for h in self._holds if h.path_contains in target), None)
            if hold is not None:
                self._holds.remove(hold)
        if hold is not None:
            hold.park()

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        presented = header[len("Bearer ") :].strip()
        if self._token_revoked:
            return False
        return presented == self.token or self.oauth.is_valid(presented)

    def _api(
        self, method: str, path: str, query: str, headers: Headers, target: str, body: bytes
    ) -> Response:
        if not self._authorized(headers.get("Authorization")):
            return error(
                401,
                "unauthorized",
                "Missing or invalid bearer token",
                **{"WWW-Authenticate": 'Bearer realm="fiken"'},
            )
        routed = _match_route(path).get(method)
        fault = self._faults.take(target, method, routed[0] if routed else None)
        if fault is not None and fault.processed:
            self._route(method, path, query, headers, body)
        if fault is not None and fault.status is not None:
            if fault.body is not None:
                resp = Response(fault.status, fault.body.encode(), {"Content-Type": JSON_TYPE})
            else:
                resp = error(fault.status, "injected_fault", f"Injected HTTP {fault.status}")
            resp.headers.update(fault.headers)
            resp.injected = True
            return resp
        resp = self._route(method, path, query, headers, body)
        if fault is not None:
            resp.injected = True
            if fault.drop_rows:
                rows = json.loads(resp.body)
                if isinstance(rows, list) and rows:
                    resp.body = _json(200, rows[:-1]).body
            if fault.malformed:
                resp.body = resp.body[: max(1, len(resp.body) // 2)]
            resp.headers.update(fault.headers)
        return resp

    def _route(self, method: str, path: str, query: str, headers: Headers, body: bytes) -> Response:
        found = _match_route(path)
        if not found:
            return error(404, "not_found", f"No resource at {API_PREFIX}{path}")
        match = found.get(method)
        if match is None:
            allow = ", ".join(sorted(found))
            return error(405, "method_not_allowed", f"{method} not allowed", Allow=allow)
        op, match_obj = match
        args = match_obj.groupdict()
        if "companySlug" in args and args["companySlug"] != self.company:
            return error(404, "not_found", f"Company '{args['companySlug']}' not found")
        try:
            params = parse_query(op, parse_qs(query, keep_blank_values=True))
        except ParamError as exc:
            return error(400, "invalid_parameter", str(exc))
        if op in WRITE_OPERATIONS:
            return self._write(op, method, path, args, headers, body)
        try:
            return self._operation(op, args, params)
        except UnknownRecord as exc:
            return error(404, "not_found", f"No such record: {exc.args[0]}")

    def _write(
        self, op: str, method: str, path: str, args: dict[str, str], headers: Headers, body: bytes
    ) -> Response:
        desk = self.writes
        parsed: dict[str, Any] = {}
        uploads: dict[str, Any] = {}
        resp: Response
        try:
            if op in _MULTIPART_OPS:
                fields, uploads = parse_multipart(headers, body)
                parsed = {
                    **fields,
                    **{
                        k: {"filename": u.filename, "size": len(u.content)}
                        for k, u in uploads.items()
                    },
                }
                if op == "addAttachmentToInvoice":
                    outcome = desk.add_invoice_attachment(int(args["invoiceId"]), fields, uploads)
                else:
                    outcome = desk.add_contact_attachment(int(args["contactId"]), fields, uploads)
            else:
                parsed = parse_json(headers, body)
                if op == "sendInvoice":
                    outcome = desk.send_invoice(parsed)
                else:
                    outcome = desk.create_invoice(parsed)
            resp = self._outcome(outcome)
        except BodyError as exc:
            code = "unsupported_media_type" if exc.status == 415 else "invalid_request"
            resp = error(exc.status, code, str(exc))
        except UnknownRecord as exc:
            resp = error(404, "not_found", f"No such record: {exc.args[0]}")
        desk.record(Received(method, API_PREFIX + path, op, parsed, resp.status, uploads))
        return resp

    def _outcome(self, outcome: Outcome) -> Response:
        headers = {}
        if outcome.location is not None:
            where = outcome.location
            headers["Location"] = (
                self.root_url + where
                if where.startswith("/")
                else f"{self.base_url}/companies/{self.company}/{where}"
            )
        if outcome.payload is None:
            return Response(outcome.status, b"", headers)
        return _json(outcome.status, outcome.payload, headers)

    def _operation(self, op: str, args: dict[str, str], params: dict[str, Any]) -> Response:
        ledger = self.ledger
        if op == "getUser":
            return _json(200, s.USER)
        if op == "getCompany":
            return _json(200, s.company(self.company, self.seed_day))
        if op == "getCompanies":
            return _page([s.company(self.company, self.seed_day)], params, lambda c: c)
        if op == "getContacts":
            return _page(
                ledger.find_contacts(params), params, lambda i: ledger.contact(i, self.root_url)
            )
        if op == "getContact":
            index = ledger.contact_index(int(args["contactId"]))
            return _json(200, ledger.contact(index, self.root_url))
        if op == "getInvoices":
            return _page(
                ledger.find_invoices(params), params, lambda i: ledger.invoice(i, self.root_url)
            )
        if op == "getInvoice":
            index = ledger.invoice_index(int(args["invoiceId"]))
            return _json(200, ledger.invoice(index, self.root_url))
        if op == "getInvoiceAttachments":
            index = ledger.invoice_index(int(args["invoiceId"]))
            return _json(200, ledger.invoice(index, self.root_url).get("attachments", []))
        if op == "getBankAccounts":
            accounts = [
                a
                for a in s.BANK_ACCOUNTS
                if "inactive" not in params or a["inactive"] == params["inactive"]
            ]
            return _page(accounts, params, lambda a: dict(a))
        raise AssertionError(op)

    def _oauth(self, method: str, path: str, query: str, headers: Headers, body: bytes) -> Response:
        if path == "/oauth/token":
            if method != "POST":
                return error(405, "method_not_allowed", f"{method} not allowed", Allow="POST")
            ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype != "application/x-www-form-urlencoded":
                return error(400, "invalid_request", "Content-Type must be form-urlencoded")
            try:
                form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
            except UnicodeDecodeError:
                return error(400, "invalid_request", "Body is not UTF-8")
            status, payload = self.oauth.token(form, headers.get("Authorization"))
            return _json(status, payload, {"Cache-Control": "no-store"})
        if path == "/oauth/authorize":
            if method != "GET":
                return error(405, "method_not_allowed", f"{method} not allowed", Allow="GET")
            q = {k: v[0] for k, v in parse_qs(query).items()}
            missing = [
                k for k in ("response_type", "client_id", "redirect_uri", "state") if not q.get(k)
            ]
            if missing or q["response_type"] != "code" or q["client_id"] != self.oauth.client_id:
                return error(400, "invalid_request", f"Bad authorize request (missing: {missing})")
            sep = "&" if "?" in q["redirect_uri"] else "?"
            location = (
                q["redirect_uri"] + sep + urlencode({"code": self.oauth_code, "state": q["state"]})
            )
            return Response(302, b"", {"Location": location})
        return error(404, "not_found", f"No resource at {path}")


def _match_route(path: str) -> dict[str, tuple[str, re.Match[str]]]:
    """The operations at ``path``, by method."""
    found: dict[str, tuple[str, re.Match[str]]] = {}
    for regex, method, op in ROUTES:
        match = regex.fullmatch(path)
        if match:
            found[method] = (op, match)
    return found


def _page(items: Any, params: dict[str, Any], render: Callable[[Any], Any]) -> Response:
    page = params.get("page", 0)
    size = params.get("pageSize", DEFAULT_PAGE_SIZE)
    total = len(items)
    rows = [render(x) for x in items[page * size : (page + 1) * size]]
    return _json(
        200,
        rows,
        {
            "Fiken-Api-Page": str(page),
            "Fiken-Api-Page-Size": str(size),
            "Fiken-Api-Page-Count": str(math.ceil(total / size)),
            "Fiken-Api-Result-Count": str(total),
        },
    )


class _Server(SandboxHTTPServer):
    sandbox: FikenSandbox

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._conns_lock:
            (self._conns.add if alive else self._conns.discard)(conn)

    def close_connections(self) -> None:
        """Close kept-alive client connections so a stopped sandbox really stops answering."""
        with self._conns_lock:
            conns, self._conns = self._conns, set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FikenSandbox/1.0"
    # Headers and body go out in two writes: without TCP_NODELAY the body waits for the
    # client's delayed ACK (~40 ms per request on Linux).
    disable_nagle_algorithm = True
    timeout = 60
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        request_id = self.headers.get("X-Request-ID") or str(uuid.uuid4())
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        sandbox = self.server.sandbox
        sandbox.stats.begin(urlsplit(self.path).path)
        resp = Response(500)
        try:
            resp = sandbox.respond(method, self.path, self.headers, body)
        except Exception as exc:  # a sandbox bug must still answer, like a real 500
            resp = error(500, "internal_error", f"{type(exc).__name__}: {exc}")
        finally:
            sandbox.stats.end(resp.status, resp.injected)
        self.send_response(resp.status)
        for name, value in {**resp.headers, "X-Request-ID": request_id}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(resp.body)


def main(argv: list[str] | None = None) -> int:
    """Run a Fiken sandbox until interrupted; prints where it listens and what it accepts."""
    parser = argparse.ArgumentParser(prog="fiken-sandbox", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="fiken-sandbox-token")
    parser.add_argument("--company", default=s.DEFAULT_COMPANY_SLUG)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--invoices", type=int, default=None)
    parser.add_argument("--no-rate-limit", action="store_true")
    args = parser.parse_args(argv)
    sandbox = FikenSandbox(
        host=args.host,
        port=args.port,
        token=args.token,
        company=args.company,
        today=args.today,
        customers=args.customers,
        invoices=args.invoices,
        rate_limit=not args.no_rate_limit,
    ).start()
    print(
        f"Fiken sandbox listening on {sandbox.base_url}",
        f"company: {sandbox.company}",
        f"token:   {sandbox.token}",
        f"oauth:   {sandbox.oauth_token_url} "
        f"(client {sandbox.oauth_client_id}, secret {sandbox.oauth_client_secret}, "
        f"code {sandbox.oauth_code})",
        f"try:     curl -H 'Authorization: Bearer {sandbox.token}' "
        f"'{sandbox.base_url}/companies/{sandbox.company}/invoices?settled=false'",
        sep="\n",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
