"""Per-tenant values worked out from the store (the review queue's plan, the collection trends),
kept until the store changes under them.

Working out the plan of 100 000 invoices takes seconds; a page must not. After a change (a
cycle, a note, a push), the last value is served at once, marked stale with the time it was
worked out, while a background thread works out the new one (one thread for every tenant and
kind, so pages compete with one piece of background work at a time); the page says so. Where
there is no value yet (the first look since the console started, or a new day, whose dates
differ), a page that can do without one asks :meth:`Refreshing.peek` and says the figures are
being worked out; what needs them (a decision on letters) waits in :meth:`Refreshing.get`.
``Console.warm`` starts every tenant's work when the console starts.

Serving a stale plan is safe: a person's decision records the fingerprint of the letter they
saw, and an approval whose facts changed is void at the push (``connector/cycle/approval.py``).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

from connector.clock import Clock
from connector.config import TenantConfig
from connector.store import Store

T = TypeVar("T")
log = logging.getLogger("kravsync.console")


class Background:
    """One daemon thread running the jobs given to it, the most urgent first (a stopping
    console does not wait for them). One thread, because pages run on the same interpreter:
    each piece of background work running beside a page slows it."""

    def __init__(self) -> None:
        self._jobs: queue.PriorityQueue[tuple[int, int, Callable[[], None]]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None], urgency: int = 0) -> None:
        """``urgency``: lower runs sooner (then in the order given)."""
        self._jobs.put((urgency, next(self._order), job))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="console-refresh", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._jobs.get()[2]()


@dataclass(frozen=True)
class _Entry(Generic[T]):
    generation: tuple[object, ...]
    today: date
    value: T
    made_at: datetime


@dataclass(frozen=True)
class Served(Generic[T]):
    """A value, and when it was worked out if the store has changed since (else None)."""

    value: T
    stale_since: datetime | None = None


@dataclass
class Refreshing(Generic[T]):
    compute: Callable[[TenantConfig, Store, date], T]
    clock: Clock
    background: Background = field(default_factory=lambda: Background())
    urgency: int = 0  # among the jobs of one Background: lower runs sooner
    _entries: dict[str, _Entry[T]] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=lambda: defaultdict(threading.Lock))
    _running: set[str] = field(default_factory=set)
    _failed: set[str] = field(default_factory=set)  # the last background attempt raised
    _idle: threading.Condition = field(default_factory=threading.Condition)

    def get(self, tenant: TenantConfig, store: Store, today: date) -> Served[T]:
        generation = store.plan_generation(tenant.name)
        entry = self._entries.get(tenant.name)
        if entry is not None and entry.today == today:
            if entry.generation == generation:
                return Served(entry.value)
            self._refresh_in_background(tenant, store, today)
            return Served(entry.value, stale_since=entry.made_at)
        with self._locks[tenant.name]:
            entry = self._entries.get(tenant.name)
            if entry is None or entry.today != today or entry.generation != generation:
                entry = self._work_out(tenant, store, today)
        return Served(entry.value)

    def peek(self, tenant: TenantConfig, store: Store, today: date) -> Served[T] | None:
        """As :meth:`get`, but where there is no value for today yet (the first look since the
        console started, or a new day) None, with the work started in the background: the
        page says so instead of waiting."""
        entry = self._entries.get(tenant.name)
        if (entry is None or entry.today != today) and tenant.name not in self._failed:
            self._refresh_in_background(tenant, store, today)
            return None
        return self.get(tenant, store, today)  # after a failed attempt: the page shows why

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """True once no background refresh runs (for tests and the benchmark)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._running, timeout)

    def _work_out(self, tenant: TenantConfig, store: Store, today: date) -> _Entry[T]:
        # the generation is read before the work: a change during it is seen next time
        generation = store.plan_generation(tenant.name)
        made_at = self.clock.now()
        entry = _Entry(generation, today, self.compute(tenant, store, today), made_at)
        self._entries[tenant.name] = entry
        return entry

    def _refresh_in_background(self, tenant: TenantConfig, store: Store, today: date) -> None:
        with self._idle:
            if tenant.name in self._running:
                return
            self._running.add(tenant.name)

        def run() -> None:
            try:
                with self._locks[tenant.name]:
                    self._work_out(tenant, store, today)
                self._failed.discard(tenant.name)
            except Exception:  # noqa: BLE001 - the stale value stays; the next look tries again
                log.exception("%s: could not work out the console's figures", tenant.name)
                self._failed.add(tenant.name)
            finally:
                with self._idle:
                    self._running.discard(tenant.name)
                    self._idle.notify_all()

        self.background.submit(run, self.urgency)


__all__ = ["Background", "Refreshing", "Served"]
