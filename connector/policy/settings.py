"""A tenant's reminder policy (the ``[tenants.policy]`` table), checked against the law.

Unset day counts take the country's defaults (``rules_xx.RULES.defaults``); unset fees mean "the
legal cap on the sending day".

Two facts differ per customer, so the tenant value is only the default for customers the config
does not name (``[tenants.policy.customers."<customer number>"]``):

- ``due_dates_agreed``: the due date was agreed in advance, so interest runs from it
  (forsinkelsesrenteloven § 2, räntelagen 3 §). Default ``false``, which never over-claims:
  interest then runs from 30 days after a written demand (räntelagen 4 §).
- ``reminder_fee_agreed`` (SE): a påminnelseavgift was agreed no later than when the debt arose
  (lag 1981:739 2 §). Default ``false``. Setting it ``true`` for the whole tenant asserts that
  *every* customer agreed; a fee charged to one who did not is unlawful and must be repaid. ``for_country`` builds and checks a policy in one go and raises
:class:`PolicyError` whose messages read ``<key>: <message>`` with keys like
``policy.notice_deadline_days``, ready for the config loader to prefix with the file and table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connector.models import ActionStage
from connector.policy.rules import CountryRules, rules_for

KEY_PREFIX = "policy."
LADDER = (ActionStage.REMINDER, ActionStage.COLLECTION_NOTICE, ActionStage.HANDOVER)


class PolicyError(ValueError):
    """A policy outside the law or malformed; ``errors`` are ``<key>: <message>`` lines."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class CustomerTerms(BaseModel):
    """What was agreed with one customer; unset keys take the tenant's value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    due_dates_agreed: bool | None = None
    reminder_fee_agreed: bool | None = None


@dataclass(frozen=True, slots=True)
class Agreement:
    """One agreement fact for one customer and where the answer came from (for the "why")."""

    agreed: bool
    origin: str  # e.g. "customer 10001 in the config" or "tenant default"

    def describe(self, what: str) -> str:
        return f"{what} {'agreed' if self.agreed else 'not agreed'} ({self.origin})"


class PolicySettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    stages: tuple[ActionStage, ...] = LADDER
    reminders: int = Field(default=1, ge=1, le=3, description="reminder letters before the notice")
    reminder_after_days: int | None = Field(
        default=None, ge=1, description="first reminder, after due"
    )
    reminder_deadline_days: int | None = Field(
        default=None, ge=1, description="payment deadline given"
    )
    notice_after_reminder_days: int | None = Field(default=None, ge=0)
    notice_after_due_days: int | None = Field(
        default=None, ge=1, description="when no reminder stage"
    )
    notice_deadline_days: int | None = Field(default=None, ge=1)
    handover_after_deadline_days: int = Field(default=0, ge=0)
    grace_days: int = Field(
        default=3, ge=0, le=30, description="bank lag after any payment deadline"
    )
    fees: bool = True
    reminder_fee: Decimal | None = Field(default=None, ge=0, description="None: the legal cap")
    notice_fee: Decimal | None = Field(default=None, ge=0, description="None: the legal cap")
    reminder_fee_agreed: bool = False  # SE: påminnelseavgift agreed before the debt arose
    due_dates_agreed: bool = False  # due dates agreed in advance: interest from the due date
    # when due dates were not agreed, the written demand the 30 days count from: kravsync's first
    # letter, or the invoice itself (its sending day; in Sweden it must say that interest will
    # be charged, räntelagen 4 §)
    interest_demand: Literal["first_letter", "invoice"] = "first_letter"
    customers: dict[str, CustomerTerms] = Field(
        default_factory=dict, description="per customer number: what was agreed"
    )
    interest: bool = True
    b2b_compensation: bool = True
    compensation_stage: ActionStage = ActionStage.COLLECTION_NOTICE
    # Outstanding below this: no letter. None (the default): the country's statutory reminder
    # fee that day (NO: 1/10 of inkassosatsen; SE: 60 kr), and never a letter whose fee is more
    # than the balance it is about. 0: every balance.
    minimum_amount: Decimal | None = Field(
        default=None, ge=0, description="outstanding below: skip (default: the reminder fee)"
    )
    blocking_stages: tuple[ActionStage, ...] = (
        ActionStage.COLLECTION_NOTICE,
        ActionStage.HANDOVER,
    )
    time_bar_warning_days: int = Field(default=90, ge=0)

    @field_validator("stages")
    @classmethod
    def _ladder_order(cls, value: tuple[ActionStage, ...]) -> tuple[ActionStage, ...]:
        if not value:
            raise ValueError("at least one stage is needed")
        if len(set(value)) != len(value):
            raise ValueError("a stage is listed twice")
        return tuple(s for s in LADDER if s in value)

    def agreement(self, key: Literal["due_dates_agreed", "reminder_fee_agreed"], customer_number: str | None) -> Agreement:
        """The answer for one customer: its own entry if it has one, else the tenant's."""
        terms = self.customers.get(customer_number) if customer_number else None
        value = getattr(terms, key) if terms is not None else None
        if value is not None:
            return Agreement(value, f"customer {customer_number} in the policy")
        tenant: bool = getattr(self, key)
        return Agreement(tenant, f"tenant default {key} = {str(tenant).lower()}")

    # -- country defaults and checks -------------------------------------------------------

    def with_defaults(self, country: str) -> PolicySettings:
        """This policy with every unset day count filled from the country's defaults."""
        rules = rules_for(country)
        update = {k: v for k, v in rules.defaults.items() if getattr(self, k) is None}
        return self.model_copy(update=update) if update else self

    def validate_for(self, country: str, on: date | None = None) -> list[str]:
        """Errors (``<key>: <message>``) where this policy breaks ``country``'s law on ``on``
        (default: the latest figures in the data)."""
        rules = rules_for(country)
        s = self.with_defaults(country)
        return _check(s, rules, on or _latest(rules), self.model_fields_set)

    @classmethod
    def for_country(
        cls, country: str, raw: Mapping[str, Any] | None = None, on: date | None = None
    ) -> PolicySettings:
        """Parse ``raw`` (the TOML table), fill the country's defaults and check it against the
        law; raises :class:`PolicyError` listing every problem."""
        try:
            parsed = cls.model_validate(dict(raw or {}))
        except ValidationError as exc:
            raise PolicyError(
                [
                    f"{KEY_PREFIX}{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                    for e in exc.errors()
                ]
            ) from None
        errors = parsed.validate_for(country, on)
        if errors:
            raise PolicyError(errors)
        return parsed.with_defaults(country)


def _latest(rules: CountryRules) -> date:
    return max(p.valid_from for p in rules.reminder_fee_cap.periods if p.value is not None)


def _check(s: PolicySettings, rules: CountryRules, on: date, explicit: set[str]) -> list[str]:
    errors: list[str] = []
    k = KEY_PREFIX
    stages = set(s.stages)

    if rules.handover_requires_notice and ActionStage.HANDOVER in stages:
        if ActionStage.COLLECTION_NOTICE not in stages:
            errors.append(
                f"{k}stages: handover needs the collection_notice stage before it "
                f"({rules.handover_requires_notice})"
            )

    minimum = rules.notice_min_deadline_days.at(on)
    assert s.notice_deadline_days is not None
    if minimum.value is not None and s.notice_deadline_days < minimum.value:
        errors.append(
            f"{k}notice_deadline_days: {s.notice_deadline_days} is below the legal minimum of "
            f"{minimum.value} days ({minimum.source})"
        )

    for key, stage in (
        ("reminder_fee", ActionStage.REMINDER),
        ("notice_fee", ActionStage.COLLECTION_NOTICE),
    ):
        wanted: Decimal | None = getattr(s, key)
        table = rules.fee_cap(stage)
        cap = table.at(on) if table else None
        if wanted is not None and cap is not None and cap.value is not None and wanted > cap.value:
            errors.append(
                f"{k}{key}: {wanted} is above the legal cap of {rules.money(cap.value)} "
                f"on {on} ({cap.source})"
            )

    fee_day = rules.fee_min_days_after_due.at(on)
    if s.fees and fee_day.value is not None:
        first_letter = _first_letter_day(s)
        if first_letter is not None:
            key, days, fee_key = first_letter
            fee = getattr(s, fee_key)
            if fee_key in explicit and fee and days < fee_day.value:
                errors.append(
                    f"{k}{key}: {days} is before day {fee_day.value} after the due date, the "
                    f"first day a fee may be charged ({fee_day.source}); set {k}{fee_key} = 0 "
                    f"or send on day {fee_day.value} or later"
                )

    if rules.reminder_fee_agreement_rule and s.fees and ActionStage.REMINDER in stages:
        anyone = s.reminder_fee_agreed or any(t.reminder_fee_agreed for t in s.customers.values())
        if "reminder_fee" in explicit and s.reminder_fee and not anyone:
            errors.append(
                f"{k}reminder_fee: a reminder fee needs {k}reminder_fee_agreed = true, for the "
                f"tenant or in {k}customers.<number> ({rules.reminder_fee_agreement_rule})"
            )

    if s.b2b_compensation and "compensation_stage" in explicit:
        if s.compensation_stage is ActionStage.HANDOVER or s.compensation_stage not in stages:
            errors.append(
                f"{k}compensation_stage: {s.compensation_stage.value} is not a letter stage in "
                f"use (one of: {', '.join(x.value for x in s.stages if x is not ActionStage.HANDOVER)})"
            )
    return errors


def _first_letter_day(s: PolicySettings) -> tuple[str, int, str] | None:
    """(key, days after due, fee key) of the first letter of the ladder."""
    if ActionStage.REMINDER in s.stages:
        assert s.reminder_after_days is not None
        return "reminder_after_days", s.reminder_after_days, "reminder_fee"
    if ActionStage.COLLECTION_NOTICE in s.stages:
        assert s.notice_after_due_days is not None
        return "notice_after_due_days", s.notice_after_due_days, "notice_fee"
    return None
