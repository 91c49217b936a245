"""The pull stage of a cycle: provider pages → mapped records → the store.

Cursor rule: a stream's cursor is the time its pull *started*, written only after every record
of that pull is committed; a pull that fails leaves the old cursor, so the next cycle asks again.
Records that fail mapping are logged with their id and skipped; the rest are stored.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from connector.clock import Clock
from connector.config import TenantConfig
from connector.cycle.backlog import mark_listed
from connector.models import Invoice
from connector.privacy import minimise
from connector.render.progress import Progress, list_phase
from connector.scrub import safe_message
from connector.secrets import credential_fix
from connector.store import LeaseLost, Store
from providers.base import MalformedRecord, Provider, RecordError
from providers.http import AuthError, ProviderError

log = logging.getLogger("kravsync.sync")

BATCH = 500
T = TypeVar("T")


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


class RepeatedRecord(ProviderError):
    """One pull listed the same record twice: the provider's paging is inconsistent (a page
    repeated or shifted), so nothing more of it is trusted; the cursor stays."""


def _batches(
    items: Iterable[T | RecordError],
    result: SyncResult,
    stop: threading.Event | None = None,
    *,
    kind: str = "record",
    provider: str = "provider",
) -> Iterator[list[T]]:
    """Mapped records in batches; skipped ones into ``result.skipped``. A record id seen twice
    in one pull raises :class:`RepeatedRecord` before the second copy is stored."""
    batch: list[T] = []
    seen: set[str] = set()
    for item in items:
        if stop is not None and stop.is_set():
            raise Stopped()
        record_id = item.record_id if isinstance(item, RecordError) else _provider_id(item)
        if record_id is not None and record_id != "?":
            if record_id in seen:
                raise RepeatedRecord(
                    provider,
                    f"{kind} {record_id} was listed twice in one pull: the provider's paging is "
                    "inconsistent; nothing after it was stored and the cursor stays",
                )
            seen.add(record_id)
        if isinstance(item, RecordError):
            result.skipped.append(item)
            log.warning("%s: skipped %s", result.tenant, safe_message(item))
            continue
        batch.append(item)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _provider_id(item: object) -> str | None:
    value = getattr(item, "provider_id", None)
    return value if isinstance(value, str) else None


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
    name = getattr(provider, "name", tenant.provider)
    phase = list_phase(progress)  # a bar with the totals the lists announce, or None
    try:
        started = clock.now()
        since = _cursor(store, tenant.name, "customers", started)
        if since is None:
            store.clear_malformed(tenant.name, "customer", None)
        today = clock.today()
        for customers in _batches(
            provider.iter_customers(since), result, stop, kind="customer", provider=name
        ):
            kept = [
                minimise(
                    c,
                    tenant_country=tenant.country,
                    allow_test=tenant.validation.allow_test_org_numbers,
                    today=today,
                )
                for c in customers
            ]
            result.customers += store.upsert_customers(tenant.name, kept)
            store.clear_malformed(tenant.name, "customer", [c.provider_id for c in customers])
            mark_listed(store, tenant.name, provider, "customer", customers)
            if phase:
                phase.advance(len(customers))
        _note_skipped(store, tenant.name, result, "customer")
        store.set_cursor(tenant.name, "customers", started.isoformat())

        started = clock.now()
        since = _cursor(store, tenant.name, "invoices", started)
        # A provider that cannot list the invoices changed since a cursor lists its open ones
        # every cycle; stored open invoices it no longer lists are re-read (settled meanwhile).
        full = since is None or not provider.capabilities().invoice_changes_since
        if full:
            store.clear_malformed(tenant.name, "invoice", None)
        seen: set[str] = set()
        for invoices in _batches(
            provider.iter_invoices(since, open_only=full), result, stop, kind="invoice", provider=name
        ):
            result.invoices += store.upsert_invoices(tenant.name, invoices)
            store.clear_malformed(tenant.name, "invoice", [i.provider_id for i in invoices])
            mark_listed(store, tenant.name, provider, "invoice", invoices)
            seen.update(i.provider_id for i in invoices)
            if phase:
                phase.advance(len(invoices))
        if full:
            result.reconciled = _reconcile_missing(tenant, provider, store, seen, result)
        _note_skipped(store, tenant.name, result, "invoice")
        store.set_cursor(tenant.name, "invoices", started.isoformat())
        result.ok = True
    except AuthError as exc:
        result.error = auth_failure(tenant, exc)
    except ProviderError as exc:
        result.error = str(exc)
    except Stopped:
        result.error = "stopped before the pull finished (cursor unchanged)"
    except LeaseLost as exc:  # paused past the lease: another worker has the tenant now
        result.error = str(exc)
        raise
    except Exception as exc:  # noqa: BLE001 - whatever happens, this tenant fails alone
        log.debug("%s: pull failed", tenant.name, exc_info=exc)
        result.error = internal_error(tenant.name, exc)
    finally:
        if phase:
            phase.close(f"{result.customers} customers, {result.invoices} invoices")
        if result.error is not None:  # shown, logged, served on /healthz and stored: one safe line
            result.error = safe_message(result.error)
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
        except MalformedRecord as exc:
            result.skipped.append(RecordError("invoice", provider_id, exc.message))
        except ProviderError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bad record is reported, never fatal
            result.skipped.append(RecordError("invoice", provider_id, str(exc)))
    if fresh:
        store.upsert_invoices(tenant.name, fresh)
    return len(fresh)


def auth_failure(tenant: TenantConfig, exc: AuthError) -> str:
    """One line telling the user what to do: run `kravsync auth`, or (credentials from an
    environment variable) check that variable."""
    if "kravsync auth" in exc.message or " environment variable " in exc.message:
        return exc.message
    fix = credential_fix(tenant.name, tenant.credentials)
    if exc.status is None:
        return f"tenant {tenant.name}: {exc.message}"
    return (
        f"tenant {tenant.name}: {tenant.provider} rejected the credentials "
        f"(HTTP {exc.status}: token expired, revoked or wrong); {fix}"
    )


def internal_error(tenant: str, exc: BaseException) -> str:
    """One line for a failure nothing foresaw (a bug, or input beyond every rule)."""
    detail = str(exc)
    return f"tenant {tenant}: internal error: {type(exc).__name__}" + (
        f": {detail}" if detail else ""
    )


def _note_skipped(store: Store, tenant: str, result: SyncResult, kind: str) -> None:
    store.note_malformed(
        tenant, kind, [(e.record_id, e.message) for e in result.skipped if e.kind == kind]
    )
