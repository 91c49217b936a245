"""Progress people can see: a bar per phase on a terminal, one log line per phase elsewhere.

A sync reports through :class:`Progress`: ``phase(name, total)`` opens a phase (lists, tier-1
details, backfill), the phase is advanced as rows or reads come in and closed with a summary.
On an interactive terminal that is a ``rich`` progress bar with counts and an ETA (on stderr);
for the daemon and pipes it is one log line per phase (``kravsync.progress``, INFO), so cron
and journald see no control characters.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from contextvars import Token
from typing import Protocol, TextIO

from providers.http import PageListener, page_listener

log = logging.getLogger("kravsync.progress")


class Phase(Protocol):
    def grow(self, n: int) -> None:
        """Raise the phase's total by ``n`` (a list announced its size)."""
        ...

    def advance(self, n: int = 1) -> None: ...

    def close(self, summary: str = "") -> None: ...


class Progress(Protocol):
    def phase(self, name: str, total: int | None = None, unit: str = "records") -> Phase: ...

    def finish(self) -> None:
        """No more phases: release the terminal."""
        ...


class _Counted:
    """What every phase keeps: counts and the start time (for the log line)."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def grow(self, n: int) -> None:
        with self._lock:
            self.total = (self.total or 0) + n

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.done += n

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


class LogPhase(_Counted):
    def __init__(self, tenant: str, name: str, total: int | None, unit: str) -> None:
        super().__init__(total)
        self.tenant, self.name, self.unit = tenant, name, unit

    def close(self, summary: str = "") -> None:
        of = f" of {self.total}" if self.total is not None and self.total != self.done else ""
        tail = f"; {summary}" if summary else ""
        log.info(
            "%s: %s: %d%s %s in %.1f s%s",
            self.tenant,
            self.name,
            self.done,
            of,
            self.unit,
            self.elapsed,
            tail,
        )


class LogProgress:
    """One INFO line per phase (the daemon, pipes, cron)."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant

    def phase(self, name: str, total: int | None = None, unit: str = "records") -> Phase:
        return LogPhase(self.tenant, name, total, unit)

    def finish(self) -> None:
        pass


class BarPhase(_Counted):
    def __init__(self, owner: TerminalProgress, task: int, total: int | None, log: LogPhase):
        super().__init__(total)
        self._owner, self._task, self._log = owner, task, log

    def grow(self, n: int) -> None:
        super().grow(n)
        self._log.grow(n)
        self._owner.bars.update(self._task, total=self.total)  # type: ignore[arg-type]

    def advance(self, n: int = 1) -> None:
        super().advance(n)
        self._log.advance(n)
        self._owner.bars.advance(self._task, n)  # type: ignore[arg-type]

    def close(self, summary: str = "") -> None:
        bars = self._owner.bars
        bars.update(self._task, total=self.done, completed=self.done)  # type: ignore[arg-type]
        if summary:
            bars.console.print(f"  {self._log.tenant}: {self._log.name}: {summary}")
        self._log.close(summary)


class TerminalProgress:
    """``rich`` bars on stderr: description, bar, done/total, rate, elapsed and ETA."""

    def __init__(self, tenant: str, stream: TextIO | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.tenant = tenant
        self.bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(file=stream or sys.stderr),
            transient=False,
        )
        self._started = False
        self._logs = LogProgress(tenant)

    def phase(self, name: str, total: int | None = None, unit: str = "records") -> Phase:
        if not self._started:
            self.bars.start()
            self._started = True
        task = self.bars.add_task(f"{self.tenant}: {name} ({unit})", total=total)
        return BarPhase(self, task, total, LogPhase(self.tenant, name, total, unit))

    def finish(self) -> None:
        if self._started:
            self.bars.stop()
            self._started = False


def progress_for(tenant: str, stream: TextIO | None = None) -> Progress:
    """Bars when ``stream`` (default stderr) is an interactive terminal, else log lines."""
    out = stream or sys.stderr
    return TerminalProgress(tenant, out) if out.isatty() else LogProgress(tenant)


class ListPhase:
    """The "lists" phase: its total grows as each list announces its size on its first page
    (``providers.http`` tells the listener of this thread), so the bar has an ETA."""

    def __init__(self, phase: Phase) -> None:
        self.phase = phase
        listener: PageListener = lambda _rows, total: phase.grow(total or 0)  # noqa: E731
        self._token: Token[PageListener | None] | None = page_listener.set(listener)

    def advance(self, n: int) -> None:
        self.phase.advance(n)

    def close(self, summary: str = "") -> None:
        if self._token is not None:
            page_listener.reset(self._token)
            self._token = None
        self.phase.close(summary)


def list_phase(progress: Progress | None) -> ListPhase | None:
    return ListPhase(progress.phase("lists", unit="rows")) if progress is not None else None
