"""What the store keeps of a person's identity number: as little as reminding needs.

Decision (issue 12): reminding a consumer needs the name, the invoice address and, for a
collection agency, the birth date; the full personnummer / fødselsnummer is needed by nobody
downstream of the checks (the accounting system keeps it, and a handover goes through the
provider). So the state store never holds a person number in clear:

- ``Customer.national_id`` is stored masked (birth-date part kept: ``19811228****``,
  ``010190*****``); ``birth_date`` is kept;
- an ``org_number`` that validates as a person number (a Swedish sole trader's organisations-
  nummer is the owner's personnummer; a Norwegian fødselsnummer typed into the org number
  field) is stored masked the same way;
- the checks that need the clear number (check digits, birth date, "a national id, not an org
  number") run once, when the record is pulled, and their findings are kept with the customer
  (``Customer.id_findings``), so later cycles report them without the number;
- a masked org number takes no part in duplicate detection (two people born the same day
  would look alike); the Brønnøysund look-up is for Norwegian organisations only anyway.

A customer stored before this rule is masked by the migration that also drops the customer
cursor, so the next sync pulls every customer again and works its findings out afresh.
"""

from __future__ import annotations

from datetime import date

from connector.models import Customer
from connector.validation import identifiers as ids
from connector.validation.rules import MASKED, identity_findings


def _is_masked(value: str | None) -> bool:
    return value is not None and MASKED in value


def needs_masking(c: Customer) -> bool:
    if c.national_id and not _is_masked(c.national_id):
        return True
    return bool(c.org_number) and not _is_masked(c.org_number) and _personal_org(c.org_number)


def _personal_org(value: str | None) -> bool:
    if not value:
        return False
    digits = "".join(ch for ch in value if ch.isdigit())
    return ids.is_person_number(value) or (
        len(digits) == 10 and ids.se_orgnr.is_personal(value) and ids.se_orgnr.is_valid(value)
    )


def masked(c: Customer) -> Customer:
    """``c`` as the store keeps it: person numbers masked (findings already worked out are
    kept; nothing is recomputed here)."""
    if not needs_masking(c):
        return c
    update: dict[str, object] = {}
    if c.national_id and not _is_masked(c.national_id):
        update["national_id"] = ids.mask_national_id(c.national_id) or MASKED
    if c.org_number and not _is_masked(c.org_number) and _personal_org(c.org_number):
        update["org_number"] = ids.mask_national_id(c.org_number) or MASKED
    return c.model_copy(update=update)


def minimise(c: Customer, *, tenant_country: str, allow_test: bool, today: date) -> Customer:
    """``c`` ready to store: the findings on its person numbers worked out on the clear
    numbers, then the numbers masked."""
    if not needs_masking(c):
        return c
    kept = tuple(
        (f.code, f.field, f.message)
        for f in identity_findings(
            c, tenant_country=tenant_country, allow_test=allow_test, today=today
        )
    )
    return masked(c.model_copy(update={"id_findings": kept}))


__all__ = ["masked", "minimise", "needs_masking"]
