"""Wiring shared by the CLI, the demo and the daemon: config + store + credentials → providers."""

from __future__ import annotations

import inspect
import json
import logging
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from connector.budget import StoreBudget, budget_key
from connector.channels.email import ChannelError, SmtpChannel, password_for
from connector.clock import Clock
from connector.config import TenantConfig
from connector.cycle import CycleResult, run_cycle
from connector.cycle.pull import SyncResult, auth_failure, internal_error
from connector.cycle.validate import postcode_register
from connector.lease import LeaseBusy, LeaseLost, TenantLease
from connector.render.progress import LogProgress, Progress
from connector.scrub import ScrubFilter, one_line, safe_message
from connector.secrets import CredentialError, CredentialStore, credentials_for
from connector.store import Store
from connector.validation import PostcodeRegister
from providers.base import MessageChannel, Provider, get_factory
from providers.http import AuthError, ProviderError


def build_provider(
    tenant: TenantConfig, store: Store, clock: Clock, credentials: CredentialStore | None = None
) -> Provider:
    factory = get_factory(tenant.provider)
    creds = credentials or credentials_for(tenant.credentials)
    extra: dict[str, Any] = {}
    if "budget" in inspect.signature(factory.create).parameters:  # a third party's may not
        extra["budget"] = StoreBudget(store, budget_key(tenant))
    return factory.create(
        tenant, creds, lock=lambda name: store.advisory_lock(name), clock=clock, **extra
    )


def _failed(tenant: TenantConfig, store: Store, message: str) -> CycleResult:
    message = tenant_line(tenant.name, message)
    store.ensure_tenant(tenant.name, tenant.provider, tenant.country)
    run_id = store.begin_run(tenant.name)
    store.finish_run(run_id, "failed", error=message)
    return CycleResult(
        sync=SyncResult(tenant=tenant.name, ok=False, error=safe_message(message), run_id=run_id)
    )


def tenant_line(tenant: str, message: str) -> str:
    """``message`` as one line about ``tenant``, naming it once (never "tenant a: tenant a:")."""
    message = one_line(str(message))
    prefix = f"tenant {tenant}: "
    return message if message.startswith(prefix) else prefix + message


def _crashed(tenant: TenantConfig, store: Store, before: int | None, exc: Exception) -> CycleResult:
    """A cycle that raised: the tenant fails with one line, stored in its run; never raised on
    (the other tenants still run)."""
    logging.getLogger("kravsync.cycle").debug("%s: cycle failed", tenant.name, exc_info=exc)
    message = internal_error(tenant.name, exc)
    try:
        run = store.last_run(tenant.name)
        if run is not None and run.id != before:
            store.fail_run(run.id, message)
            return CycleResult(
                sync=SyncResult(
                    tenant=tenant.name, ok=False, error=safe_message(message), run_id=run.id
                )
            )
        return _failed(tenant, store, message)
    except Exception:  # noqa: BLE001 - the store itself is failing: still one line, no raise
        return CycleResult(sync=SyncResult(tenant=tenant.name, ok=False, error=safe_message(message)))


def _lease_lost(
    tenant: TenantConfig, store: Store, before: int | None, exc: LeaseLost, *, quiet: bool = False
) -> CycleResult:
    """Another process took the lease over mid-cycle: this run fails in one line; the new
    holder reconciles whatever was in flight here. ``quiet``: the caller logs it (the daemon)."""
    message = tenant_line(tenant.name, str(exc))
    if not quiet:
        logging.getLogger("kravsync.lease").error("%s", message)
    # this cycle's run: the first begun after ``before`` (the new holder's come later; it may
    # be running already, and must not be marked failed by this one)
    rows = store.execute(
        "SELECT id FROM runs WHERE tenant=? AND id > ? ORDER BY id LIMIT 1",
        (tenant.name, before if before is not None else 0),
    )
    run_id = int(rows[0][0]) if rows else None
    if run_id is not None:
        store.fail_run(run_id, message)
    return CycleResult(
        sync=SyncResult(tenant=tenant.name, ok=False, error=safe_message(message), run_id=run_id),
        lost=True,
    )


def _last_run_id(store: Store, tenant: str) -> int | None:
    try:
        run = store.last_run(tenant)
    except Exception:  # noqa: BLE001 - reported by the cycle itself
        return None
    return run.id if run is not None else None


def run_tenant(
    tenant: TenantConfig,
    store: Store,
    *,
    clock: Clock,
    credentials: CredentialStore | None = None,
    progress: Progress | None = None,
    postcodes: Callable[[TenantConfig], PostcodeRegister | None] = postcode_register,
    dry_run: bool = False,
    channel: MessageChannel | None = None,
    stop: threading.Event | None = None,
    lease_seconds: float = 300.0,
    lease_wait: float = 0.0,
    full: bool = False,
    planned: Callable[[CycleResult], None] | None = None,
    lease: TenantLease | None = None,
) -> CycleResult:
    """One cycle for one tenant; every failure becomes a failed result, never an exception.

    Pushes only when the tenant has ``push = true`` and this is not a dry run. ``channel``
    overrides the tenant's own e-mail channel (the demo's outbox). ``progress``: how phases are
    shown (default: one log line per phase, as the daemon wants). ``full``: read every missing
    detail now (``sync --full``); ``planned`` is told when the plan stands, before the backfill.

    The whole cycle holds the tenant's lease (``lease_seconds``, renewed while it runs; waiting
    up to ``lease_wait`` seconds for another holder): a tenant another process holds is a
    ``held`` result naming the holder, and a lease lost mid-cycle fails the run in one line.
    ``lease``: one the caller holds already (a daemon worker's claim), used and left to it."""
    given = lease is not None
    if lease is None:
        try:
            lease = TenantLease(store, tenant.name, ttl=lease_seconds, wait=lease_wait)
            lease.__enter__()
        except LeaseBusy as exc:
            return CycleResult(
                sync=SyncResult(tenant=tenant.name, ok=False, error=safe_message(str(exc))),
                held=True,
            )
        except Exception as exc:  # noqa: BLE001 - the store is failing: one line, never a raise
            return CycleResult(
                sync=SyncResult(
                    tenant=tenant.name, ok=False, error=internal_error(tenant.name, exc)
                )
            )
    try:
        return _leased_cycle(
            tenant,
            store,
            clock=clock,
            credentials=credentials,
            progress=progress,
            postcodes=postcodes,
            dry_run=dry_run,
            channel=channel,
            stop=stop,
            full=full,
            planned=planned,
            quiet_lost=given,
        )
    finally:
        if not given:
            try:
                lease.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 - an unreleased lease expires by itself
                logging.getLogger("kravsync.lease").warning("%s: lease not released", tenant.name)


def _leased_cycle(
    tenant: TenantConfig,
    store: Store,
    *,
    clock: Clock,
    credentials: CredentialStore | None,
    progress: Progress | None,
    postcodes: Callable[[TenantConfig], PostcodeRegister | None],
    dry_run: bool,
    channel: MessageChannel | None,
    stop: threading.Event | None,
    full: bool,
    planned: Callable[[CycleResult], None] | None,
    quiet_lost: bool = False,
) -> CycleResult:
    push = bool(tenant.push) and not dry_run
    before = _last_run_id(store, tenant.name)
    try:
        provider = build_provider(tenant, store, clock, credentials)
        if push and channel is None:
            channel = channel_for(tenant, clock)
    except LeaseLost as exc:
        return _lease_lost(tenant, store, before, exc, quiet=quiet_lost)
    except AuthError as exc:
        return _failed(tenant, store, auth_failure(tenant, exc))
    except (CredentialError, ProviderError, ChannelError) as exc:
        return _failed(tenant, store, str(exc))
    except Exception as exc:  # noqa: BLE001 - one tenant's failure never stops the others
        return _crashed(tenant, store, before, exc)
    try:
        return run_cycle(
            tenant,
            provider,
            store,
            clock=clock,
            postcodes=postcodes,
            progress=progress if progress is not None else LogProgress(tenant.name),
            push=push,
            channel=channel,
            stop=stop,
            full=full,
            planned=planned,
        )
    except LeaseLost as exc:
        return _lease_lost(tenant, store, before, exc, quiet=quiet_lost)
    except Exception as exc:  # noqa: BLE001 - one tenant's failure never stops the others
        return _crashed(tenant, store, before, exc)
    finally:
        try:
            provider.close()
        except Exception:  # noqa: BLE001 - closing a session must not turn ok into a crash
            pass


def channel_for(tenant: TenantConfig, clock: Clock) -> MessageChannel | None:
    """The tenant's own e-mail channel, when `[tenants.email]` is configured."""
    if tenant.email is None:
        return None
    return SmtpChannel(tenant.email, password_for(tenant.name, tenant.email), clock=clock)


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
    handler.addFilter(ScrubFilter())  # no secret and no person number reaches a log line
    root = logging.getLogger("kravsync")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    root.propagate = False
