"""Tripletex's native reminder route: ``PUT /invoice/{id}/:createReminder``, one per invoice.

Stage → Tripletex type (Tripletex writes and sends the letter itself, by the tenant's
``dispatch_type``, e-mail by default):

* reminder with a fee or interest → ``REMINDER`` (purring); with neither → ``SOFT_REMINDER``
  (betalingspåminnelse, which carries no charges);
* collection notice → ``NOTICE_OF_DEBT_COLLECTION`` (inkassovarsel);
* handover → ``DEBT_COLLECTION`` (to the company's debt collector; no charges from kravsync).

**Charges.** Tripletex adds its own fee (``includeCharge``) and interest (``includeInterest``);
kravsync only switches them on. Before it does, it works out what Tripletex will add and refuses,
in one line naming the difference, unless that is exactly the plan's fee and interest: a letter
must never claim more than the law allows, nor other figures than kravsync journals. Tripletex's
public API (2.72.00) has no endpoint that reads a company's fee and interest settings, so they
are learnt from evidence Tripletex does expose: the company's reminders of the last twelve months
(``GET /reminder``: ``charge``, ``interestRate``). A figure that matched the statutory one on its
day means Tripletex follows the statutory rates (its documented default); another figure is the
company's own fixed setting. With no charged reminder on record the documented default is assumed.
Tripletex's interest is taken as simple interest on the open amount at one rate (the rate on the
reminder date) from the due date to the reminder date, actual/365; where the plan's interest was
split over a rate change the two differ and the push is refused. The standard B2B compensation
cannot be put on a Tripletex reminder: a plan with one is refused (set
``policy.b2b_compensation = false`` for a Tripletex tenant).

**At most once.** The evidence of a push is the invoice's reminder list (``GET
/reminder?invoiceId=``): a reminder of the action's type dated on or after its planned day. Every
push looks for it first, so a push repeated after a crash or a lost answer creates nothing twice;
``lookup_action`` is the same look-up. A reminder Tripletex confirmed is recorded in the step
journal (``reminder``, kravsync's own reminder dated on the planned day) and never asked for
again, even when the reminder list does not show it yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connector.models import ActionStage, Invoice, ReminderAction
from connector.policy.rules import CountryRules, rules_for
from mappings.tripletex import reminder_on
from providers.base import Letter, MemorySteps, PushResult, StepRecorder
from providers.http import ClientError, ProviderError
from providers.tripletex.client import TripletexClient

log = logging.getLogger("kravsync.push.tripletex")
ROUTE = "tripletex_native"
DISPATCH_TYPES = ("EMAIL", "NETS_PRINT", "OWN_PRINTER", "SFTP", "API", "SMS")
DEFAULT_DISPATCH = "EMAIL"
CHARGED_TYPES = frozenset({"REMINDER", "NOTICE_OF_DEBT_COLLECTION"})
EVIDENCE_DAYS = 365  # how far back the company's own reminders teach its charge settings
CENT = Decimal("0.01")
ZERO = Decimal("0")
DOCUMENTED_DEFAULT = (
    "Tripletex's documented default (fees and interest follow the statutory rates, "
    "tripletex.no docViewer?articleId=1416)"
)


def refused(message: str) -> ClientError:
    """A push kravsync refuses itself, shaped like the provider's own 4xx (the action fails)."""
    return ClientError("tripletex", message)


@dataclass(frozen=True)
class Request:
    """What one action asks of ``:createReminder``."""

    kind: str
    include_charge: bool
    include_interest: bool


def request_for(action: ReminderAction) -> Request:
    if action.stage is ActionStage.HANDOVER:
        return Request("DEBT_COLLECTION", False, False)
    charge, interest = action.fee > 0, action.interest > 0
    if action.stage is ActionStage.COLLECTION_NOTICE:
        return Request("NOTICE_OF_DEBT_COLLECTION", charge, interest)
    return Request("REMINDER" if charge or interest else "SOFT_REMINDER", charge, interest)


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else ZERO
    except InvalidOperation:
        return ZERO


@dataclass(frozen=True)
class Terms:
    """The fee and interest rate Tripletex puts on a reminder, as far as the evidence shows.
    ``None`` means "the statutory figure of the reminder's day"."""

    charge: Decimal | None
    charge_source: str
    rate: Decimal | None
    rate_source: str

    def charge_on(self, day: date, rules: CountryRules) -> tuple[Decimal | None, str]:
        if self.charge is not None:
            return self.charge, self.charge_source
        return rules.reminder_fee_cap.at(day).value, self.charge_source

    def rate_on(self, day: date, rules: CountryRules) -> tuple[Decimal | None, str]:
        if self.rate is not None:
            return self.rate, self.rate_source
        return rules.interest_rate.at(day).value, self.rate_source


def learn_terms(reminders: list[dict[str, Any]], rules: CountryRules) -> Terms:
    """The company's fee and interest settings, from its latest charged reminders."""
    dated = [(d, r) for r in reminders if (d := reminder_on(r)) is not None]
    dated.sort(key=lambda item: (item[0], int(item[1].get("id") or 0)))
    charge, charge_source = (
        None,
        f"no charged reminder in {EVIDENCE_DAYS} days: {DOCUMENTED_DEFAULT}",
    )
    charged = [(d, r) for d, r in dated if _decimal(r.get("charge")) > 0]
    if charged:
        day, r = charged[-1]
        seen = _decimal(r.get("charge"))
        statutory = rules.reminder_fee_cap.at(day).value
        what = f"reminder {r.get('id')} of {day} charged {seen:.2f}"
        if seen == statutory:
            charge_source = (
                f"{what}, the statutory cap that day: Tripletex follows the statutory fee"
            )
        else:
            charge, charge_source = seen, f"{what}: the company's own fixed reminder fee"
    rate, rate_source = (
        None,
        f"no interest on a reminder in {EVIDENCE_DAYS} days: {DOCUMENTED_DEFAULT}",
    )
    with_rate = [(d, r) for d, r in dated if _decimal(r.get("interestRate")) > 0]
    if with_rate:
        day, r = with_rate[-1]
        seen = _decimal(r.get("interestRate"))
        statutory = rules.interest_rate.at(day).value
        what = f"reminder {r.get('id')} of {day} at {seen:.2f} %"
        if seen == statutory:
            rate_source = (
                f"{what}, the statutory rate that day: Tripletex follows the statutory rate"
            )
        else:
            rate, rate_source = seen, f"{what}: the company's own fixed interest rate"
    return Terms(charge, charge_source, rate, rate_source)


def tripletex_interest(outstanding: Decimal, rate: Decimal, due: date, on: date) -> Decimal:
    """Interest as Tripletex puts it on a reminder: simple, one rate, due date → reminder date."""
    days = max((on - due).days, 0)
    return (outstanding * rate * days / Decimal(36500)).quantize(CENT, rounding=ROUND_HALF_UP)


def difference(
    action: ReminderAction, invoice: Invoice, request: Request, terms: Terms, rules: CountryRules
) -> str | None:
    """Why what Tripletex would put on this reminder is not the plan's figures, or None."""
    where = f"invoice {action.invoice_number}"
    if action.compensation > 0 and request.kind != "DEBT_COLLECTION":
        return (
            f"{where}: the plan claims the B2B compensation {action.compensation:.2f} "
            f"{action.currency}, which a Tripletex reminder cannot carry; set "
            "policy.b2b_compensation = false for this tenant"
        )
    if request.include_charge:
        if request.kind not in CHARGED_TYPES:
            return f"{where}: a {request.kind} carries no fee, the plan says {action.fee:.2f}"
        charge, source = terms.charge_on(action.planned_on, rules)
        if charge is None:
            return f"{where}: no statutory fee known for {action.planned_on} ({source})"
        if charge != action.fee:
            return (
                f"{where}: Tripletex would charge a fee of {charge:.2f} {rules.currency}, the plan "
                f"says {action.fee:.2f} ({source})"
            )
    if request.include_interest:
        rate, source = terms.rate_on(action.planned_on, rules)
        if rate is None:
            return f"{where}: no statutory interest rate known for {action.planned_on} ({source})"
        theirs = tripletex_interest(invoice.outstanding, rate, invoice.due_date, action.planned_on)
        if theirs != action.interest:
            return (
                f"{where}: Tripletex would charge interest {theirs:.2f} {action.currency} "
                f"({rate:.2f} % from {invoice.due_date} to {action.planned_on}), the plan says "
                f"{action.interest:.2f} ({source})"
            )
    return None


class TripletexPush:
    def __init__(
        self,
        client: TripletexClient,
        *,
        today: Callable[[], date],
        dispatch_type: str = DEFAULT_DISPATCH,
        country: str = "NO",
    ) -> None:
        self.client = client
        self._today = today
        self.dispatch_type = dispatch_type
        self.rules = rules_for(country)
        self._terms: Terms | None = None

    def terms(self) -> Terms:
        """The company's charge settings (learnt once per provider instance, i.e. per cycle)."""
        if self._terms is None:
            today = self._today()
            found = self.client.reminders(
                today - timedelta(days=EVIDENCE_DAYS), today + timedelta(days=1)
            )
            self._terms = learn_terms(found, self.rules)
        return self._terms

    # -- push ------------------------------------------------------------------------------
    def push(self, letter: Letter, steps: StepRecorder | None = None) -> dict[str, PushResult]:
        """One ``:createReminder`` per invoice of the letter (Tripletex writes its own letter).
        A refusal of one invoice is that action's failure; raised only when none went out."""
        if len(letter.actions) != len(letter.invoices):
            raise ValueError("a letter needs one action per invoice")
        journal = steps if steps is not None else MemorySteps()
        results: dict[str, PushResult] = {}
        refusals: list[ClientError] = []
        for action, invoice in zip(letter.actions, letter.invoices, strict=True):
            try:
                results[action.idempotency_key] = self._recorded(action, invoice, journal)
            except ClientError as exc:
                refusals.append(exc)
                results[action.idempotency_key] = PushResult(
                    False, message=exc.message, details={"status": exc.status}
                )
        if refusals and not any(r.ok for r in results.values()):
            raise refusals[0]
        return results

    def _recorded(
        self, action: ReminderAction, invoice: Invoice, steps: StepRecorder
    ) -> PushResult:
        """``_one``, unless the step journal already holds the reminder; recorded once made."""
        done = steps.get(action.idempotency_key, "reminder")
        if done is not None:
            return PushResult(
                True,
                reference=f"/reminder/{done.detail.get('reminder_id')}",
                message="already created (step journal)",
                details=dict(done.detail),
            )
        result = self._one(action, invoice)
        steps.record(
            action.idempotency_key,
            "reminder",
            invoice_id=action.invoice_id,
            on=action.planned_on,
            detail=dict(result.details),
            own_reminder=True,
        )
        return result

    def _one(self, action: ReminderAction, invoice: Invoice) -> PushResult:
        request = request_for(action)
        found = self._evidence(action, request.kind)
        if found is not None:
            return _done(found, request, "already created (found on the invoice)")
        problem = difference(action, invoice, request, self.terms(), self.rules)
        if problem is not None:
            raise refused(f"refused: {problem}")
        try:
            new_id = self.client.create_reminder(
                action.invoice_id,
                kind=request.kind,
                on=action.planned_on,
                include_charge=request.include_charge,
                include_interest=request.include_interest,
                dispatch_type=self.dispatch_type,
            )
        except ProviderError as exc:
            if exc.retryable:  # the reminder may have been made before the answer was lost
                again = self._evidence(action, request.kind)
                if again is not None:
                    return _done(again, request, "created (confirmed from the invoice)")
            raise
        created = next(
            (r for r in self._reminders(action) if str(r.get("id")) == str(new_id)),
            {"id": new_id},
        )
        note = _charged_otherwise(action, request, created)
        if note:
            log.warning("%s: invoice %s: %s", action.tenant, action.invoice_number, note)
        return _done(created, request, note or f"sent by Tripletex ({self.dispatch_type})")

    def _reminders(self, action: ReminderAction) -> list[dict[str, Any]]:
        tomorrow = self._today() + timedelta(days=1)
        start = min(action.planned_on, self._today())
        return self.client.reminders(start, tomorrow, invoice_id=action.invoice_id)

    def _evidence(self, action: ReminderAction, kind: str) -> dict[str, Any] | None:
        for reminder in self._reminders(action):
            on = reminder_on(reminder)
            if reminder.get("type") == kind and on is not None and on >= action.planned_on:
                return reminder
        return None

    # -- lookup ----------------------------------------------------------------------------
    def lookup(self, action: ReminderAction) -> PushResult | None:
        request = request_for(action)
        try:
            found = self._evidence(action, request.kind)
        except ClientError as exc:
            if exc.status == 404:
                return None
            raise
        return _done(found, request, "found on the invoice") if found is not None else None


def _charged_otherwise(action: ReminderAction, request: Request, created: dict[str, Any]) -> str:
    """A warning when Tripletex put other charges on the reminder than the plan said."""
    if "charge" not in created:
        return ""
    charge = _decimal(created.get("charge")) if request.include_charge else ZERO
    interest = _decimal(created.get("interests")) if request.include_interest else ZERO
    expected_charge = action.fee if request.include_charge else ZERO
    expected_interest = action.interest if request.include_interest else ZERO
    if charge == expected_charge and interest == expected_interest:
        return ""
    return (
        f"sent, but Tripletex charged fee {charge:.2f} and interest {interest:.2f} where the "
        f"plan said {expected_charge:.2f} and {expected_interest:.2f}"
    )


def _done(reminder: dict[str, Any], request: Request, message: str) -> PushResult:
    rid = reminder.get("id")
    details: dict[str, Any] = {"route": ROUTE, "type": request.kind, "reminder_id": rid}
    for key in ("reminderDate", "charge", "interests", "termOfPayment"):
        if reminder.get(key) is not None:
            details[key] = str(reminder[key])
    return PushResult(True, reference=f"/reminder/{rid}", message=message, details=details)


__all__ = [
    "DISPATCH_TYPES",
    "ROUTE",
    "Request",
    "Terms",
    "TripletexPush",
    "difference",
    "learn_terms",
    "request_for",
    "tripletex_interest",
]
