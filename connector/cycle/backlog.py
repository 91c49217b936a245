"""Detail reads in order of urgency, for providers whose lists lack facts (shared machinery).

A provider that implements ``providers.base.DetailReads`` says which listed records lack facts
and how to read one in full; this module decides when. After the list pulls, the flagged
records wait in the store's backlog (``connector.store.details``):

- tier 1, read at once in every cycle: customers with overdue invoices (oldest overdue first)
  and overdue invoices whose next stage is due (for the reminders the list does not show);
- tier 2: customers with open, not yet due invoices, then the other open invoices;
- tier 3: everyone else.

Tiers 2 and 3 are the backfill: read within a request budget per cycle (``budget_for``), so a
new company's first sync plans its overdue invoices in minutes and reads the rest over later
cycles without starving the daily work. The backlog lives in the store: a restart carries on
where it stood. A record is complete once read; until then the plan lists its invoices as
"waiting for details" and the data-quality checks count it as not yet checked — never a guess.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

from connector.config import TenantConfig
from connector.models import Customer, Invoice
from connector.policy import Decision, Outcome
from connector.render.progress import Phase, Progress
from connector.store import Store
from mappings.errors import MappingError
from providers.base import DetailReads, Provider, RecordError
from providers.http import ClientError

log = logging.getLogger("kravsync.details")

CUSTOMER, INVOICE = "customer", "invoice"
# Reads in flight at once: the provider's limiter still caps the rate; this hides latency
# (at ~200 ms a request, one at a time would reach 5 req/s at best).
WORKERS = 4
CHUNK = 100  # reads stored (and the backlog shortened) per commit
# Default backfill budget: this share of what the rate limit allows in one cycle interval.
DEFAULT_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Item:
    kind: str  # CUSTOMER | INVOICE
    provider_id: str


@dataclass
class DetailResult:
    name: str
    read: int = 0
    proven: int = 0  # shown complete by a cheaper way than a read each
    failed: list[RecordError] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    left: int = 0  # backlog size afterwards
    stopped: bool = False

    def summary(self) -> str:
        parts = [f"{self.read} read"]
        if self.proven:
            parts.append(f"{self.proven} proven complete from the list")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        parts.append(f"{self.requests} requests in {self.seconds:.0f} s")
        parts.append(f"{self.left} left")
        return f"{self.name}: " + ", ".join(parts)


def detail_reads(provider: Provider) -> DetailReads | None:
    return provider if isinstance(provider, DetailReads) else None


def mark_listed(
    store: Store, tenant: str, provider: Provider, kind: str, records: Sequence[Customer | Invoice]
) -> None:
    """After a list batch is stored: queue what the provider flags, unqueue what is complete."""
    reads = detail_reads(provider)
    if reads is None:
        return
    wanted = [r.provider_id for r in records if reads.needs_detail(r)]
    store.queue_details(tenant, kind, wanted)
    flagged = set(wanted)
    store.clear_details(tenant, kind, (r.provider_id for r in records if r.provider_id not in flagged))


def budget_for(tenant: TenantConfig, provider: DetailReads, *, full: bool) -> int | None:
    """Backfill reads allowed this cycle: all (None) with ``sync --full``; else the tenant's
    ``detail_reads_per_cycle``; else half of what the rate limit allows in one interval."""
    if full:
        return None
    if tenant.detail_reads_per_cycle is not None:
        return tenant.detail_reads_per_cycle
    per_cycle = provider.requests_per_second * tenant.interval_minutes * 60
    return max(1, int(per_cycle * DEFAULT_SHARE))


@dataclass(frozen=True)
class Backlog:
    customers: dict[str, int]  # provider id -> failed attempts
    invoices: dict[str, int]

    @classmethod
    def load(cls, store: Store, tenant: str) -> Backlog:
        found = store.detail_backlog(tenant)
        return cls(found.get(CUSTOMER, {}), found.get(INVOICE, {}))

    @property
    def total(self) -> int:
        return len(self.customers) + len(self.invoices)

    def waits(self, invoice: Invoice) -> bool:
        return invoice.provider_id in self.invoices or (
            invoice.customer_id is not None and invoice.customer_id in self.customers
        )


def _number_key(value: str) -> tuple[int, int | str]:
    return (0, int(value)) if value.isdigit() else (1, value)


def order(
    store: Store,
    tenant: str,
    today: date,
    stage_due: Callable[[Sequence[Invoice]], set[str]],
) -> tuple[list[Item], list[Item]]:
    """(tier 1, tiers 2 and 3) of the backlog, each in reading order.

    ``stage_due(invoices)``: ids of those whose next stage is due today on their listed facts
    (the policy decides; the list's facts are only used to order reads, never to act)."""
    backlog = Backlog.load(store, tenant)
    if not backlog.total:
        return [], []
    oldest_overdue: dict[str, date] = {}
    earliest_open: dict[str, date] = {}
    queued_invoices: list[Invoice] = []
    for inv in store.invoices(tenant, open_only=True):
        cid = inv.customer_id
        if inv.due_date < today:
            if cid is not None and inv.due_date < oldest_overdue.get(cid, date.max):
                oldest_overdue[cid] = inv.due_date
        elif cid is not None and inv.due_date < earliest_open.get(cid, date.max):
            earliest_open[cid] = inv.due_date
        if inv.provider_id in backlog.invoices:
            queued_invoices.append(inv)
    # Invoices closed since they were queued need nothing more.
    still_open = {i.provider_id for i in queued_invoices}
    store.clear_details(tenant, INVOICE, [i for i in backlog.invoices if i not in still_open])

    overdue = [i for i in queued_invoices if i.due_date < today]
    due_now = stage_due(overdue) if overdue else set()
    first: list[tuple[date, int, tuple[int, int | str], Item]] = []
    rest: list[tuple[int, date, tuple[int, int | str], Item]] = []
    for cid in backlog.customers:
        item = Item(CUSTOMER, cid)
        if cid in oldest_overdue:
            first.append((oldest_overdue[cid], 0, _number_key(cid), item))
        elif cid in earliest_open:
            rest.append((2, earliest_open[cid], _number_key(cid), item))
        else:
            rest.append((4, date.min, _number_key(cid), item))
    for inv in queued_invoices:
        item = Item(INVOICE, inv.provider_id)
        key = _number_key(inv.provider_id)
        if inv.provider_id in due_now:
            first.append((inv.due_date, 1, key, item))
        else:
            rest.append((3, inv.due_date, key, item))
    first.sort(key=lambda t: t[:3])
    rest.sort(key=lambda t: t[:3])
    return [t[-1] for t in first], [t[-1] for t in rest]


class DetailReader:
    """Reads backlog items in full, a few in flight, storing each chunk as it completes."""

    def __init__(
        self,
        tenant: TenantConfig,
        provider: Provider,
        store: Store,
        *,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        reads = detail_reads(provider)
        if reads is None:
            raise TypeError(f"provider {provider.name!r} has no detail reads")
        self.tenant, self.provider, self.reads, self.store = tenant, provider, reads, store
        self.progress, self.stop = progress, stop

    def _requests(self) -> int:
        return int(getattr(self.provider, "requests_sent", 0))

    def run(self, name: str, items: Sequence[Item], budget: int | None = None) -> DetailResult:
        """Read ``items`` in order, at most ``budget`` of them (None: all)."""
        started, sent = time.monotonic(), self._requests()
        result = DetailResult(name)
        items = self._prove(items, result)
        todo = list(items if budget is None else items[: max(budget, 0)])
        phase = None
        if self.progress is not None and (todo or result.proven):
            phase = self.progress.phase(name, total=len(todo), unit="reads")
        try:
            with ThreadPoolExecutor(WORKERS, thread_name_prefix="detail") as pool:
                for start in range(0, len(todo), CHUNK):
                    if self.stop is not None and self.stop.is_set():
                        result.stopped = True
                        break
                    chunk = todo[start : start + CHUNK]
                    self._store(chunk, list(pool.map(lambda i: self._one(i, phase), chunk)), result)
        finally:
            result.requests = self._requests() - sent
            result.seconds = time.monotonic() - started
            result.left = Backlog.load(self.store, self.tenant.name).total
            if phase is not None:
                phase.close(result.summary())
        return result

    def _prove(self, items: Sequence[Item], result: DetailResult) -> list[Item]:
        """Let the provider prove listed invoices complete more cheaply than a read each."""
        wanted = [i.provider_id for i in items if i.kind == INVOICE]
        if not wanted:
            return list(items)
        invoices = [
            inv for inv in (self.store.invoice(self.tenant.name, i) for i in wanted) if inv
        ]
        proven = self.reads.confirm_complete(INVOICE, invoices)
        if not proven:
            return list(items)
        self.store.clear_details(self.tenant.name, INVOICE, proven)
        result.proven = len(proven)
        return [i for i in items if not (i.kind == INVOICE and i.provider_id in proven)]

    def _one(self, item: Item, phase: Phase | None) -> Customer | Invoice | RecordError:
        try:
            return self.reads.read_detail(item.kind, item.provider_id)
        except ClientError as exc:  # gone (404) or refused: reported, kept in the backlog
            return RecordError(item.kind, item.provider_id, str(exc))
        except MappingError as exc:
            return RecordError(item.kind, exc.record_id, exc.message)
        finally:
            if phase is not None:
                phase.advance()

    def _store(
        self,
        chunk: Sequence[Item],
        answers: Iterable[Customer | Invoice | RecordError],
        result: DetailResult,
    ) -> None:
        name = self.tenant.name
        customers: list[Customer] = []
        invoices: list[Invoice] = []
        for item, answer in zip(chunk, answers, strict=True):
            if isinstance(answer, RecordError):
                result.failed.append(answer)
                self.store.detail_failed(name, item.kind, item.provider_id, answer.message)
                log.warning("%s: detail read failed: %s", name, answer)
            elif isinstance(answer, Customer):
                customers.append(answer)
            else:
                invoices.append(answer)
        if customers:
            self.store.upsert_customers(name, customers)
            self.store.clear_details(name, CUSTOMER, (c.provider_id for c in customers))
        if invoices:
            self.store.upsert_invoices(name, invoices)
            self.store.clear_details(name, INVOICE, (i.provider_id for i in invoices))
        result.read += len(customers) + len(invoices)


def plan_complete(
    plan: Callable[[list[Invoice]], list[Decision]], store: Store, tenant: str, invoices: Iterable[Invoice]
) -> list[Decision]:
    """``plan`` for the invoices whose facts are complete; the others are listed as waiting
    for details, with how many reads are left, and never decided on the list's facts."""
    backlog = Backlog.load(store, tenant)
    if not backlog.total:
        return plan(list(invoices))
    complete: list[Invoice] = []
    waiting: list[Invoice] = []
    for inv in invoices:
        (waiting if backlog.waits(inv) else complete).append(inv)
    decisions = plan(complete)
    for inv in waiting:
        missing = []
        if inv.customer_id in backlog.customers:
            missing.append(f"customer {inv.customer_number or inv.customer_id}")
        if inv.provider_id in backlog.invoices:
            missing.append("the invoice")
        decisions.append(
            Decision(
                inv,
                Outcome.WAITING_FOR_DETAILS,
                f"waiting for details ({backlog.total} left): {' and '.join(missing)} not read yet",
            )
        )
    return decisions


def waiting_customers(store: Store, tenant: str) -> set[str]:
    return set(Backlog.load(store, tenant).customers)


def stage_due_ids(decisions: Iterable[Decision]) -> set[str]:
    """Invoices whose next stage is due today (sent or blocked), by provider id."""
    due = (Outcome.ACTION, Outcome.BLOCKED)
    return {d.invoice.provider_id for d in decisions if d.outcome in due}
