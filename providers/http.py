"""Transport shared by every provider: session, rate limiter, the one retry rule, paging, errors.

A provider declares its base URL, auth, limiter and paginator; everything here is written once.
The retry rule (DESIGN.md §7): connection errors, timeouts, 429 and 5xx — and a body that does not
parse — are retried with exponential backoff and jitter, honouring ``Retry-After``; other 4xx never
are. A 401 gets exactly one more try after the auth object refreshed its token.

Hostile servers: every request has a total deadline (connect, headers and body together; a
server dripping a byte every few seconds is cut off when it passes), redirects are followed only
within the same origin (scheme, host and port) and only for reads, and paging is checked for
loops (a page repeating an earlier one, more pages than the announced total allows, counts that
change mid-pull). Error messages never carry a secret: every registered secret is scrubbed by
value (``connector.scrub``).
"""

from __future__ import annotations

import email.utils
import hashlib
import heapq
import itertools
import json
import logging
import math
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from connector.clock import host_time
from connector.scrub import scrub

log = logging.getLogger("kravsync.http")

T = TypeVar("T")

BODY_EXCERPT = 300
DEADLINE = 60.0  # seconds for one request: connect, headers and body together
MAX_REDIRECTS = 5
MAX_PAGES = 100_000  # more pages than this in one listing is not an SMB's ledger
_SECRET_JSON = re.compile(
    r'("(?:access_token|refresh_token|id_token|client_secret|password)"\s*:\s*")[^"]*(")',
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """Blank out token-like values in a body before it goes into an error or a log."""
    return _SECRET_JSON.sub(r"\1***\2", text)


class ProviderError(Exception):
    """A failed provider call, carrying the wire facts and never a secret."""

    retryable = False

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        body: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.provider = provider
        self.message = scrub(message)
        self.status = status
        self.method = method
        self.path = scrub(path) if path else path
        self.body = scrub(redact(body))[:BODY_EXCERPT] if body else None
        self.request_id = request_id
        self.retry_after = retry_after
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = [f"{self.provider}:"]
        if self.method and self.path:
            parts.append(f"{self.method} {self.path}")
        if self.status is not None:
            parts.append(f"-> HTTP {self.status}:")
        parts.append(self.message)
        if self.body and self.body not in self.message:
            parts.append(f"[body: {' '.join(self.body.split())}]")
        if self.request_id:
            parts.append(f"(request id {self.request_id})")
        return " ".join(parts)


class AuthError(ProviderError):
    """Credentials missing, expired, revoked or wrong: the user must run `kravsync auth`."""


class RateLimitedError(ProviderError):
    retryable = True


class ServerError(ProviderError):
    retryable = True


class TransportError(ProviderError):
    retryable = True


class ProtocolError(ProviderError):
    """The provider answered, but not in the shape its API promises (malformed page, counts)."""

    retryable = True


class ClientError(ProviderError):
    """A 4xx other than 401/429: our request was wrong or refused; never retried."""


class RedirectRefused(ProviderError):
    """A redirect to another origin (or of a write): never followed, never retried."""


# ---------------------------------------------------------------------------------------------
# The total deadline of one request


class DeadlineExceeded(requests.Timeout):
    """The whole request (connect, headers, body) took longer than its deadline."""


_watching = threading.local()


class _Watch:
    """Cuts the connections a request uses when its deadline passes: the watchdog thread shuts
    their sockets down, which ends any read blocked on them."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.due = time.monotonic() + seconds
        self.expired = False
        self.finished = False
        self._conns: list[Any] = []
        self._lock = threading.Lock()

    def attach(self, conn: Any) -> None:
        with self._lock:
            self._conns.append(conn)
            if self.expired:
                _cut(conn)

    def check(self, conn: Any) -> None:
        if self.expired:
            _cut(conn)

    def expire(self) -> None:
        with self._lock:
            if self.finished:
                return
            self.expired = True
            for conn in self._conns:
                _cut(conn)

    def __enter__(self) -> _Watch:
        self._previous = getattr(_watching, "watch", None)
        _watching.watch = self
        _WATCHDOG.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.finished = True
        _watching.watch = self._previous


class _Watchdog:
    """One thread for every request's deadline (no thread per request): a heap of watches by
    due time; finished ones are dropped as they come up."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, watch: _Watch) -> None:
        with self._cond:
            heapq.heappush(self._heap, (watch.due, next(self._order), watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="kravsync-deadlines", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                due, _, watch = self._heap[0]
                if watch.finished:
                    heapq.heappop(self._heap)
                    continue
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            watch.expire()


_WATCHDOG = _Watchdog()


def _cut(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _Watched:
    """Connection mix-in: joins the deadline watch of the request in this thread."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        watch = getattr(_watching, "watch", None)
        if watch is not None:
            watch.attach(self)
        return super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        watch = getattr(_watching, "watch", None)
        if watch is not None:
            watch.check(self)  # expired while connecting: do not start reading
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with connections that honour the request's total deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def new_session() -> requests.Session:
    """A requests session whose requests can be held to a total deadline
    (:func:`guarded_request`)."""
    session = requests.Session()
    mount_deadline_adapter(session)
    return session


def mount_deadline_adapter(session: requests.Session) -> None:
    adapter = DeadlineAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)


def guarded_request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    deadline: float = DEADLINE,
    **kwargs: Any,
) -> requests.Response:
    """``session.request`` with redirects off and a total ``deadline`` in seconds (raises
    :class:`DeadlineExceeded`, a ``requests.Timeout``, when it passes)."""
    kwargs.setdefault("allow_redirects", False)
    with _Watch(deadline) as watch:
        try:
            response = session.request(method, url, **kwargs)
        except requests.RequestException:
            if watch.expired:
                raise DeadlineExceeded(f"no complete answer within {deadline:g} s") from None
            raise
    if watch.expired:  # the cut landed as the body ended: the answer may be cut short
        raise DeadlineExceeded(f"no complete answer within {deadline:g} s")
    return response


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``, lower-cased, with the scheme's default port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


class Auth(Protocol):
    """How a provider authenticates a request; refresh() is asked once after a 401."""

    def headers(self) -> dict[str, str]: ...

    def refresh(self) -> bool: ...


class NoAuth:
    def headers(self) -> dict[str, str]:
        return {}

    def refresh(self) -> bool:
        return False


class RateBudget(Protocol):
    """A request budget shared beyond this process: every process whose requests count against
    the same provider credential. The domain injects one (``connector/budget.py`` keeps it in
    the state store); the provider only asks it.

    ``acquire`` blocks until one more request may start without more than ``max_calls`` starts
    in any ``period`` seconds or ``max_concurrent`` in flight, across every process, and returns
    a token for ``release`` once the request is over."""

    def acquire(self, max_calls: int, period: float, max_concurrent: int | None) -> object: ...

    def release(self, token: object) -> None: ...


class RateLimiter:
    """At most ``max_calls`` request starts per sliding ``period`` and ``max_concurrent`` in flight.

    Shared by all threads using one tenant's client. ``margin`` widens the window a little so
    that network jitter between our clock and the server's arrival times never tips a compliant
    client over the server's limit. With a ``budget`` (:class:`RateBudget`) the same limits hold
    across every process that shares the credential, too.
    """

    def __init__(
        self,
        max_calls: int,
        period: float,
        *,
        max_concurrent: int | None = None,
        margin: float = 0.03,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_calls < 1 or period <= 0:
            raise ValueError("rate limit needs max_calls >= 1 and period > 0")
        self.max_calls = max_calls
        self.period = period * (1 + margin)
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_concurrent) if max_concurrent else None
        self._clock = clock
        self._sleep = sleep
        self.max_concurrent = max_concurrent
        self.budget: RateBudget | None = None

    def _wait_for_window(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                while self._starts and now - self._starts[0] >= self.period:
                    self._starts.popleft()
                if len(self._starts) < self.max_calls:
                    self._starts.append(now)
                    return
                delay = self.period - (now - self._starts[0])
            self._sleep(max(delay, 0.001))

    @contextmanager
    def slot(self) -> Iterator[None]:
        if self._slots is not None:
            self._slots.acquire()
        try:
            self._wait_for_window()
            budget = self.budget
            token = (
                budget.acquire(self.max_calls, self.period, self.max_concurrent)
                if budget is not None
                else None
            )
            try:
                yield
            finally:
                if budget is not None:
                    budget.release(token)
        finally:
            if self._slots is not None:
                self._slots.release()


def parse_retry_after(value: str | None, now: Callable[[], datetime] | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now() if now else datetime.fromtimestamp(host_time(), UTC)
    return max((when - current).total_seconds(), 0.0)


def json_body(response: requests.Response) -> Any:
    """Parse JSON with decimals kept exact (never via float). JSON nested deeper than Python
    can follow is a ValueError like any other unparsable body, never a RecursionError."""
    try:
        return json.loads(
            response.content.decode(response.encoding or "utf-8"), parse_float=Decimal
        )
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    except LookupError:  # an unknown charset in Content-Type
        raise ValueError(f"unknown text encoding {response.encoding!r}") from None


@dataclass(frozen=True)
class RetryPolicy:
    max_tries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0

    def wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ProviderError) and exc.retry_after is not None:
            return min(exc.retry_after, self.backoff_max)
        return float(
            wait_random_exponential(multiplier=self.backoff_base, max=self.backoff_max)(state)
        )


SINGLE_TRY = RetryPolicy(max_tries=1)


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.retryable


class HttpClient:
    """One tenant's session against one provider: limiter, retry rule, auth and error mapping."""

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        auth: Auth | None = None,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        deadline: float = DEADLINE,
        request_id_header: str | None = "X-Request-ID",
        session: requests.Session | None = None,
        error_message: Callable[[requests.Response], str | None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.auth: Auth = auth or NoAuth()
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.deadline = deadline
        self.request_id_header = request_id_header
        self.session = session or new_session()
        if session is not None:
            mount_deadline_adapter(self.session)
        self.session.headers["User-Agent"] = "kravsync/0.1 (+https://github.com/kravsync)"
        self.session.headers["Accept"] = "application/json"
        self._error_message = error_message
        self._sleep = sleep
        self.requests_sent = 0
        self.rate_limited = 0
        self._count_lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"

    def call(
        self,
        method: str,
        path: str,
        parse: Callable[[requests.Response], T],
        *,
        params: Mapping[str, Any] | None = None,
        json_payload: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> T:
        """Send one request under the retry rule; ``parse`` runs inside it, so a body that does
        not parse is retried like a 5xx. ``retry`` overrides the client's policy for this call
        (e.g. ``SINGLE_TRY`` for a write whose evidence the caller checks before repeating it)."""
        policy = retry or self.retry
        retrying = Retrying(
            stop=stop_after_attempt(policy.max_tries),
            retry=retry_if_exception(_is_retryable),
            wait=policy.wait,
            sleep=self._sleep,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                response = self._send_with_auth(
                    method, path, params, json_payload, data, files, headers
                )
                try:
                    return parse(response)
                except ProviderError:
                    raise
                except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError) as exc:
                    raise self._error(
                        ProtocolError, response, f"malformed response: {_short(exc)}"
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.call(method, path, lambda r: r, **kwargs)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.call("GET", path, json_body, params=params)

    def _send_with_auth(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_payload: Any,
        data: Any,
        files: Any,
        headers: Mapping[str, str] | None,
    ) -> requests.Response:
        response = self._send(method, path, params, json_payload, data, files, headers)
        if response.status_code == 401 and self.auth.refresh():
            response = self._send(method, path, params, json_payload, data, files, headers)
        self._raise_for_status(response)
        return response

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_payload: Any,
        data: Any,
        files: Any,
        headers: Mapping[str, str] | None,
    ) -> requests.Response:
        all_headers = dict(self.auth.headers())
        request_id = None
        if self.request_id_header:
            request_id = str(uuid.uuid4())
            all_headers[self.request_id_header] = request_id
        if headers:
            all_headers.update(headers)
        url = self.url(path)
        started = time.monotonic()
        try:
            for hop in range(MAX_REDIRECTS + 1):
                with self.limiter.slot() if self.limiter is not None else nullcontext():
                    with self._count_lock:
                        self.requests_sent += 1
                    response = guarded_request(
                        self.session,
                        method,
                        url,
                        deadline=self.deadline,
                        params=params,
                        json=json_payload,
                        data=data,
                        files=files,
                        headers=all_headers,
                        timeout=self.timeout,
                    )
                if not response.is_redirect:
                    break
                url, params = self._redirect_target(method, url, response, hop), None
        except DeadlineExceeded:
            raise TransportError(
                self.provider,
                f"timed out: no complete answer within the {self.deadline:g} s deadline",
                method=method,
                path=_path_of(url),
                request_id=request_id,
            ) from None
        except requests.Timeout as exc:
            raise TransportError(
                self.provider,
                f"timed out: {type(exc).__name__}",
                method=method,
                path=_path_of(url),
                request_id=request_id,
            ) from None
        except requests.ConnectionError as exc:
            raise TransportError(
                self.provider,
                f"connection failed: {_short(exc)}",
                method=method,
                path=_path_of(url),
                request_id=request_id,
            ) from None
        log.debug(
            "%s %s %s -> %s in %.0f ms",
            self.provider,
            method,
            _path_of(url),
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response

    def _redirect_target(
        self, method: str, url: str, response: requests.Response, hop: int
    ) -> str:
        """Where a redirect leads, if kravsync may follow it: a read, within the same origin
        (scheme, host and port), at most MAX_REDIRECTS times; otherwise RedirectRefused."""
        target = urljoin(url, response.headers.get("Location", ""))

        def refused(reason: str) -> RedirectRefused:
            return RedirectRefused(
                self.provider,
                reason,
                method=method,
                path=_path_of(url),
                status=response.status_code,
            )

        if origin(target) != origin(url):
            scheme, host, port = origin(target)
            raise refused(f"redirected to another origin ({scheme}://{host}:{port}); not followed")
        if method.upper() not in ("GET", "HEAD"):
            raise refused(f"a {method} was redirected to {_path_of(target)}; not followed")
        if hop >= MAX_REDIRECTS:
            raise refused(f"more than {MAX_REDIRECTS} redirects; not followed")
        return target

    def _raise_for_status(self, response: requests.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        if status == 401 or status == 403:
            raise self._error(AuthError, response, "not authorised")
        if status == 429:
            with self._count_lock:
                self.rate_limited += 1
            raise self._error(RateLimitedError, response, "rate limited")
        if status >= 500:
            raise self._error(ServerError, response, "server error")
        raise self._error(ClientError, response, "request refused")

    def _error(
        self, cls: type[ProviderError], response: requests.Response, what: str
    ) -> ProviderError:
        message = what
        if self._error_message is not None:
            try:
                detail = self._error_message(response)
            except Exception:  # noqa: BLE001 - an unparsable error body must not hide the error
                detail = None
            if detail:
                message = f"{what}: {redact(detail)}"
        request_id = None
        if self.request_id_header:
            request_id = response.headers.get(
                self.request_id_header
            ) or response.request.headers.get(self.request_id_header)
        return cls(
            self.provider,
            message,
            status=response.status_code,
            method=response.request.method,
            path=_path_of(response.request.url or ""),
            body=response.text,
            request_id=request_id,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )


def _path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:157] + "..."


# ---------------------------------------------------------------------------------------------
# Paging


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    total_pages: int
    total_rows: int | None


class Paginator(Protocol):
    """A provider's paging declaration: where pages start, how to ask, how to read the counts."""

    first_page: int
    page_size: int

    def params(self, page: int) -> dict[str, Any]: ...

    def parse(self, response: requests.Response) -> Page: ...


# Told about every page ``iter_pages`` receives in this thread: (rows, the total the provider
# announced on its first page, else None); the sync's progress display listens here.
PageListener = Callable[[int, int | None], None]
page_listener: ContextVar[PageListener | None] = ContextVar("page_listener", default=None)


def iter_pages(
    client: HttpClient,
    path: str,
    params: Mapping[str, Any],
    paginator: Paginator,
) -> Iterator[list[dict[str, Any]]]:
    """Yield each page's rows, checking that no page is short and the total is what was promised.

    A skipped or short page is an error (ProtocolError), not silent data loss; so is a paging
    loop: a page that repeats an earlier page, more pages than the announced row count allows
    (or than :data:`MAX_PAGES`), a page count that changes mid-pull, or more rows than were
    announced. The caller's cursor must not move when this raises.
    """

    def broken(message: str) -> ProtocolError:
        return ProtocolError(client.provider, message, path=path, method="GET")

    page = paginator.first_page
    received = 0
    announced: int | None = None
    pages: int | None = None
    digests: dict[str, int] = {}
    while True:
        query = {**params, **paginator.params(page)}
        result = client.call("GET", path, paginator.parse, params=query)
        if pages is None:
            pages = max(result.total_pages, 1)
            announced = result.total_rows
            _check_totals(broken, pages, announced, paginator.page_size)
        elif max(result.total_pages, 1) != pages:
            raise broken(
                f"page {page} announces {result.total_pages} pages, the first page {pages}: "
                "the listing changed while it was read"
            )
        last_page = paginator.first_page + pages - 1
        if len(result.rows) > paginator.page_size:
            raise broken(
                f"page {page} has {len(result.rows)} rows, more than the page size "
                f"{paginator.page_size}"
            )
        if page < last_page and len(result.rows) != paginator.page_size:
            raise broken(
                f"page {page} of {result.total_pages} has {len(result.rows)} rows, "
                f"expected {paginator.page_size}"
            )
        if result.rows:
            digest = _digest(result.rows)
            if digest is None:
                raise broken(f"page {page} is nested too deep to compare")
            if digest in digests:
                raise broken(f"page {page} repeats page {digests[digest]}: a paging loop")
            digests[digest] = page
        received += len(result.rows)
        if announced is not None and received > announced:
            raise broken(f"received {received} rows by page {page}, provider announced {announced}")
        listener = page_listener.get()
        if listener is not None:
            listener(len(result.rows), announced if page == paginator.first_page else None)
        if result.rows:
            yield result.rows
        if page >= last_page:
            break
        page += 1
    if announced is not None and received != announced:
        raise broken(f"received {received} rows, provider announced {announced}")


def _check_totals(
    broken: Callable[[str], ProtocolError], pages: int, rows: int | None, page_size: int
) -> None:
    if pages > MAX_PAGES:
        raise broken(f"announces {pages} pages, more than kravsync reads in one listing ({MAX_PAGES})")
    if rows is None:
        return
    if rows < 0:
        raise broken(f"announces {rows} rows")
    allowed = max(1, math.ceil(rows / page_size))
    if pages > allowed:
        raise broken(
            f"announces {pages} pages for {rows} rows: at most {allowed} pages of {page_size}"
        )


def _digest(rows: list[Any]) -> str | None:
    try:
        text = json.dumps(rows, sort_keys=True, default=str, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError):
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
