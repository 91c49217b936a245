"""`kravsync daemon`: every tenant cycled on its interval until SIGTERM/SIGINT.

- Tenants run in parallel on a small thread pool; each tenant's client keeps its provider's
  rate limit, and one failing tenant never stops the others.
- A tenant is worked by one process at a time (a lease in the store, renewed while a cycle runs
  and expiring if its holder dies), so two daemons on one store never double-work a tenant.
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
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

import schedule

from connector.clock import Clock
from connector.config import Config, TenantConfig
from connector.cycle import CycleResult
from connector.render.status import action_counts, counts_json, counts_line
from connector.runtime import run_tenant
from connector.scrub import safe_message
from connector.store import Store

log = logging.getLogger("kravsync.daemon")

RunTenant = Callable[..., CycleResult]


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
        healthz_port: int | None = None,
        run: RunTenant = run_tenant,
        tick: float = 1.0,
    ) -> None:
        self.config = config
        self.store = store
        self.stop = threading.Event()
        self.health = {t.name: TenantHealth(t.name) for t in config.tenants}
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="tenant")
        self._running: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._scheduler = schedule.Scheduler()
        self._healthz_port = healthz_port
        self._healthz: ThreadingHTTPServer | None = None
        self.clock = clock
        self._run = run
        self._tick = tick

    # -- lifecycle ------------------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info(
                "received %s: finishing the work in flight, then stopping",
                signal.Signals(signum).name,
            )
            self.stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def run(self) -> int:
        if self._healthz_port is not None:
            self.start_healthz(self._healthz_port)
        for tenant in self.config.tenants:
            self._scheduler.every(tenant.interval_minutes).minutes.do(self.submit, tenant)
            self.submit(tenant)  # a first cycle right away
        log.info("daemon started: %d tenant(s)", len(self.config.tenants))
        while not self.stop.is_set():
            self._scheduler.run_pending()
            self.stop.wait(self._tick)
        self.shutdown()
        log.info("daemon stopped")
        return 0

    def shutdown(self) -> None:
        self.stop.set()
        self._pool.shutdown(wait=True)
        if self._healthz is not None:
            self._healthz.shutdown()
            self._healthz.server_close()

    # -- cycles ---------------------------------------------------------------------------------
    def submit(self, tenant: TenantConfig) -> None:
        with self._lock:
            running = self._running.get(tenant.name)
            if self.stop.is_set() or (running is not None and not running.done()):
                return  # still busy with the last cycle: skip this tick
            self._running[tenant.name] = self._pool.submit(self._cycle, tenant)

    def _cycle(self, tenant: TenantConfig) -> None:
        health = self.health[tenant.name]
        health.running = True
        health.last_started = self.clock.now().isoformat(timespec="seconds")
        try:
            result = self._run(
                tenant,
                self.store,
                clock=self.clock,
                stop=self.stop,
                lease_seconds=max(300.0, tenant.interval_minutes * 60 / 2),
            )
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
        }

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
