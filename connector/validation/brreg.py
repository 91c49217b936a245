"""Brønnøysund Enhetsregisteret: is a Norwegian org number a live legal entity?

``GET {base}/enheter/{orgnr}``: 200 with flags (``konkurs``, ``underAvvikling``,
``underTvangsavviklingEllerTvangsopplosning``, ``slettedato``), 404 unknown, 410 removed. The
client is polite (sequential, at most ``rate`` requests per second), cached (the lead persists
the cache through :class:`RegistryCache`), and never blocks a sync: a connection error, timeout
or 5xx gives :attr:`RegistryState.UNKNOWN`, and after one such failure the client stops calling
for ``cooldown`` so that a dead register costs one timeout per run, not one per customer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import requests

BRREG_URL = "https://data.brreg.no/enhetsregisteret/api"
UNREACHABLE_NOTE = "Brønnøysund register unreachable: {n} org number(s) not checked"

Payload = dict[str, Any]


class RegistryState(StrEnum):
    ACTIVE = "active"
    NOT_FOUND = "not_found"  # 404
    DELETED = "deleted"  # 410, or slettedato set
    UNKNOWN = "unknown"  # register unreachable: nothing is known


@dataclass(frozen=True, slots=True)
class RegistryResult:
    orgnr: str
    state: RegistryState
    name: str | None = None
    bankrupt: bool = False
    dissolving: bool = False  # underAvvikling or underTvangsavviklingEllerTvangsopplosning
    deleted_on: date | None = None
    fetched_at: datetime | None = None

    @classmethod
    def from_response(
        cls, orgnr: str, value: Payload | int, fetched_at: datetime | None = None
    ) -> RegistryResult:
        """From a 200 body (a dict) or a status code (404, 410)."""
        if isinstance(value, int):
            state = {404: RegistryState.NOT_FOUND, 410: RegistryState.DELETED}.get(
                value, RegistryState.UNKNOWN
            )
            return cls(orgnr, state, fetched_at=fetched_at)
        deleted_on = _date(value.get("slettedato"))
        return cls(
            orgnr=orgnr,
            state=RegistryState.DELETED if deleted_on else RegistryState.ACTIVE,
            name=value.get("navn"),
            bankrupt=bool(value.get("konkurs")),
            dissolving=bool(
                value.get("underAvvikling")
                or value.get("underTvangsavviklingEllerTvangsopplosning")
            ),
            deleted_on=deleted_on,
            fetched_at=fetched_at,
        )


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


class RegistryLookup(Protocol):
    """What validation needs: one org number in, what the register says out."""

    def lookup(self, orgnr: str) -> RegistryResult: ...


class RegistryCache(Protocol):
    """Where answers are kept between runs (the store, in production).

    ``value`` is the 200 body (a JSON object) or the status code 404/410; unknowns are never put.
    """

    def get(self, orgnr: str) -> tuple[datetime, Payload | int] | None: ...

    def put(self, orgnr: str, fetched_at: datetime, value: Payload | int) -> None: ...


class InMemoryRegistryCache:
    def __init__(self) -> None:
        self._data: dict[str, tuple[datetime, Payload | int]] = {}

    def get(self, orgnr: str) -> tuple[datetime, Payload | int] | None:
        return self._data.get(orgnr)

    def put(self, orgnr: str, fetched_at: datetime, value: Payload | int) -> None:
        self._data[orgnr] = (fetched_at, value)

    def __len__(self) -> int:
        return len(self._data)


class BrregClient:
    """A :class:`RegistryLookup` over HTTP with a cache, a TTL and a request-rate ceiling."""

    def __init__(
        self,
        base_url: str = BRREG_URL,
        *,
        cache: RegistryCache | None = None,
        ttl: timedelta = timedelta(days=7),
        rate: float = 5.0,
        timeout: float = 5.0,
        cooldown: timedelta = timedelta(minutes=5),
        session: requests.Session | None = None,
        now: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.cache: RegistryCache = cache if cache is not None else InMemoryRegistryCache()
        self.ttl = ttl
        self.min_interval = 1.0 / rate
        self.timeout = timeout
        self.cooldown = cooldown
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", "kravsync")
        self._now = now
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()  # sequential: one request at a time per client
        self._last_request: float | None = None
        self._down_until: datetime | None = None
        self.requests_made = 0

    def lookup(self, orgnr: str) -> RegistryResult:
        cached = self.cache.get(orgnr)
        if cached is not None and self._now() - cached[0] < self.ttl:
            return RegistryResult.from_response(orgnr, cached[1], cached[0])
        fetched = self._fetch(orgnr)
        if fetched is None:  # unreachable: a stale answer beats none
            if cached is not None:
                return RegistryResult.from_response(orgnr, cached[1], cached[0])
            return RegistryResult(orgnr, RegistryState.UNKNOWN)
        fetched_at, value = fetched
        if isinstance(value, dict) or value in (404, 410):
            self.cache.put(orgnr, fetched_at, value)
        return RegistryResult.from_response(orgnr, value, fetched_at)

    def _fetch(self, orgnr: str) -> tuple[datetime, Payload | int] | None:
        if self._down_until is not None and self._now() < self._down_until:
            return None
        with self._lock:
            self._pace()
            self.requests_made += 1
            try:
                response = self.session.get(
                    f"{self.base_url}/enheter/{orgnr}",
                    headers={"Accept": "application/json"},
                    timeout=self.timeout,
                    allow_redirects=False,  # an answer from elsewhere is no answer
                )
            except requests.RequestException:
                self._down_until = self._now() + self.cooldown
                return None
            finally:
                self._last_request = self._monotonic()
        if response.status_code >= 500 or response.status_code == 429:
            self._down_until = self._now() + self.cooldown
            return None
        if response.status_code == 200:
            try:
                body = response.json()
            except (ValueError, RecursionError):  # not JSON, or nested beyond parsing
                return None
            return (self._now(), body) if isinstance(body, dict) else None
        if response.status_code in (404, 410):
            return self._now(), response.status_code
        return None  # another 4xx (e.g. 400 malformed number): say nothing

    def _pace(self) -> None:
        if self._last_request is None:
            return
        wait = self.min_interval - (self._monotonic() - self._last_request)
        if wait > 0:
            self._sleep(wait)
