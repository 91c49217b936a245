"""The daemon: parallel tenants, failures isolated, leases, /healthz, clean exit on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.clock import Clock
from connector.config import Config, TenantConfig
from connector.cycle import CycleResult
from connector.cycle.pull import SyncResult
from connector.daemon import Daemon
from connector.lease import LeaseBusy, TenantLease
from connector.store import SqliteStore
from providers.fiken.sandbox import FikenSandbox

CLOCK = Clock.starting_at(date(2026, 11, 23))  # the tests' clock; never the real date


def tenants(*names: str) -> Config:
    return Config(tenants=[TenantConfig(name=n, provider="fiken", country="NO", company=n) for n in names])


def test_one_failing_tenant_never_stops_the_others(tmp_path: Path) -> None:
    seen: list[str] = []

    def run(tenant: TenantConfig, store: Any, **kwargs: Any) -> CycleResult:
        seen.append(tenant.name)
        if tenant.name == "bad":
            raise RuntimeError("boom")
        return CycleResult(sync=SyncResult(tenant=tenant.name, ok=tenant.name != "down", error="HTTP 503" if tenant.name == "down" else None))

    daemon = Daemon(tenants("good", "bad", "down"), SqliteStore(str(tmp_path / "d.db"), CLOCK), run=run, tick=0.01, clock=CLOCK)
    for t in daemon.config.tenants:
        daemon.submit(t)
    daemon.shutdown()
    assert sorted(seen) == ["bad", "down", "good"]
    code, doc = daemon.health_document()
    assert code == 503 and doc["status"] == "degraded" and sorted(doc["failing"]) == ["bad", "down"]
    assert doc["tenants"]["good"]["last_ok"] is True
    assert "RuntimeError: boom" in doc["tenants"]["bad"]["last_error"]


def test_a_busy_tenant_is_not_started_twice(tmp_path: Path) -> None:
    release = threading.Event()
    calls = 0

    def run(tenant: TenantConfig, store: Any, **kwargs: Any) -> CycleResult:
        nonlocal calls
        calls += 1
        release.wait(5)
        return CycleResult(sync=SyncResult(tenant=tenant.name, ok=True))

    daemon = Daemon(tenants("a"), SqliteStore(str(tmp_path / "d.db"), CLOCK), run=run, clock=CLOCK)
    tenant = daemon.config.tenants[0]
    daemon.submit(tenant)
    daemon.submit(tenant)
    release.set()
    daemon.shutdown()
    assert calls == 1


def test_healthz_serves_the_last_cycles(tmp_path: Path) -> None:
    def run(tenant: TenantConfig, store: Any, **kwargs: Any) -> CycleResult:
        return CycleResult(sync=SyncResult(tenant=tenant.name, ok=True))

    daemon = Daemon(tenants("a"), SqliteStore(str(tmp_path / "d.db"), CLOCK), run=run, clock=CLOCK)
    port = daemon.start_healthz(0)
    daemon.submit(daemon.config.tenants[0])
    time.sleep(0.2)
    r = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    daemon.shutdown()
    assert r.status_code == 200
    assert r.json()["tenants"]["a"]["cycles"] == 1


def test_a_lease_keeps_a_second_process_out_until_it_expires(tmp_path: Path) -> None:
    path = str(tmp_path / "l.db")
    first, second = SqliteStore(path, CLOCK), SqliteStore(path, CLOCK)
    with TenantLease(first, "acme", ttl=60):
        with pytest.raises(LeaseBusy, match=r"tenant acme: held by another kravsync process \(host .+ pid \d+ since \d{4}-"):
            with TenantLease(second, "acme", ttl=60):
                pass
    with TenantLease(second, "acme", ttl=60):  # released on exit
        pass
    assert first.take_lease("zed", ttl=0.05)[0] == 1  # a holder that dies stops renewing ...
    time.sleep(0.1)
    assert second.take_lease("zed", ttl=60)[0] == 2  # ... and its lease expires


def test_daemon_process_cycles_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    with FikenSandbox(clock=CLOCK, token="daemon-token") as sandbox:
        config = tmp_path / "kravsync.toml"
        config.write_text(
            f"""
[store]
url = "sqlite:///state.db"
[[tenants]]
name = "fjord"
provider = "fiken"
country = "NO"
company = "{sandbox.company}"
base_url = "{sandbox.base_url}"
credentials = "env:DAEMON_TOKEN"
[tenants.validation]
postcode_register_source = "fixture"
""",
            encoding="utf-8",
        )
        env = {**os.environ, "DAEMON_TOKEN": "daemon-token", **CLOCK.environment()}
        proc = subprocess.Popen(
            [sys.executable, "-m", "connector.cli", "-v", "--config", str(config), "daemon", "--healthz-port", "0"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            store = SqliteStore(str(tmp_path / "state.db"), CLOCK)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                run = store.last_run("fjord")
                if run is not None and run.outcome != "running":
                    break
                time.sleep(0.2)
            assert run is not None and run.outcome == "ok"
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
        err = proc.stderr.read() if proc.stderr else ""
        assert code == 0, err
        assert "daemon stopped" in err
        assert "daemon-token" not in err
