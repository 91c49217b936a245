"""The console's Starlette application: routes, the login, role and CSRF checks, the templates."""

from __future__ import annotations

import csv
import hmac
import io
import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from connector.clock import Clock
from connector.config import Config, TenantConfig
from connector.console import pages, review
from connector.console.auth import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    LoginLimiter,
    Sessions,
    check_password,
    csrf_ok,
)
from connector.console.templating import LANGUAGES, environment, i18n
from connector.cycle import CycleResult
from connector.models import Note, NoteKind
from connector.store import Store
from connector.validation.identifiers import mask_person_numbers

log = logging.getLogger("kravsync.console")
SendNow = Callable[[TenantConfig], CycleResult]

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class Console:
    """The state behind the routes: config, store, clock, sessions, the login limiter."""

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock,
        *,
        secure: bool = False,
        send_now: SendNow | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.secure = secure
        self.send_now = send_now
        self.sessions = Sessions()
        self.limiter = LoginLimiter()
        self.review = review.ReviewCache(clock)
        self.env = environment()

    def warm(self) -> None:
        """Start working out each tenant's figures (overview sums, review queue, trends) in
        the background, so the first look finds them ready."""
        today = self.clock.today()
        for tenant in self.config.tenants:
            for figures in (self.review.sums, self.review.plans, self.review.trends):
                figures.peek(tenant, self.store, today)

    # -- helpers --------------------------------------------------------------------------------
    def render(
        self, request: Request, name: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        session = request.state.session if hasattr(request.state, "session") else None
        user = getattr(request.state, "user", None)
        html = self.env.get_template(name).render(
            **i18n(user.language if user else "en"),
            user=user,
            csrf=session.csrf if session else "",
            tenants=self.config.tenants,
            path=request.url.path,
            now=self.clock.now(),
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def tenant(self, request: Request) -> TenantConfig | None:
        name = request.path_params.get("tenant") or request.query_params.get("tenant")
        if not name:
            return None
        for t in self.config.tenants:
            if t.name == name:
                return t
        return None

    def selected(self, request: Request) -> list[TenantConfig]:
        chosen = self.tenant(request)
        return [chosen] if chosen else list(self.config.tenants)


Handler = Callable[[Console, Request], Awaitable[Response]]


def page(role: str = "viewer") -> Callable[[Handler], Handler]:
    """A route for logged-in users with at least ``role``; POSTs must carry the CSRF token."""

    def wrap(handler: Handler) -> Handler:
        async def route(console: Console, request: Request) -> Response:
            session = console.sessions.get(request.cookies.get(SESSION_COOKIE))
            user = console.store.console_user(session.user) if session else None
            if session is None or user is None:
                if request.method == "POST":
                    return PlainTextResponse("not logged in", status_code=401)
                return RedirectResponse("/login", status_code=303)
            request.state.session, request.state.user = session, user
            if request.method == "POST":
                form = await request.form()
                if not csrf_ok(session, form.get("csrf")):
                    return console.render(
                        request, "error.html", 403, message="The form was stale or forged (CSRF)."
                    )
                request.state.form = form
            if not user.may(role):
                return console.render(
                    request, "error.html", 403, message=f"This needs the {role} role."
                )
            return await handler(console, request)

        return route

    return wrap


def _page_number(request: Request) -> int:
    try:
        return max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1


# -- login ---------------------------------------------------------------------------------------
LOGIN_COOKIE = "kravsync_login"


def _login_page(
    console: Console, request: Request, status: int = 200, error: str | None = None
) -> Response:
    """The login form with a fresh CSRF token, also set as a cookie: the POST must carry both
    (a double submit: another site can make a browser post the form, not read the cookie)."""
    token = secrets.token_urlsafe(32)
    response = console.render(request, "login.html", status, error=error, login_csrf=token)
    response.set_cookie(
        LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=console.secure, path="/login"
    )
    return response


async def login_form(console: Console, request: Request) -> Response:
    return _login_page(console, request)


async def login(console: Console, request: Request) -> Response:
    form = await request.form()
    sent, expected = form.get("csrf"), request.cookies.get(LOGIN_COOKIE)
    if not (isinstance(sent, str) and expected and hmac.compare_digest(sent, expected)):
        return _login_page(console, request, 403, error="The form was stale or forged (CSRF).")
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    address = request.client.host if request.client else "?"
    if console.limiter.blocked(name, address):
        return _login_page(
            console, request, 429, error="Too many failed logins. Wait a few minutes."
        )
    user = await run_in_threadpool(check_password, console.store, name, password)
    if user is None:
        console.limiter.failed(name, address)
        return _login_page(console, request, 401, error="Wrong name or password.")
    console.limiter.succeeded(name)
    token, _ = console.sessions.start(user.name)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=console.secure,
        path="/",
    )
    return response


@page()
async def logout(console: Console, request: Request) -> Response:
    console.sessions.end(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- pages ---------------------------------------------------------------------------------------
@page()
async def language(console: Console, request: Request) -> Response:
    """The logged-in user's own language for the console."""
    chosen = str(request.state.form.get("language", ""))
    if chosen in LANGUAGES:
        console.store.set_language(request.state.user.name, chosen)
    back = str(request.state.form.get("back", "/"))
    return RedirectResponse(_local(back), status_code=303)


def _local(path: str) -> str:
    """A redirect target on this site only."""
    safe = path.startswith("/") and not path.startswith("//") and "\\" not in path
    return path if safe else "/"


@page()
async def overview(console: Console, request: Request) -> Response:
    today, now = console.clock.today(), console.clock.now()
    chosen = console.tenant(request)
    views, stale = [], []
    for t in console.selected(request):
        sums = await run_in_threadpool(console.review.receivables, t, console.store, today)
        views.append(pages.overview(t, console.store, today, now, sums.value))
        if sums.stale_since is not None:
            stale.append(sums.stale_since)
    total = pages.combined(views) if chosen is None and len(views) > 1 else None
    served = (
        await run_in_threadpool(console.review.collection, chosen, console.store, today)
        if chosen
        else None
    )
    if served is not None and served.stale_since is not None:
        stale.append(served.stale_since)
    return console.render(
        request,
        "overview.html",
        views=views,
        total=total,
        chosen=chosen,
        trends=served.value if served else None,
        trends_pending=chosen is not None and served is None,
        stale_since=min(stale) if stale else None,
    )


@page()
async def queue(console: Console, request: Request) -> Response:
    today = console.clock.today()
    number = _page_number(request)
    size = pages.PAGE_SIZE
    groups: list[tuple[Any, ...]] = []
    stale: list[datetime] = []
    pending: set[str] = set()
    for t in console.selected(request):
        served = await run_in_threadpool(
            partial(console.review.served_letters, wait=False), t, console.store, today
        )
        if served is None:  # the first plan since the console started: being worked out
            pending.add(t.name)
            groups.append((t, [], 0, {s: 0 for s in review.STATES}))
            continue
        every = served.value
        if served.stale_since is not None:
            stale.append(served.stale_since)
        shown = review.named(console.store, t.name, every[(number - 1) * size : number * size])
        counts = {s: 0 for s in review.STATES}
        for m in every:
            counts[m.state] += 1
        groups.append((t, shown, len(every), counts))
    return console.render(
        request,
        "queue.html",
        groups=groups,
        states=review.STATES,
        chosen=console.tenant(request),
        page=number,
        size=size,
        stale_since=min(stale) if stale else None,
        pending=pending,
    )


@page("approver")
async def queue_decide(console: Console, request: Request) -> Response:
    form = request.state.form
    decision = {"approve": "approved", "skip": "skipped", "hold": "held"}.get(
        str(form.get("decision", ""))
    )
    if decision is None:
        return console.render(request, "error.html", 400, message="Unknown decision.")
    wanted = {str(v) for v in form.getlist("letter")}
    today, now, user = console.clock.today(), console.clock.now(), request.state.user
    decided = 0
    for tenant in console.config.tenants:
        if not any(w.startswith(f"{tenant.name}|") for w in wanted):
            continue
        every = await run_in_threadpool(console.review.letters, tenant, console.store, today)
        chosen = review.named(console.store, tenant.name, [m for m in every if m.id in wanted])
        decided += review.decide(console.store, tenant, chosen, decision, user.name, now)
    back = str(form.get("back", "/queue"))
    return RedirectResponse(
        back if back.startswith("/") and not back.startswith("//") else "/queue", status_code=303
    )


@page("approver")
async def queue_send(console: Console, request: Request) -> Response:
    tenant = console.tenant(request) or _form_tenant(console, request)
    if tenant is None or console.send_now is None:
        return console.render(request, "error.html", 400, message="Nothing to send for.")
    if tenant.push != "approve":
        return console.render(
            request, "error.html", 400, message=f'{tenant.name}: "send now" needs push = "approve".'
        )
    result = await run_in_threadpool(console.send_now, tenant)
    return console.render(request, "sent.html", tenant=tenant, result=result)


def _form_tenant(console: Console, request: Request) -> TenantConfig | None:
    name = str(getattr(request.state, "form", {}).get("tenant", ""))
    return next((t for t in console.config.tenants if t.name == name), None)


@page()
async def customers(console: Console, request: Request) -> Response:
    tenant = console.tenant(request) or (
        console.config.tenants[0] if console.config.tenants else None
    )
    if tenant is None:
        return console.render(request, "error.html", 404, message="No tenants configured.")
    search = request.query_params.get("q", "")[:100]
    number = _page_number(request)
    total, rows = pages.customer_page(tenant, console.store, console.clock.today(), search, number)
    return console.render(
        request,
        "customers.html",
        tenant=tenant,
        rows=rows,
        total=total,
        search=search,
        page=number,
        pages=max(1, math.ceil(total / pages.PAGE_SIZE)),
    )


@page()
async def customer(console: Console, request: Request) -> Response:
    tenant = console.tenant(request)
    if tenant is None:
        return console.render(request, "error.html", 404, message="No such tenant.")
    view = pages.customer_view(
        tenant, console.store, console.clock.today(), request.path_params["customer"]
    )
    if view is None:
        return console.render(request, "error.html", 404, message="No such customer.")
    return console.render(
        request, "customer.html", tenant=tenant, view=view, kinds=[k.value for k in NoteKind]
    )


@page()
async def invoice(console: Console, request: Request) -> Response:
    tenant = console.tenant(request)
    if tenant is None:
        return console.render(request, "error.html", 404, message="No such tenant.")
    view = pages.invoice_view(
        tenant, console.store, console.clock.today(), request.path_params["invoice"]
    )
    if view is None:
        return console.render(request, "error.html", 404, message="No such invoice.")
    return console.render(request, "invoice.html", tenant=tenant, view=view)


@page("approver")
async def add_note(console: Console, request: Request) -> Response:
    tenant = console.tenant(request)
    form = request.state.form
    customer_id = request.path_params["customer"]
    if tenant is None or console.store.customer(tenant.name, customer_id) is None:
        return console.render(request, "error.html", 404, message="No such customer.")
    invoice_id = str(form.get("invoice", "")) or None
    if invoice_id is not None and console.store.invoice(tenant.name, invoice_id) is None:
        return console.render(request, "error.html", 400, message="No such invoice.")
    text = str(form.get("text", "")).strip()[:2000]
    try:
        kind = NoteKind(str(form.get("kind", "contact")))
        until_text = str(form.get("until", "")).strip()
        until = date.fromisoformat(until_text) if until_text else None
    except ValueError:
        return console.render(request, "error.html", 400, message="Not a date (YYYY-MM-DD).")
    now = console.clock.now()
    if kind in (NoteKind.PROMISE, NoteKind.PAYMENT_PLAN, NoteKind.DO_NOT_REMIND) and until is None:
        return console.render(request, "error.html", 400, message="This note needs a date.")
    if not text:
        text = kind.value.replace("_", " ")
    store = console.store
    if form.get("resolve"):
        store.resolve_notes(
            tenant.name,
            invoice_id=invoice_id,
            customer_id=customer_id if invoice_id is None else None,
            at=now,
        )
    store.ensure_tenant(tenant.name, tenant.provider, tenant.country)
    store.add_note(
        Note(
            tenant=tenant.name,
            invoice_id=invoice_id,
            customer_id=None if invoice_id else customer_id,
            kind=kind,
            text=text,
            author=request.state.user.name,
            created_at=now,
            until=until if kind is not NoteKind.CONTACT and kind is not NoteKind.DISPUTE else None,
        )
    )
    back = str(form.get("back", "")) or f"/t/{tenant.name}/customers/{customer_id}"
    return RedirectResponse(_local(back), status_code=303)


@page()
async def quality(console: Console, request: Request) -> Response:
    groups = [(t, pages.quality(t, console.store)) for t in console.selected(request)]
    return console.render(request, "quality.html", groups=groups)


@page()
async def holds(console: Console, request: Request) -> Response:
    today = console.clock.today()
    rows = [
        h for t in console.selected(request) for h in pages.credit_holds(t, console.store, today)
    ]
    number, size = _page_number(request), pages.PAGE_SIZE
    return console.render(
        request,
        "holds.html",
        rows=pages.named_holds(console.store, rows[(number - 1) * size : number * size]),
        total=len(rows),
        page=number,
        pages=max(1, math.ceil(len(rows) / size)),
        chosen=console.tenant(request),
    )


@page()
async def holds_csv(console: Console, request: Request) -> Response:
    today = console.clock.today()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["tenant", "customer_id", "customer_number", "customer_name", "reasons"])
    for t in console.selected(request):
        for h in pages.named_holds(console.store, pages.credit_holds(t, console.store, today)):
            writer.writerow(
                [
                    _cell(x)
                    for x in (h.tenant, h.customer_id, h.number or "", h.name, "; ".join(h.reasons))
                ]
            )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="credit-hold.csv"'},
    )


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    value = mask_person_numbers(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@page()
async def actions(console: Console, request: Request) -> Response:
    state = request.query_params.get("state") or None
    if state not in (None, "done", "pending", "failed", "skipped"):
        state = None
    number = _page_number(request)
    groups = []
    for t in console.selected(request):
        total, rows = console.store.action_rows(
            t.name, state, (number - 1) * pages.PAGE_SIZE, pages.PAGE_SIZE
        )
        groups.append((t, total, rows, console.store.decision_log(t.name, 50)))
    return console.render(
        request, "actions.html", groups=groups, state=state, page=number, size=pages.PAGE_SIZE
    )


@page("approver")
async def actions_retry(console: Console, request: Request) -> Response:
    """Re-arm failed actions after a fix (as `kravsync actions retry`): the next cycle looks
    for each at the provider, re-reads the invoice and decides again before anything goes."""
    tenant = _form_tenant(console, request)
    if tenant is None:
        return console.render(request, "error.html", 400, message="No such tenant.")
    keys = [str(k) for k in request.state.form.getlist("key")]
    moved = console.store.journal_rearm(tenant.name, keys or None)
    log.info(
        "%s: %s re-armed %d failed action(s)", tenant.name, request.state.user.name, len(moved)
    )
    return RedirectResponse(f"/actions?tenant={tenant.name}&state=pending", status_code=303)


ROUTES: list[tuple[str, Handler, list[str]]] = [
    ("/login", login_form, ["GET"]),
    ("/logout", logout, ["POST"]),
    ("/me/language", language, ["POST"]),
    ("/", overview, ["GET"]),
    ("/t/{tenant}", overview, ["GET"]),
    ("/queue", queue, ["GET"]),
    ("/queue/decide", queue_decide, ["POST"]),
    ("/queue/send", queue_send, ["POST"]),
    ("/customers", customers, ["GET"]),
    ("/t/{tenant}/customers/{customer}", customer, ["GET"]),
    ("/t/{tenant}/customers/{customer}/notes", add_note, ["POST"]),
    ("/t/{tenant}/invoices/{invoice}", invoice, ["GET"]),
    ("/quality", quality, ["GET"]),
    ("/holds", holds, ["GET"]),
    ("/holds.csv", holds_csv, ["GET"]),
    ("/actions", actions, ["GET"]),
    ("/actions/retry", actions_retry, ["POST"]),
]


def build_app(console: Console) -> Starlette:
    def bind(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            response = await handler(console, request)
            response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers["Cache-Control"] = "no-store"
            return response

        return endpoint

    routes = [Route(p, bind(h), methods=m) for p, h, m in ROUTES]
    routes.append(Route("/login", bind(login), methods=["POST"]))
    app = Starlette(routes=routes)
    app.state.console = console
    return app
