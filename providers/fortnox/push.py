"""Fortnox's reminder routes: Fortnox Finans, or kravsync's own e-mail noted in ``Comments``.

Route per letter: a tenant with Fortnox Finans (``fortnox_finans = true``) hands every SEK
invoice to Finans (``POST /3/noxfinansinvoices``, ``Service: REMINDER``) whatever the stage —
Finans then runs its own reminders and collection, so kravsync never acts on it again. Anything
else goes by e-mail: one message with the letter, Fortnox's reminder print (reminder stage only)
and a copy of each invoice (``preview``: unlike ``print`` it does not mark the invoice sent),
then a line in each invoice's ``Comments``. A handover sends nothing to the customer: it is
only noted in ``Comments`` (the agency's own hand-over is outside Fortnox).

Invoices with ``NoxFinans = true`` are Fortnox Finans's: outside the Finans route they are
refused before anything is done.

Delivery is **at most once**. An e-mail cannot be looked up afterwards, so a ``sending`` marker
is written to every invoice of the letter first, then the message goes, then each marker is
rewritten as ``sent``. A marker without confirmation means the outcome is unknown, and it is
reported as sent (unconfirmed) — never sent again, because nothing is ever sent twice to make
up for an unknown outcome. The one exception is exact: markers of this very letter on only some
of its invoices mean the crash came before the send (every marker precedes it), so the push
goes on. A refusal by the mail server, or a failure before the message was handed over, takes
the markers back, so the action can be tried again.

**Step journal.** Each step is recorded in ``steps`` the moment it is confirmed and never taken
again: ``printreminder`` (with the print itself, so a retry attaches the same print and Fortnox
registers no second reminder; recorded as kravsync's own reminder, never a second sender),
``email`` (the SMTP server took the message: a retry only completes the ``Comments`` lines),
``finans`` (the hand-over) and ``noted`` (a handover's line).

Keys are ``fortnox:<TenantId>:<invoice>:<stage>:<sequence>``; ``Comments`` lines in the form
kravsync wrote before (``kravsync:<tenant>:<invoice>:...``, any tenant name) are evidence too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from connector.models import ActionStage, Invoice, ReminderAction
from mappings import fortnox as mapping
from mappings.fortnox import FORTNOX_FINANS
from providers.base import (
    Letter,
    MemorySteps,
    MessageChannel,
    PushResult,
    StepRecord,
    StepRecorder,
    legacy_key_pattern,
)
from providers.fortnox import comments
from providers.fortnox.client import FortnoxClient
from providers.http import ClientError

ROUTE_FINANS = "fortnox_finans"
ROUTE_EMAIL = "email"
FINANS_SERVICE = "REMINDER"
# Fortnox's own reminder print only fits a reminder; an inkassokrav carries kravsync's letter.
PRINTREMINDER_STAGES = frozenset({ActionStage.REMINDER})
UNCONFIRMED = "sent (unconfirmed: marker without confirmation)"
PDF = "application/pdf"


def refused(message: str) -> ClientError:
    """A push kravsync refuses itself, shaped like the provider's own 4xx (the action fails)."""
    return ClientError("fortnox", message)


class FortnoxPush:
    def __init__(self, client: FortnoxClient, *, finans: bool, today: Callable[[], date]):
        self.client = client
        self.finans = finans
        self._today = today

    def routes(self) -> tuple[str, ...]:
        return (ROUTE_FINANS, ROUTE_EMAIL) if self.finans else (ROUTE_EMAIL,)

    # -- push ------------------------------------------------------------------------------
    def push(
        self, letter: Letter, channel: MessageChannel | None, steps: StepRecorder | None = None
    ) -> dict[str, PushResult]:
        if len(letter.actions) != len(letter.invoices):
            raise ValueError("a letter needs one action per invoice")
        if not letter.actions:
            return {}
        journal = steps if steps is not None else MemorySteps()
        numbers = [inv.provider_id for inv in letter.invoices]
        raws = {n: self.client.invoice(n) for n in numbers}
        if self.finans and letter.currency == "SEK":
            return self._finans(letter, raws, journal)
        for n in numbers:
            if mapping.invoice(raws[n]).handled_by == FORTNOX_FINANS:
                raise refused(
                    f"invoice {n} is handled by Fortnox Finans (NoxFinans=true); "
                    "kravsync does not act on it"
                )
        if letter.stage is ActionStage.HANDOVER:
            return self._note_handover(letter, raws, journal)
        return self._email(letter, channel, raws, journal)

    def _finans(
        self, letter: Letter, raws: dict[str, dict[str, Any]], steps: StepRecorder
    ) -> dict[str, PushResult]:
        """Each invoice on its own (Finans writes its own letters). A 4xx for one invoice is
        that action's failure; it is raised only when no invoice of the letter went through."""
        method = "EMAIL" if letter.customer is not None and letter.customer.email else "LETTER"
        results: dict[str, PushResult] = {}
        errors: list[ClientError] = []
        for action, invoice in zip(letter.actions, letter.invoices, strict=True):
            n = invoice.provider_id
            done = steps.get(action.idempotency_key, "finans")
            if done is not None:
                results[action.idempotency_key] = _finans_result(n, done.detail)
                continue
            record = None
            if mapping.invoice(raws[n]).handled_by == FORTNOX_FINANS:
                record = self.client.finans_invoice(n)  # a repeated push: already handed over
                if record is None:
                    results[action.idempotency_key] = PushResult(
                        False, message=f"invoice {n}: NoxFinans=true but no Finans record"
                    )
                    continue
            else:
                try:
                    record = self.client.send_to_finans(n, FINANS_SERVICE, method)
                except ClientError as exc:
                    # A POST retried after a lost answer is refused as a duplicate: look first.
                    record = self.client.finans_invoice(n)
                    if record is None:
                        errors.append(exc)
                        results[action.idempotency_key] = PushResult(
                            False, message=str(exc), details={"status": exc.status}
                        )
                        continue
            results[action.idempotency_key] = result = _finans_result(n, record)
            if result.ok:
                steps.record(
                    action.idempotency_key,
                    "finans",
                    invoice_id=n,
                    on=self._today(),
                    detail={k: record.get(k) for k in ("@url", "Service", "Status")},
                )
        if errors and not any(r.ok for r in results.values()):
            raise errors[0]
        return results

    def _note_handover(
        self, letter: Letter, raws: dict[str, dict[str, Any]], steps: StepRecorder
    ) -> dict[str, PushResult]:
        results = {}
        for action, invoice in zip(letter.actions, letter.invoices, strict=True):
            n, key = invoice.provider_id, action.idempotency_key
            text = str(raws[n].get("Comments") or "")
            mark = comments.find(text, key, legacy_key_pattern(action))
            noted = mark is not None and mark.state in (comments.NOTED, comments.SENT)
            if not noted and steps.get(key, "noted") is None:
                line = comments.noted(action, self._today())
                self._comments(invoice, _put(text, key, line))
                steps.record(key, "noted", invoice_id=n, on=self._today())
            results[key] = PushResult(
                True,
                reference=f"/3/invoices/{n}",
                message="handover noted in Comments (no message to the customer)",
                details={"route": "comments"},
            )
        return results

    def _email(
        self,
        letter: Letter,
        channel: MessageChannel | None,
        raws: dict[str, dict[str, Any]],
        steps: StepRecorder,
    ) -> dict[str, PushResult]:
        digest = comments.letter_digest(tuple(a.idempotency_key for a in letter.actions))
        text = {
            inv.provider_id: str(raws[inv.provider_id].get("Comments") or "")
            for inv in letter.invoices
        }
        marks = {
            a.idempotency_key: comments.find(
                text[inv.provider_id], a.idempotency_key, legacy_key_pattern(a)
            )
            for a, inv in zip(letter.actions, letter.invoices, strict=True)
        }
        emailed = [steps.get(a.idempotency_key, "email") for a in letter.actions]
        if any(e is not None for e in emailed):
            # The server took this letter (step journal): only the records are completed.
            return self._confirm(letter, text, digest, next(e for e in emailed if e), steps)
        live = {k: m for k, m in marks.items() if m is not None and m.state != comments.FAILED}
        own_partial = len(live) < len(marks) and all(
            m.letter == digest and m.state == comments.SENDING for m in live.values()
        )
        if live and not own_partial:
            return self._settle(letter, text, marks, digest)

        if channel is None:
            raise refused(f"tenant {letter.tenant}: no e-mail channel configured")
        to = letter.customer.email if letter.customer is not None else None
        if not to:
            who = letter.customer.number if letter.customer is not None else "?"
            raise refused(f"customer {who} has no invoice e-mail address")
        attachments = [(letter.filename, letter.pdf, PDF)]
        for action, invoice in zip(letter.actions, letter.invoices, strict=True):
            n = invoice.provider_id
            if letter.stage in PRINTREMINDER_STAGES:
                attachments.append(
                    (f"paminnelse-{n}.pdf", self._print_reminder(action, n, steps), PDF)
                )
            attachments.append((f"faktura-{n}.pdf", self.client.invoice_pdf(n, "preview"), PDF))

        today = self._today()
        for action, invoice in zip(letter.actions, letter.invoices, strict=True):
            n, key = invoice.provider_id, action.idempotency_key
            if key not in live:
                text[n] = self._comments(
                    invoice, _put(text[n], key, comments.sending(key, today, digest))
                )
        try:
            accepted = channel.send(
                to=to,
                subject=letter.subject,
                text=letter.text,
                attachments=attachments,
                message_id=letter.key,
            )
        except Exception as exc:
            if getattr(exc, "permanent", False) or not getattr(exc, "maybe_delivered", True):
                self._take_back(letter, text, digest, permanent=getattr(exc, "permanent", False))
            raise
        names = [name for name, _content, _mime in attachments]
        detail = {"message_id": accepted, "to": to, "attachments": names}
        for action, invoice in zip(letter.actions, letter.invoices, strict=True):
            steps.record(
                action.idempotency_key,
                "email",
                invoice_id=invoice.provider_id,
                on=today,
                detail=detail,
            )
        record = steps.get(letter.actions[0].idempotency_key, "email")
        assert record is not None
        return self._confirm(letter, text, digest, record, steps)

    def _print_reminder(self, action: ReminderAction, number: str, steps: StepRecorder) -> bytes:
        """Fortnox's reminder print, once per action: ``printreminder`` registers a reminder at
        Fortnox, so a retry reuses the recorded print instead of registering another."""
        done = steps.get(action.idempotency_key, "printreminder")
        if done is not None and done.blob is not None:
            return done.blob
        pdf = self.client.invoice_pdf(number, "printreminder")
        steps.record(
            action.idempotency_key,
            "printreminder",
            invoice_id=number,
            on=self._today(),
            blob=pdf,
            own_reminder=True,
        )
        return pdf

    def _confirm(
        self,
        letter: Letter,
        text: dict[str, str],
        digest: str,
        emailed: StepRecord,
        steps: StepRecorder,
    ) -> dict[str, PushResult]:
        """The e-mail went out (``emailed``): each invoice's line rewritten as ``sent``."""
        on = emailed.on
        for action, invoice in zip(letter.actions, letter.invoices, strict=True):
            n, key = invoice.provider_id, action.idempotency_key
            mark = comments.find(text[n], key)
            if mark is None or mark.state != comments.SENT:
                line = comments.sent(action, on, digest)
                text[n] = self._comments(invoice, _put(text[n], key, line))
        detail = emailed.detail
        return {
            a.idempotency_key: PushResult(
                True,
                reference=str(detail.get("message_id") or ""),
                message=f"e-mailed to {detail.get('to')}",
                details={"route": ROUTE_EMAIL, "attachments": detail.get("attachments", [])},
            )
            for a in letter.actions
        }

    def _settle(
        self,
        letter: Letter,
        text: dict[str, str],
        marks: dict[str, comments.Mark | None],
        digest: str,
    ) -> dict[str, PushResult]:
        """A repeated push that finds evidence: complete the records, send nothing."""
        confirmed = any(
            m is not None and m.state == comments.SENT and m.letter == digest
            for m in marks.values()
        )
        results = {}
        for action, invoice in zip(letter.actions, letter.invoices, strict=True):
            n, key = invoice.provider_id, action.idempotency_key
            mark = marks[key]
            if mark is None or mark.state == comments.FAILED:
                results[key] = PushResult(
                    False,
                    message="not sent: invoices of this letter were already sent in another "
                    "letter; render a new letter for this invoice",
                )
            elif mark.state == comments.SENDING and confirmed and mark.letter == digest:
                # The server took this letter: the crash came while confirming it.
                on = mark.on or self._today()
                text[n] = self._comments(
                    invoice, _put(text[n], key, comments.sent(action, on, digest))
                )
                results[key] = PushResult(True, reference=f"/3/invoices/{n}", message="sent")
            elif mark.state == comments.SENDING:
                results[key] = PushResult(True, reference=f"/3/invoices/{n}", message=UNCONFIRMED)
            else:
                results[key] = PushResult(True, reference=f"/3/invoices/{n}", message=mark.state)
        return results

    def _take_back(
        self, letter: Letter, text: dict[str, str], digest: str, permanent: bool
    ) -> None:
        """Nothing went out: a refusal leaves a ``failed`` line, a transient failure none."""
        today = self._today()
        for action, invoice in zip(letter.actions, letter.invoices, strict=True):
            n, key = invoice.provider_id, action.idempotency_key
            if permanent:
                new = _put(text[n], key, comments.failed(key, today, digest))
            else:
                new = comments.remove(text[n], key)
            text[n] = self._comments(invoice, new)

    def _comments(self, invoice: Invoice, new: str) -> str:
        # CustomerNumber (unchanged) because the spec's InvoicePayload requires it.
        fields = {"Comments": new}
        if invoice.customer_number:
            fields["CustomerNumber"] = invoice.customer_number
        updated = self.client.update_invoice(invoice.provider_id, fields)
        return str(updated.get("Comments") or "")

    # -- lookup ----------------------------------------------------------------------------
    def lookup(self, action: ReminderAction) -> PushResult | None:
        """``sent``/``noted`` line: done. ``sending`` only: done but unconfirmed (at most
        once: it is never sent again). Handed to Fortnox Finans by kravsync: done. Else None."""
        try:
            raw = self.client.invoice(action.invoice_id)
        except ClientError as exc:
            if exc.status == 404:
                return None
            raise
        n = action.invoice_id
        comment = str(raw.get("Comments") or "")
        mark = comments.find(comment, action.idempotency_key, legacy_key_pattern(action))
        if mark is not None and mark.state in (comments.SENT, comments.NOTED):
            return PushResult(True, reference=f"/3/invoices/{n}", message=mark.state)
        if mark is not None and mark.state == comments.SENDING:
            return PushResult(True, reference=f"/3/invoices/{n}", message=UNCONFIRMED)
        if self.finans and mapping.invoice(raw).handled_by == FORTNOX_FINANS:
            record = self.client.finans_invoice(n)
            if record is not None and record.get("Service") == FINANS_SERVICE:
                return _finans_result(n, record)
        return None


def _put(text: str, key: str, line: str) -> str:
    try:
        return comments.put(text, key, line)
    except ValueError as exc:
        raise refused(str(exc)) from None


def _finans_result(number: str, record: dict[str, Any]) -> PushResult:
    service, status = record.get("Service"), record.get("Status")
    reference = str(record.get("@url") or f"/3/noxfinansinvoices/{number}")
    details = {"route": ROUTE_FINANS, "service": service, "status": status}
    if service != FINANS_SERVICE:
        return PushResult(
            False,
            reference=reference,
            message=f"invoice {number} is with Fortnox Finans under {service}, not kravsync's "
            f"{FINANS_SERVICE} hand-over; kravsync does not act on it",
            details=details,
        )
    return PushResult(
        True, reference=reference, message=f"handed to Fortnox Finans ({status})", details=details
    )


__all__ = ["ROUTE_EMAIL", "ROUTE_FINANS", "UNCONFIRMED", "FortnoxPush", "refused"]
