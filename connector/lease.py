"""A tenant's lease: one writer (thread, process or host) per tenant at a time.

Taken by every command that writes a tenant's state (``sync``, each ``daemon`` cycle, ``note``)
and held for the whole command or cycle, renewed in the background, so a long pull never lets a
second process reconcile (and re-send) an action still in flight here. A holder that dies stops
renewing: its lease expires after ``ttl`` seconds, or at once when the holder was a process on
this host that no longer runs, and the next one takes over with a higher generation. Journal
writes check that generation (``connector/store/leases.py``), so a holder that lost its lease
writes nothing more. Taking the lease closes the runs a dead holder left ``running`` as
``interrupted``.
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

from connector.store import Store
from connector.store.leases import LeaseHolder, LeaseLost

log = logging.getLogger("kravsync.lease")

__all__ = ["LeaseBusy", "LeaseLost", "TenantLease", "held_line"]


def held_line(tenant: str, holder: LeaseHolder) -> str:
    """The one line a command prints for a tenant another process is working."""
    return f"tenant {tenant}: held by another kravsync process ({holder.describe()})"


class LeaseBusy(Exception):
    """Another live process holds the tenant's lease."""

    def __init__(self, tenant: str, holder: LeaseHolder) -> None:
        super().__init__(held_line(tenant, holder))
        self.tenant = tenant
        self.holder = holder


class TenantLease:
    """``with TenantLease(store, tenant, ttl, wait=S):`` holds the lease, waiting up to ``wait``
    seconds for another holder to let go; raises :class:`LeaseBusy` naming the holder.

    ``claimed``: the generation of a lease already taken by ``store.claim_due_tenants`` (the
    daemon's workers): it is renewed and released like one taken here, and released with the
    tenant next due ``next_due_in`` seconds later."""

    def __init__(
        self,
        store: Store,
        tenant: str,
        ttl: float = 300.0,
        wait: float = 0.0,
        *,
        claimed: int | None = None,
        next_due_in: float = 0.0,
    ) -> None:
        self.store = store
        self.tenant = tenant
        self.ttl = ttl
        self.wait = wait
        self.claimed = claimed
        self.next_due_in = next_due_in
        self.generation: int | None = None
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> TenantLease:
        generation = self.claimed if self.claimed is not None else self._take()
        self.generation = generation
        log.debug("%s: lease taken (generation %d)", self.tenant, generation)
        self._thread = threading.Thread(
            target=self._renew, name=f"lease-{self.tenant}", daemon=True
        )
        self._thread.start()
        return self

    def _take(self) -> int:
        deadline = time.monotonic() + max(self.wait, 0.0)
        delay = 0.1
        while True:
            generation, holder = self.store.take_lease(self.tenant, self.ttl)
            if generation is not None:
                return generation
            assert holder is not None
            left = deadline - time.monotonic()
            if left <= 0:
                raise LeaseBusy(self.tenant, holder)
            time.sleep(min(delay, left))
            delay = min(delay * 2, 1.0)

    def _renew(self) -> None:
        try:
            self._renew_until_stopped()
        finally:
            self.store.close()  # this thread's connection

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                renewed = self.store.renew_tenant_lease(self.tenant, self.ttl)
            except Exception:  # noqa: BLE001 - a busy store: try again at the next beat
                log.warning("%s: could not renew the lease; trying again", self.tenant)
                continue
            if not renewed:
                log.error("%s: lost the lease to another process", self.tenant)
                self.lost.set()
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
        if self.claimed is not None:
            self.store.release_claimed(self.tenant, self.next_due_in)
        else:
            self.store.release_tenant_lease(self.tenant)
