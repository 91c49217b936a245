"""Fortnox's push routes against the sandbox over HTTP: Finans, e-mail + Comments, crashes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connector.channels.email import ChannelRejected, ChannelUnavailable, message_id_for
from connector.clock import Clock
from connector.config import TenantConfig
from connector.models import ActionStage, ReminderAction
from connector.secrets import MemoryCredentials
from mappings import fortnox as mapping
from providers.base import Letter
from providers.fortnox import create
from providers.fortnox.adapter import FortnoxProvider
from providers.fortnox.push import UNCONFIRMED
from providers.fortnox.sandbox import FortnoxSandbox
from providers.fortnox.sandbox.push_api import pdf
from providers.http import ClientError, RetryPolicy, ServerError

CLOCK = Clock.starting_at(date(2026, 11, 23))  # the tests' clock; never the real date

pytestmark = pytest.mark.e2e
TODAY = date(2026, 3, 2)
TENANT = "acme-se"
LETTER_PDF = bytes(pdf("Paminnelse fran kravsync"))


class Crash(BaseException):
    """The process dies here: nothing after it runs, no ``except Exception`` sees it."""


class FakeChannel:
    def __init__(
        self, fail: BaseException | None = None, on_send: Callable[[], None] | None = None
    ) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail = fail
        self.on_send = on_send

    def send(
        self,
        *,
        to: str,
        subject: str,
        text: str,
        attachments: Sequence[tuple[str, bytes, str]],
        message_id: str,
    ) -> str:
        if self.on_send is not None:
            self.on_send()
        if self.fail is not None:
            raise self.fail
        self.sent.append(
            {
                "to": to,
                "subject": subject,
                "text": text,
                "files": list(attachments),
                "id": message_id,
            }
        )
        return message_id_for(message_id)


@pytest.fixture
def sb() -> Iterator[FortnoxSandbox]:
    with FortnoxSandbox(today=TODAY, rate_limit=False) as sandbox:
        yield sandbox


def provider(sb: FortnoxSandbox, *, finans: bool = False) -> FortnoxProvider:
    settings = dict(sb.tenant_settings(), name=TENANT, provider="fortnox", country="SE")
    settings.update(auth="client_credentials", requests_per_window=1000, fortnox_finans=finans)
    creds = MemoryCredentials({TENANT: sb.demo_secret()})
    p = create(TenantConfig.model_construct(**settings), creds, clock=sb.clock)
    p.client.http.retry = RetryPolicy(max_tries=3, backoff_base=0.001, backoff_max=0.002)
    p._today = lambda: TODAY
    return p


def letter(
    p: FortnoxProvider,
    sb: FortnoxSandbox,
    numbers: Sequence[int],
    stage: ActionStage = ActionStage.REMINDER,
) -> Letter:
    invoices = tuple(p.get_invoice(str(n)) for n in numbers)
    customer = mapping.customer(sb.customer(int(invoices[0].customer_id or 0)))
    actions = tuple(
        ReminderAction(
            tenant=TENANT,
            invoice_id=inv.provider_id,
            invoice_number=inv.number,
            customer_id=inv.customer_id,
            stage=stage,
            planned_on=TODAY,
            fee=Decimal("60.00"),
            interest=Decimal("12.34"),
            currency=inv.currency,
            outstanding=inv.outstanding,
        )
        for inv in invoices
    )
    return Letter(
        tenant=TENANT,
        customer=customer,
        stage=stage,
        currency=invoices[0].currency,
        actions=actions,
        invoices=invoices,
        subject="Påminnelse – Åkerlund & Öhman Bygg AB",
        text="Hej Märta!\nFaktura 1 och 7 är obetalda. Vänliga hälsningar\n",
        pdf=LETTER_PDF,
        filename="paminnelse.pdf",
    )


def comments(sb: FortnoxSandbox, n: int) -> str:
    return str(sb.invoice(n)["Comments"])


def keys(lt: Letter) -> list[str]:
    return [a.idempotency_key for a in lt.actions]


# --- the e-mail route -----------------------------------------------------------------------


def test_email_route_sends_one_message_and_notes_each_invoice(sb) -> None:
    p = provider(sb)
    sb.update_invoice(1, Comments="Kunden ringde – lovar betala på fredag")
    lt = letter(p, sb, [1, 7])
    at_send: dict[int, str] = {}
    channel = FakeChannel(on_send=lambda: at_send.update({n: comments(sb, n) for n in (1, 7)}))

    results = p.push(lt, channel)

    assert len(channel.sent) == 1
    sent = channel.sent[0]
    assert sent["to"] == "ekonomi@akerlund-ohman.se" and sent["id"] == lt.key
    assert sent["subject"] == lt.subject and sent["text"] == lt.text
    names = [name for name, _content, _mime in sent["files"]]
    assert names == [
        "paminnelse.pdf",
        "paminnelse-1.pdf",
        "faktura-1.pdf",
        "paminnelse-7.pdf",
        "faktura-7.pdf",
    ]
    assert all(c.startswith(b"%PDF-") and m == "application/pdf" for _n, c, m in sent["files"])
    assert sent["files"][0][1] == LETTER_PDF
    # the marker was in place on both invoices before the message went
    for n, key in zip((1, 7), keys(lt), strict=True):
        assert f"kravsync:{key} sending 2026-03-02 letter=" in at_send[n]
    assert set(results) == set(keys(lt))
    assert all(r.ok and r.reference == message_id_for(lt.key) for r in results.values())
    key1 = keys(lt)[0]
    assert comments(sb, 1).splitlines()[0] == "Kunden ringde – lovar betala på fredag"
    assert f"kravsync:{key1} reminder sent 2026-03-02 fee=60.00 interest=12.34 letter=" in (
        comments(sb, 1)
    )
    assert "sending" not in comments(sb, 1) + comments(sb, 7)
    # a copy by preview (no side effect), never by print (marks the invoice sent)
    assert len(sb.received("GET", "/preview")) == 2
    assert not [r for r in sb.received("GET") if r.path.endswith("/print")]


def test_lookup_none_unconfirmed_and_sent(sb) -> None:
    p = provider(sb)
    lt = letter(p, sb, [2])
    action = lt.actions[0]
    assert p.lookup_action(action) is None

    with pytest.raises(Crash):
        p.push(lt, FakeChannel(fail=Crash()))  # dies between marker and send
    partial = p.lookup_action(action)
    assert partial is not None and partial.ok and partial.message == UNCONFIRMED

    other = letter(p, sb, [3])
    p.push(other, FakeChannel())
    done = p.lookup_action(other.actions[0])
    assert done is not None and done.ok and done.message == "sent"


def test_push_repeated_after_crash_between_marker_and_send_sends_nothing(sb) -> None:
    p = provider(sb)
    lt = letter(p, sb, [1, 7])
    with pytest.raises(Crash):
        p.push(lt, FakeChannel(fail=Crash()))
    channel = FakeChannel()
    again = p.push(lt, channel)
    assert channel.sent == []  # at most once: an unknown outcome is never made up for
    assert all(r.ok and r.message == UNCONFIRMED for r in again.values())
    assert "sending" in comments(sb, 1) and "sending" in comments(sb, 7)


def test_crash_while_writing_markers_resumes_and_sends_once(sb) -> None:
    p = provider(sb)
    lt = letter(p, sb, [1, 7])
    sb.inject("/3/invoices/7", status=503, times=3, method="PUT")  # marker on 7 never lands
    channel = FakeChannel()
    with pytest.raises(ServerError):
        p.push(lt, channel)
    assert channel.sent == [] and "sending" in comments(sb, 1)
    results = p.push(lt, channel)  # every marker precedes the send: nothing went out
    assert len(channel.sent) == 1
    assert all(r.ok and r.message.startswith("e-mailed") for r in results.values())
    assert all(f"{k} reminder sent" in comments(sb, 1) + comments(sb, 7) for k in keys(lt))


def test_crash_while_confirming_completes_without_sending(sb) -> None:
    p = provider(sb)
    lt = letter(p, sb, [1, 7])
    # The server takes the message; the confirmation on invoice 7 then fails.
    channel = FakeChannel(
        on_send=lambda: sb.inject("/3/invoices/7", status=503, times=3, method="PUT")
    )
    with pytest.raises(ServerError):
        p.push(lt, channel)
    assert len(channel.sent) == 1
    assert "reminder sent" in comments(sb, 1) and " sending " in comments(sb, 7)
    results = p.push(lt, channel)
    assert len(channel.sent) == 1
    assert all(r.ok for r in results.values())
    assert f"{keys(lt)[1]} reminder sent" in comments(sb, 7)  # the same letter was confirmed


def test_refusal_takes_markers_back_so_a_later_push_may_send(sb) -> None:
    p = provider(sb)
    lt = letter(p, sb, [2])
    refused = ChannelRejected("smtp x:587: recipient refused: 550 no such user", code=550)
    with pytest.raises(ChannelRejected):
        p.push(lt, FakeChannel(fail=refused))
    assert f"kravsync:{keys(lt)[0]} failed 2026-03-02" in comments(sb, 2)
    assert p.lookup_action(lt.actions[0]) is None
    channel = FakeChannel()
    p.push(lt, channel)
    assert len(channel.sent) == 1
    assert comments(sb, 2).count("kravsync:") == 1  # the line was replaced, not added


def test_transient_failure_before_handover_is_retryable_after_it_is_not(sb) -> None:
    p = provider(sb)
    lt = letter(p, sb, [2])
    with pytest.raises(ChannelUnavailable):
        p.push(lt, FakeChannel(fail=ChannelUnavailable("connection refused")))
    assert "kravsync:" not in comments(sb, 2)
    assert p.lookup_action(lt.actions[0]) is None

    unknown = ChannelUnavailable("connection closed by the server", maybe_delivered=True)
    with pytest.raises(ChannelUnavailable):
        p.push(lt, FakeChannel(fail=unknown))
    result = p.lookup_action(lt.actions[0])
    assert result is not None and result.message == UNCONFIRMED
    channel = FakeChannel()
    p.push(lt, channel)
    assert channel.sent == []


def test_printreminder_only_for_the_reminder_stage(sb) -> None:
    p = provider(sb)
    before = int(sb.invoice(4)["Reminders"])
    p.push(letter(p, sb, [4]), FakeChannel())
    assert int(sb.invoice(4)["Reminders"]) == before + 1  # Fortnox registers the print
    channel = FakeChannel()
    p.push(letter(p, sb, [5], ActionStage.COLLECTION_NOTICE), channel)
    assert [n for n, _c, _m in channel.sent[0]["files"]] == ["paminnelse.pdf", "faktura-5.pdf"]
    assert len(sb.received("GET", "/printreminder")) == 1
    assert "collection_notice sent" in comments(sb, 5)


def test_nox_finans_invoice_is_refused_outside_the_finans_route(sb) -> None:
    p = provider(sb)
    lt = letter(p, sb, [10])
    assert lt.invoices[0].handled_by == "fortnox_finans"
    channel = FakeChannel()
    with pytest.raises(ClientError, match="handled by Fortnox Finans"):
        p.push(lt, channel)
    with pytest.raises(ClientError, match="handled by Fortnox Finans"):
        p.push(letter(p, sb, [10], ActionStage.HANDOVER), None)
    assert channel.sent == [] and sb.received() == []  # not even a PDF was asked for


def test_missing_address_or_channel_fails_before_anything_is_written(sb) -> None:
    p = provider(sb)
    with pytest.raises(ClientError, match="has no invoice e-mail address"):
        p.push(letter(p, sb, [17]), FakeChannel())  # Östersunds Bygg AB has no e-mail
    with pytest.raises(ClientError, match="no e-mail channel"):
        p.push(letter(p, sb, [2]), None)
    assert sb.received() == []


def test_provider_refusal_is_a_client_error_with_its_message(sb) -> None:
    p = provider(sb)
    channel = FakeChannel()
    with pytest.raises(ClientError, match="bara skrivas ut för bokförda") as info:
        p.push(letter(p, sb, [12]), channel)  # no reminder print for a cancelled invoice
    assert info.value.status == 400
    with pytest.raises(ClientError, match="makulerad och kan inte ändras") as info:
        p.push(letter(p, sb, [12], ActionStage.COLLECTION_NOTICE), channel)
    assert info.value.status == 400 and channel.sent == []
    sb.update_invoice(2, Comments="x" * 1000)
    with pytest.raises(ClientError, match="1024"):
        p.push(letter(p, sb, [2]), channel)
    assert channel.sent == []


def test_handover_is_noted_in_comments_only(sb) -> None:
    p = provider(sb)
    lt = letter(p, sb, [6], ActionStage.HANDOVER)
    results = p.push(lt, None)
    assert results[keys(lt)[0]].ok
    line = f"kravsync:{keys(lt)[0]} handover noted 2026-03-02 fee=60.00 interest=12.34"
    assert line in comments(sb, 6)
    p.push(lt, None)
    assert len(sb.received("PUT")) == 1 and not sb.received("GET", "/printreminder")
    done = p.lookup_action(lt.actions[0])
    assert done is not None and done.ok and done.message == "noted"


# --- the Fortnox Finans route ---------------------------------------------------------------


def test_finans_route_hands_sek_invoices_over_once(sb) -> None:
    p = provider(sb, finans=True)
    assert p.capabilities().push_routes == ("fortnox_finans", "email")
    lt = letter(p, sb, [4])
    channel = FakeChannel()
    assert p.lookup_action(lt.actions[0]) is None
    results = p.push(lt, channel)
    result = results[keys(lt)[0]]
    assert result.ok and result.details["status"] == "UNKNOWN"
    assert result.reference == "/3/noxfinansinvoices/4"
    posts = sb.received("POST", "/3/noxfinansinvoices")
    assert [r.body for r in posts] == [
        {"NoxFinansInvoice": {"InvoiceNumber": "4", "SendMethod": "EMAIL", "Service": "REMINDER"}}
    ]
    assert posts[0].status == 201 and sb.invoice(4)["NoxFinans"] is True
    again = p.push(lt, channel)  # a repeat after a crash finds the hand-over
    assert again[keys(lt)[0]].ok and len(sb.received("POST")) == 1
    assert channel.sent == []
    found = p.lookup_action(lt.actions[0])
    assert found is not None and found.ok


def test_finans_tenant_does_not_claim_someone_elses_finans_invoice(sb) -> None:
    p = provider(sb, finans=True)
    result = p.push(letter(p, sb, [10]), None)  # seeded: LEDGERBASE, not kravsync's
    assert not next(iter(result.values())).ok
    assert "LEDGERBASE" in next(iter(result.values())).message
    assert sb.received("POST") == []


def test_finans_refusal_carries_fortnox_message(sb) -> None:
    p = provider(sb, finans=True)
    with pytest.raises(ClientError, match="saknar namn eller adress") as info:
        p.push(letter(p, sb, [15]), None)  # Gävle Städ AB has no postcode
    assert info.value.status == 400


def test_finans_tenant_sends_other_currencies_by_email(sb) -> None:
    p = provider(sb, finans=True)
    channel = FakeChannel()
    results = p.push(letter(p, sb, [9]), channel)  # EUR: Finans takes SEK only
    assert len(channel.sent) == 1 and all(r.ok for r in results.values())
    assert sb.received("POST") == []


def test_finans_post_answered_late_is_not_a_failure(sb) -> None:
    p = provider(sb, finans=True)
    lt = letter(p, sb, [4])
    # The first POST goes through but its answer is lost: the retry is refused as a duplicate.
    original = sb.push_api._finans_create

    def lost_answer(body: bytes) -> tuple[int, Any]:
        status, payload = original(body)
        if status == 201:
            return 502, {"message": "Bad Gateway"}
        return status, payload

    sb.push_api._finans_create = lost_answer
    results = p.push(lt, None)
    assert results[keys(lt)[0]].ok
    assert [r.status for r in sb.received("POST")] == [502, 400]


# --- end to end through a real SMTP server --------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.original_content or envelope.content)
        return "250 queued"


def test_email_route_through_smtp(sb) -> None:
    controller = pytest.importorskip("aiosmtpd.controller")
    import email
    import email.policy
    import socket

    from connector.channels.email import SmtpChannel
    from connector.config import EmailSettings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    ctl = controller.Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        settings = EmailSettings(
            host="127.0.0.1", port=port, security="none", from_address="ekonomi@acme.se"
        )
        p = provider(sb)
        lt = letter(p, sb, [1, 7])
        results = p.push(lt, SmtpChannel(settings, None, clock=CLOCK))
    finally:
        ctl.stop()
    assert len(inbox.messages) == 1
    msg = email.message_from_bytes(inbox.messages[0], policy=email.policy.default)
    assert msg["Message-ID"] == message_id_for(lt.key) == results[keys(lt)[0]].reference
    assert msg["Subject"] == lt.subject
    assert len(list(msg.iter_attachments())) == 5
    body = msg.get_body(("plain",))
    assert body is not None and "Vänliga hälsningar" in body.get_content()
