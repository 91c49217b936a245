"""The reminder engine: one pure function from an invoice's current facts to its next step.

Rules are tried in order and the first that matches decides (closed → fee invoice → second
sender → handed over → not overdue → time-barred → below minimum → on hold → ladder). The ladder works out the
next stage from the actions already taken (``TakenAction``), so nothing but taken actions is
ever stored. No clock, no I/O: ``today`` and every fact come in as arguments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from connector.models import (
    ActionStage,
    Customer,
    CustomerKind,
    Invoice,
    InvoiceStatus,
    Note,
    ReminderAction,
)
from connector.policy.calendar import (
    add_business_days,
    closed_reason,
    deferred_due_date,
    is_business_day,
    next_business_day,
)
from connector.policy.charges import ZERO, compensation, fee, interest_factor, round_money
from connector.policy.history import TakenAction
from connector.policy.holds import active_holds
from connector.policy.interest_start import interest_start, invoice_sent_on
from connector.policy.rules import CountryRules, rules_for
from connector.policy.settings import Agreement, PolicySettings
from connector.policy.timebar import time_bar, time_bar_warning

# Codes of error-severity findings on a customer: bare (they block the tenant's blocking_stages)
# or per stage, as connector.validation's rules say which stage each code blocks.
Blocking = Sequence[str] | Mapping[ActionStage, Sequence[str]]

_DAY = timedelta(days=1)
REMINDER, NOTICE, HANDOVER = (
    ActionStage.REMINDER,
    ActionStage.COLLECTION_NOTICE,
    ActionStage.HANDOVER,
)


class Outcome(StrEnum):
    ACTION = "action"
    CLOSED = "closed"
    SECOND_SENDER = "second_sender"
    HANDED_OVER = "handed_over"
    NOT_OVERDUE = "not_overdue"
    TIME_BARRED = "time_barred"
    BELOW_MINIMUM = "below_minimum"
    FEE_INVOICE = "fee_invoice"  # a fee or compensation invoice: never dunned on its own
    ON_HOLD = "on_hold"
    WAITING = "waiting"
    BLOCKED = "blocked"
    LADDER_DONE = "ladder_done"
    # Not decided: the provider's list lacks facts a detail read brings (connector.cycle.backlog).
    WAITING_FOR_DETAILS = "waiting_for_details"


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer for one invoice: an action, or the reason there is none."""

    invoice: Invoice
    outcome: Outcome
    reason: str
    action: ReminderAction | None = None
    next_date: date | None = None  # when waiting or on hold: the day things may move
    warnings: tuple[str, ...] = ()
    stage: ActionStage | None = None  # the stage due or waited for, if any

    @property
    def has_action(self) -> bool:
        return self.action is not None


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: one per settings × country
class _Policy:
    """PolicySettings with the country's defaults filled in, as plain values."""

    country: str
    rules: CountryRules
    settings: PolicySettings
    stages: frozenset[ActionStage]
    reminders: int
    reminder_after: int
    reminder_deadline: int
    notice_after_reminder: int
    notice_after_due: int
    notice_deadline: int
    handover_after: int
    grace: int
    compensation_stage: ActionStage
    time_bar_quiet_days: int  # claims younger than this are far from any time bar
    _terms: dict[str | None, tuple[Agreement, Agreement]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def terms(self, number: str | None) -> tuple[Agreement, Agreement]:
        """(due dates agreed, reminder fee agreed) for one customer number, memoised."""
        found = self._terms.get(number)
        if found is None:
            s = self.settings
            found = (
                s.agreement("due_dates_agreed", number),
                s.agreement("reminder_fee_agreed", number),
            )
            self._terms[number] = found
        return found


_POLICIES: dict[tuple[int, int], tuple[PolicySettings, CountryRules, _Policy]] = {}


def _policy(settings: PolicySettings, country: str, rules: CountryRules | None) -> _Policy:
    """Resolved once per settings object and rules (keyed by identity: hashing a pydantic model
    on every ``decide`` call would cost more than the decision). ``rules``: the country's rules
    with figures kept current (connector.policy.rates); None: the built-in ones."""
    rules = rules if rules is not None else rules_for(country)
    if rules.country != country.upper():
        raise ValueError(f"rules for {rules.country} given for country {country}")
    found = _POLICIES.get((id(settings), id(rules)))
    if found is not None and found[0] is settings and found[1] is rules:
        return found[2]
    if len(_POLICIES) > 256:
        _POLICIES.clear()
    pol = _make_policy(settings, rules)
    _POLICIES[(id(settings), id(rules))] = (settings, rules, pol)
    return pol


def _make_policy(settings: PolicySettings, rules: CountryRules) -> _Policy:
    country = rules.country
    s = settings.with_defaults(country)
    letters = [x for x in s.stages if x is not HANDOVER]
    comp_stage = s.compensation_stage if s.compensation_stage in letters else None
    if comp_stage is None:
        comp_stage = letters[-1] if letters else NOTICE
    assert s.reminder_after_days is not None and s.reminder_deadline_days is not None
    assert s.notice_after_reminder_days is not None and s.notice_after_due_days is not None
    assert s.notice_deadline_days is not None
    return _Policy(
        country=rules.country,
        rules=rules,
        settings=s,
        stages=frozenset(s.stages),
        reminders=s.reminders,
        reminder_after=s.reminder_after_days,
        reminder_deadline=s.reminder_deadline_days,
        notice_after_reminder=s.notice_after_reminder_days,
        notice_after_due=s.notice_after_due_days,
        notice_deadline=s.notice_deadline_days,
        handover_after=s.handover_after_deadline_days,
        grace=s.grace_days,
        compensation_stage=comp_stage,
        time_bar_quiet_days=_quiet_days(rules, s.time_bar_warning_days),
    )


def _quiet_days(rules: CountryRules, window: int) -> int:
    """A claim younger than this many days cannot be inside the time-bar warning window: the
    shortest period in the tables, counted as 365-day years (never longer than the calendar)."""
    years = [
        p.value
        for t in (rules.time_bar_years_business, rules.time_bar_years_consumer)
        for p in t.periods
        if p.value is not None
    ]
    return max(0, min(years) * 365 - window - 1)


def decide(
    invoice: Invoice,
    *,
    tenant: str,
    country: str,
    settings: PolicySettings,
    today: date,
    customer: Customer | None = None,
    history: Sequence[TakenAction] = (),
    notes: Iterable[Note] = (),
    blocking: Blocking = (),
    rules: CountryRules | None = None,
) -> Decision:
    """The next action for ``invoice`` on ``today``, or the reason there is none.

    ``history``: actions kravsync already took on this invoice (any order); ``notes``: the notes
    on this invoice or its customer; ``blocking``: codes of error-severity findings on the
    customer (they block the stages in ``settings.blocking_stages``); ``rules``: the country's
    rules with current figures (default: the built-in tables).
    """
    return _decide(
        invoice,
        tenant,
        _policy(settings, country, rules),
        today,
        customer,
        history,
        notes,
        blocking,
    )


def plan(
    invoices: Iterable[Invoice],
    *,
    tenant: str,
    country: str,
    settings: PolicySettings,
    today: date,
    customers: Mapping[str, Customer] | None = None,
    history: Mapping[str, Sequence[TakenAction]] | None = None,
    notes: Iterable[Note] = (),
    blocking: Mapping[str, Blocking] | None = None,
    rules: CountryRules | None = None,
) -> list[Decision]:
    """``decide`` for every invoice of one tenant. ``customers`` and ``blocking`` are keyed by
    customer provider id, ``history`` by invoice provider id; ``notes`` are indexed here."""
    pol = _policy(settings, country, rules)
    customers = customers or {}
    history = history or {}
    blocking = blocking or {}
    by_invoice: dict[str, list[Note]] = defaultdict(list)
    by_customer: dict[str, list[Note]] = defaultdict(list)
    for note in notes:
        if note.invoice_id is not None:
            by_invoice[note.invoice_id].append(note)
        elif note.customer_id is not None:
            by_customer[note.customer_id].append(note)
    out: list[Decision] = []
    for inv in invoices:
        cid = inv.customer_id
        inv_notes = by_invoice.get(inv.provider_id, [])
        if cid is not None and cid in by_customer:
            inv_notes = inv_notes + by_customer[cid]
        out.append(
            _decide(
                inv,
                tenant,
                pol,
                today,
                customers.get(cid) if cid is not None else None,
                history.get(inv.provider_id, ()),
                inv_notes,
                blocking.get(cid, ()) if cid is not None else (),
            )
        )
    return out


# -- the rules, in order ---------------------------------------------------------------------


def _decide(
    inv: Invoice,
    tenant: str,
    pol: _Policy,
    today: date,
    customer: Customer | None,
    history: Sequence[TakenAction],
    notes: Iterable[Note],
    blocking: Blocking,
) -> Decision:
    rules = pol.rules
    if inv.status is not InvoiceStatus.OPEN or inv.outstanding <= 0 or not inv.booked:
        if inv.status is not InvoiceStatus.OPEN:
            state = inv.status.value
        else:
            state = "not booked" if not inv.booked else "nothing outstanding"
        return Decision(inv, Outcome.CLOSED, f"not open ({state})")
    if inv.is_fee_invoice:
        return Decision(inv, Outcome.FEE_INVOICE, _fee_invoice_reason(inv))
    hist = tuple(sorted(history, key=_order)) if history else ()

    second = _second_sender(inv, hist)
    if second:
        return Decision(inv, Outcome.SECOND_SENDER, second, warnings=(second,))
    for h in hist:
        if h.stage is HANDOVER:
            return Decision(inv, Outcome.HANDED_OVER, f"handed over to collection on {h.sent_on}")
    due = deferred_due_date(pol.country, inv.due_date)
    if today <= due:
        moved = f", moved to {due}: {_due_move(pol, inv.due_date)}" if due != inv.due_date else ""
        return Decision(inv, Outcome.NOT_OVERDUE, f"not overdue (due {inv.due_date}{moved})")

    warnings: list[str] = []
    if (today - min(inv.issue_date, inv.due_date)).days >= pol.time_bar_quiet_days:
        bar = time_bar(inv, customer, hist, rules)
        bar_warning = time_bar_warning(bar, today, pol.settings.time_bar_warning_days)
        if bar_warning:
            warnings.append(bar_warning)
            if bar.barred(today):
                return Decision(inv, Outcome.TIME_BARRED, bar_warning, warnings=tuple(warnings))

    minimum, minimum_why = _minimum(pol, inv, today)
    if inv.outstanding < minimum:
        return Decision(
            inv,
            Outcome.BELOW_MINIMUM,
            f"below minimum amount: {inv.outstanding} {inv.currency} is under "
            f"{minimum}{minimum_why}",
            warnings=tuple(warnings),
        )

    holds = active_holds(notes, today, pol.grace) if notes else []
    if holds:
        return Decision(
            inv,
            Outcome.ON_HOLD,
            "on hold: " + holds[0].describe(),
            next_date=holds[0].resumes_on,
            warnings=tuple(warnings),
        )

    step = _next_step(due, hist, pol)
    if isinstance(step, str):
        return Decision(inv, Outcome.LADDER_DONE, step, warnings=tuple(warnings))
    stage, sequence, earliest, why = step
    name = rules.stage_names[stage]
    if isinstance(blocking, Mapping):  # per stage, as the validation rules say
        blocked = list(blocking.get(stage, ()))
    else:  # bare codes: they block the tenant's blocking_stages
        blocked = list(blocking) if stage in pol.settings.blocking_stages else []

    planned = next_business_day(pol.country, earliest)
    if today < planned or not is_business_day(pol.country, today):
        if today >= planned:
            planned = next_business_day(pol.country, today)
            why = f"today is not a business day ({closed_reason(pol.country, today)})"
        if blocked:
            warnings.append(f"{name} due on {planned} will be blocked: {', '.join(blocked)}")
        return Decision(
            inv,
            Outcome.WAITING,
            f"waiting: {why}; {name} on {planned}",
            next_date=planned,
            warnings=tuple(warnings),
            stage=stage,
        )
    if blocked:
        return Decision(
            inv,
            Outcome.BLOCKED,
            f"blocked: {', '.join(blocked)} (cannot send {name})",
            warnings=tuple(warnings),
            stage=stage,
        )

    action = _action(inv, tenant, pol, today, customer, hist, stage, sequence, why)
    charged = action.fee + action.compensation
    if pol.settings.minimum_amount is None and inv.outstanding < charged:
        return Decision(
            inv,
            Outcome.BELOW_MINIMUM,
            f"below minimum amount: {inv.outstanding} {inv.currency} is less than the "
            f"{charged} the {name} would charge (no fee letter for a balance smaller than its "
            "fee; minimum_amount = 0 reminds every balance)",
            warnings=tuple(warnings),
            stage=stage,
        )
    return Decision(
        inv, Outcome.ACTION, action.reason, action=action, warnings=tuple(warnings), stage=stage
    )


def _fee_invoice_reason(inv: Invoice) -> str:
    of = f" for invoice id {inv.fee_for}" if inv.fee_for else ""
    return (
        f"a fee invoice{of}: never reminded and never charged a fee or interest of its own; "
        "its open amount rides along on the original invoice's next letter"
    )


def _minimum(pol: _Policy, inv: Invoice, today: date) -> tuple[Decimal, str]:
    """The balance below which no letter goes out, and why (empty when set by hand)."""
    if pol.settings.minimum_amount is not None:
        return pol.settings.minimum_amount, ""
    if inv.currency != pol.rules.currency:
        return ZERO, ""
    cap = pol.rules.reminder_fee_cap.at(today).value
    if cap is None:  # the figure is not known for that day: no floor but the fee check
        return ZERO, ""
    return cap, f" (default: the statutory reminder fee {cap} {pol.rules.currency} that day)"


def _due_move(pol: _Policy, due: date) -> str:
    return f"{due} is {closed_reason(pol.country, due)} ({pol.rules.due_date_rule})"


def _order(h: TakenAction) -> tuple[date, int]:
    return h.sent_on, h.sequence


def _second_sender(inv: Invoice, hist: Sequence[TakenAction]) -> str | None:
    if inv.handled_by:
        return f"already handled by {inv.handled_by}: kravsync does not remind"
    foreign = [d for d in inv.dispatches if d.kind == "reminder"]
    if foreign:
        ours = {h.sent_on for h in hist}
        foreign = [d for d in foreign if d.on not in ours]
    if foreign:
        d = foreign[-1]
        return f"the accounting system sent its own reminder on {d.on} ({d.channel}): not double-dunning"
    letters = sum(1 for h in hist if h.is_letter) if inv.reminders_sent else 0
    if inv.reminders_sent and inv.reminders_sent > letters:
        return (
            f"the accounting system counts {inv.reminders_sent} reminders, kravsync sent "
            f"{letters}: not double-dunning"
        )
    return None


def _after_deadline(h: TakenAction, pol: _Policy) -> date:
    """First day after a letter's payment deadline plus the bank-lag grace."""
    return (h.deadline or h.sent_on) + timedelta(days=pol.grace + 1)


@lru_cache(maxsize=65536)
def _next_step(
    due: date, hist: tuple[TakenAction, ...], pol: _Policy
) -> tuple[ActionStage, int, date, str] | str:
    """(stage, sequence, earliest day, why then) of the next stage, or why the ladder is done."""
    reminders = [h for h in hist if h.stage is REMINDER]
    notices = [h for h in hist if h.stage is NOTICE]
    first_ok = due + timedelta(days=pol.grace + 1)
    if REMINDER in pol.stages and not notices and len(reminders) < pol.reminders:
        if not reminders:
            day = max(due + timedelta(days=pol.reminder_after), first_ok)
            return REMINDER, 1, day, f"reminder {pol.reminder_after} days after due date {due}"
        last = reminders[-1]
        return (
            REMINDER,
            len(reminders) + 1,
            _after_deadline(last, pol),
            (f"reminder deadline {last.deadline} (+{pol.grace} grace days)"),
        )
    if NOTICE in pol.stages and not notices:
        if reminders:
            last = reminders[-1]
            day = max(
                last.sent_on + timedelta(days=pol.notice_after_reminder), _after_deadline(last, pol)
            )
            return NOTICE, 1, day, f"reminder deadline {last.deadline} (+{pol.grace} grace days)"
        day = max(due + timedelta(days=pol.notice_after_due), first_ok)
        return NOTICE, 1, day, f"notice {pol.notice_after_due} days after due date {due}"
    if HANDOVER in pol.stages:
        letters = [h for h in hist if h.is_letter]
        if letters:
            last = letters[-1]
            wait = max(pol.handover_after, pol.grace)
            day = (last.deadline or last.sent_on) + timedelta(days=wait + 1)
            kind = pol.rules.stage_names[last.stage]
            return HANDOVER, 1, day, f"{kind} deadline {last.deadline} passed unpaid (+{wait} days)"
        if not (pol.stages - {HANDOVER}):
            day = max(due + timedelta(days=pol.handover_after + 1), first_ok)
            return HANDOVER, 1, day, f"handover after due date {due}"
    return "ladder complete: no further stage in the policy"


@dataclass(frozen=True, slots=True)
class _Letter:
    """Everything about a letter that does not depend on the amount (memoised: invoices that
    share due date, history and customer kind share it)."""

    deadline: date | None
    fee: Decimal
    compensation: Decimal
    head: str
    interest: tuple[Decimal, str, tuple[str, ...]] | None
    interest_why: str
    tail: str


def _action(
    inv: Invoice,
    tenant: str,
    pol: _Policy,
    today: date,
    customer: Customer | None,
    hist: tuple[TakenAction, ...],
    stage: ActionStage,
    sequence: int,
    why: str,
) -> ReminderAction:
    kind = customer.kind if customer is not None else None
    number = inv.customer_number or (customer.number if customer is not None else None)
    due_agreed, fee_agreed = pol.terms(number)
    sent = invoice_sent_on(inv) if inv.dispatches else None
    letter = _letter(
        pol,
        today,
        inv.due_date,
        sent,
        due_agreed,
        fee_agreed,
        inv.currency,
        kind,
        hist,
        stage,
        sequence,
        why,
    )
    amount_interest = ZERO
    reason = letter.head
    if letter.interest is not None:
        factor, detail, _ = letter.interest
        amount_interest = round_money(inv.outstanding * factor)
        reason += f"; interest {amount_interest} on {inv.outstanding}: {detail}"
    reason += letter.interest_why
    return ReminderAction(
        tenant=tenant,
        invoice_id=inv.provider_id,
        invoice_number=inv.number,
        customer_id=inv.customer_id,
        customer_number=inv.customer_number,
        stage=stage,
        sequence=sequence,
        planned_on=today,
        deadline=letter.deadline,
        fee=letter.fee,
        interest=amount_interest,
        compensation=letter.compensation,
        currency=inv.currency,
        outstanding=inv.outstanding,
        reason=reason + letter.tail,
    )


@lru_cache(maxsize=65536)
def _letter(
    pol: _Policy,
    today: date,
    original_due: date,
    invoice_sent: date | None,
    due_agreed: Agreement,
    fee_agreed: Agreement,
    currency: str,
    kind: CustomerKind | None,
    hist: tuple[TakenAction, ...],
    stage: ActionStage,
    sequence: int,
    why: str,
) -> _Letter:
    rules, s = pol.rules, pol.settings
    due = deferred_due_date(pol.country, original_due)
    start = interest_start(
        rules,
        due=original_due,
        deferred=due,
        agreed=due_agreed,
        demand=s.interest_demand,
        invoice_sent=invoice_sent,
        history=hist,
        sending_on=today,
    )
    head = [f"{rules.stage_names[stage]} ({rules.country}) #{sequence}: {why}"]
    if due != original_due:
        head.append(f"due date {original_due} counts as {due}: {_due_move(pol, original_due)}")
    deadline: date | None = None
    if stage is not HANDOVER:
        deadline, text = _deadline(pol, stage, today)
        head.append(text)
    tail: list[str] = []
    factor = interest_factor(rules, start.first_day, today) if s.interest else None
    interest_why = ""
    if s.interest:
        interest_why = f"; {start.why}" if factor is not None else f"; no interest yet: {start.why}"
    if factor is not None:
        tail.extend(factor[2])
    comp, comp_text, compensated = compensation(
        stage,
        due,
        currency,
        kind,
        hist,
        rules,
        enabled=s.b2b_compensation,
        on_stage=pol.compensation_stage,
        sent_on=today,
        interest_from=start.first_day,
    )
    if comp_text:
        tail.append(comp_text)
    amount_fee, fee_text = fee(
        stage,
        today,
        due,
        currency,
        hist,
        s.reminder_fee if stage is REMINDER else s.notice_fee,
        fees_on=s.fees,
        reminder_fee_agreed=fee_agreed,
        compensated=compensated,
        rules=rules,
    )
    if fee_text:
        tail.append(fee_text)
    return _Letter(
        deadline=deadline,
        fee=amount_fee,
        compensation=comp,
        head="; ".join(head),
        interest=factor,
        interest_why=interest_why,
        tail="".join(f"; {t}" for t in tail),
    )


@lru_cache(maxsize=4096)
def _deadline(pol: _Policy, stage: ActionStage, today: date) -> tuple[date, str]:
    """The payment deadline of a letter sent ``today`` (a business day), with its wording."""
    rules = pol.rules
    days = pol.reminder_deadline if stage is REMINDER else pol.notice_deadline
    rule = ""
    if stage is NOTICE:
        legal = rules.notice_min_deadline_days.at(today)
        if legal.value is not None and days < legal.value:
            days = legal.value  # never below the law, even for an unchecked policy
        rule = f" ({legal.source})"
    raw = today + timedelta(days=days)
    deadline = next_business_day(pol.country, raw)
    text = f"deadline {days} days{rule}: {deadline}"
    if deadline != raw:
        why = closed_reason(pol.country, raw)
        text = f"deadline {days} days{rule}: {raw} is {why}, moved to {deadline}"
    if stage is NOTICE and rules.notice_min_bank_days_after_receipt is not None:
        deadline, text = _bank_days_after_receipt(pol, today, deadline, text)
    return deadline, text


def _bank_days_after_receipt(
    pol: _Policy, today: date, deadline: date, text: str
) -> tuple[date, str]:
    """SE: the deadline must also leave the debtor enough bank days after the letter's presumed
    receipt (IMY: 4), which matters over a long weekend."""
    rules = pol.rules
    assert rules.notice_min_bank_days_after_receipt is not None
    need = rules.notice_min_bank_days_after_receipt.at(today)
    if need.value is None:
        return deadline, text
    post = rules.presumed_delivery_bank_days.at(today) if rules.presumed_delivery_bank_days else None
    delivery = post.value if post is not None and post.value is not None else 0
    received = add_business_days(pol.country, today, delivery)
    earliest = add_business_days(pol.country, received, need.value)
    if deadline >= earliest:
        return deadline, text
    assumed = f" ({post.source})" if post is not None and delivery else ""
    return earliest, (
        f"{text}; that leaves fewer than {need.value} bank days after the presumed receipt on "
        f"{received}{assumed}: moved to {earliest} ({need.source})"
    )
