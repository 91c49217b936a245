"""`kravsync daemon`: a worker that cycles the tenants it claims, until SIGTERM/SIGINT.

- Any number of daemons (on any number of hosts, on one store) share the tenants: every tick a
  worker claims up to ``--concurrency`` minus its running cycles of the tenants that are due
  (``store.claim_due_tenants``: one transaction, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), and
  runs each on its thread pool holding the lease the claim took (renewed in the background,
  fencing every journal write), then releases it with the tenant next due one
  ``interval_minutes`` later. One failing tenant never stops the others.
- A worker that dies loses its leases at expiry (at once when it was a process on this host),
  and another worker takes the tenants; one paused past its lease (SIGSTOP) finds its writes
  refused when it wakes, logs one line and drops the tenant.
- Each worker has a row in ``workers`` (host, pid, concurrency, tenants held), beaten every few
  seconds by a background thread and removed on a clean stop; ``kravsync status`` and
  ``/healthz`` list the workers and flag the stale ones.
- SIGTERM/SIGINT: no new cycles start; running cycles finish the letter in flight (the push
  engine checks the stop flag between letters, the pull between batches), then the process exits 0.
- Optional ``/healthz`` on 127.0.0.1: the last cycle of every tenant, its failures and its
  journal (done, pending, failed, stuck); 503 when a tenant's last cycle failed or it has failed
  or stuck actions.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

from connector.clock import Clock
from connector.config import Config, TenantConfig
from connector.cycle import CycleResult
from connector.lease import TenantLease
from connector.render.status import action_counts, counts_json, counts_line
from connector.runtime import run_tenant
from connector.scrub import safe_message
from connector.store import Store

log = logging.getLogger("kravsync.daemon")

RunTenant = Callable[..., CycleResult]


def _line(exc: BaseException) -> str:
    return safe_message(f"{type(exc).__name__}: {exc}")


@dataclass
class TenantHealth:
    tenant: str
    running: bool = False
    last_started: str | None = None
    last_finished: str | None = None
    last_ok: bool | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    cycles: int = 0


class Daemon:
    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        clock: Clock,
        workers: int = 4,
        concurrency: int | None = None,
        lease_ttl: float | None = None,
        heartbeat: float = 5.0,
        healthz_port: int | None = None,
        run: RunTenant = run_tenant,
        tick: float = 1.0,
        file_config: Config | None = None,
        reload_seconds: float = 30.0,
    ) -> None:
        self.config = config
        self._file_config = file_config  # set: the store's tenants are re-read as they change
        self._reload_seconds = reload_seconds
        self._reloaded = time.monotonic()
        self.store = store
        self.stop = threading.Event()
        self.health = {t.name: TenantHealth(t.name) for t in config.tenants}
        self.concurrency = max(1, concurrency if concurrency is not None else workers)
        self.lease_ttl = lease_ttl if lease_ttl is not None else config.store.lease_seconds
        self._tenants = {t.name: t for t in config.tenants}
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="tenant")
        self._running: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._healthz_port = healthz_port
        self._healthz: ThreadingHTTPServer | None = None
        self.clock = clock
        self._run = run
        self._tick = tick
        self._heartbeat = heartbeat
        self._beat_stop = threading.Event()
        self._wake = threading.Event()  # a cycle ended: claim the next due tenant now
        self._beat_thread: threading.Thread | None = None
        self.worker_id: str | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info(
                "received %s: finishing the work in flight, then stopping",
                signal.Signals(signum).name,
            )
            self.stop.set()
            self._wake.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def run(self) -> int:
        if self._healthz_port is not None:
            self.start_healthz(self._healthz_port)
        self.start_worker()
        log.info(
            "daemon started: worker %s, %d tenant(s), concurrency %d, lease %g s",
            self.worker_id,
            len(self.config.tenants),
            self.concurrency,
            self.lease_ttl,
        )
        while not self.stop.is_set():
            if time.monotonic() - self._reloaded >= self._reload_seconds:
                self.reload_tenants()
            self.claim()
            self._wake.wait(self._tick)  # a tick, or sooner when a cycle ends or a stop comes
            self._wake.clear()
        self.shutdown()
        log.info("daemon stopped")
        return 0

    def start_worker(self) -> None:
        """Register this worker and start beating (a background thread)."""
        self.worker_id = self.store.register_worker(self.concurrency, self._heartbeat)
        self._beat_thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
        self._beat_thread.start()

    def shutdown(self) -> None:
        self.stop.set()
        self._pool.shutdown(wait=True)
        self._beat_stop.set()
        if self._beat_thread is not None:
            self._beat_thread.join(10)
        if self.worker_id is not None:
            try:
                self.store.remove_worker()
            except Exception as exc:  # noqa: BLE001 - a row left behind turns stale, then goes
                log.warning("could not remove this worker's row: %s", _line(exc))
        if self._healthz is not None:
            self._healthz.shutdown()
            self._healthz.server_close()

    def reload_tenants(self) -> None:
        """Pick up tenants added to or removed from the store (`kravsync tenants`) since the
        last look; a tenant removed while its cycle runs finishes that cycle."""
        self._reloaded = time.monotonic()
        if self._file_config is None:
            return
        from connector.stored_tenants import load_stored, merged

        try:
            config = merged(self._file_config, load_stored(self.store, self._file_config))
        except Exception as exc:  # noqa: BLE001 - a bad row or a busy store: keep the known ones
            log.warning("tenants in the store not re-read (%s); working the known ones", _line(exc))
            return
        with self._lock:
            before = set(self._tenants)
            self.config = config
            self._tenants = {t.name: t for t in config.tenants}
            for name in self._tenants:
                self.health.setdefault(name, TenantHealth(name))
            for name in before - set(self._tenants):
                self.health.pop(name, None)
        added, removed = set(self._tenants) - before, before - set(self._tenants)
        if added or removed:
            log.info(
                "tenants from the store: %d added, %d removed; %d in all",
                len(added),
                len(removed),
                len(self._tenants),
            )

    # -- heartbeat ------------------------------------------------------------------------------
    def held(self) -> list[str]:
        with self._lock:
            return sorted(n for n, f in self._running.items() if not f.done())

    def beat(self) -> None:
        self.store.heartbeat_worker(self.held(), self.concurrency, self._heartbeat)

    def _beat(self) -> None:
        try:
            while not self._beat_stop.wait(self._heartbeat):
                try:
                    self.beat()
                except Exception as exc:  # noqa: BLE001 - a busy store: the next beat
                    log.warning("heartbeat not written (%s); trying again", _line(exc))
        finally:
            self.store.close()  # this thread's connection

    # -- claiming -------------------------------------------------------------------------------
    def claim(self) -> list[str]:
        """Claim due tenants up to the free concurrency and start their cycles."""
        with self._lock:
            if self.stop.is_set():
                return []
            busy = {n for n, f in self._running.items() if not f.done()}
            free = self.concurrency - len(busy)
            names = [n for n in self._tenants if n not in busy]
        if free <= 0 or not names:
            return []
        try:
            claimed = self.store.claim_due_tenants(names, free, self.lease_ttl)
        except Exception as exc:  # noqa: BLE001 - a busy store: the next tick
            log.warning("could not claim tenants (%s); trying again", _line(exc))
            return []
        started = []
        with self._lock:
            for name, generation in claimed:
                if self.stop.is_set():  # stopping: give the tenant back, due at once
                    self._give_back(name)
                    continue
                tenant = self._tenants[name]
                future = self._pool.submit(self._cycle, tenant, generation)
                future.add_done_callback(lambda _done: self._wake.set())  # claim the next now
                self._running[name] = future
                started.append(name)
        if started:
            log.debug("claimed %s", ", ".join(started))
            try:
                self.beat()  # status shows the claim at once, not at the next beat
            except Exception:  # noqa: BLE001 - the background beat writes it soon
                pass
        return started

    def _give_back(self, name: str) -> None:
        try:
            self.store.release_claimed(name, 0.0)
        except Exception:  # noqa: BLE001 - an unreleased lease expires by itself
            log.warning("%s: lease not released", name)

    # -- cycles ---------------------------------------------------------------------------------
    def submit(self, tenant: TenantConfig) -> None:
        """Run one cycle of ``tenant`` now (taking its lease, or skipping it when held)."""
        with self._lock:
            running = self._running.get(tenant.name)
            if self.stop.is_set() or (running is not None and not running.done()):
                return  # still busy with the last cycle: skip this tick
            self._running[tenant.name] = self._pool.submit(self._cycle, tenant)

    def _leased_run(self, tenant: TenantConfig, generation: int | None) -> CycleResult:
        kwargs: dict[str, Any] = {
            "clock": self.clock,
            "stop": self.stop,
            "lease_seconds": self.lease_ttl,
        }
        if generation is None:  # `submit`: the run takes (or finds held) the lease itself
            return self._run(tenant, self.store, **kwargs)
        lease = TenantLease(
            self.store,
            tenant.name,
            ttl=self.lease_ttl,
            claimed=generation,
            next_due_in=tenant.interval_minutes * 60.0,
        )
        lease.__enter__()
        try:
            return self._run(tenant, self.store, lease=lease, **kwargs)
        finally:
            if self.stop.is_set():  # stopping may have cut the cycle short: due again at once
                lease.next_due_in = 0.0
            try:
                lease.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 - an unreleased lease expires by itself
                log.warning("%s: lease not released", tenant.name)

    def _cycle(self, tenant: TenantConfig, generation: int | None = None) -> None:
        health = self.health[tenant.name]
        health.running = True
        health.last_started = self.clock.now().isoformat(timespec="seconds")
        try:
            result = self._leased_run(tenant, generation)
            if result.held:  # another process works this tenant now: not a failure of ours
                log.info("%s; skipped this cycle", result.sync.error)
                health.running = False
                return
            if result.lost:  # paused past the lease: another worker has the tenant now
                log.warning("%s; dropped the tenant (another worker has it)", result.sync.error)
                health.running = False
                return
            ok, error = result.ok, result.sync.error
            log.info("cycle %s", result.summary())
            counts = action_counts(self.store, tenant, self.clock)
            if counts.alarming:
                log.warning(
                    "%s: actions: %s (see `kravsync actions`)",
                    tenant.name,
                    counts_line(counts, self.clock.now()),
                )
        except Exception as exc:  # noqa: BLE001 - one tenant never stops the daemon
            log.exception("%s: cycle crashed", tenant.name)
            ok, error = False, f"{type(exc).__name__}: {exc}"
        health.running = False
        health.cycles += 1
        health.last_finished = self.clock.now().isoformat(timespec="seconds")
        health.last_ok = ok
        health.last_error = error
        health.consecutive_failures = 0 if ok else health.consecutive_failures + 1

    # -- /healthz -------------------------------------------------------------------------------
    def health_document(self) -> tuple[int, dict[str, Any]]:
        tenants = {name: asdict(h) for name, h in self.health.items()}
        failing = [n for n, h in self.health.items() if h.last_ok is False]
        now = self.clock.now()
        for tenant in self.config.tenants:
            try:
                counts = action_counts(self.store, tenant, self.clock)
            except Exception as exc:  # noqa: BLE001 - a store that cannot answer is unhealthy
                tenants[tenant.name]["actions"] = {"error": safe_message(f"{type(exc).__name__}: {exc}")}
                alarming = True
            else:
                tenants[tenant.name]["actions"] = counts_json(counts, now)
                alarming = counts.alarming
            if alarming and tenant.name not in failing:
                failing.append(tenant.name)
        status = "ok" if not failing else "degraded"
        return (200 if not failing else 503), {
            "status": status,
            "failing": failing,
            "tenants": tenants,
            "worker": self.worker_id,
            "workers": self._workers_json(),
        }

    def _workers_json(self) -> list[dict[str, Any]] | dict[str, str]:
        try:
            now = self.store.shared_time()
            return [w.as_json(now) for w in self.store.workers()]
        except Exception as exc:  # noqa: BLE001 - shown, never raised
            return {"error": safe_message(f"{type(exc).__name__}: {exc}")}

    def start_healthz(self, port: int) -> int:
        daemon = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                if self.path.split("?")[0] != "/healthz":
                    self.send_error(404)
                    return
                code, body = daemon.health_document()
                payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
                self.send_response(code)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._healthz = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._healthz.serve_forever, name="healthz", daemon=True).start()
        actual = int(self._healthz.server_address[1])
        log.info("healthz on http://127.0.0.1:%d/healthz", actual)
        return actual
