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
from connector.policy.tables import percent

CENT = Decimal("0.01")
_DAY = timedelta(days=1)


# -- interest -------------------------------------------------------------------------------


@lru_cache(maxsize=16384)
def _rate_days(country: str, due: date, until: date) -> tuple[Decimal, str, tuple[str, ...]]:
    """Σ(days × % rate) over ``due+1 .. until``, split at every rate change, with its wording."""
    rules = rules_for(country)
    total = ZERO
    parts: list[str] = []
    notes: list[str] = []
    for start, end, look in rules.interest_rate.segments(due + _DAY, until):
        days = (end - start).days + 1
        if look.value is None:
            notes.append(f"{look.note}: {days} days from {start} accrue no interest")
            continue
        if look.note and look.note not in notes:
            notes.append(look.note)
        total += days * look.value
        parts.append(f"{percent(look.value)} × {days} d ({start}..{end})")
    source = rules.interest_rate.at(until).source
    detail = f"{rules.interest_rate.name} {' + '.join(parts) or 'none'} (actual/"
    detail += f"{rules.interest_day_basis}; {source})"
    return total / (100 * rules.interest_day_basis), detail, tuple(notes)


def interest_factor(
    rules: CountryRules, due: date, until: date
) -> tuple[Decimal, str, tuple[str, ...]] | None:
    """The factor that turns an amount into its interest from the day after ``due`` to ``until``
    inclusive (each day at the rate in force that day, actual/``interest_day_basis``), with its
    wording and notes; None when no day has passed."""
    if until <= due:
        return None
    return _rate_days(rules.country, due, until)


def interest(
    outstanding: Decimal, due: date, until: date, rules: CountryRules
) -> tuple[Decimal, str, tuple[str, ...]]:
    """Simple interest on ``outstanding``, rounded once to øre/öre: amount, wording, notes."""
    found = interest_factor(rules, due, until)
    if found is None:
        return ZERO, "", ()
    factor, detail, notes = found
    amount = round_money(outstanding * factor)
    return amount, f"interest {amount} on {outstanding}: {detail}", notes


def round_money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# -- fee ------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _fee_series(fee_letters: Sequence[TakenAction], reset_months: int) -> list[TakenAction]:
    """The fee-bearing letters since the counter last reset (six months without a fee)."""
    series: list[TakenAction] = []
    for h in fee_letters:
        if series and h.sent_on >= add_months(series[-1].sent_on, reset_months):
            series = []
        series.append(h)
    return series


def fee(
    stage: ActionStage,
    sent_on: date,
    due_date: date,
    currency: str,
    history: Sequence[TakenAction],
    wanted: Decimal | None,
    *,
    fees_on: bool,
    reminder_fee_agreed: bool,
    compensated: bool,
    rules: CountryRules,
) -> tuple[Decimal, str]:
    """The fee for a letter of ``stage`` sent on ``sent_on``, or 0 with the reason."""
    table = rules.fee_cap(stage)
    if table is None:
        return ZERO, ""
    if not fees_on:
        return ZERO, "no fee: fees are off in the policy"
    if compensated:
        return ZERO, f"no fee: covered by the B2B compensation ({rules.compensation_rule})"
    if currency != rules.currency:
        return ZERO, f"no fee: invoice in {currency}, fee table in {rules.currency}"
    if (
        stage is ActionStage.REMINDER
        and rules.reminder_fee_agreement_rule
        and not reminder_fee_agreed
    ):
        return ZERO, f"no fee: not agreed in advance ({rules.reminder_fee_agreement_rule})"
    cap = table.at(sent_on)
    if cap.value is None:
        return ZERO, f"no fee: {cap.note}"
    day = (sent_on - due_date).days
    first = rules.fee_min_days_after_due.at(sent_on)
    if first.value is not None and day < first.value:
        return ZERO, (
            f"no fee: sent on day {day} after the due date, a fee needs day {first.value} "
            f"({first.source})"
        )
    fee_letters = sorted((h for h in history if h.fee > 0), key=lambda h: h.sent_on)
    if rules.max_fees_per_stage is not None:
        per_stage = rules.max_fees_per_stage.at(sent_on)
        same = sum(1 for h in fee_letters if h.stage is stage)
        if per_stage.value is not None and same >= per_stage.value:
            return ZERO, f"no fee: fee cap reached ({same} already; {per_stage.source})"
    if rules.max_fee_letters is not None and rules.fee_count_reset_months is not None:
        reset = rules.fee_count_reset_months.at(sent_on).value or 0
        series = _fee_series(fee_letters, reset)
        if series and sent_on >= add_months(series[-1].sent_on, reset):
            series = []
        most = rules.max_fee_letters.at(sent_on)
        if most.value is not None and len(series) >= most.value:
            return ZERO, (
                f"no fee: fee cap reached ({len(series)} fee-bearing letters since "
                f"{series[0].sent_on}; {most.source})"
            )
        if len(series) == 1 and rules.second_fee_min_deadline_days is not None:
            need = rules.second_fee_min_deadline_days.at(sent_on)
            prior = series[0]
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
    return amount, _fee_text(rules.country, amount, cap.value, cap.source, capped)


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
) -> tuple[Decimal, str, bool]:
    """The one standard B2B compensation per claim, on the letter of stage ``on_stage``, at the
    figure in force on the day the claim fell due, less fees already charged on the claim.

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
    look = rules.compensation.at(due_date)
    if look.value is None:
        return ZERO, f"no B2B compensation: {look.note}", False
    charged = sum((h.fee for h in history), ZERO)
    amount = max(ZERO, look.value - charged)
    less = f" less fees charged {rules.money(charged)}" if charged else ""
    note = f"; {look.note}" if look.note else ""  # an unknown period: the figure used
    text = (
        f"B2B compensation {rules.money(amount)} ({rules.money(look.value)} in force on due date "
        f"{due_date}{less}; {look.source}){note}"
    )
    return amount, text, True
