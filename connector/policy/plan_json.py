"""The plan as JSON (DESIGN.md §3): ``{"actions": [...]}`` with amounts as decimal strings and
dates in ISO form; optionally the invoices that get nothing, each with its reason."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connector.models import ReminderAction
from connector.policy.engine import Decision

_CENT = Decimal("0.01")


def money(amount: Decimal) -> str:
    return str(amount.quantize(_CENT, rounding=ROUND_HALF_UP))


def plan_item(action: ReminderAction) -> dict[str, str | None]:
    """One action as a plan item. ``compensation`` is an addition to the §3 keys: without it a
    B2B notice would show no charge at all."""
    return {
        "tenant": action.tenant,
        "invoice_id": action.invoice_id,
        "invoice_number": action.invoice_number,
        "customer_number": action.customer_number,
        "stage": action.stage.value,
        "planned_on": action.planned_on.isoformat(),
        "deadline": action.deadline.isoformat() if action.deadline else None,
        "fee": money(action.fee),
        "interest": money(action.interest),
        "compensation": money(action.compensation),
        "currency": action.currency,
        "outstanding": money(action.outstanding),
        **({"earlier_fees": money(action.earlier_fees)} if action.earlier_fees else {}),
        "reason": action.reason,
    }


def skipped_item(decision: Decision, tenant: str) -> dict[str, Any]:
    """An invoice that gets no action now, with why (and when things may move)."""
    inv = decision.invoice
    return {
        "tenant": tenant,
        "invoice_id": inv.provider_id,
        "invoice_number": inv.number,
        "customer_number": inv.customer_number,
        "outcome": decision.outcome.value,
        "stage": decision.stage.value if decision.stage else None,
        "next_date": decision.next_date.isoformat() if decision.next_date else None,
        "reason": decision.reason,
        "warnings": list(decision.warnings),
    }


def plan_document(
    decisions: Iterable[Decision], tenant: str, include_skipped: bool = False
) -> dict[str, Any]:
    """``{"actions": [...]}``, plus ``"skipped": [...]`` when asked (e.g. ``plan --verbose``)."""
    actions: list[dict[str, str | None]] = []
    skipped: list[dict[str, Any]] = []
    for d in decisions:
        if d.action is not None:
            actions.append(plan_item(d.action))
        elif include_skipped:
            skipped.append(skipped_item(d, tenant))
    doc: dict[str, Any] = {"actions": actions}
    if include_skipped:
        doc["skipped"] = skipped
    return doc
