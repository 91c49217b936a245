"""Holds derived from notes: promises to pay, disputes, payment plans and do-not-remind.

A hold is active on a day or it is not; when it ends the ladder simply resumes, because stages are
worked out from current facts every time. Notes written after ``today`` are ignored so that a
re-plan of a past day gives the answer of that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from connector.models import Note, NoteKind

HOLD_KINDS = frozenset(
    {NoteKind.PROMISE, NoteKind.DISPUTE, NoteKind.PAYMENT_PLAN, NoteKind.DO_NOT_REMIND}
)


@dataclass(frozen=True, slots=True)
class Hold:
    kind: NoteKind
    scope: str  # "invoice" | "customer"
    resumes_on: date | None  # first day the ladder may run again; None: until resolved
    text: str

    def describe(self) -> str:
        where = " on the customer" if self.scope == "customer" else ""
        if self.kind is NoteKind.PROMISE:
            assert self.resumes_on is not None
            return f"promise to pay until {self.text}{where} (ladder resumes {self.resumes_on})"
        if self.kind is NoteKind.DISPUTE:
            return f"dispute{where}, until resolved: {self.text}"
        until = f" until {self.resumes_on - timedelta(days=1)}" if self.resumes_on else ""
        label = "payment plan" if self.kind is NoteKind.PAYMENT_PLAN else "do not remind"
        return f"{label}{until}{where}: {self.text}"


def active_holds(notes: Iterable[Note], today: date, grace_days: int) -> list[Hold]:
    """Holds active on ``today`` among ``notes`` (already those of the invoice or its customer),
    the longest first. A promise holds until its date plus ``grace_days`` (bank lag)."""
    found: list[Hold] = []
    for note in notes:
        if note.kind not in HOLD_KINDS or note.created_at.date() > today:
            continue
        if note.resolved_at is not None and note.resolved_at.date() <= today:
            continue
        scope = "invoice" if note.invoice_id is not None else "customer"
        if note.kind is NoteKind.PROMISE:
            if note.until is None:
                continue  # a promise without a date is a contact note, not a hold
            resumes = note.until + timedelta(days=grace_days + 1)
            if today < resumes:
                found.append(Hold(note.kind, scope, resumes, note.until.isoformat()))
        elif note.kind is NoteKind.DISPUTE:
            found.append(Hold(note.kind, scope, None, note.text))
        else:
            resumes_or_none = note.until + timedelta(days=1) if note.until else None
            if resumes_or_none is None or today < resumes_or_none:
                found.append(Hold(note.kind, scope, resumes_or_none, note.text))
    found.sort(key=lambda h: (h.resumes_on is not None, -(h.resumes_on or today).toordinal()))
    return found
