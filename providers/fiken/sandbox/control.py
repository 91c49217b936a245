"""The sandbox's control plane: rate limiting, counters, injected faults and request holds."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class RateLimiter:
    """Fiken's rules: one request in flight, about 4 per second.

    A request is refused (429) when ``max_concurrent`` requests are already in flight, or when
    ``max_per_second`` requests were *accepted* in the last second (a sliding window over arrival
    times). Refused requests are not counted in the window: a client that backs off after a 429
    is not punished for the refusals themselves, only for what it actually got served.
    """

    def __init__(
        self,
        max_per_second: float,
        max_concurrent: int,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_per_second = max_per_second
        self.max_concurrent = max_concurrent
        self.enabled = enabled
        self._clock = clock
        self._lock = threading.Lock()
        self._window: deque[float] = deque()
        self._in_flight = 0

    def try_acquire(self) -> str | None:
        """None when admitted (call :meth:`release` afterwards), else the reason for a 429."""
        with self._lock:
            if not self.enabled:
                self._in_flight += 1
                return None
            now = self._clock()
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if self._in_flight >= self.max_concurrent:
                return f"more than {self.max_concurrent} concurrent request(s)"
            if len(self._window) + 1 > self.max_per_second:
                return f"more than {self.max_per_second:g} requests per second"
            self._window.append(now)
            self._in_flight += 1
            return None

    def release(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def reset(self) -> None:
        with self._lock:
            self._window.clear()


class Stats:
    """Thread-safe counters; read them through :meth:`snapshot` or the properties."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests = 0
            self._rate_limited = 0
            self._injected = 0
            self._in_flight = 0
            self._max_concurrency = 0
            self._paths: Counter[str] = Counter()
            self._statuses: Counter[int] = Counter()

    def begin(self, path: str) -> None:
        with self._lock:
            self._requests += 1
            self._paths[path] += 1
            self._in_flight += 1
            self._max_concurrency = max(self._max_concurrency, self._in_flight)

    def end(self, status: int, injected: bool) -> None:
        with self._lock:
            self._in_flight -= 1
            self._statuses[status] += 1
            self._rate_limited += status == 429
            self._injected += injected

    @property
    def requests(self) -> int:
        return self._requests

    @property
    def rate_limited(self) -> int:
        """429s sent, whether from the limiter or injected."""
        return self._rate_limited

    @property
    def max_concurrency(self) -> int:
        """Most requests seen in flight at once (refused ones included)."""
        return self._max_concurrency

    @property
    def paths(self) -> dict[str, int]:
        with self._lock:
            return dict(self._paths)

    @property
    def statuses(self) -> dict[int, int]:
        with self._lock:
            return dict(self._statuses)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self._requests,
                "rate_limited": self._rate_limited,
                "injected": self._injected,
                "max_concurrency": self._max_concurrency,
                "in_flight": self._in_flight,
                "paths": dict(self._paths),
                "statuses": dict(self._statuses),
            }


@dataclass
class Fault:
    path_contains: str
    times: int
    status: int | None = None
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    malformed: bool = False
    drop_rows: bool = False
    processed: bool = False  # carry the request out, then answer ``status`` (a lost response)
    method: str | None = None  # only requests with this method match
    operation: str | None = None  # only requests routed to this operationId match


class FaultBook:
    """Injected faults, consumed first-in first-out by the requests they match."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.times < 1:
            raise ValueError("times must be >= 1")
        if fault.status is None and not (fault.malformed or fault.drop_rows):
            raise ValueError("a fault needs a status, malformed=True or drop_rows=True")
        if fault.processed and fault.status is None:
            raise ValueError("processed=True needs a status to answer instead")
        with self._lock:
            self._faults.append(fault)

    def take(
        self, target: str, method: str | None = None, operation: str | None = None
    ) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method is not None and fault.method != method:
                    continue
                if fault.operation is not None and fault.operation != operation:
                    continue
                if fault.path_contains in target:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> int:
        with self._lock:
            return sum(f.times for f in self._faults)


class Hold:
    """Parks requests whose target contains ``path_contains`` until :meth:`release`.

    Lets a test keep a request in flight deterministically (no sleeps): wait for
    :attr:`arrived`, do something concurrently, then release.
    """

    def __init__(self, path_contains: str, timeout: float = 10.0) -> None:
        self.path_contains = path_contains
        self.arrived = threading.Event()
        self._released = threading.Event()
        self._timeout = timeout

    def park(self) -> None:
        self.arrived.set()
        self._released.wait(self._timeout)

    def release(self) -> None:
        self._released.set()

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
