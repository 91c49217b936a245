"""Findings and the one table that says which finding blocks which action stage.

A finding is an ``error`` exactly when it blocks at least one action stage (a legal notice or the
handover), a ``warning`` otherwise. The reasons are in :data:`RULES`, one line per code; the
codes are the stable ones of DESIGN.md §3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from connector.models import ActionStage, Customer

Severity = Literal["error", "warning"]

_ALL = (ActionStage.REMINDER, ActionStage.COLLECTION_NOTICE, ActionStage.HANDOVER)
_NOTICE = (ActionStage.COLLECTION_NOTICE, ActionStage.HANDOVER)
_HANDOVER = (ActionStage.HANDOVER,)
_NONE: tuple[ActionStage, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    blocks: tuple[ActionStage, ...]
    why: str

    @property
    def severity(self) -> Severity:
        return "error" if self.blocks else "warning"


# code → which stages it blocks, and why. Keep it in step with DESIGN.md §3.
RULES: dict[str, Rule] = {
    "org_number.missing": Rule(_NOTICE, "a notice and a handover must identify the debtor"),
    "org_number.invalid": Rule(_NOTICE, "a wrong org number points at another debtor"),
    "org_number.not_found": Rule(_NOTICE, "no such legal entity: the debtor is unidentified"),
    "org_number.deleted": Rule(_ALL, "the entity no longer exists: the claim goes elsewhere"),
    "org_number.bankrupt": Rule(_ALL, "claims go to the bankruptcy estate, not to dunning"),
    "org_number.dissolving": Rule(_NONE, "dunning is allowed; lodge the claim with the liquidator"),
    "national_id.missing": Rule(_NONE, "name, address and birth date identify a consumer"),
    "national_id.invalid": Rule(_HANDOVER, "an agency must not act on a wrong identity"),
    "vat_number.invalid": Rule(_NONE, "the VAT number plays no part in dunning"),
    "address.missing": Rule(_ALL, "every stage is written to the invoice address"),
    "address.street.missing": Rule(_NOTICE, "a notice must reach the debtor in writing"),
    "address.postcode.missing": Rule(_NOTICE, "a notice must reach the debtor in writing"),
    "address.postcode.invalid": Rule(_NOTICE, "a notice must reach the debtor in writing"),
    "address.city.missing": Rule(_NOTICE, "a notice must reach the debtor in writing"),
    "address.city.mismatch": Rule(_NONE, "the postcode routes the letter; likely a typo"),
    "address.country.missing": Rule(_NONE, "the tenant's country is assumed"),
    "email.missing": Rule(_NONE, "a letter is always possible"),
    "email.invalid": Rule(_NONE, "a letter is always possible"),
    "phone.invalid": Rule(_NONE, "the phone plays no part in a notice"),
    "contact_person.missing": Rule(_NONE, "a notice to a company may be addressed to the company"),
    "customer.duplicate": Rule(
        _NONE, "risk of two messages to one debtor; the journal still holds"
    ),
    "invoice.customer.missing": Rule(_ALL, "nobody to send anything to"),
    # A provider record that did not fit its API's types was skipped (kept out of the store);
    # nothing is planned on it until the provider sends it fit.
    "record.malformed": Rule(_NONE, "the record was skipped: fix it in the accounting system"),
}

CODES: tuple[str, ...] = tuple(RULES)


@dataclass(frozen=True, slots=True)
class Finding:
    """One data-quality problem of one customer (or of an invoice without a known customer)."""

    customer_id: str | None
    customer_number: str | None
    customer_name: str | None
    code: str
    field: str
    severity: Severity
    message: str
    blocks: tuple[ActionStage, ...]

    @classmethod
    def make(
        cls,
        code: str,
        *,
        customer_id: str | None,
        customer_number: str | None,
        customer_name: str | None,
        field: str,
        message: str,
    ) -> Finding:
        """A finding whose severity and blocked stages come from :data:`RULES`."""
        rule = RULES[code]
        return cls(
            customer_id, customer_number, customer_name, code, field, rule.severity, message,
            rule.blocks,
        )  # fmt: skip

    @classmethod
    def of(cls, customer: Customer, code: str, field: str, message: str) -> Finding:
        return cls.make(
            code,
            customer_id=customer.provider_id,
            customer_number=customer.number,
            customer_name=customer.name,
            field=field,
            message=message,
        )

    def as_row(self, *, tenant: str, provider: str) -> dict[str, Any]:
        """The report row of DESIGN.md §3 (plus ``blocks``, which readers may ignore)."""
        return {
            "tenant": tenant,
            "provider": provider,
            "customer_id": self.customer_id,
            "customer_number": self.customer_number,
            "customer_name": self.customer_name,
            "code": self.code,
            "field": self.field,
            "severity": self.severity,
            "message": self.message,
            "blocks": [stage.value for stage in self.blocks],
        }


def blocked_stages(findings: list[Finding]) -> dict[ActionStage, list[Finding]]:
    """Per stage, the findings that block it ("cannot send inkassovarsel: org number missing")."""
    out: dict[ActionStage, list[Finding]] = {}
    for f in findings:
        for stage in f.blocks:
            out.setdefault(stage, []).append(f)
    return out
