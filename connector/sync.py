"""One tenant's cycle: pull → map → store (then validate → plan → push as those land).

Cursor rule: a stream's cursor is the time its pull *started*, written only after every record
of that pull is committed; a pull that fails leaves the old cursor, so the next cycle asks again.
Records that fail mapping are logged with their id and skipped; the rest are stored.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from connector.clock import Clock
from connector.config import TenantConfig
from connector.models import Invoice
from connector.store import Store
from providers.base import Provider, RecordError
from providers.http import AuthError, ProviderError

log = logging.getLogger("kravsync.sync")

BATCH = 500
T = TypeVar("T")

Progress = Callable[[str, int], None]


@dataclass
class SyncResult:
    tenant: str
    ok: bool
    customers: int = 0
    invoices: int = 0
    skipped: list[RecordError] = field(default_factory=list)
    reconciled: int = 0
    requests: int = 0
    error: str | None = None
    run_id: int | None = None

    def summary(self) -> str:
        if not self.ok:
            return f"{self.tenant}: FAILED: {self.error}"
        return (
            f"{self.tenant}: ok: {self.customers} customers, {self.invoices} invoices stored, "
            f"{len(self.skipped)} records skipped, {self.requests} requests"
        )


class Stopped(Exception):
    """A stop was asked for (SIGTERM) between two batches; the cursor stays where it was."""


def _batches(
    items: Iterable[T | RecordError], result: SyncResult, stop: threading.Event | None = None
) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        if stop is not None and stop.is_set():
            raise Stopped()
        if isinstance(item, RecordError):
            result.skipped.append(item)
            log.warning("%s: skipped %s", result.tenant, item)
            continue
        batch.append(item)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _cursor(store: Store, tenant: str, stream: str, now: datetime) -> datetime | None:
    """The stream's cursor; one later than ``now`` (left by a ``sync --today`` in the future)
    would hide every change until that day, so it is dropped and the stream pulled in full."""
    value = store.get_cursor(tenant, stream)
    cursor = datetime.fromisoformat(value) if value else None
    if cursor is not None and cursor > now:
        log.warning(
            "%s: %s cursor %s is later than now (%s): pulling in full",
            tenant,
            stream,
            value,
            now.isoformat(timespec="seconds"),
        )
        return None
    return cursor


def pull(
    tenant: TenantConfig,
    provider: Provider,
    store: Store,
    *,
    clock: Clock,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> SyncResult:
    """Pull customers and invoices changed since the cursors into the store."""
    result = SyncResult(tenant=tenant.name, ok=False)
    store.ensure_tenant(tenant.name, tenant.provider, tenant.country)
    run_id = store.begin_run(tenant.name)
    result.run_id = run_id
    try:
        started = clock.now()
        since = _cursor(store, tenant.name, "customers", started)
        for customers in _batches(provider.iter_customers(since), result, stop):
            result.customers += store.upsert_customers(tenant.name, customers)
            if progress:
                progress("customers", result.customers)
        store.set_cursor(tenant.name, "customers", started.isoformat())

        started = clock.now()
        since = _cursor(store, tenant.name, "invoices", started)
        # A provider that cannot list the invoices changed since a cursor lists its open ones
        # every cycle; stored open invoices it no longer lists are re-read (settled meanwhile).
        full = since is None or not provider.capabilities().invoice_changes_since
        seen: set[str] = set()
        for invoices in _batches(provider.iter_invoices(since, open_only=full), result, stop):
            result.invoices += store.upsert_invoices(tenant.name, invoices)
            seen.update(i.provider_id for i in invoices)
            if progress:
                progress("invoices", result.invoices)
        if full:
            result.reconciled = _reconcile_missing(tenant, provider, store, seen, result)
        store.set_cursor(tenant.name, "invoices", started.isoformat())
        result.ok = True
    except AuthError as exc:
        result.error = auth_failure(tenant, exc)
    except ProviderError as exc:
        result.error = str(exc)
    except Stopped:
        result.error = "stopped before the pull finished (cursor unchanged)"
    finally:
        result.requests = getattr(provider, "requests_sent", 0)
        for item in result.skipped:
            store.record_error(run_id, item.kind, item.record_id, item.message)
        store.finish_run(
            run_id,
            "ok" if result.ok else "failed",
            customers=result.customers,
            invoices=result.invoices,
            skipped=len(result.skipped),
            requests=result.requests,
            error=result.error,
        )
    return result


def _reconcile_missing(
    tenant: TenantConfig, provider: Provider, store: Store, seen: set[str], result: SyncResult
) -> int:
    """After a full pull of open invoices, re-read stored open ones the provider no longer lists
    (paid or credited while we were not looking) so they are not reminded by mistake."""
    stale = store.open_invoice_ids(tenant.name) - seen
    fresh: list[Invoice] = []
    for provider_id in sorted(stale):
        try:
            fresh.append(provider.get_invoice(provider_id))
        except ProviderError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bad record is reported, never fatal
            result.skipped.append(RecordError("invoice", provider_id, str(exc)))
    if fresh:
        store.upsert_invoices(tenant.name, fresh)
    return len(fresh)


def auth_failure(tenant: TenantConfig, exc: AuthError) -> str:
    """One line telling the user what to run."""
    if "kravsync auth" in exc.message:
        return exc.message
    return (
        f"tenant {tenant.name}: {tenant.provider} rejected the credentials "
        f"(HTTP {exc.status}: token expired, revoked or wrong); run `kravsync auth {tenant.name}`"
    )
