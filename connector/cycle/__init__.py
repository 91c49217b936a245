"""One tenant's full cycle: pull → validate → plan (→ push, when the tenant allows it).

The stages, one module each: ``pull`` (provider pages → mapped records → the store, cursors),
``validate`` (customer data checks on the stored records → findings), ``plan`` (the reminder
policy on the stored invoices → decisions) and ``push`` (decisions → journalled actions → the
provider's route). The pure rules they apply live in ``connector.validation`` and
``connector.policy``; the routes in ``providers/<name>/push.py``.

For a provider whose lists lack facts (``providers.base.DetailReads``), the urgent detail reads
(tier 1, ``connector.cycle.backlog``) come right after the pull, the plan covers the invoices whose
facts are complete, and the backfill reads the rest within the cycle's budget afterwards."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from connector.clock import Clock
from connector.config import TenantConfig
from connector.cycle.approval import ApprovalGate
from connector.cycle.backlog import DetailResult
from connector.cycle.details import CycleDetails
from connector.cycle.plan import PlanContext
from connector.cycle.pull import SyncResult, pull
from connector.cycle.push import Pusher, PushReport
from connector.cycle.validate import CheckResult, check_tenant, postcode_register, registry_client
from connector.policy import Decision
from connector.render.progress import Progress
from connector.store import Store
from connector.validation import PostcodeRegister
from providers.base import MessageChannel, Provider

log = logging.getLogger("kravsync.cycle")


@dataclass
class CycleResult:
    sync: SyncResult
    checks: CheckResult | None = None
    decisions: list[Decision] = field(default_factory=list)
    pushed: PushReport | None = None
    details: list[DetailResult] = field(default_factory=list)
    held: bool = False  # another process holds the tenant's lease: nothing was done
    lost: bool = False  # the lease was taken over mid-cycle: nothing more was written

    @property
    def ok(self) -> bool:
        return self.sync.ok

    @property
    def actions(self) -> list[Decision]:
        return [d for d in self.decisions if d.action is not None]

    def summary(self) -> str:
        line = self.sync.summary()
        if self.ok and self.checks is not None:
            line += f"; {self.checks.findings} findings ({self.checks.errors} errors)"
            line += f"; {len(self.actions)} actions planned"
            if self.details:
                line += f"; {self.checks.coverage()}"
        for detail in self.details:
            line += f"; {detail.summary()}"
        if self.pushed is not None:
            line += f"; pushed: {self.pushed.summary()}"
        return line


def run_cycle(
    tenant: TenantConfig,
    provider: Provider,
    store: Store,
    *,
    clock: Clock,
    postcodes: Callable[[TenantConfig], PostcodeRegister | None] = postcode_register,
    progress: Progress | None = None,
    push: bool = False,
    channel: MessageChannel | None = None,
    stop: threading.Event | None = None,
    full: bool = False,
    planned: Callable[[CycleResult], None] | None = None,
) -> CycleResult:
    """``push``: deliver the plan (the caller has checked the tenant's ``push`` setting and
    ``--dry-run``); otherwise the cycle only plans. ``full``: read every missing detail in this
    cycle (``sync --full``). ``planned(result)`` is told as soon as the plan stands, before
    the backfill."""
    today = clock.today()
    synced = pull(tenant, provider, store, progress=progress, clock=clock, stop=stop)
    result = CycleResult(sync=synced)
    if not synced.ok:
        return result  # nothing new to check or plan on; the stored state stays as it was
    store.snapshot_receivables(tenant.name, today)  # the console's DSO per month
    details = CycleDetails.start(tenant, provider, store, today, progress=progress, stop=stop)
    if details is not None and not details.first_tier(result):
        return result  # the urgent reads failed: no plan on incomplete facts
    result.checks = _check(tenant, store, clock, postcodes, details)
    for note in result.checks.notes:
        log.warning("%s: %s", tenant.name, note)
    if synced.run_id is not None:
        store.set_run_notes(synced.run_id, result.checks.notes)
    context = PlanContext.load(tenant, store, today)
    open_invoices = store.invoices(tenant.name, open_only=True)
    if details is not None:
        result.decisions = details.plan(context, open_invoices)
    else:
        result.decisions = context.plan(list(open_invoices))
    if push:
        pusher = Pusher(
            tenant=tenant,
            provider=provider,
            store=store,
            today=today,
            replan=context.decide,
            channel=channel,
            stop=stop,
            gate=ApprovalGate.load(store, tenant.name) if tenant.push == "approve" else None,
        )
        result.pushed = pusher.run(result.decisions)
        log.info("%s: push: %s", tenant.name, result.pushed.summary())
    if planned is not None:
        planned(result)
    if details is not None and details.backfill(result, full=full):
        result.checks = _check(tenant, store, clock, postcodes, details)  # the new coverage
    return result


def _check(
    tenant: TenantConfig,
    store: Store,
    clock: Clock,
    postcodes: Callable[[TenantConfig], PostcodeRegister | None],
    details: CycleDetails | None,
) -> CheckResult:
    return check_tenant(
        tenant,
        store,
        today=clock.today(),
        postcodes=postcodes(tenant),
        registry=registry_client(tenant, store, clock),
        waiting=details.waiting() if details is not None else None,
    )
