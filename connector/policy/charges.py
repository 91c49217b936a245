"""Money on a letter: late-payment interest, the fee and the B2B compensation.

Each returns its amount and the words an auditor needs (which figure, from which rule, and why a
charge was left out). Amounts are Decimal; interest is rounded to øre/öre (ROUND_HALF_UP) once, at
the end; fees and compensation are whole kroner/kronor from the tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from connector.models import ActionStage, CustomerKind
from connector.policy.history import ZERO, TakenAction
from connector.policy.rules import CountryRules, rules_for
from connector.policy.settings import Agreement
from connector.policy.tables import percent

CENT = Decimal("0.01")
_DAY = timedelta(days=1)


# -- interest ---------------------------------------------------------------------------------


@lru_cache(maxsize=16384)
def _rate_days(
    rules: CountryRules, first: date, until: date
) -> tuple[Decimal, str, tuple[str, ...]]:
    """Σ(days × % rate) over ``first .. until``, split at every rate change, with its wording.
    Days without a usable rate accrue nothing, and a note says so."""
    table = rules.interest_rate
    total = ZERO
    parts: list[str] = []
    notes: list[str] = []
    sources: list[str] = []
    for start, end, look in table.segments(first, until):
        days = (end - start).days + 1
        if look.value is None:
            last = start - _DAY
            claimed = f"interest claimed to {last} only" if last >= first else "no interest"
            notes.append(f"{claimed}: {days} days from {start} not claimed, {look.note}")
            continue
        total += days * look.value
        parts.append(f"{percent(look.value)} × {days} d ({start}..{end})")
        if look.source not in sources:
            sources.append(look.source)
    detail = f"{table.name} {' + '.join(parts) or 'none'} (actual/{rules.interest_day_basis}"
    detail += f"; {' | '.join(sources)})" if sources else ")"
    return total / (100 * rules.interest_day_basis), detail, tuple(notes)


def interest_factor(
    rules: CountryRules, first: date, until: date
) -> tuple[Decimal, str, tuple[str, ...]] | None:
    """The factor that turns an amount into its interest for the days ``first`` to ``until``
    inclusive (each day at the rate in force that day, actual/``interest_day_basis``), with its
    wording and notes; None when no interest day has come."""
    if until < first:
        return None
    return _rate_days(rules, first, until)


def interest(
    outstanding: Decimal, first: date, until: date, rules: CountryRules
) -> tuple[Decimal, str, tuple[str, ...]]:
    """Simple interest on ``outstanding``, rounded once to øre/öre: amount, wording, notes."""
    found = interest_factor(rules, first, until)
    if found is None:
        return ZERO, "", ()
    factor, detail, notes = found
    amount = round_money(outstanding * factor)
    return amount, f"interest {amount} on {outstanding}: {detail}", notes


def round_money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# -- fee ------------------------------------------------------------------------------------


def fee(
    stage: ActionStage,
    sent_on: date,
    due_date: date,
    currency: str,
    history: Sequence[TakenAction],
    wanted: Decimal | None,
    *,
    fees_on: bool,
    reminder_fee_agreed: Agreement,
    compensated: bool,
    rules: CountryRules,
) -> tuple[Decimal, str]:
    """The fee for a letter of ``stage`` sent on ``sent_on`` on a claim whose (deferred) due
    date is ``due_date``, or 0 with the reason."""
    table = rules.fee_cap(stage)
    if table is None:
        return ZERO, ""
    if not fees_on:
        return ZERO, "no fee: fees are off in the policy"
    if compensated:
        return ZERO, f"no fee: covered by the B2B compensation ({rules.compensation_rule})"
    if currency != rules.currency:
        return ZERO, f"no fee: invoice in {currency}, fee table in {rules.currency}"
    agreement = ""
    if stage is ActionStage.REMINDER and rules.reminder_fee_agreement_rule:
        said = reminder_fee_agreed.describe("fee")
        if not reminder_fee_agreed.agreed:
            return ZERO, f"no fee: {said}; needed: {rules.reminder_fee_agreement_rule}"
        agreement = f"; {said}"
    cap = table.at(sent_on)
    if cap.value is None:
        return ZERO, f"no fee: {cap.note}"
    day = (sent_on - due_date).days
    first = rules.fee_min_days_after_due.at(sent_on)
    if first.value is not None and day < first.value:
        return ZERO, (
            f"no fee: sent on day {day} after the due date {due_date}, a fee needs day "
            f"{first.value}, {due_date + timedelta(days=first.value)} ({first.source})"
        )
    fee_letters = sorted((h for h in history if h.fee > 0), key=lambda h: h.sent_on)
    if rules.max_fees_per_stage is not None:
        per_stage = rules.max_fees_per_stage.at(sent_on)
        same = sum(1 for h in fee_letters if h.stage is stage)
        if per_stage.value is not None and same >= per_stage.value:
            return ZERO, f"no fee: fee cap reached ({same} already; {per_stage.source})"
    if rules.max_fee_letters is not None:
        most = rules.max_fee_letters.at(sent_on)
        if most.value is not None and len(fee_letters) >= most.value:
            dates = ", ".join(str(h.sent_on) for h in fee_letters)
            return ZERO, (
                f"no fee: fee cap reached ({len(fee_letters)} fee-bearing letters on this claim: "
                f"{dates}; {most.source})"
            )
        if len(fee_letters) == 1 and rules.second_fee_min_deadline_days is not None:
            need = rules.second_fee_min_deadline_days.at(sent_on)
            prior = fee_letters[0]
            given = (prior.deadline - prior.sent_on).days if prior.deadline else 0
            if need.value is not None and given < need.value:
                return ZERO, (
                    f"no second fee: the fee letter of {prior.sent_on} gave {given} days to pay, "
                    f"a second fee needs a missed deadline of {need.value} ({need.source})"
                )
            if prior.deadline is None or prior.deadline >= sent_on:
                return ZERO, f"no second fee: the deadline of {prior.sent_on} has not passed"
    amount = cap.value if wanted is None else min(wanted, cap.value)
    if amount <= 0:
        return ZERO, "no fee: set to 0 in the policy"
    capped = wanted is not None and wanted > cap.value
    return amount, _fee_text(rules.country, amount, cap.value, cap.source, capped) + agreement


@lru_cache(maxsize=256)
def _fee_text(country: str, amount: Decimal, cap: Decimal, source: str, capped: bool) -> str:
    rules = rules_for(country)
    note = " (the policy's fee is above the cap: capped)" if capped else ""
    return f"fee {rules.money(amount)}{note} (cap {rules.money(cap)}: {source})"


# -- B2B compensation -----------------------------------------------------------------------


def compensation(
    stage: ActionStage,
    due_date: date,
    currency: str,
    kind: CustomerKind | None,
    history: Sequence[TakenAction],
    rules: CountryRules,
    *,
    enabled: bool,
    on_stage: ActionStage,
    sent_on: date,
    interest_from: date | None,
) -> tuple[Decimal, str, bool]:
    """The one standard B2B compensation per claim, on the letter of stage ``on_stage``, at the
    figure in force on the day the claim fell due (after any move off a closed day), less fees
    already charged on the claim. It follows the right to interest: none on a letter sent
    before ``interest_from`` (None: interest has no start yet).

    The flag says whether the compensation covers this letter's costs (then no fee is due on it,
    even where the deduction leaves nothing to charge)."""
    if not enabled or kind is not CustomerKind.COMPANY:
        unknown = enabled and stage is on_stage and kind is None
        return ZERO, ("no B2B compensation: customer unknown" if unknown else ""), False
    if any(h.compensation > 0 for h in history):
        return ZERO, "", True
    if stage is not on_stage:
        return ZERO, "", False
    if currency != rules.currency:
        return ZERO, f"no B2B compensation: invoice in {currency}", False
    if interest_from is None or sent_on < interest_from:
        when = f"interest runs from {interest_from}" if interest_from else "no interest yet"
        return ZERO, (
            f"no B2B compensation on this letter: {when} ({rules.compensation_follows_interest})"
        ), False
    look = rules.compensation.at(due_date)
    if look.value is None:
        return ZERO, f"no B2B compensation: {look.note}", False
    charged = sum((h.fee for h in history), ZERO)
    amount = max(ZERO, look.value - charged)
    less = f" less fees charged {rules.money(charged)}" if charged else ""
    text = (
        f"B2B compensation {rules.money(amount)} ({rules.money(look.value)} in force on due date "
        f"{due_date}{less}; {look.source})"
    )
    return amount, text, True
