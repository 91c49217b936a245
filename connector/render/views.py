"""What `plan` and `report` print: assembled from the store, rendered for people or scripts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from connector.config import TenantConfig
from connector.cycle.plan import tenant_rules
from connector.policy import Decision, Outcome, group_actions, plan_document
from connector.policy.rates import notices as rate_notices
from connector.render.report import aging_buckets, tenant_summary
from connector.render.textsafe import printable
from connector.store import Store

STAGE_NAMES = {
    "NO": {"reminder": "purring", "collection_notice": "inkassovarsel", "handover": "til inkasso"},
    "SE": {
        "reminder": "påminnelse",
        "collection_notice": "inkassokrav",
        "handover": "till inkasso",
    },
}


def _money(value: Decimal) -> str:
    return f"{value:,.2f}".replace(",", " ")


def plan_json(
    plans: Sequence[tuple[TenantConfig, list[Decision]]],
    notices: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """``notices``: per tenant, what its plan leaves unclaimed for want of a figure."""
    actions: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for tenant, decisions in plans:
        document = plan_document(decisions, tenant.name, include_skipped=True)
        actions += document["actions"]
        skipped += document.get("skipped", [])
    out: dict[str, Any] = {"actions": actions, "skipped": skipped}
    if notices is not None:
        out["notices"] = {name: list(lines) for name, lines in notices.items() if lines}
    return out


def plan_table(
    plans: Sequence[tuple[TenantConfig, list[Decision]]],
    *,
    verbose: bool = True,
    notices: Mapping[str, Sequence[str]] | None = None,
) -> str:
    lines: list[str] = []
    for tenant, decisions in plans:
        names = STAGE_NAMES.get(tenant.country, {})
        acting = [d.action for d in decisions if d.action is not None]
        messages = group_actions(acting)
        mode = (
            "pushes approved letters only (push = approve)"
            if tenant.push == "approve"
            else "will push"
            if tenant.push
            else "plan only (push = false)"
        )
        lines.append(f"{tenant.name}: {len(acting)} actions in {len(messages)} messages, {mode}")
        for notice in (notices or {}).get(tenant.name, ()):
            lines.append(f"  ! {notice}")
        for m in messages:
            total = sum(
                (
                    a.outstanding + a.fee + a.interest + a.compensation + a.earlier_fees
                    for a in m.actions
                ),
                Decimal(0),
            )
            who = m.actions[0].customer_number or m.customer_id or "?"
            stage = f"{m.stage.value} ({names.get(m.stage.value, m.stage.value)})"
            lines.append(
                f"  customer {who}: {stage}, {len(m.actions)} invoice(s), {_money(total)} {m.currency}"
            )
            for a in m.actions:
                deadline = f", deadline {a.deadline}" if a.deadline else ""
                lines.append(
                    f"    invoice {a.invoice_number}: {_money(a.outstanding)} + fee {_money(a.fee)}"
                    f" + interest {_money(a.interest)}"
                    + (f" + compensation {_money(a.compensation)}" if a.compensation else "")
                    + (f" + earlier fees {_money(a.earlier_fees)}" if a.earlier_fees else "")
                    + f" {a.currency}, on {a.planned_on}{deadline}"
                )
                lines.append(f"      why: {a.reason}")
        waiting = [d for d in decisions if d.outcome is Outcome.WAITING_FOR_DETAILS]
        if waiting:
            reason = waiting[0].reason.split(":", 1)[0]  # "waiting for details (N left)"
            lines.append(f"  {len(waiting)} invoice(s) not planned, {reason}")
        warned = [d for d in decisions if d.warnings]
        if warned:
            lines.append("  warnings:")
            for d in warned:
                for w in d.warnings:
                    lines.append(f"    invoice {d.invoice.number}: {w}")
        if verbose:
            idle = [
                d
                for d in decisions
                if d.action is None and d.outcome is not Outcome.WAITING_FOR_DETAILS
            ]
            if idle:
                lines.append("  no action:")
                for d in idle:
                    lines.append(f"    invoice {d.invoice.number}: {d.reason}")
        lines.append("")
    # Invoice numbers, reasons and notes come from providers and users: escaped, never raw.
    return "\n".join(printable(line) for line in lines).rstrip() + "\n"


def tenant_notices(tenant: TenantConfig, store: Store, today: date) -> list[str]:
    """What the tenant's plans leave unclaimed for want of a figure (empty when nothing)."""
    return rate_notices(tenant_rules(tenant, store), today)


def report_data(
    tenants: Iterable[TenantConfig], store: Store, today: date
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Finding rows (DESIGN.md §3) and the per-tenant summary for `kravsync report`."""
    rows: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    for tenant in tenants:
        tenant_rows = [
            {
                "tenant": tenant.name,
                "provider": tenant.provider,
                "customer_id": f["customer_id"],
                "customer_number": f["customer_number"],
                "customer_name": f["customer_name"],
                "code": f["code"],
                "field": f["field"],
                "severity": f["severity"],
                "message": f["message"],
                "blocks": f["blocks"],
                "first_seen": f["first_seen"],
            }
            for f in store.findings(tenant.name)
        ]
        rows += tenant_rows
        summary[tenant.name] = tenant_summary(
            customers=store.customer_count(tenant.name),
            waiting=store.detail_counts(tenant.name).get("customer", 0),
            rows=tenant_rows,
            receivables=aging_buckets(store.invoices(tenant.name, open_only=True), today),
            notes=[*store.last_run_notes(tenant.name), *tenant_notices(tenant, store, today)],
        )
    return rows, summary


def invoice_rows(tenants: Iterable[TenantConfig], store: Store, today: date) -> list[dict[str, Any]]:
    """Per open invoice: customer, due date, days overdue, outstanding, the last stage taken
    (in the country's legal term) and the customer's open findings in words."""
    from connector.console.describe import describe

    out: list[dict[str, Any]] = []
    for tenant in tenants:
        names = STAGE_NAMES.get(tenant.country, {})
        stages: dict[str, str] = {}
        for entry in store.journal(tenant.name):
            if entry.state.value in ("done", "pending"):
                stage = entry.action.stage.value
                stages[entry.action.invoice_id] = names.get(stage, stage)
        findings: dict[str, list[str]] = {}
        for f in store.findings(tenant.name):
            if f["customer_id"]:
                findings.setdefault(f["customer_id"], []).append(describe(f["code"])[0])
        customers = {c.provider_id: c for c in store.customers(tenant.name)}
        for inv in store.invoices(tenant.name, open_only=True):
            customer = customers.get(inv.customer_id or "")
            out.append(
                {
                    "tenant": tenant.name,
                    "customer_number": customer.number if customer else None,
                    "customer_name": customer.name if customer else None,
                    "invoice_number": inv.number,
                    "due_date": inv.due_date.isoformat(),
                    "days_overdue": max(0, (today - inv.due_date).days),
                    "outstanding": str(inv.outstanding),
                    "currency": inv.currency,
                    "stage": stages.get(inv.provider_id, ""),
                    "findings": "; ".join(findings.get(inv.customer_id or "", [])),
                }
            )
    return out
