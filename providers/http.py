"""Transport shared by every provider: session, rate limiter, the one retry rule, paging, errors.

A provider declares its base URL, auth, limiter and paginator; everything here is written once.
The retry rule (DESIGN.md §7): connection errors, timeouts, 429 and 5xx — and a body that does not
parse — are retried with exponential backoff and jitter, honouring ``Retry-After``; other 4xx never
are. A 401 gets exactly one more try after the auth object refreshed its token.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from connector.clock import host_time

log = logging.getLogger("kravsync.http")

T = TypeVar("T")

BODY_EXCERPT = 300
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
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.body = redact(body)[:BODY_EXCERPT] if body else None
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


class Auth(Protocol):
    """How a provider authenticates a request; refresh() is asked once after a 401."""

    def headers(self) -> dict[str, str]: ...

    def refresh(self) -> bool: ...


class NoAuth:
    def headers(self) -> dict[str, str]:
        return {}

    def refresh(self) -> bool:
        return False


class RateLimiter:
    """At most ``max_calls`` request starts per sliding ``period`` and ``max_concurrent`` in flight.

    Shared by all threads using one tenant's client. ``margin`` widens the window a little so
    that network jitter between our clock and the server's arrival times never tips a compliant
    client over the server's limit.
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
            yield
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
    """Parse JSON with decimals kept exact (never via float)."""
    return json.loads(response.content.decode(response.encoding or "utf-8"), parse_float=Decimal)


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
        self.request_id_header = request_id_header
        self.session = session or requests.Session()
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
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    raise self._error(
                        ProtocolError, response, f"malformed response: {exc}"
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
            with self.limiter.slot() if self.limiter is not None else nullcontext():
                with self._count_lock:
                    self.requests_sent += 1
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_payload,
                    data=data,
                    files=files,
                    headers=all_headers,
                    timeout=self.timeout,
                )
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


def iter_pages(
    client: HttpClient,
    path: str,
    params: Mapping[str, Any],
    paginator: Paginator,
) -> Iterator[list[dict[str, Any]]]:
    """Yield each page's rows, checking that no page is short and the total is what was promised.

    A skipped or short page is an error (ProtocolError), not silent data loss; the caller's cursor
    must not move when this raises.
    """
    page = paginator.first_page
    received = 0
    announced: int | None = None
    while True:
        query = {**params, **paginator.params(page)}
        result = client.call("GET", path, paginator.parse, params=query)
        last_page = paginator.first_page + max(result.total_pages, 1) - 1
        if result.total_rows is not None:
            announced = result.total_rows
        if page < last_page and len(result.rows) != paginator.page_size:
            raise ProtocolError(
                client.provider,
                f"page {page} of {result.total_pages} has {len(result.rows)} rows, "
                f"expected {paginator.page_size}",
                path=path,
                method="GET",
            )
        received += len(result.rows)
        if result.rows:
            yield result.rows
        if page >= last_page:
            break
        page += 1
    if announced is not None and received != announced:
        raise ProtocolError(
            client.provider,
            f"received {received} rows, provider announced {announced}",
            path=path,
            method="GET",
        )
