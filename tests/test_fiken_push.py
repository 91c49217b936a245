"""Fiken's reminder route against the Fiken sandbox over real HTTP: attach, re-send, fee invoice
and audit note, each exactly once, whatever breaks in between."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest

from connector.models import ActionStage, ReminderAction
from connector.render.notices import Creditor, render_letter
from mappings import fiken as mapping
from providers.base import Letter
from providers.fiken.adapter import FikenProvider
from providers.fiken.client import FikenClient, error_message
from providers.fiken.sandbox import FikenSandbox
from providers.http import ClientError, HttpClient, ServerError
from providers.oauth import StaticBearer

TODAY = date(2026, 3, 10)
DEADLINE = TODAY + timedelta(days=14)
CREDITOR = Creditor("Nordlys Regnskap AS", "912345678", "15035012348", "Storgata 14, 9008 Tromsø")
FAST_FONT = ""  # the core font: the route does not care how the PDF looks (tested in test_notices)
STEPS = ("addAttachmentToInvoice", "sendInvoice", "createInvoice", "addAttachmentToContact")


@pytest.fixture
def sandbox() -> Iterator[FikenSandbox]:
    with FikenSandbox(today=TODAY, rate_limit=False) as sb:
        yield sb


@pytest.fixture
def provider(sandbox: FikenSandbox) -> Iterator[FikenProvider]:
    http = HttpClient(
        provider="fiken",
        base_url=sandbox.base_url,
        auth=StaticBearer(sandbox.token),
        error_message=error_message,
        sleep=lambda _s: None,
    )
    p = FikenProvider(
        FikenClient(http, sandbox.company), today=lambda: TODAY, sleep=lambda _s: None
    )
    yield p
    p.close()


def make_letter(
    sb: FikenSandbox,
    tags: tuple[str, ...],
    stage: ActionStage = ActionStage.REMINDER,
    *,
    fee: str = "38",
    interest: str = "12.40",
    compensation: str = "0",
) -> Letter:
    invoices = [mapping.invoice(sb.invoice(sb.demo_invoice_id(t))) for t in tags]
    customer = mapping.customer(sb.contact(int(invoices[0].customer_id or 0)))
    actions = [
        ReminderAction(
            tenant="acme",
            invoice_id=inv.provider_id,
            invoice_number=inv.number,
            customer_id=inv.customer_id,
            stage=stage,
            planned_on=TODAY,
            deadline=None if stage is ActionStage.HANDOVER else DEADLINE,
            fee=Decimal(fee),
            interest=Decimal(interest),
            compensation=Decimal(compensation),
            currency=inv.currency,
            outstanding=inv.outstanding,
        )
        for inv in invoices
    ]
    return render_letter(
        tenant="acme",
        country="NO",
        creditor=CREDITOR,
        customer=customer,
        stage=stage,
        currency=invoices[0].currency,
        actions=actions,
        invoices=invoices,
        today=TODAY,
        font_path=FAST_FONT,
    )


def writes(sb: FikenSandbox) -> dict[str, int]:
    """Carried-out write requests per operation."""
    counts = dict.fromkeys(STEPS, 0)
    for r in sb.received:
        if r.status < 300:
            counts[r.operation] += 1
    return counts


def ours(sb: FikenSandbox, invoice_id: str) -> list[dict]:
    return [
        a for a in sb.attachments_for(int(invoice_id)) if a["identifier"].startswith(("kravsync.", "kravsync:"))
    ]


def audit_notes(sb: FikenSandbox, contact_id: str) -> list[dict]:
    return [d for d in sb.documents_for(int(contact_id)) if d["identifier"].startswith(("kravsync.", "kravsync:"))]


# --- one push ------------------------------------------------------------------------------------


def test_reminder_with_fee_attaches_sends_charges_and_files(
    sandbox: FikenSandbox, provider: FikenProvider
) -> None:
    letter = make_letter(sandbox, ("overdue_20",))
    action = letter.actions[0]
    key = action.idempotency_key
    before = len(sandbox.invoice(int(action.invoice_id))["dispatches"])

    results = provider.push(letter, None)

    assert list(results) == [key] and results[key].ok
    assert writes(sandbox) == dict.fromkeys(STEPS, 1)
    # 1. the letter's PDF on the invoice, named by the key and the dispatch count before sending
    [attached] = ours(sandbox, action.invoice_id)
    assert attached["identifier"] == f"kravsync.{key.replace(':', '.')}.before-{before}.pdf"
    assert sandbox.file(attached["downloadUrl"]) == letter.pdf
    # 2. re-sent with the notice as message and the attachment included, dated the sandbox's day
    [sent] = sandbox.sent_invoices()
    assert sent["invoiceId"] == int(action.invoice_id)
    assert sent["includeDocumentAttachments"] is True
    assert sent["message"] == letter.text and "PURRING" in sent["message"]
    assert sent["method"][0] == "email" and sent["recipientEmail"] == "post@gronliror.no"
    dispatches = sandbox.invoice(int(action.invoice_id))["dispatches"]
    assert len(dispatches) == before + 1 and dispatches[-1]["date"] == TODAY.isoformat()
    # 3. a fee invoice: one line, outside VAT, 38 kr, findable by the customer and the key
    [created] = sandbox.created_invoices()
    assert created["lines"] == [
        {
            "description": f"Purregebyr, faktura {action.invoice_number}",
            "unitPrice": 3800,
            "quantity": 1,
            "vatType": "OUTSIDE",
            "incomeAccount": "8050",
        }
    ]
    assert created["customerId"] == int(action.customer_id or 0)
    assert created["bankAccountCode"] == "1920:10001"
    assert (created["issueDate"], created["dueDate"]) == (TODAY.isoformat(), DEADLINE.isoformat())
    fee = sandbox.invoice(int(results[key].details["fee_invoice_id"]))
    assert f"[kravsync:{key}]" in fee["invoiceText"]
    fee_invoice = mapping.invoice(fee)
    assert fee_invoice.gross == fee_invoice.outstanding == Decimal("38.00")
    assert results[key].details["fee_invoice"] == fee["invoiceNumber"]
    # 4. the audit note on the contact says what, when, how much, and the key
    [note] = audit_notes(sandbox, action.customer_id or "")
    assert note["identifier"] == f"kravsync.{key.replace(':', '.')}.pdf"
    assert note["comment"].startswith(f"kravsync:{key} purring; sendt 10.03.2026")
    for part in ("gebyr 38.00", "rente 12.40", "frist 24.03.2026", str(fee["invoiceNumber"])):
        assert part in note["comment"]


def test_reminder_without_fee_creates_no_invoice(
    sandbox: FikenSandbox, provider: FikenProvider
) -> None:
    letter = make_letter(sandbox, ("overdue_20_b2c",), fee="0")
    result = provider.push(letter, None)[letter.actions[0].idempotency_key]
    assert result.ok and "fee_invoice" not in result.details
    assert writes(sandbox) == {**dict.fromkeys(STEPS, 1), "createInvoice": 0}


def test_inkassovarsel_sends_the_collection_warning(
    sandbox: FikenSandbox, provider: FikenProvider
) -> None:
    letter = make_letter(
        sandbox, ("overdue_40_sjobris",), ActionStage.COLLECTION_NOTICE, compensation="470"
    )
    provider.push(letter, None)
    [sent] = sandbox.sent_invoices()
    assert "INKASSOVARSEL" in sent["message"]
    assert "vil det bli sendt til inkasso" in sent["message"]
    [created] = sandbox.created_invoices()
    assert [line["description"].split(",")[0] for line in created["lines"]] == [
        "Inkassovarselgebyr",
        "Standardkompensasjon (forsinkelsesrenteloven § 3a)",
    ]
    assert [line["unitPrice"] for line in created["lines"]] == [3800, 47000]
    [attached] = ours(sandbox, letter.actions[0].invoice_id)
    assert sandbox.file(attached["downloadUrl"]) == letter.pdf


def test_handover_only_files_the_audit_note(sandbox: FikenSandbox, provider: FikenProvider) -> None:
    letter = make_letter(sandbox, ("overdue_400",), ActionStage.HANDOVER, fee="0", interest="0")
    action = letter.actions[0]
    assert provider.lookup_action(action) is None
    result = provider.push(letter, None)[action.idempotency_key]
    assert result.ok and result.details["sent_to_customer"] is False
    assert writes(sandbox) == {**dict.fromkeys(STEPS, 0), "addAttachmentToContact": 1}
    [note] = audit_notes(sandbox, action.customer_id or "")
    assert "overført til inkasso" in note["comment"]
    found = provider.lookup_action(action)
    assert found is not None and found.ok and set(found.details) == {"audit"}


def test_a_letter_for_two_invoices_does_each_step_per_invoice(
    sandbox: FikenSandbox, provider: FikenProvider
) -> None:
    customer = sandbox.demo_contact_id("baker")
    second = sandbox.add_invoice(customer, due_date=TODAY - timedelta(days=25))
    letter = make_letter(sandbox, ("sent_manually",))
    extra = mapping.invoice(sandbox.invoice(second["invoiceId"]))
    actions = (
        letter.actions[0],
        letter.actions[0].model_copy(
            update={"invoice_id": extra.provider_id, "invoice_number": extra.number}
        ),
    )
    letter = render_letter(
        tenant="acme",
        country="NO",
        creditor=CREDITOR,
        customer=letter.customer,
        stage=ActionStage.REMINDER,
        currency="NOK",
        actions=actions,
        invoices=(letter.invoices[0], extra),
        today=TODAY,
        font_path=FAST_FONT,
    )
    results = provider.push(letter, None)
    assert [r.ok for r in results.values()] == [True, True]
    assert writes(sandbox) == dict.fromkeys(STEPS, 2)
    assert {s["invoiceId"] for s in sandbox.sent_invoices()} == {int(a.invoice_id) for a in actions}


def test_the_pushed_invoice_maps_without_a_second_sender(
    sandbox: FikenSandbox, provider: FikenProvider
) -> None:
    letter = make_letter(sandbox, ("overdue_20",))
    provider.push(letter, None)
    after = provider.get_invoice(letter.actions[0].invoice_id)
    assert after.reminders_sent == 0  # our attachment is not Fiken's own reminder
    assert after.dispatches[-1].on == TODAY


# --- exactly once --------------------------------------------------------------------------------


def test_pushing_again_sends_nothing(sandbox: FikenSandbox, provider: FikenProvider) -> None:
    letter = make_letter(sandbox, ("overdue_20",))
    first = provider.push(letter, None)
    again = provider.push(letter, None)
    assert writes(sandbox) == dict.fromkeys(STEPS, 1)
    key = letter.actions[0].idempotency_key
    assert again[key].ok and again[key].reference == first[key].reference
    assert again[key].details["fee_invoice_id"] == first[key].details["fee_invoice_id"]


@pytest.mark.parametrize("broken", STEPS)
def test_push_interrupted_at_any_step_completes_once_when_repeated(
    sandbox: FikenSandbox, provider: FikenProvider, broken: str
) -> None:
    letter = make_letter(sandbox, ("overdue_20",))
    action = letter.actions[0]
    sandbox.inject("", status=500, times=99, operation=broken)
    with pytest.raises(ServerError):
        provider.push(letter, None)
    done_before = STEPS[: STEPS.index(broken)]
    assert writes(sandbox) == {s: int(s in done_before) for s in STEPS}
    partial = provider.lookup_action(action)
    if done_before:
        assert partial is not None and not partial.ok
        assert partial.message.startswith("incomplete: missing")
    else:
        assert partial is None

    sandbox.clear_faults()
    result = provider.push(letter, None)[action.idempotency_key]
    assert result.ok
    assert writes(sandbox) == dict.fromkeys(STEPS, 1)
    assert len(ours(sandbox, action.invoice_id)) == 1
    assert len(audit_notes(sandbox, action.customer_id or "")) == 1
    assert len(sandbox.sent_invoices()) == 1


@pytest.mark.parametrize("broken", STEPS)
def test_a_lost_response_is_not_taken_for_a_failure(
    sandbox: FikenSandbox, provider: FikenProvider, broken: str
) -> None:
    """The write happened but the answer was a 500 (or never came): looking for the evidence
    before trying again finds it, so nothing is sent twice."""
    letter = make_letter(sandbox, ("overdue_20",))
    sandbox.inject("", status=502, times=1, operation=broken, processed=True)
    result = provider.push(letter, None)[letter.actions[0].idempotency_key]
    assert result.ok
    assert writes(sandbox) == dict.fromkeys(STEPS, 1)
    assert sum(1 for r in sandbox.received if r.operation == broken) == 1


def test_a_429_on_a_write_is_tried_again(sandbox: FikenSandbox, provider: FikenProvider) -> None:
    letter = make_letter(sandbox, ("overdue_20",))
    sandbox.inject("", status=429, times=2, operation="sendInvoice", headers={"Retry-After": "0"})
    assert provider.push(letter, None)[letter.actions[0].idempotency_key].ok
    assert writes(sandbox) == dict.fromkeys(STEPS, 1)


# --- lookup_action -------------------------------------------------------------------------------


def test_lookup_none_partial_complete(sandbox: FikenSandbox, provider: FikenProvider) -> None:
    letter = make_letter(sandbox, ("overdue_20",))
    action = letter.actions[0]
    assert provider.lookup_action(action) is None

    sandbox.inject("", status=503, times=99, operation="createInvoice")
    with pytest.raises(ServerError):
        provider.push(letter, None)
    partial = provider.lookup_action(action)
    assert partial is not None and not partial.ok
    assert partial.message == "incomplete: missing fee_invoice, audit"
    assert set(partial.details) == {"attachment", "send"}

    sandbox.clear_faults()
    provider.push(letter, None)
    complete = provider.lookup_action(action)
    assert complete is not None and complete.ok
    assert set(complete.details) == {"attachment", "send", "fee_invoice", "audit"}
    other_stage = action.model_copy(update={"stage": ActionStage.COLLECTION_NOTICE})
    assert provider.lookup_action(other_stage) is None  # evidence is per key


# --- refusals ------------------------------------------------------------------------------------


def test_a_4xx_refusal_raises_client_error_with_fikens_message(
    sandbox: FikenSandbox, provider: FikenProvider
) -> None:
    letter = make_letter(sandbox, ("overdue_20",))
    sandbox.inject(
        "",
        status=400,
        operation="sendInvoice",
        body='{"error":"invalid_request","error_description":"Fakturaen kan ikke sendes på nytt"}',
    )
    with pytest.raises(ClientError) as caught:
        provider.push(letter, None)
    assert caught.value.status == 400
    assert "Fakturaen kan ikke sendes på nytt" in str(caught.value)
    assert writes(sandbox)["sendInvoice"] == 0  # refused, and not tried again


def test_capabilities_name_the_route(provider: FikenProvider) -> None:
    assert provider.capabilities().push_routes == ("fiken_resend",)
