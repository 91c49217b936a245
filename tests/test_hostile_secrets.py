"""Secrets scrubbed by value from everything printed, logged or stored; person numbers masked
in every report whatever the customer's country, and never stored in clear.

Before issue 12: a provider 400 echoing the Authorization header got the token printed and
stored in ``runs.error``; a Norwegian fødselsnummer on a Swedish address (and the reverse)
showed in all four report formats as ``org number 01019010127 has the wrong length``;
Swedish personnummer sat in the state database unmasked.
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
from pathlib import Path

import pytest
import responses
from conftest import TOKEN
from hostile_support import TODAY, contact, pull_fiken, tenant

from connector.cli import main
from connector.clock import Clock
from connector.cycle.validate import check_tenant
from connector.render.report import render
from connector.render.views import report_data
from connector.runtime import setup_logging
from connector.scrub import register_credential, safe_message, scrub
from connector.secrets import MemoryCredentials
from connector.store import SqliteStore
from providers.fiken.sandbox import FikenSandbox
from providers.http import AuthError
from providers.oauth import OAuth2Auth

# --- secrets -----------------------------------------------------------------------------------


def test_a_provider_400_echoing_the_authorization_header_leaks_nothing(
    kravsync, config: Path, sandbox: FikenSandbox, capsys: pytest.CaptureFixture[str]  # type: ignore[no-untyped-def]
) -> None:
    echo = {"error": "bad_request", "error_description": f"got Authorization: Bearer {TOKEN}"}
    sandbox.inject("/contacts", status=400, body=json.dumps(echo), times=3)
    assert kravsync("-vv", "--log-json", "sync") == 1
    out = capsys.readouterr()
    assert "bad_request" in out.out  # the provider's words are there...
    assert TOKEN not in out.out + out.err  # ...its echo of our token is not
    with sqlite3.connect(config.parent / "state.db") as db:
        stored = " ".join(str(v) for row in db.execute("SELECT * FROM runs") for v in row)
    assert "bad_request" in stored and "***" in stored and TOKEN not in stored


def test_client_secret_refresh_token_and_basic_header_are_scrubbed_from_token_errors() -> None:
    secret = json.dumps(
        {"client_id": "app-1", "client_secret": "cs-9f8e7d6c5b", "refresh_token": "rt-1a2b3c4d5e"}
    )
    creds = MemoryCredentials({"acme-se": secret})
    basic = base64.b64encode(b"app-1:cs-9f8e7d6c5b").decode()
    with responses.RequestsMock() as rsps:
        rsps.post(
            "https://apps.fortnox.se/oauth-v1/token",
            status=400,
            json={
                "error": "invalid_grant",
                "error_description": f"rt-1a2b3c4d5e / cs-9f8e7d6c5b / Basic {basic}",
            },
        )
        auth = OAuth2Auth(
            provider="fortnox",
            tenant="acme-se",
            token_url="https://apps.fortnox.se/oauth-v1/token",
            credentials=creds,
        )
        with pytest.raises(AuthError) as err:
            auth.headers()
    text = str(err.value)
    assert "invalid_grant" in text
    for leaked in ("rt-1a2b3c4d5e", "cs-9f8e7d6c5b", basic):
        assert leaked not in text


def test_a_rotated_refresh_token_is_scrubbed_from_then_on() -> None:
    creds = MemoryCredentials(
        {"t": json.dumps({"client_id": "c", "client_secret": "s-secret-1", "refresh_token": "r-old-1"})}
    )
    with responses.RequestsMock() as rsps:
        rsps.post(
            "https://x.example/token",
            json={"access_token": "a-new-123", "refresh_token": "r-new-456", "expires_in": 3600},
        )
        auth = OAuth2Auth(provider="p", tenant="t", token_url="https://x.example/token", credentials=creds)
        assert auth.headers() == {"Authorization": "Bearer a-new-123"}
    assert scrub("server said r-new-456 and a-new-123") == "server said *** and ***"


def test_an_smtp_password_is_scrubbed_from_the_journal(tmp_path: Path) -> None:
    from connector.channels.email import password_for
    from connector.config import EmailSettings

    settings = EmailSettings(
        host="smtp.example.no", username="u", password="keyring", from_address="a@b.no"
    )
    creds = MemoryCredentials({"t:smtp": "smtp-pw-77aa"})
    assert password_for("t", settings, creds) == "smtp-pw-77aa"
    store = SqliteStore(str(tmp_path / "s.db"), Clock.starting_at(TODAY))
    from connector.models import ActionStage, ActionState, ReminderAction

    store.ensure_tenant("t", "fortnox", "SE")
    action = ReminderAction(
        tenant="t", invoice_id="1", invoice_number="1", customer_id="c",
        stage=ActionStage.REMINDER, planned_on=TODAY, currency="SEK", outstanding=1,
    )  # fmt: skip
    store.journal_begin(action)
    store.journal_finish(
        action.idempotency_key, ActionState.FAILED, message="535 5.7.8 bad password smtp-pw-77aa"
    )
    (entry,) = store.journal("t")
    assert entry.message == "535 5.7.8 bad password ***"


def test_log_lines_are_scrubbed(capsys: pytest.CaptureFixture[str]) -> None:
    register_credential("tok-logged-0xdeadbeef")
    setup_logging(2, False)
    try:
        logging.getLogger("kravsync.test").warning("sending Bearer tok-logged-0xdeadbeef to %s", "x")
        try:
            raise RuntimeError("boom tok-logged-0xdeadbeef")
        except RuntimeError:
            logging.getLogger("kravsync.test").exception("failed")
    finally:
        logging.getLogger("kravsync").handlers[:] = []
    err = capsys.readouterr().err
    assert "sending Bearer *** to x" in err and "boom ***" in err
    assert "tok-logged-0xdeadbeef" not in err


def test_short_values_are_not_treated_as_secrets() -> None:
    register_credential("abc")  # too short to scrub without garbling ordinary text
    assert scrub("abc def") == "abc def"


# --- person numbers in reports --------------------------------------------------------------------

NO_FNR = "01019010127"  # valid fødselsnummer (the example)
SE_PNR_10 = "811228-9874"
SE_PNR_12 = "19811228-9874"
IN_NAME = "15108695088"  # a fødselsnummer typed into a customer's name
DIGITS = {NO_FNR, "8112289874", "198112289874", SE_PNR_10, SE_PNR_12}


@pytest.fixture
def cross_country(tmp_path: Path) -> tuple[SqliteStore, dict]:  # type: ignore[type-arg]
    clock = Clock.starting_at(TODAY)
    store = SqliteStore(str(tmp_path / "state.db"), clock)
    sweden = {"streetAddress": "Storgatan 1", "postCode": "111 22", "city": "Stockholm", "country": "Sverige"}
    norway = {"streetAddress": "Storgata 1", "postCode": "0155", "city": "Oslo", "country": "Norge"}
    contacts = [
        contact(1, name="Nordmann Handel AS", organizationNumber=NO_FNR, address=sweden),
        contact(2, name="Svensson Bygg AS", organizationNumber=SE_PNR_10, address=norway),
        contact(3, name="Berg Konsult AS", organizationNumber=SE_PNR_12, address=norway),
        contact(4, name=f"Ola {IN_NAME} AS", organizationNumber=NO_FNR, address=norway),
    ]
    assert pull_fiken(store, clock, [contacts]).ok
    check_tenant(tenant(), store, today=TODAY)
    rows, summary = report_data([tenant()], store, TODAY)
    return store, {"rows": rows, "summary": summary, "clock": clock}


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "html"])
def test_person_numbers_are_masked_whatever_the_address_country(cross_country, fmt: str) -> None:  # type: ignore[no-untyped-def]
    _store, data = cross_country
    text = render(fmt, data["rows"], data["summary"], generated_at=data["clock"].now())
    for number in DIGITS | {IN_NAME}:
        assert number not in text, (number, fmt)
    assert "Ola 151086***** AS" in text
    assert "010190*****" in text  # the birth-date part stays: the user can still find them
    assert "811228****" in text and "19811228****" in text
    assert "org_number.invalid" in text


def test_person_numbers_are_not_in_the_database_in_clear(cross_country, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # (Names are kept as the provider sends them: a number typed into a name is masked on the
    # way out, in every report, not in the store.)
    store, _data = cross_country
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("state.db*"))
    for number in DIGITS:
        assert number.encode() not in raw, number


def test_swedish_personnummer_from_fortnox_are_never_stored_in_clear(tmp_path: Path) -> None:
    from connector.config import TenantConfig
    from connector.cycle.pull import pull
    from providers.base import get_factory
    from providers.fortnox.sandbox import FortnoxSandbox, seed

    with FortnoxSandbox(today=TODAY, rate_limit=False) as sandbox:
        settings = {"name": "skog", "provider": "fortnox", "country": "SE",
                    "requests_per_window": 1000, **sandbox.tenant_settings()}  # fmt: skip
        fortnox_tenant = TenantConfig.model_validate(settings)
        creds = MemoryCredentials({"skog": sandbox.demo_secret()})
        store = SqliteStore(str(tmp_path / "state.db"), sandbox.clock)
        provider = get_factory("fortnox").create(fortnox_tenant, creds, clock=sandbox.clock)
        try:
            assert pull(fortnox_tenant, provider, store, clock=sandbox.clock).ok
        finally:
            provider.close()
    people = [
        seed.customer_detail(n, TODAY)
        for n in range(seed.BASE_CUSTOMER_COUNT)
        if seed.customer_detail(n, TODAY).get("Type") == "PRIVATE"
    ]
    assert people  # the seed has consumers with personnummer
    stored = {c.provider_id: c for c in store.customers("skog")}
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("state.db*"))
    for person in people:
        number = person["OrganisationNumber"]
        digits = number.replace("-", "")
        for form in (number, digits, digits[-10:], f"{digits[-10:-4]}-{digits[-4:]}"):
            assert form.encode() not in raw, form
        kept = stored[person["CustomerNumber"]]
        assert kept.national_id and kept.national_id.endswith("****") and kept.birth_date


def test_the_checks_still_see_what_the_clear_number_said(cross_country) -> None:  # type: ignore[no-untyped-def]
    store, _data = cross_country
    findings = {(f["customer_id"], f["code"]) for f in store.findings("fjord")}
    # A fødselsnummer in the org number field of a Norwegian customer is reported as such.
    assert ("4", "org_number.invalid") in findings
    messages = " ".join(f["message"] for f in store.findings("fjord"))
    assert "is a national id" in messages


def test_safe_message_is_one_line_masked_and_scrubbed() -> None:
    register_credential("sekret-token-99")
    line = safe_message(f"a\nb\r\x1b[2J {NO_FNR} sekret-token-99")
    assert line == "a\\nb\\r\\x1b[2J 010190***** ***"


def test_cli_errors_are_printed_masked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "k.toml"
    config.write_text(f'[[tenants]]\nname = "x"\nprovider = "fiken"\ncountry = "NO"\ncompany = "{NO_FNR}"\n')
    code = main(["--config", str(config), "note", "x", SE_PNR_12, "--text", "t"], clock=Clock.starting_at(TODAY))
    err = capsys.readouterr().err
    assert code == 2 and "no invoice '19811228****'" in err  # the user's own typing, masked
    assert SE_PNR_12 not in err


def test_a_store_from_before_keeps_no_person_number_once_opened(tmp_path: Path) -> None:
    """Migration 5 masks what older versions stored in clear, and drops the customer cursor so
    the next sync works the checks out again on the clear numbers."""
    path = tmp_path / "old.db"
    clock = Clock.starting_at(TODAY)
    store = SqliteStore(str(path), clock)
    store.ensure_tenant("t", "fortnox", "SE")
    store.set_cursor("t", "customers", "2026-11-01T00:00:00+00:00")
    store.close()
    person = {"provider": "fortnox", "provider_id": "9", "name": "Åsa Öberg", "kind": "person",
              "national_id": "198112289874", "birth_date": "1981-12-28"}  # fmt: skip
    company = {"provider": "fortnox", "provider_id": "8", "name": "Öberg Bygg", "kind": "company",
               "org_number": "8112289874"}  # fmt: skip
    db = sqlite3.connect(path)  # as version 4 left it
    with db:
        db.execute("DELETE FROM schema_version WHERE version >= 5")
        db.execute("DROP TABLE detail_backlog")
        db.execute("DROP TABLE malformed_records")
        db.execute("DROP TABLE leases")  # migration 7
        db.execute("DROP TABLE rate_budget")
        for c in (person, company):
            db.execute(
                "INSERT INTO customers VALUES ('t', ?, NULL, ?, ?, ?, 1, ?, '2026-11-01')",
                (c["provider_id"], c["name"], c["kind"], c.get("org_number"), json.dumps(c)),
            )
    db.close()
    assert b"198112289874" in b"".join(p.read_bytes() for p in tmp_path.glob("old.db*"))
    store = SqliteStore(str(path), clock)
    assert store.customer("t", "9").national_id == "19811228****"  # type: ignore[union-attr]
    assert store.customer("t", "8").org_number == "811228****"  # type: ignore[union-attr]
    assert store.get_cursor("t", "customers") is None
    store.close()  # (secure_delete: the old bytes are zeroed, not left in free space)
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("old.db*"))
    assert b"198112289874" not in raw and b"8112289874" not in raw
