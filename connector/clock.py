"""The one clock seam: every "now" and "today" in kravsync comes from a :class:`Clock`.

- Production reads the host's clock (:meth:`Clock.system`).
- ``--today D`` moves that clock by whole days, so the whole command (plan, notes, cursors,
  journal) agrees that it is D; it keeps ticking.
- Tests pass their own (:meth:`Clock.starting_at`), and hand the same one to the sandboxes, so
  the sandbox's change stamps, the sync cursor, notes and the journal all agree.
- A process started by a test reads ``KRAVSYNC_CLOCK_START`` (an ISO timestamp with an offset):
  its clock starts there and ticks (:meth:`Clock.from_environment`).
- With ``KRAVSYNC_CLOCK_GUARD`` set (the test suite sets it), reading the real date through a
  clock raises :class:`RealClockRead`, so a test that forgot to inject one fails.

"Today" is the date in Norway and Sweden (Europe/Oslo; Stockholm keeps the same time), whatever
the host's own zone: an invoice is overdue on the Nordic calendar, not the server's.

Host time (:func:`host_time`) is separate on purpose: leases, locks, token expiry and
``Retry-After`` dates are agreements with other processes and servers, so they use the host's
epoch seconds and are never moved by ``--today``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

NORDIC: tzinfo = ZoneInfo("Europe/Oslo")
START_ENV = "KRAVSYNC_CLOCK_START"
GUARD_ENV = "KRAVSYNC_CLOCK_GUARD"


class RealClockRead(RuntimeError):
    """The real date was read while the clock guard is on (a test forgot to inject a clock)."""


class ClockSettingError(ValueError):
    """``KRAVSYNC_CLOCK_START`` is not an ISO timestamp with a UTC offset."""


def host_time() -> float:
    """Seconds since the epoch on this host: for deadlines shared with other processes or
    servers (leases, locks, token expiry). Never shifted by ``--today``."""
    return time.time()


def _real_now() -> datetime:
    if os.environ.get(GUARD_ENV):
        raise RealClockRead(
            "the real date was read while KRAVSYNC_CLOCK_GUARD is set: pass a Clock "
            f"(Clock.starting_at) or set {START_ENV} for a subprocess"
        )
    return datetime.now(UTC)


def _ticking_from(start: datetime) -> Callable[[], datetime]:
    """A source that starts at ``start`` and advances with the monotonic clock."""
    if start.tzinfo is None:
        raise ValueError("a clock starts at a timezone-aware instant")
    origin = time.monotonic()
    start = start.astimezone(UTC)
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


class Clock:
    """Business time: what "now" and "today" mean for this command."""

    def __init__(
        self, source: Callable[[], datetime] = _real_now, offset: timedelta = timedelta(0)
    ) -> None:
        self._source = source
        self._offset = offset

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def system(cls) -> Clock:
        return cls()

    @classmethod
    def starting_at(cls, start: datetime | date) -> Clock:
        """A ticking clock that starts at ``start`` (a date means noon, Nordic time, that day).
        It never reads the real date: what tests and sandboxes use."""
        if not isinstance(start, datetime):
            start = datetime(start.year, start.month, start.day, 12, tzinfo=NORDIC)
        return cls(_ticking_from(start))

    @classmethod
    def from_environment(cls) -> Clock:
        """The host's clock, or one starting at ``$KRAVSYNC_CLOCK_START`` when that is set."""
        value = os.environ.get(START_ENV, "").strip()
        if not value:
            return cls.system()
        try:
            start = datetime.fromisoformat(value)
        except ValueError:
            raise ClockSettingError(
                f"{START_ENV}: not an ISO timestamp: {value!r}"
            ) from None
        if start.tzinfo is None:
            raise ClockSettingError(f"{START_ENV}: give a UTC offset, e.g. {value}+01:00")
        return cls.starting_at(start)

    def on(self, day: date) -> Clock:
        """This clock moved by whole days so that :meth:`today` is ``day`` (``--today``)."""
        return Clock(self._source, self._offset + timedelta(days=(day - self.today()).days))

    # -- reading --------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        return self._source() + self._offset

    def today(self) -> date:
        """Today's date in Norway and Sweden."""
        return self.now().astimezone(NORDIC).date()

    def environment(self) -> dict[str, str]:
        """Environment variables that start a child process's clock where this one is now."""
        return {START_ENV: self.now().isoformat()}

    def advance(self, delta: timedelta) -> None:
        """Move this clock (tests: "two weeks later")."""
        self._offset += delta

    def __repr__(self) -> str:
        return f"Clock(offset={self._offset})"
