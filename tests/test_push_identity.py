"""Idempotency keyed on what the customer sees: provider + account + invoice + stage + sequence.

End to end against the sandboxes: a renamed tenant, or a fresh store on the same company, finds
the earlier letters through the provider's evidence (old-form markers too) and sends nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from backends import MakeStore

from connector.clock import Clock
from connector.config import TenantConfig
from connector.models import ActionStage, ActionState, ReminderAction
from connector.runtime import run_tenant
from connector.secrets import MemoryCredentials
from connector.store import Store
from connector.validation import fixture_register
from providers.base import legacy_key_pattern
from providers.fiken.push import attachment_name, audit_name, find_attachment
from providers.fiken.sandbox import FikenSandbox
from providers.fortnox import comments
from providers.fortnox.sandbox import FortnoxSandbox

pytestmark = [pytest.mark.e2e, pytest.mark.backends]
FIKEN_DAY = date(2026, 11, 23)
FORTNOX_DAY = date(2026, 3, 2)


# --- the key -----------------------------------------------------------------------------------


def action(**over: Any) -> ReminderAction:
    fields: dict[str, Any] = dict(
        tenant="fjord",
        invoice_id="2888000",
        invoice_number="10001",
        customer_id="1",
        stage=ActionStage.REMINDER,
        planned_on=FIKEN_DAY,
        currency="NOK",
        outstanding=Decimal("100"),
    )
    return ReminderAction(**(fields | over))


def test_the_key_names_the_account_not_the_tenant() -> None:
    a = action(account="fiken:fjord-as")
    b = action(account="fiken:fjord-as", tenant="fjord-renamed")
    assert a.idempotency_key == b.idempotency_key == "fiken:fjord-as:2888000:reminder:1"
    assert action(account="fiken:other-as").idempotency_key != a.idempotency_key
    assert a.legacy_key == "fjord:2888000:reminder:1"
    # an old-form marker under any tenant name is this action's, a new-form one is not
    pattern = re.compile(legacy_key_pattern(a))
    assert pattern.fullmatch("old-name:2888000:reminder:1")
    assert not pattern.fullmatch("fiken:fjord-as:2888000:reminder:1")
    assert not pattern.fullmatch("fjord:2888000:reminder:2")


def test_evidence_file_names_use_only_safe_characters() -> None:
    key = action(account="fiken:fjord-as", tenant="Fjørd & co").idempotency_key
    for name in (attachment_name(key, 3), audit_name(key)):
        assert re.fullmatch(r"[A-Za-z0-9._-]+", name), name
    a = action(account="fiken:fjord-as")
    raw = {"attachments": [{"identifier": attachment_name(a.idempotency_key, 2)}]}
    assert find_attachment(raw, a) == {"identifier": raw["attachments"][0]["identifier"],
                                       "dispatches_before": 2}  # fmt: skip
    old = {
        "attachments": [
            {"identifier": "kravsync:gammel:2888000:reminder:1 dispatches-before=4.pdf"}
        ]
    }
    assert find_attachment(old, a) == {"identifier": old["attachments"][0]["identifier"],
                                       "dispatches_before": 4}  # fmt: skip
    assert find_attachment(old, action(account="fiken:fjord-as", sequence=2)) is None


# --- Fiken end to end ----------------------------------------------------------------------------


@pytest.fixture
def fiken() -> Iterator[FikenSandbox]:
    with FikenSandbox(today=FIKEN_DAY, rate_limit=False) as sb:
        yield sb


def fiken_cycle(sb: FikenSandbox, name: str, store: Store) -> Any:
    tenant = TenantConfig.model_validate(
        {"name": name, "provider": "fiken", "country": "NO", "push": True,
         "requests_per_window": 1000, **sb.tenant_settings()}
    )  # fmt: skip
    return run_tenant(
        tenant,
        store,
        clock=sb.clock,
        credentials=MemoryCredentials({name: sb.demo_secret()}),
        postcodes=lambda _t: fixture_register(),
    )


def test_fiken_renamed_tenant_and_fresh_store_send_nothing_again(
    fiken: FikenSandbox, tmp_path: Path, make_store: MakeStore
) -> None:
    store = make_store(fiken.clock, "a")
    first = fiken_cycle(fiken, "fjord", store)
    assert first.sync.ok and first.pushed.done
    sends, fees = len(fiken.sent_invoices()), len(fiken.created_invoices())
    assert sends >= 5 and fees >= 5
    assert all(k.startswith(f"fiken:{fiken.company}:") for k in first.pushed.done)

    renamed = fiken_cycle(fiken, "fjord-nord", store)  # same store, same company, new name
    assert renamed.sync.ok
    # the renamed tenant took the account's journal over: its plan knows the letters went out
    assert {e.action.idempotency_key for e in store.journal("fjord-nord")} >= set(first.pushed.done)
    assert all(e.action.tenant == "fjord-nord" for e in store.journal("fjord-nord"))
    again = fiken_cycle(fiken, "fjord-nord", store)
    assert not again.pushed.done and not [d for d in again.decisions if d.action is not None]
    fresh_store = make_store(fiken.clock, "b")
    fresh = fiken_cycle(fiken, "fjord", fresh_store)  # a new store on the same company
    assert fresh.sync.ok and not fresh.pushed.failed
    assert (len(fiken.sent_invoices()), len(fiken.created_invoices())) == (sends, fees)
    # the fresh store learnt the letters were sent, from Fiken's evidence
    assert set(fresh.pushed.done) == set(first.pushed.done)
    assert {e.state for e in fresh_store.journal("fjord")} == {ActionState.DONE}


def test_fiken_letters_under_old_form_keys_are_found(fiken: FikenSandbox, tmp_path: Path, make_store: MakeStore) -> None:
    """Markers kravsync wrote before issue 10 (tenant name in the key) are evidence too."""
    store = make_store(fiken.clock, "a")
    assert fiken_cycle(fiken, "fjord", store).pushed.done
    sends, fees = len(fiken.sent_invoices()), len(fiken.created_invoices())
    # Rewrite every piece of kravsync evidence into the pre-issue-10 form, tenant "gammel".
    assert _rewrite_fiken_markers(fiken, f"fiken:{fiken.company}:", "gammel:") >= 3 * fees

    fresh = fiken_cycle(fiken, "fjord", make_store(fiken.clock, "b"))
    assert fresh.sync.ok and not fresh.pushed.failed
    assert (len(fiken.sent_invoices()), len(fiken.created_invoices())) == (sends, fees)


def _rewrite_fiken_markers(sb: FikenSandbox, account: str, old: str) -> int:
    """Attachment names, fee invoice texts and contact notes of kravsync, rewritten in the form
    kravsync wrote before issue 10 (tenant name first); how many were rewritten."""
    safe = "kravsync." + account.replace(":", ".")
    changed = 0
    with sb.ledger._lock:
        for inv in sb.ledger._invoices.values():
            for att in inv.get("attachments") or ():
                found = re.fullmatch(
                    re.escape(safe) + r"(.+)\.before-(\d+)\.pdf", att["identifier"]
                )
                if found:
                    tail = found.group(1).replace(".", ":")
                    att["identifier"] = (
                        f"kravsync:{old}{tail} dispatches-before={found.group(2)}.pdf"
                    )
                    changed += 1
            text = str(inv.get("invoiceText") or "")
            if f"[kravsync:{account}" in text:
                inv["invoiceText"] = text.replace(f"[kravsync:{account}", f"[kravsync:{old}")
                changed += 1
        for contact in sb.ledger._contacts.values():
            for doc in contact.get("documents") or ():
                comment = str(doc.get("comment") or "")
                if comment.startswith(f"kravsync:{account}"):
                    doc["comment"] = comment.replace(f"kravsync:{account}", f"kravsync:{old}", 1)
                    doc["identifier"] = str(doc["identifier"]).replace(
                        safe + ".", "kravsync:" + old
                    )
                    changed += 1
        sb.ledger._changed()
    return changed


# --- Fortnox end to end ----------------------------------------------------------------------------


@pytest.fixture
def fortnox() -> Iterator[FortnoxSandbox]:
    with FortnoxSandbox(today=FORTNOX_DAY, rate_limit=False, finans=False) as sb:
        yield sb


class Outbox:
    """kravsync's channel for these tests: every message handed over, in order."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, *, to: str, subject: str, text: str, attachments: Any, message_id: str) -> str:
        self.sent.append(message_id)
        return f"<{len(self.sent)}@test>"


def fortnox_cycle(
    sb: FortnoxSandbox, name: str, store: Store, channel: Any, **over: Any
) -> Any:
    settings = dict(sb.tenant_settings(), name=name, provider="fortnox", country="SE", push=True)
    settings.update(auth="client_credentials", requests_per_window=1000, **over)
    # An e-mail channel in the config (push needs a channel that can deliver); the test hands the
    # cycle its own channel object.
    settings["email"] = {"host": "127.0.0.1", "security": "none", "from_address": "ekonomi@acme.se"}
    tenant = TenantConfig.model_validate(settings)
    return run_tenant(
        tenant,
        store,
        clock=sb.clock,
        credentials=MemoryCredentials({name: sb.demo_secret()}),
        postcodes=lambda _t: fixture_register(),
        channel=channel,
    )


def test_fortnox_renamed_tenant_and_fresh_store_send_nothing_again(
    fortnox: FortnoxSandbox, tmp_path: Path, make_store: MakeStore
) -> None:
    outbox = Outbox()
    store = make_store(fortnox.clock, "a")
    first = fortnox_cycle(fortnox, "acme-se", store, outbox)
    assert first.sync.ok and first.pushed.done and outbox.sent
    assert all(k.startswith(f"fortnox:{fortnox.tenant_id}:") for k in first.pushed.done)
    letters, prints = len(outbox.sent), len(fortnox.received("GET", "/printreminder"))

    assert fortnox_cycle(fortnox, "acme-sverige", store, outbox).sync.ok
    fresh = fortnox_cycle(
        fortnox, "acme-se", make_store(fortnox.clock, "b"), outbox
    )
    assert fresh.sync.ok
    assert len(outbox.sent) == letters
    assert len(fortnox.received("GET", "/printreminder")) == prints
    # Fortnox's reminder count holds kravsync's printreminder: its own Comments lines say so, and
    # the fresh store learns the letters went out (done), not that someone else reminded.
    assert set(first.pushed.done) <= set(fresh.pushed.done)


def test_fortnox_account_from_companyinformation_without_tenant_id(
    fortnox: FortnoxSandbox, tmp_path: Path
) -> None:
    """Without ``tenant_id`` in the config the TenantId is the company's DatabaseNumber."""
    from providers.fortnox import create
    from providers.fortnox.adapter import FortnoxProvider

    settings = dict(fortnox.tenant_settings(), name="acme-se", provider="fortnox", country="SE")
    tenant = TenantConfig.model_validate(settings | {"auth": "client_credentials"})
    built = create(
        tenant, MemoryCredentials({"acme-se": fortnox.demo_secret()}), clock=fortnox.clock
    )
    asked: list[dict[str, Any]] = []
    original = built.client.company_information
    built.client.company_information = lambda: asked.append(original()) or asked[-1]  # type: ignore[method-assign]
    assert built.account_id == fortnox.tenant_id and asked == []
    # a login by refresh token has no TenantId in the config: the company tells it (once)
    p = FortnoxProvider(built.client, today=fortnox.clock.today, tenant_id=None)
    assert p.account_id == p.account_id == fortnox.tenant_id
    assert len(asked) == 1


def test_fortnox_old_form_comments_lines_are_evidence(
    fortnox: FortnoxSandbox, tmp_path: Path, make_store: MakeStore
) -> None:
    outbox = Outbox()
    first = fortnox_cycle(
        fortnox, "acme-se", make_store(fortnox.clock, "a"), outbox
    )
    assert first.pushed.done
    prefix = f"kravsync:fortnox:{fortnox.tenant_id}:"
    for key in first.pushed.done:
        n = int(key.split(":")[2])
        text = str(fortnox.invoice(n)["Comments"])
        fortnox.update_invoice(n, Comments=text.replace(prefix, "kravsync:gammal:"))
        assert comments.find(str(fortnox.invoice(n)["Comments"]), key) is None
    letters = len(outbox.sent)
    fresh = fortnox_cycle(
        fortnox, "acme-se", make_store(fortnox.clock, "b"), outbox
    )
    assert fresh.sync.ok and len(outbox.sent) == letters


# --- migrating a journal ----------------------------------------------------------------------------


def test_a_journal_keyed_by_tenant_name_is_rekeyed_when_the_provider_is_first_built(
    fiken: FikenSandbox, tmp_path: Path, make_store: MakeStore
) -> None:
    store = make_store(Clock.starting_at(FIKEN_DAY), "a")
    store.ensure_tenant("fjord", "fiken", "NO")
    old = action(invoice_id="999", invoice_number="999")
    assert old.account is None and store.journal_begin(old)
    store.journal_finish(old.idempotency_key, ActionState.DONE, sent_on=FIKEN_DAY)
    store.step_record("fjord", old.idempotency_key, "send", invoice_id="999", on=FIKEN_DAY)
    assert store.tenant_account("fjord") is None

    assert fiken_cycle(fiken, "fjord", store).sync.ok
    new_key = f"fiken:{fiken.company}:999:reminder:1"
    [entry] = [e for e in store.journal("fjord") if e.action.invoice_id == "999"]
    assert entry.action.idempotency_key == new_key and entry.state is ActionState.DONE
    assert store.step_get(new_key, "send") is not None
    assert store.step_get(old.idempotency_key, "send") is None
    assert store.tenant_account("fjord") == f"fiken:{fiken.company}"
