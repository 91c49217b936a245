"""The reminder policy: dated rules per country, a pure engine, holds, grouping and plan JSON.

Typical use (one tenant, one cycle)::

    settings = PolicySettings.for_country("NO", raw_policy_table, on=today)
    decisions = plan(invoices, tenant="acme-no", country="NO", settings=settings, today=today,
                     customers=by_id, history=taken_by_invoice, notes=notes, blocking=codes)
    messages = group_actions(d.action for d in decisions if d.action)
"""

from connector.policy.calendar import is_business_day, next_business_day
from connector.policy.engine import Decision, Outcome, decide, plan
from connector.policy.grouping import Message, group_actions
from connector.policy.history import TakenAction
from connector.policy.holds import Hold, active_holds
from connector.policy.plan_json import plan_document, plan_item, skipped_item
from connector.policy.rules import CountryRules, rules_for
from connector.policy.settings import PolicyError, PolicySettings

__all__ = [
    "CountryRules",
    "Decision",
    "Hold",
    "Message",
    "Outcome",
    "PolicyError",
    "PolicySettings",
    "TakenAction",
    "active_holds",
    "decide",
    "group_actions",
    "is_business_day",
    "next_business_day",
    "plan",
    "plan_document",
    "plan_item",
    "rules_for",
    "skipped_item",
]
