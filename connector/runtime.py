"""Wiring shared by the CLI, the demo and the daemon: config + store + credentials → providers."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from connector.config import TenantConfig
from connector.secrets import CredentialStore, credentials_for
from connector.store import Store
from connector.sync import Progress, SyncResult, auth_failure, pull
from providers.base import Provider, get_factory
from providers.http import AuthError, ProviderError


def build_provider(
    tenant: TenantConfig, store: Store, credentials: CredentialStore | None = None
) -> Provider:
    factory = get_factory(tenant.provider)
    creds = credentials or credentials_for(tenant.credentials)
    return factory.create(tenant, creds, lock=lambda name: store.advisory_lock(name))


def run_tenant(
    tenant: TenantConfig,
    store: Store,
    *,
    credentials: CredentialStore | None = None,
    progress: Progress | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SyncResult:
    """One cycle for one tenant; every failure becomes a failed result, never an exception."""
    try:
        provider = build_provider(tenant, store, credentials)
    except AuthError as exc:
        store.ensure_tenant(tenant.name, tenant.provider, tenant.country)
        run_id = store.begin_run(tenant.name)
        message = auth_failure(tenant, exc)
        store.finish_run(run_id, "failed", error=message)
        return SyncResult(tenant=tenant.name, ok=False, error=message, run_id=run_id)
    except (ProviderError, Exception) as exc:  # noqa: BLE001 - one tenant never stops the others
        return SyncResult(tenant=tenant.name, ok=False, error=f"tenant {tenant.name}: {exc}")
    try:
        return pull(tenant, provider, store, progress=progress, now=now)
    finally:
        provider.close()


def terminal_progress(tenant: str) -> Progress | None:
    """Progress on an interactive terminal; nothing for pipes, cron and the daemon."""
    if not sys.stderr.isatty():
        return None
    counts: dict[str, int] = {}

    def show(stream: str, count: int) -> None:
        counts[stream] = count
        text = "  ".join(f"{k} {v}" for k, v in counts.items())
        print(f"\r{tenant}: {text}", end="", file=sys.stderr, flush=True)

    return show


def end_progress(progress: Progress | None) -> None:
    if progress is not None:
        print(file=sys.stderr)


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        return json.dumps(payload, ensure_ascii=False)


def setup_logging(verbose: int, json_lines: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("kravsync")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    root.propagate = False


def parse_today(value: str | None) -> date:
    return date.fromisoformat(value) if value else date.today()
