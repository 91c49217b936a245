"""A tenant's lease: one worker (thread, process or host) per tenant at a time.

Held for a whole cycle and renewed in the background while the cycle runs, so a long pull never
lets a second daemon reconcile (and re-send) an action that is still in flight here. A holder
that dies stops renewing; its lease expires after ``ttl`` seconds and another worker takes over.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from connector.store import Store

log = logging.getLogger("kravsync.lease")


class LeaseBusy(Exception):
    pass


class TenantLease:
    def __init__(self, store: Store, tenant: str, ttl: float = 300.0) -> None:
        self.store = store
        self.name = f"tenant:{tenant}"
        self.tenant = tenant
        self.ttl = ttl
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> TenantLease:
        if not self.store.try_lease(self.name, self.ttl):
            raise LeaseBusy(f"tenant {self.tenant}: being worked by another kravsync process")
        self._thread = threading.Thread(
            target=self._renew, name=f"lease-{self.tenant}", daemon=True
        )
        self._thread.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            if not self.store.renew_lease(self.name, self.ttl):
                log.error("%s: lost the lease", self.tenant)
                return

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.store.release_lease(self.name)
