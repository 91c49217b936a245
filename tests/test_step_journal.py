"""The local step journal, and kravsync's own traces are not a second sender.

A step the provider confirmed is recorded at once and never taken again, even when the
provider's read-back does not show it yet. An SMTP outage or refusal during a Fortnox e-mail push
leaves the actions pending; when the server is back each goes out once, and the reminder
kravsync's own ``printreminder`` registered is never read back as someone else's.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from backends import MakeStore

from connector.channels.email import ChannelRejected, SmtpChannel
from connector.clock import Clock
from connector.config import EmailSettings, TenantConfig
from connector.cycle.own import without_own
from connector.models import ActionStage, ActionState, Dispatch, Invoice, InvoiceStatus
from connector.runtime import run_tenant
from connector.secrets import MemoryCredentials
from connector.store import Store
from connector.store.steps import OwnReminder, StoreSteps
from connector.validation import fixture_register
from providers.base import MemorySteps
from providers.fiken.adapter import FikenProvider
from providers.fiken.client import FikenClient, error_message
from providers.fiken.sandbox import FikenSandbox
from providers.fortnox.sandbox import FortnoxSandbox
from providers.http import ClientError, HttpClient
from providers.oauth import StaticBearer

pytestmark = [pytest.mark.e2e, pytest.mark.backends]
FIKEN_DAY = date(2026, 11, 23)
FORTNOX_DAY = date(2026, 3, 2)


# --- own traces (pure) ---------------------------------------------------------------------------


def fortnox_invoice(reminders: int, last: date | None) -> Invoice:
    return Invoice(
        provider="fortnox", provider_id="4", number="4", customer_id="1", issue_date=date(2026, 1, 1),
        due_date=date(2026, 2, 1), currency="SEK", gross=Decimal("100"), outstanding=Decimal("100"),
        status=InvoiceStatus.OPEN, reminders_sent=reminders, last_reminded=last,
        dispatches=(Dispatch(on=last, channel="unknown", kind="reminder"),) if last else (),
    )  # fmt: skip


def test_own_registrations_are_taken_out_of_the_facts() -> None:
    own = [OwnReminder("fortnox:1:4:reminder:1", "4", FORTNOX_DAY)]
    # the action being decided again (not counted by the history): its print is not a sender
    clean = without_own(fortnox_invoice(1, FORTNOX_DAY), own, counted=set())
    assert clean.reminders_sent == 0 and clean.dispatches == () and clean.last_reminded is None
    # a letter the history counts keeps its registration in the count (matched by the history)
    kept = without_own(fortnox_invoice(1, FORTNOX_DAY), own, counted={"fortnox:1:4:reminder:1"})
    assert kept.reminders_sent == 1 and kept.dispatches == ()
    # a reminder on another day is someone else's and stays
    other = without_own(fortnox_invoice(2, date(2026, 3, 9)), own, counted=set())
    assert other.reminders_sent == 1 and other.dispatches[0].on == date(2026, 3, 9)
    # another invoice's registration does not touch this one
    assert without_own(fortnox_invoice(1, FORTNOX_DAY), [OwnReminder("k", "5", FORTNOX_DAY)], set()).reminders_sent == 1  # fmt: skip


# --- Fiken: a confirmed step is never taken again ----------------------------------------------


@pytest.fixture
def fiken() -> Iterator[FikenSandbox]:
    with FikenSandbox(today=FIKEN_DAY, rate_limit=False) as sb:
        yield sb


def fiken_provider(sb: FikenSandbox) -> FikenProvider:
    http = HttpClient(
        provider="fiken", base_url=sb.base_url, auth=StaticBearer(sb.token),
        error_message=error_message, sleep=lambda _s: None,
    )  # fmt: skip
    return FikenProvider(
        FikenClient(http, sb.company), today=lambda: FIKEN_DAY, sleep=lambda _s: None
    )


def fiken_letter(sb: FikenSandbox) -> Any:
    from test_fiken_push import make_letter

    letter = make_letter(sb, ("overdue_20",))
    account = f"fiken:{sb.company}"
    actions = tuple(a.model_copy(update={"account": account}) for a in letter.actions)
    return letter.__class__(**{**letter.__dict__, "actions": actions})


def hide_dispatches(p: FikenProvider) -> None:
    """Fiken's read-back lags: the invoice comes back without the sending just made."""
    original = p.client.invoice

    def lagging(invoice_id: str) -> dict[str, Any]:
        raw = original(invoice_id)
        raw["dispatches"] = raw.get("dispatches", [])[:0]
        return raw

    p.client.invoice = lagging  # type: ignore[method-assign]


def test_fiken_a_later_failure_never_repeats_a_confirmed_send(
    fiken: FikenSandbox, tmp_path: Path, make_store: MakeStore
) -> None:
    store = make_store(Clock.starting_at(FIKEN_DAY), "s")
    store.ensure_tenant("fjord", "fiken", "NO")
    p = fiken_provider(fiken)
    letter = fiken_letter(fiken)
    key = letter.actions[0].idempotency_key
    fiken.inject("", status=400, times=1, operation="createInvoice")  # the fee step is refused
    with pytest.raises(ClientError):
        p.push(letter, None, StoreSteps(store, "fjord"))
    assert len(fiken.sent_invoices()) == 1
    # recorded the moment Fiken confirmed them, in the store (a new process reads them)
    again = make_store(Clock.starting_at(FIKEN_DAY), "s")
    assert {s.step for s in again.steps_of(key)} == {"attach", "send"}

    hide_dispatches(p)
    result = p.push(letter, None, StoreSteps(again, "fjord"))[key]
    assert result.ok
    assert len(fiken.sent_invoices()) == 1  # not sent again although the read-back hid it
    assert len(fiken.created_invoices()) == 1
    assert {s.step for s in again.steps_of(key)} == {"attach", "send", "fee", "audit"}
    # without the step journal, provider evidence alone would have sent it again
    p.push(letter, None, MemorySteps())
    assert len(fiken.sent_invoices()) == 2


# --- Fortnox: SMTP outages and refusals through real SMTP --------------------------------------


class Inbox:
    """An SMTP server's handler: takes every message, or refuses the sender while ``refuse``."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.refuse = False

    async def handle_MAIL(  # noqa: N802 - aiosmtpd hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: list
    ) -> str:
        if self.refuse:
            return "554 5.7.1 sender refused: relaying denied"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.original_content or envelope.content)
        return "250 queued"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fortnox() -> Iterator[FortnoxSandbox]:
    with FortnoxSandbox(today=FORTNOX_DAY, rate_limit=False, finans=False) as sb:
        yield sb


def fortnox_cycle(sb: FortnoxSandbox, store: Store, port: int) -> Any:
    settings = dict(sb.tenant_settings(), name="acme-se", provider="fortnox", country="SE")
    settings.update(push=True, auth="client_credentials", requests_per_window=1000)
    # An e-mail channel in the config (push needs a channel that can deliver); the test hands the
    # cycle its own channel object.
    settings["email"] = {"host": "127.0.0.1", "security": "none", "from_address": "ekonomi@acme.se"}
    tenant = TenantConfig.model_validate(settings)
    smtp = EmailSettings(
        host="127.0.0.1", port=port, security="none", from_address="ekonomi@acme.se",
        timeout_seconds=5,
    )  # fmt: skip
    return run_tenant(
        tenant,
        store,
        clock=sb.clock,
        credentials=MemoryCredentials({"acme-se": sb.demo_secret()}),
        postcodes=lambda _t: fixture_register(),
        channel=SmtpChannel(smtp, None, clock=sb.clock),
    )


def states(store: Store) -> dict[str, ActionState]:
    return {e.action.idempotency_key: e.state for e in store.journal("acme-se")}


def test_smtp_down_leaves_pending_and_each_goes_once_when_it_is_back(
    fortnox: FortnoxSandbox, tmp_path: Path, make_store: MakeStore
) -> None:
    store = make_store(fortnox.clock, "s")
    port = free_port()  # nothing listens: the SMTP server is down
    down = fortnox_cycle(fortnox, store, port)
    assert down.sync.ok and down.pushed.pending and not down.pushed.done
    waiting = set(down.pushed.pending)
    assert all(states(store)[k] is ActionState.PENDING for k in waiting)
    prints = len(fortnox.received("GET", "/printreminder"))
    assert prints == len(waiting)  # one registration each, recorded as kravsync's own

    inbox = Inbox()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        back = fortnox_cycle(fortnox, store, port)
        after = fortnox_cycle(fortnox, store, port)
    finally:
        ctl.stop()
    assert not back.pushed.skipped, [e.message for e in store.journal("acme-se") if e.message]
    assert set(back.pushed.done) == waiting and len(inbox.messages) == len(waiting)
    assert not after.pushed.done and len(inbox.messages) == len(waiting)  # once
    assert len(fortnox.received("GET", "/printreminder")) == prints  # the recorded print reused
    assert all(states(store)[k] is ActionState.DONE for k in waiting)


def test_smtp_refusing_kravsync_leaves_pending_a_refused_recipient_fails(
    fortnox: FortnoxSandbox, tmp_path: Path, make_store: MakeStore
) -> None:
    store = make_store(fortnox.clock, "s")
    inbox, port = Inbox(), free_port()
    inbox.refuse = True
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        refused = fortnox_cycle(fortnox, store, port)
        assert refused.pushed.pending and not refused.pushed.done
        assert [k for k in refused.pushed.failed if states(store)[k] is ActionState.FAILED] == [
            k for k in refused.pushed.failed
        ]
        waiting = set(refused.pushed.pending)
        inbox.refuse = False
        fixed = fortnox_cycle(fortnox, store, port)
    finally:
        ctl.stop()
    assert not fixed.pushed.skipped
    assert set(fixed.pushed.done) == waiting and len(inbox.messages) == len(waiting)


def test_pusher_fails_a_refused_recipient_but_not_a_refused_channel(tmp_path: Path, make_store: MakeStore) -> None:
    from test_pushing import CLOCK, FakeProvider, action, decisions, invoice, pusher

    for exc, state in (
        (ChannelRejected("smtp x: recipient refused: 550", recipient=True), ActionState.FAILED),
        (ChannelRejected("smtp x: login refused: 535"), ActionState.PENDING),
    ):
        store = make_store(CLOCK, state.value)
        store.ensure_tenant("t", "fake", "NO")
        provider = FakeProvider({"1": invoice("1")})
        provider.fail_with = exc
        pusher(store, provider).run(decisions(action("1")))
        assert [e.state for e in store.journal("t")] == [state]


# --- Tripletex: a confirmed reminder is not asked for again --------------------------------------


def test_tripletex_reminder_recorded_is_not_made_again_when_the_list_lags(tmp_path: Path) -> None:
    from test_tripletex_push import CREATE, action_for, letter, provider, tagged, tenant

    from providers.tripletex.auth import forget_sessions
    from providers.tripletex.sandbox import TripletexSandbox

    forget_sessions()
    with TripletexSandbox(today=date(2026, 11, 23), rate_limit=False) as sb:
        p = provider(sb, tenant(sb))
        inv = tagged(sb, p, "overdue_20")
        act = action_for(inv).model_copy(update={"account": f"tripletex:{p.account_id}"})
        steps = MemorySteps()
        assert p.push(letter(act, inv), None, steps)[act.idempotency_key].ok
        assert steps.own == [(act.idempotency_key, inv.provider_id, act.planned_on)]
        p._push.client.reminders = lambda *a, **k: []  # type: ignore[method-assign]
        assert p.push(letter(act, inv), None, steps)[act.idempotency_key].ok
        assert len(sb.received(CREATE)) == 1
        assert act.stage is ActionStage.REMINDER


def test_fortnox_comments_lines_of_kravsync_claim_the_reminder_they_registered() -> None:
    from connector.policy.engine import _second_sender
    from connector.policy.history import TakenAction
    from mappings.fortnox import _own_reminders

    lines = "\n".join(
        (
            "Kunden ringde",
            "kravsync:fortnox:1:4:reminder:1 reminder sent 2026-03-02 fee=60.00 letter=ab",
            "kravsync:fortnox:1:4:collection_notice:1 collection_notice sent 2026-03-20 fee=0",
            "kravsync:gammal:4:reminder:2 sending 2026-03-10 letter=cd",
            "kravsync:fortnox:1:4:reminder:3 failed 2026-03-12 letter=ef",
        )
    )
    assert _own_reminders(lines) == (FORTNOX_DAY, date(2026, 3, 10))
    ours = fortnox_invoice(1, FORTNOX_DAY).model_copy(update={"own_reminders": (FORTNOX_DAY,)})
    assert _second_sender(ours, []) is None  # a fresh store: the marker says it was kravsync
    theirs = fortnox_invoice(2, date(2026, 3, 9)).model_copy(
        update={"own_reminders": (FORTNOX_DAY,)}
    )
    assert "sent its own reminder on 2026-03-09" in (_second_sender(theirs, []) or "")
    counted = fortnox_invoice(2, FORTNOX_DAY).model_copy(update={"own_reminders": (FORTNOX_DAY,)})
    hist = [TakenAction(ActionStage.REMINDER, FORTNOX_DAY)]
    assert "counts 2 reminders, kravsync sent 1" in (_second_sender(counted, hist) or "")
