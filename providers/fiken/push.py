"""Fiken's reminder route. Fiken has no reminder endpoint, so a reminder is four API steps.

For each (action, invoice) of a letter, in order:

1. **attach** the letter's PDF to the invoice. An invoice attachment has no comment field, so
   its filename (kept by Fiken as the attachment's ``identifier``) carries the action's key and
   the invoice's dispatch count before sending, in ``[A-Za-z0-9._-]`` only (Fiken may sanitise
   anything else): ``kravsync.<key, ':' as '.'>.before-<N>.pdf``.
2. **send**: ``POST /invoices/send`` re-sends the invoice with the letter's text as message and
   its attachments included (so the notice PDF goes along), by e-mail where the customer has an
   address, else by the channels the invoice went out on. Evidence: more than N dispatches.
3. **fee**, where the action charges a fee or a B2B compensation: ``POST /invoices`` with one
   free-text line per charge (outside VAT), issued on the action's ``planned_on`` and due on
   its deadline; the invoice text carries ``[kravsync:<key>]``. Evidence: an invoice of the
   customer issued on or after ``planned_on`` whose text carries that marker.
4. **audit**: ``POST /contacts/{id}/attachments`` files the letter's PDF on the customer as
   ``kravsync.<key, ':' as '.'>.pdf`` with a comment saying what was sent, when, the charges
   and the key.

The key is ``fiken:<company slug>:<invoice>:<stage>:<sequence>`` (no tenant name). Markers in
the form kravsync wrote before (``kravsync:<tenant>:<invoice>:<stage>:<sequence>``, any tenant
name) are evidence too, so letters sent under an old key are found.

A handover sends nothing to the customer through Fiken: it is only step 4 (the engine records the
handover; the agency's own case is outside Fiken).

Each step is recorded in the step journal (``steps``) once Fiken confirmed it and is never taken
again; a step not recorded looks for its own evidence before acting, so a push repeated after a
crash completes what is missing and sends nothing twice. Writes are tried once by the transport
(``FikenClient._write``); after a retryable failure (5xx, timeout, 429) the step looks for its
evidence again and acts again only when there is none: a lost response never becomes a second
sending. A 4xx refusal raises ``ClientError``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from connector.models import ActionStage, ReminderAction
from providers.base import (
    MARK,
    Letter,
    MemorySteps,
    PushResult,
    StepRecorder,
    file_safe,
    legacy_key_pattern,
)
from providers.fiken.client import FikenClient
from providers.http import ClientError, ProviderError

ROUTE = "fiken_resend"
FILE_MARK = "kravsync."  # evidence file names: [A-Za-z0-9._-] only
# Purregebyr and standard compensation are outside the VAT area; booked as other financial
# income by default (NS 4102 8050), overridable per provider instance.
FEE_INCOME_ACCOUNT = "8050"
FEE_VAT_TYPE = "OUTSIDE"
FEE_NAMES = {
    ActionStage.REMINDER: "Purregebyr",
    ActionStage.COLLECTION_NOTICE: "Inkassovarselgebyr",
}
COMPENSATION_NAME = "Standardkompensasjon (forsinkelsesrenteloven § 3a)"
STAGE_NAMES = {
    ActionStage.REMINDER: "purring",
    ActionStage.COLLECTION_NOTICE: "inkassovarsel",
    ActionStage.HANDOVER: "overført til inkasso",
}
_SEND_FALLBACKS = ("ehf", "efaktura", "sms", "letter")

T = TypeVar("T")
Evidence = dict[str, Any]


# --- evidence: names and finders (pure) ---------------------------------------------------------


def attachment_name(key: str, dispatches_before: int) -> str:
    return f"{FILE_MARK}{file_safe(key)}.before-{dispatches_before}.pdf"


def audit_name(key: str) -> str:
    return f"{FILE_MARK}{file_safe(key)}.pdf"


def fee_marker(key: str) -> str:
    return f"[{MARK}{key}]"


def _action_key(action: ReminderAction | str) -> tuple[str, str | None]:
    """The key, and the pattern of its legacy form (None when given a bare key)."""
    if isinstance(action, str):
        return action, None
    return action.idempotency_key, legacy_key_pattern(action)


def find_attachment(invoice: dict[str, Any], action: ReminderAction | str) -> Evidence | None:
    """Our letter on the invoice: its identifier and the dispatch count it recorded (the
    current name, or the name kravsync used before issue 10)."""
    key, legacy = _action_key(action)
    forms = [re.escape(f"{FILE_MARK}{file_safe(key)}") + r"\.before-(\d+)\.pdf"]
    forms.append(re.escape(MARK + key) + r" dispatches-before=(\d+)\.pdf")
    if legacy is not None:
        forms.append(re.escape(MARK) + legacy + r" dispatches-before=(\d+)\.pdf")
    pattern = re.compile("|".join(f"(?:{f})" for f in forms))
    for att in invoice.get("attachments") or ():
        match = pattern.fullmatch(str(att.get("identifier") or ""))
        if match:
            count = next(g for g in match.groups() if g is not None)
            return {"identifier": att["identifier"], "dispatches_before": int(count)}
    return None


def find_fee_marker(text: str, action: ReminderAction | str) -> bool:
    key, legacy = _action_key(action)
    if fee_marker(key) in text:
        return True
    return (
        legacy is not None and re.search(r"\[" + re.escape(MARK) + legacy + r"\]", text) is not None
    )


def find_dispatch(invoice: dict[str, Any], dispatches_before: int) -> Evidence | None:
    """The first sending after the one counted before ours (ours)."""
    dispatches = invoice.get("dispatches") or []
    if len(dispatches) > dispatches_before:
        return dict(dispatches[dispatches_before])
    return None


def find_audit(contact: dict[str, Any], action: ReminderAction | str) -> Evidence | None:
    key, legacy = _action_key(action)
    names = {audit_name(key), f"{MARK}{key}.pdf"}
    comment_start = re.compile(
        re.escape(MARK + key) + " "
        if legacy is None
        else re.escape(MARK) + f"(?:{re.escape(key)}|{legacy}) "
    )
    for doc in contact.get("documents") or ():
        comment = str(doc.get("comment") or "")
        if doc.get("identifier") in names or comment_start.match(comment):
            return {"identifier": doc.get("identifier"), "comment": comment}
    return None


def charges(action: ReminderAction) -> bool:
    return action.fee > 0 or action.compensation > 0


def _ore(amount: Decimal) -> int:
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of øre")
    return int(cents)


def _fee_line(description: str, amount: Decimal, account: str) -> dict[str, Any]:
    return {
        "description": description,
        "unitPrice": _ore(amount),
        "quantity": 1,
        "vatType": FEE_VAT_TYPE,
        "incomeAccount": account,
    }


def fee_invoice_request(
    action: ReminderAction, customer_id: int, bank_account_code: str, account: str
) -> dict[str, Any]:
    """``invoiceRequest`` for the action's fee (and B2B compensation)."""
    name = FEE_NAMES.get(action.stage, "Gebyr")
    lines = []
    if action.fee > 0:
        lines.append(_fee_line(f"{name}, faktura {action.invoice_number}", action.fee, account))
    if action.compensation > 0:
        lines.append(
            _fee_line(
                f"{COMPENSATION_NAME}, faktura {action.invoice_number}",
                action.compensation,
                account,
            )
        )
    due = action.deadline or action.planned_on + timedelta(days=14)
    return {
        "issueDate": action.planned_on.isoformat(),
        "dueDate": max(due, action.planned_on).isoformat(),
        "lines": lines,
        "bankAccountCode": bank_account_code,
        "cash": False,
        "customerId": customer_id,
        "currency": action.currency,
        "invoiceText": (
            f"{name} for faktura {action.invoice_number} "
            f"({STAGE_NAMES[action.stage]} {action.planned_on:%d.%m.%Y}). "
            f"{fee_marker(action.idempotency_key)}"
        ),
    }


def send_request(invoice: dict[str, Any], message: str) -> dict[str, Any]:
    """``sendInvoiceRequest``: e-mail first where the customer has an address, then the
    channels the invoice went out on; the attachments (our letter) go along."""
    customer = invoice.get("customer") or {}
    persons = customer.get("contactPerson") or []
    email = customer.get("email") or next((p["email"] for p in persons if p.get("email")), None)
    methods = ["email"] if email else []
    for d in reversed(invoice.get("dispatches") or []):
        kind = d.get("dispatchType")
        if kind in _SEND_FALLBACKS and kind not in methods:
            methods.append(kind)
    request: dict[str, Any] = {
        "invoiceId": int(invoice["invoiceId"]),
        "method": methods or ["auto"],
        "includeDocumentAttachments": True,
        "message": message,
    }
    if email:
        request["recipientEmail"] = email
        person = next((p for p in persons if p.get("email") == email), None)
        request["recipientName"] = (person or customer).get("name") or customer.get("name", "")
    return request


def audit_comment(action: ReminderAction, on: date, details: Evidence) -> str:
    parts = [f"{MARK}{action.idempotency_key} {STAGE_NAMES[action.stage]}"]
    if action.stage is ActionStage.HANDOVER:
        parts.append(f"registrert {on:%d.%m.%Y} for faktura {action.invoice_number}")
    else:
        how = ", ".join(details.get("methods", [])) or "Fiken"
        parts.append(f"sendt {on:%d.%m.%Y} ({how}) for faktura {action.invoice_number}")
    parts.append(f"utestående {action.outstanding:.2f} {action.currency}")
    if action.fee:
        parts.append(f"gebyr {action.fee:.2f}")
    if action.interest:
        parts.append(f"rente {action.interest:.2f}")
    if action.compensation:
        parts.append(f"kompensasjon {action.compensation:.2f}")
    if action.deadline:
        parts.append(f"frist {action.deadline:%d.%m.%Y}")
    if details.get("fee_invoice"):
        parts.append(f"gebyrfaktura {details['fee_invoice']}")
    return "; ".join(parts)


def _id_from_location(location: str | None) -> str | None:
    if not location:
        return None
    return location.rstrip("/").rsplit("/", 1)[-1] or None


# --- the route ------------------------------------------------------------------------------------


class FikenPush:
    def __init__(
        self,
        client: FikenClient,
        *,
        today: Callable[[], date],
        sleep: Callable[[float], None] = time.sleep,
        tries: int = 4,
        fee_account: str = FEE_INCOME_ACCOUNT,
    ) -> None:
        self.client = client
        self._today = today
        self._sleep = sleep
        self.tries = tries
        self.fee_account = fee_account
        self._bank_account_codes: dict[str | None, str] = {}

    def push(self, letter: Letter, steps: StepRecorder | None = None) -> dict[str, PushResult]:
        if len(letter.actions) != len(letter.invoices):
            raise ValueError("a letter needs one action per invoice")
        journal = steps if steps is not None else MemorySteps()
        results: dict[str, PushResult] = {}
        for action in letter.actions:
            if action.stage is ActionStage.HANDOVER:
                results[action.idempotency_key] = self._handover(letter, action, journal)
            else:
                results[action.idempotency_key] = self._notice(letter, action, journal)
        return results

    def _step(
        self,
        steps: StepRecorder,
        action: ReminderAction,
        name: str,
        found: Callable[[], Evidence | None],
        find: Callable[[], Evidence | None],
        act: Callable[[], Evidence],
    ) -> Evidence:
        """One step: as recorded in the step journal, else as evidence shows it, else taken;
        recorded the moment Fiken confirmed it."""
        done = steps.get(action.idempotency_key, name)
        if done is not None:
            return dict(done.detail)
        result = self._once(found(), find, act)
        steps.record(
            action.idempotency_key,
            name,
            invoice_id=action.invoice_id,
            on=self._today(),
            detail=result,
        )
        return result

    def _notice(self, letter: Letter, action: ReminderAction, steps: StepRecorder) -> PushResult:
        key = action.idempotency_key
        invoice_id = action.invoice_id
        raw = self.client.invoice(invoice_id)
        details: Evidence = {"invoice_id": invoice_id}

        def reread_attachment() -> Evidence | None:
            return find_attachment(self.client.invoice(invoice_id), action)

        before = len(raw.get("dispatches") or [])
        name = attachment_name(key, before)

        def attach() -> Evidence:
            self.client.add_invoice_attachment(invoice_id, name, letter.pdf)
            return {"identifier": name, "dispatches_before": before}

        attached = self._step(
            steps, action, "attach", lambda: find_attachment(raw, action), reread_attachment, attach
        )
        n = int(attached["dispatches_before"])
        details.update(attachment=attached["identifier"], dispatches_before=n)

        request = send_request(raw, letter.text)

        def send() -> Evidence:
            self.client.send_invoice(request)
            return {"methods": request["method"]}

        sent = self._step(
            steps,
            action,
            "send",
            lambda: find_dispatch(raw, n),
            lambda: find_dispatch(self.client.invoice(invoice_id), n),
            send,
        )
        details["methods"] = sent.get("methods") or [sent.get("dispatchType")]
        if "date" in sent:
            details["dispatch"] = sent

        customer_id = _customer_id(action, raw)
        if charges(action):
            if customer_id is None:
                raise ClientError("fiken", f"invoice {invoice_id} has no customer to charge")
            fee = self._fee_invoice(action, customer_id, raw.get("bankAccountNumber"), steps)
            details["fee_invoice"] = fee.get("invoiceNumber")
            details["fee_invoice_id"] = fee.get("invoiceId")
        self._audit(letter, action, customer_id, details, steps)
        return PushResult(ok=True, reference=str(details["attachment"]), details=details)

    def _handover(self, letter: Letter, action: ReminderAction, steps: StepRecorder) -> PushResult:
        customer_id = action.customer_id or _customer_id(
            action, self.client.invoice(action.invoice_id)
        )
        details: Evidence = {"invoice_id": action.invoice_id, "sent_to_customer": False}
        self._audit(letter, action, customer_id, details, steps)
        return PushResult(ok=True, reference=str(details["audit"]), details=details)

    def _fee_invoice(
        self, action: ReminderAction, customer_id: str, paid_to: str | None, steps: StepRecorder
    ) -> Evidence:
        def find() -> Evidence | None:
            return self._find_fee_invoice(action, customer_id)

        def create() -> Evidence:
            request = fee_invoice_request(
                action, int(customer_id), self._bank_account(paid_to), self.fee_account
            )
            new_id = _id_from_location(self.client.create_invoice(request))
            number = self.client.invoice(new_id)["invoiceNumber"] if new_id else None
            return {"invoiceId": new_id, "invoiceNumber": number}

        return self._step(steps, action, "fee", find, find, create)

    def _find_fee_invoice(self, action: ReminderAction, customer_id: str) -> Evidence | None:
        params = {"customerId": customer_id, "issueDateGe": action.planned_on.isoformat()}
        for page in self.client.invoices(params):
            for inv in page:
                if find_fee_marker(str(inv.get("invoiceText") or ""), action):
                    return {
                        "invoiceId": str(inv["invoiceId"]),
                        "invoiceNumber": inv["invoiceNumber"],
                    }
        return None

    def _bank_account(self, paid_to: str | None) -> str:
        """The ledger code of the account the invoice is paid to (else the first normal one)."""
        if paid_to not in self._bank_account_codes:
            usable = [
                a
                for a in self.client.bank_accounts()
                if not a.get("inactive") and a.get("type", "normal") == "normal"
            ]
            same = [a for a in usable if a.get("bankAccountNumber") == paid_to]
            chosen = (same or usable)[0] if same or usable else None
            if chosen is None or not chosen.get("accountCode"):
                raise ClientError("fiken", "no active bank account to invoice the fee to")
            self._bank_account_codes[paid_to] = str(chosen["accountCode"])
        return self._bank_account_codes[paid_to]

    def _audit(
        self,
        letter: Letter,
        action: ReminderAction,
        customer_id: str | None,
        details: Evidence,
        steps: StepRecorder,
    ) -> None:
        key = action.idempotency_key
        if customer_id is None:
            raise ClientError("fiken", f"invoice {action.invoice_id} has no customer to file on")

        def find() -> Evidence | None:
            return find_audit(self.client.contact(customer_id), action)

        def file() -> Evidence:
            comment = audit_comment(action, self._today(), details)
            self.client.add_contact_attachment(customer_id, audit_name(key), letter.pdf, comment)
            return {"identifier": audit_name(key), "comment": comment}

        details["audit"] = self._step(steps, action, "audit", find, find, file)["identifier"]

    def _once(self, found: T | None, find: Callable[[], T | None], act: Callable[[], T]) -> T:
        """``found``, or the result of ``act``; after a retryable failure, look (``find``) for
        the evidence again before acting again."""
        if found is not None:
            return found
        for attempt in range(1, self.tries + 1):
            try:
                return act()
            except ProviderError as exc:
                if not exc.retryable or attempt == self.tries:
                    raise
                self._sleep(exc.retry_after or min(0.5 * 2 ** (attempt - 1), 8.0))
            again = find()
            if again is not None:
                return again
        raise AssertionError("unreachable")  # pragma: no cover

    # --- reconciliation ---------------------------------------------------------------------

    def lookup(self, action: ReminderAction) -> PushResult | None:
        raw = self.client.invoice(action.invoice_id)
        customer_id = _customer_id(action, raw)
        audit = find_audit(self.client.contact(customer_id), action) if customer_id else None
        have: dict[str, Evidence | None] = {}
        if action.stage is not ActionStage.HANDOVER:
            attached = find_attachment(raw, action)
            have["attachment"] = attached
            have["send"] = (
                find_dispatch(raw, int(attached["dispatches_before"])) if attached else None
            )
            if charges(action):
                have["fee_invoice"] = (
                    self._find_fee_invoice(action, customer_id) if customer_id else None
                )
        have["audit"] = audit
        details = {k: v for k, v in have.items() if v is not None}
        missing = [k for k, v in have.items() if v is None]
        if not missing:
            reference = (have.get("attachment") or audit or {}).get("identifier")
            return PushResult(ok=True, reference=reference, details=details)
        if details:
            return PushResult(
                ok=False, message=f"incomplete: missing {', '.join(missing)}", details=details
            )
        return None


def _customer_id(action: ReminderAction, invoice: dict[str, Any]) -> str | None:
    customer = invoice.get("customer") or {}
    found = customer.get("contactId")
    if found is not None:
        return str(found)
    return action.customer_id
