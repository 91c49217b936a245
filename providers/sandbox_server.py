"""The HTTP server every sandbox runs on: threaded, local, and quiet about clients that vanish."""

from __future__ import annotations

import sys
from datetime import date
from http.server import ThreadingHTTPServer
from typing import Any

from connector.clock import Clock


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed mid-request (the crash-safety tests do that on purpose) resets its
        # connection; that is the client's business, not a sandbox error worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def sandbox_clock(today: date | None, clock: Clock | None) -> Clock:
    """A sandbox's clock: ``clock`` (moved to ``today`` when both are given), a clock starting
    at noon on ``today``, or the host's clock when neither is given."""
    if clock is not None:
        return clock.on(today) if today is not None else clock
    return Clock.starting_at(today) if today is not None else Clock.system()
