"""The detail reads' place in a cycle: tier 1 before the plan, the backfill after it.

``connector.cycle.backlog`` knows the backlog, the tiers and how to read; this module wires them into
``connector.cycle`` so the cycle's own code stays a few lines.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING

from connector.config import TenantConfig
from connector.cycle.backlog import (
    DetailReader,
    DetailResult,
    budget_for,
    detail_reads,
    order,
    plan_complete,
    stage_due_ids,
    waiting_customers,
)
from connector.cycle.plan import PlanContext
from connector.models import Invoice
from connector.policy import Decision
from connector.render.progress import Progress
from connector.store import Store
from providers.base import DetailReads, Provider
from providers.http import ProviderError

if TYPE_CHECKING:
    from connector.cycle import CycleResult

log = logging.getLogger("kravsync.details")


class CycleDetails:
    def __init__(
        self,
        tenant: TenantConfig,
        provider: Provider,
        reads: DetailReads,
        store: Store,
        today: date,
        *,
        progress: Progress | None,
        stop: threading.Event | None,
    ) -> None:
        self.tenant, self.provider, self.reads = tenant, provider, reads
        self.store, self.today = store, today
        self.reader = DetailReader(tenant, provider, store, progress=progress, stop=stop)

    @classmethod
    def start(
        cls,
        tenant: TenantConfig,
        provider: Provider,
        store: Store,
        today: date,
        *,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> CycleDetails | None:
        """None for a provider whose lists are complete (nothing to read)."""
        reads = detail_reads(provider)
        if reads is None:
            return None
        return cls(tenant, provider, reads, store, today, progress=progress, stop=stop)

    def first_tier(self, result: CycleResult) -> bool:
        """Read tier 1; False (and the cycle failed) when the provider failed us."""
        context = PlanContext.load(self.tenant, self.store, self.today)

        def due(invoices: Sequence[Invoice]) -> set[str]:
            return stage_due_ids(context.plan(list(invoices)))

        first, _ = order(self.store, self.tenant.name, self.today, due)
        try:
            done = self.reader.run("tier-1 details", first)
        except ProviderError as exc:
            self._failed(result, f"tier-1 detail reads: {exc}")
            return False
        self._record(result, done)
        return True

    def plan(self, context: PlanContext, invoices: Iterable[Invoice]) -> list[Decision]:
        return plan_complete(context.plan, self.store, self.tenant.name, invoices)

    def backfill(self, result: CycleResult, *, full: bool) -> bool:
        """Read tiers 2-3 within the budget; True when anything new is complete."""
        budget = budget_for(self.tenant, self.reads, full=full)
        if budget == 0:
            return False
        _, rest = order(self.store, self.tenant.name, self.today, lambda _invoices: set())
        if not rest:
            return False
        try:
            done = self.reader.run("backfill", rest, budget)
        except ProviderError as exc:  # the plan stands; the backfill goes on next cycle
            log.warning("%s: backfill stopped: %s", self.tenant.name, exc)
            return False
        self._record(result, done)
        return bool(done.read or done.proven)

    def waiting(self) -> set[str]:
        return waiting_customers(self.store, self.tenant.name)

    def _record(self, result: CycleResult, done: DetailResult) -> None:
        result.details.append(done)
        synced = result.sync
        synced.skipped.extend(done.failed)
        synced.requests = int(getattr(self.provider, "requests_sent", synced.requests))
        if synced.run_id is not None:
            for item in done.failed:
                self.store.record_error(synced.run_id, item.kind, item.record_id, item.message)
            self.store.execute(
                "UPDATE runs SET requests=?, skipped=? WHERE id=?",
                (synced.requests, len(synced.skipped), synced.run_id),
            )

    def _failed(self, result: CycleResult, message: str) -> None:
        synced = result.sync
        synced.ok, synced.error = False, message
        if synced.run_id is not None:
            self.store.execute(
                "UPDATE runs SET outcome='failed', error=? WHERE id=?", (message, synced.run_id)
            )
