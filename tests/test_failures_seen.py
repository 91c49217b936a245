"""Failures people see: `sync` exits 3 on failed or stuck actions, `status` and /healthz count
them, `kravsync actions` lists and re-arms them, and a push without a channel is refused."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import TODAY, TOKEN, fiken_config
from test_pushing import FakeProvider, action, decisions, invoice, pusher, states

from connector.cli import EXIT_ACTIONS, main
from connector.clock import Clock
from connector.config import Config, TenantConfig
from connector.cycle import CycleResult
from connector.cycle.pull import SyncResult
from connector.daemon import Daemon
from connector.models import ActionState, Invoice, InvoiceStatus
from connector.policy import Decision, Outcome
from connector.store import SqliteStore
from providers.base import PushResult
from providers.fiken.sandbox import FikenSandbox
from providers.http import ClientError, ServerError

PNR = "15108695088"  # validates as a Norwegian person number: never printed in clear


@pytest.fixture
def pushing(tmp_path: Path, sandbox: FikenSandbox, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FIKEN_E2E_TOKEN", TOKEN)
    return fiken_config(
        tmp_path / "kravsync.toml",
        sandbox,
        token_env="FIKEN_E2E_TOKEN",
        extra='push = true\n\n[tenants.validation]\npostcode_register_source = "fixture"\n',
    )


def cli(config: Path, clock: Clock, *args: str) -> int:
    return main(["--config", str(config), *args], clock=clock)


def store_of(config: Path, clock: Clock) -> SqliteStore:
    return SqliteStore(str(config.parent / "state.db"), clock)


def json_out(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


# -- the push engine: out of attempts is still reported; a re-armed action is decided again --


def test_an_action_out_of_attempts_is_reported_failed_on_every_run(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "p.db"), Clock.starting_at(TODAY))
    store.ensure_tenant("t", "fake", "NO")
    provider = FakeProvider({"1": invoice("1")})
    provider.fail_with = ClientError("fake", "refused", status=422)
    for _ in range(3):
        pusher(store, provider).run(decisions(action("1")))
    for _ in range(2):  # out of attempts: not tried, but never "0 failed"
        report = pusher(store, provider).run(decisions(action("1")))
        assert report.failed == ["fake:acct-1:1:reminder:1"] and "1 failed" in report.summary()
    assert provider.letters == []


def test_a_rearmed_action_is_decided_again_and_sent_on_todays_terms(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "p.db"), Clock.starting_at(TODAY))
    store.ensure_tenant("t", "fake", "NO")
    provider = FakeProvider({"1": invoice("1"), "2": invoice("2")})
    provider.fail_with = ClientError("fake", "no channel", status=400)
    for _ in range(3):
        pusher(store, provider).run(decisions(action("1"), action("2")))
    assert set(states(store).values()) == {ActionState.FAILED}
    provider.fail_with = None
    assert store.journal_rearm("t", ["fake:acct-1:1:reminder:1"]) == ["fake:acct-1:1:reminder:1"]
    assert store.journal_rearm("t", ["fake:acct-1:1:reminder:1"]) == []  # only failed ones move
    provider.invoices["1"] = invoice("1", outstanding="400.00")  # part paid since
    asked: list[str] = []

    def fresh(inv: Invoice, pending: Any) -> Decision:
        asked.append(inv.provider_id)
        again = action(inv.provider_id, outstanding=str(inv.outstanding))
        return Decision(inv, Outcome.ACTION, "due", again.model_copy(update={"fee": Decimal("0")}))

    report = pusher(store, provider, replan=fresh).run([])  # nothing planned: the re-armed one only
    assert asked == ["1"] and report.done == ["fake:acct-1:1:reminder:1"]
    sent = provider.letters[0].actions[0]
    assert sent.outstanding == Decimal("400.00") and sent.fee == 0  # the fresh decision's terms
    entry = next(e for e in store.journal("t") if e.action.invoice_id == "1")
    assert entry.state is ActionState.DONE and entry.action.outstanding == Decimal("400.00")
    assert states(store)["fake:acct-1:2:reminder:1"] is ActionState.FAILED


def test_a_rearmed_action_on_a_paid_invoice_is_skipped_not_sent(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "p.db"), Clock.starting_at(TODAY))
    store.ensure_tenant("t", "fake", "NO")
    provider = FakeProvider({"1": invoice("1")})
    provider.fail_with = ClientError("fake", "refused", status=400)
    pusher(store, provider).run(decisions(action("1")))
    provider.fail_with = None
    provider.invoices["1"] = invoice("1", outstanding="0", status=InvoiceStatus.PAID)
    store.journal_rearm("t")
    report = pusher(store, provider).run([])
    assert report.skipped == ["fake:acct-1:1:reminder:1"] and provider.letters == []
    assert states(store) == {"fake:acct-1:1:reminder:1": ActionState.SKIPPED}


def test_counts_tell_pending_from_stuck(tmp_path: Path) -> None:
    path = str(tmp_path / "c.db")
    early = SqliteStore(path, Clock.starting_at(TODAY - timedelta(days=2)))
    early.ensure_tenant("t", "fake", "NO")
    early.journal_begin(action("old"))
    now_store = SqliteStore(path, Clock.starting_at(TODAY))
    now_store.journal_begin(action("new"))
    now = Clock.starting_at(TODAY).now()
    counts = now_store.action_counts("t", now, timedelta(hours=24))
    assert (counts.pending, counts.stuck, counts.failed, counts.done) == (1, 1, 0, 0)
    assert counts.alarming and counts.oldest_age(now) >= timedelta(days=2)
    assert not now_store.action_counts("t", now, timedelta(days=3)).alarming


# -- the CLI against the Fiken sandbox ----------------------------------------------------------


def test_failed_deliveries_exit_3_are_listed_and_retried_once_after_a_fix(
    pushing: Path, sandbox: FikenSandbox, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.inject("", status=400, times=100_000, operation="sendInvoice")
    assert cli(pushing, clock, "sync") == EXIT_ACTIONS
    out = capsys.readouterr().out
    assert "fjord: actions:" in out and " failed" in out
    assert cli(pushing, clock, "status", "--format", "json") == 0
    counts = json_out(capsys)["tenants"][0]["actions"]
    failed = counts["failed"]
    assert failed > 0 and counts["oldest_seconds"]["failed"] >= 0
    for _ in range(3):  # out of attempts after the third: still reported, every time
        assert cli(pushing, clock, "sync") == EXIT_ACTIONS
        out = capsys.readouterr().out
        assert f"{failed} failed" in out and "0 failed, 0 left pending" not in out
    assert cli(pushing, clock, "actions", "--state", "failed", "--format", "json") == 0
    rows = json_out(capsys)["actions"]
    assert len(rows) == failed and {r["state"] for r in rows} == {"failed"}
    assert all(r["attempts"] == 3 for r in rows)
    assert sandbox.sent_invoices() == []

    sandbox.clear_faults()
    assert cli(pushing, clock, "actions", "retry", "--all-failed") == 0
    assert f"{failed} failed action(s) re-armed" in capsys.readouterr().out
    assert cli(pushing, clock, "sync") == 0
    capsys.readouterr()
    assert cli(pushing, clock, "sync") == 0  # nothing left to do, nothing sent twice
    journal = Counter(e.state for e in store_of(pushing, clock).journal("fjord"))
    assert journal[ActionState.FAILED] == 0 and journal[ActionState.PENDING] == 0
    sent = Counter(str(b.get("invoiceId")) for b in sandbox.sent_invoices())
    assert sent and max(sent.values()) == 1


def test_retry_needs_a_key_or_all_failed_and_names_an_unknown_key(
    pushing: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(pushing, clock, "actions", "retry") == 2
    assert cli(pushing, clock, "actions", "retry", "fjord:nope:reminder:1") == 2
    err = capsys.readouterr().err
    assert "give one action KEY or --all-failed" in err and "no failed action" in err


def test_a_pending_action_past_the_threshold_is_stuck_and_fails_the_sync(
    pushing: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    old = store_of(pushing, Clock.starting_at(TODAY - timedelta(days=3)))
    old.ensure_tenant("fjord", "fiken", "NO")
    old.journal_begin(action("2888000").model_copy(update={"tenant": "fjord"}))
    assert cli(pushing, clock, "sync", "--dry-run") == EXIT_ACTIONS
    assert "1 stuck; oldest 3d" in capsys.readouterr().out
    assert cli(pushing, clock, "status") == 0
    table = capsys.readouterr().out
    assert "stuck" in table.splitlines()[0] and "3d" in table
    assert cli(pushing, clock, "actions", "--state", "stuck") == 0
    assert "fjord:2888000:reminder:1" in capsys.readouterr().out


def test_actions_escape_provider_text_and_mask_person_numbers(
    pushing: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    store = store_of(pushing, clock)
    store.ensure_tenant("fjord", "fiken", "NO")
    hostile = action("9").model_copy(update={"tenant": "fjord", "invoice_number": "10\x1b[2J01"})
    store.journal_begin(hostile)
    store.journal_finish(
        hostile.idempotency_key, ActionState.FAILED, message=f"kunde {PNR} avvist\r\nPAID"
    )
    assert cli(pushing, clock, "actions") == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[2J" in out and PNR not in out and "151086*****" in out
    assert cli(pushing, clock, "actions", "--format", "json") == 0
    text = capsys.readouterr().out
    assert PNR not in text and "\x1b" not in text
    assert json.loads(text)["actions"][0]["invoice"] == "10\x1b[2J01"


def test_push_without_a_channel_that_can_deliver_is_refused_at_load(
    tmp_path: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "kravsync.toml"
    config.write_text(
        '[[tenants]]\nname = "sv"\nprovider = "fortnox"\ncountry = "SE"\npush = true\n',
        encoding="utf-8",
    )
    assert cli(config, clock, "status") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("kravsync: kravsync.toml: tenants[0].push: ")
    assert "fortnox_finans" in err and "[tenants.email]" in err
    config.write_text(
        '[[tenants]]\nname = "sv"\nprovider = "fortnox"\ncountry = "SE"\npush = true\n'
        "fortnox_finans = true\n",
        encoding="utf-8",
    )
    assert cli(config, clock, "status") == 0
    config.write_text(  # without push, no channel is needed
        '[[tenants]]\nname = "sv"\nprovider = "fortnox"\ncountry = "SE"\n', encoding="utf-8"
    )
    assert cli(config, clock, "status") == 0
    capsys.readouterr()
    config.write_text(  # approved letters need a channel as much; the line says which value
        '[[tenants]]\nname = "sv"\nprovider = "fortnox"\ncountry = "SE"\npush = "approve"\n',
        encoding="utf-8",
    )
    assert cli(config, clock, "status") == 2
    assert 'tenants[0].push: "approve", but' in capsys.readouterr().err


# -- /healthz over HTTP -----------------------------------------------------------------------


def test_healthz_is_503_with_the_counts_while_a_tenant_has_failed_actions(tmp_path: Path) -> None:
    clock = Clock.starting_at(date(2026, 11, 23))
    store = SqliteStore(str(tmp_path / "d.db"), clock)
    store.ensure_tenant("a", "fiken", "NO")
    config = Config(tenants=[TenantConfig(name="a", provider="fiken", country="NO", company="a")])

    def run(tenant: TenantConfig, store: Any, **kwargs: Any) -> CycleResult:
        return CycleResult(sync=SyncResult(tenant=tenant.name, ok=True))

    daemon = Daemon(config, store, run=run, clock=clock)
    port = daemon.start_healthz(0)
    try:
        daemon.submit(config.tenants[0])
        daemon._running["a"].result(timeout=10)
        url = f"http://127.0.0.1:{port}/healthz"
        ok = requests.get(url, timeout=5)
        assert ok.status_code == 200 and ok.json()["tenants"]["a"]["actions"]["failed"] == 0
        failed = action("1").model_copy(update={"tenant": "a"})
        store.journal_begin(failed)
        store.journal_finish(failed.idempotency_key, ActionState.FAILED, message="refused")
        bad = requests.get(url, timeout=5)
        assert bad.status_code == 503
        body = bad.json()
        assert body["status"] == "degraded" and body["failing"] == ["a"]
        assert body["tenants"]["a"]["actions"]["failed"] == 1
        assert body["tenants"]["a"]["last_ok"] is True  # the cycle was fine; the action was not
        store.journal_rearm("a")
        store.journal_finish(failed.idempotency_key, ActionState.DONE)
        assert requests.get(url, timeout=5).status_code == 200
    finally:
        daemon.shutdown()


def test_stuck_waits_for_at_least_two_cycles() -> None:
    base = {"name": "a", "provider": "fiken", "country": "NO", "company": "a"}
    assert TenantConfig.model_validate(base).stuck_after == timedelta(hours=24)
    weekly = TenantConfig.model_validate({**base, "interval_minutes": 7 * 24 * 60})
    assert weekly.stuck_after == timedelta(days=14)
    short = TenantConfig.model_validate({**base, "stuck_after_hours": 0.5, "interval_minutes": 5})
    assert short.stuck_after == timedelta(minutes=30)


def test_a_rearmed_action_with_a_partial_trace_completes_on_its_own_terms(tmp_path: Path) -> None:
    """A refusal part-way (e.g. after Fiken's fee invoice was made): fresh terms would move the
    day its steps look for their evidence from, and the fee invoice could be made twice."""
    store = SqliteStore(str(tmp_path / "p.db"), Clock.starting_at(TODAY))
    store.ensure_tenant("t", "fake", "NO")
    provider = FakeProvider({"1": invoice("1")})
    provider.fail_with = ClientError("fake", "refused at the last step", status=400)
    pusher(store, provider).run(decisions(action("1")))
    store.journal_rearm("t")
    provider.fail_with = None
    original = action("1")
    provider.lookup_action = lambda a: PushResult(ok=False, message="incomplete: missing audit")  # type: ignore[method-assign]

    def fresh(inv: Invoice, pending: Any) -> Decision:
        later = original.model_copy(update={"planned_on": TODAY + timedelta(days=9)})
        return Decision(inv, Outcome.ACTION, "due", later)

    report = pusher(store, provider, replan=fresh).run([])
    assert report.done == ["fake:acct-1:1:reminder:1"]
    assert provider.letters[0].actions[0].planned_on == TODAY  # the terms it began with


def test_a_rearmed_push_cut_short_is_not_decided_anew_again(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "p.db"), Clock.starting_at(TODAY))
    store.ensure_tenant("t", "fake", "NO")
    provider = FakeProvider({"1": invoice("1")})
    provider.fail_with = ClientError("fake", "refused", status=400)
    pusher(store, provider).run(decisions(action("1")))
    store.journal_rearm("t")
    provider.fail_with = ServerError("fake", "timed out")
    day = [TODAY + timedelta(days=1)]

    def fresh(inv: Invoice, pending: Any) -> Decision:
        return Decision(inv, Outcome.ACTION, "due", action("1").model_copy(update={"planned_on": day[0]}))

    pusher(store, provider, replan=fresh).run([])  # decided anew, then the push is cut short
    entry = next(iter(store.journal("t")))
    assert entry.state is ActionState.PENDING and entry.action.planned_on == day[0]
    provider.fail_with = None
    day[0] = TODAY + timedelta(days=5)
    pusher(store, provider, replan=fresh).run([])
    assert provider.letters[0].actions[0].planned_on == TODAY + timedelta(days=1)
