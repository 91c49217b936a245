"""The Brønnøysund client against the local sandbox: mapping, cache, pacing, outages."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_schema_validator import validate as validate_schema

from connector.models import Address, ContactPerson, Customer, CustomerKind
from connector.validation import (
    BrregClient,
    InMemoryRegistryCache,
    RegistryState,
    fixture_register,
    validate_customers,
)
from connector.validation.brreg_sandbox import DEFAULT_ENTRIES, VENDOR_TYPE, BrregSandbox

SPEC = (
    Path(
        os.environ.get("KRAVSYNC_SPECS_DIR")
        or Path(__file__).resolve().parents[2] / "shared" / "specs"
    )
    / "brreg-enhetsregisteret-openapi.json"
)
ENTRIES = {
    "923609016": "active",
    "984851006": "bankrupt",
    "976820479": "dissolving",
    "906400421": "forced_dissolution",
    "963471696": "deleted",
    "939068287": "struck_off",
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
        self.mono = 100.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.mono += seconds


@pytest.fixture
def sandbox() -> Iterator[BrregSandbox]:
    with BrregSandbox(entries=ENTRIES) as sb:
        yield sb


def client(sb_url: str, clock: Clock, **kw: Any) -> BrregClient:
    return BrregClient(
        sb_url, now=lambda: clock.now, monotonic=lambda: clock.mono, sleep=clock.sleep, **kw
    )


@pytest.mark.parametrize(
    ("orgnr", "state", "bankrupt", "dissolving"),
    [
        ("923609016", RegistryState.ACTIVE, False, False),
        ("984851006", RegistryState.ACTIVE, True, False),
        ("976820479", RegistryState.ACTIVE, False, True),
        ("906400421", RegistryState.ACTIVE, False, True),
        ("963471696", RegistryState.DELETED, False, False),
        ("939068287", RegistryState.DELETED, False, False),
        ("912345009", RegistryState.NOT_FOUND, False, False),
    ],
)
def test_register_answers_map_to_states(
    sandbox: BrregSandbox, orgnr: str, state: RegistryState, bankrupt: bool, dissolving: bool
) -> None:
    result = client(sandbox.base_url, Clock()).lookup(orgnr)
    assert (result.state, result.bankrupt, result.dissolving) == (state, bankrupt, dissolving)


def test_sandbox_follows_the_spec(sandbox: BrregSandbox) -> None:
    if not SPEC.exists():
        pytest.skip(f"Brønnøysund spec not found at {SPEC} (set KRAVSYNC_SPECS_DIR)")
    spec = json.loads(SPEC.read_text())
    op = spec["paths"]["/enheter/{organisasjonsnummer}"]["get"]
    schema = {**spec["components"]["schemas"]["Enhet"], "components": spec["components"]}
    for orgnr, status in ENTRIES.items():
        r = requests.get(f"{sandbox.base_url}/enheter/{orgnr}", timeout=5)
        assert str(r.status_code) in op["responses"]
        if r.status_code == 200:
            assert r.headers["Content-Type"].startswith("application/json")
            body = r.json()
            validate_schema(body, schema)
            assert set(body) - {"slettedato"} <= set(schema["properties"])
            assert body["organisasjonsnummer"] == orgnr
        else:
            assert (r.status_code, status) == (410, "deleted")
    assert requests.get(f"{sandbox.base_url}/enheter/912345009", timeout=5).status_code == 404
    r = requests.get(
        f"{sandbox.base_url}/enheter/923609016", headers={"Accept": VENDOR_TYPE}, timeout=5
    )
    assert r.headers["Content-Type"].startswith(VENDOR_TYPE)
    assert VENDOR_TYPE in op["responses"]["200"]["content"]


def test_default_seed_covers_the_fiken_sandbox() -> None:
    seed = pytest.importorskip("providers.fiken.sandbox.seed")
    orgs = {seed.valid_orgnr(100 + i) for i, c in enumerate(seed.DEMO_CONTACTS) if c.org == "valid"}
    orgs.add(seed.valid_orgnr(1))
    assert orgs <= set(DEFAULT_ENTRIES)
    statuses = [e["status"] for e in DEFAULT_ENTRIES.values() if isinstance(e, dict)]
    assert {"bankrupt", "dissolving", "deleted"} <= set(statuses)


def test_cache_and_ttl(sandbox: BrregSandbox) -> None:
    clock, cache = Clock(), InMemoryRegistryCache()
    c = client(sandbox.base_url, clock, cache=cache, ttl=timedelta(days=1))
    c.lookup("923609016")
    c.lookup("923609016")
    c.lookup("912345009")
    c.lookup("912345009")  # a 404 is cached too
    assert sandbox.requests == ["923609016", "912345009"]
    assert cache.get("912345009") == (clock.now, 404)
    clock.now += timedelta(days=2)
    c.lookup("923609016")
    assert sandbox.requests[-1] == "923609016" and len(sandbox.requests) == 3


def test_requests_are_paced(sandbox: BrregSandbox) -> None:
    clock = Clock()
    c = client(sandbox.base_url, clock, rate=5.0)
    for orgnr in ENTRIES:
        c.lookup(orgnr)
    assert len(clock.sleeps) == len(ENTRIES) - 1
    assert all(0.19 < s <= 0.2 for s in clock.sleeps)  # the fake clock stands still in between


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unreachable_register_gives_unknown_and_backs_off() -> None:
    clock = Clock()
    c = client(f"http://127.0.0.1:{_closed_port()}", clock, timeout=0.5)
    assert c.lookup("923609016").state is RegistryState.UNKNOWN
    assert c.lookup("984851006").state is RegistryState.UNKNOWN
    assert c.requests_made == 1  # the second was not even tried: cooling down


def test_5xx_gives_unknown_but_a_stale_answer_wins(sandbox: BrregSandbox) -> None:
    clock = Clock()
    c = client(sandbox.base_url, clock, ttl=timedelta(hours=1))
    assert c.lookup("984851006").bankrupt
    clock.now += timedelta(hours=2)
    sandbox.fail_with = 503
    stale = c.lookup("984851006")
    assert stale.bankrupt and stale.fetched_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert c.lookup("923609016").state is RegistryState.UNKNOWN


def _customer(orgnr: str) -> Customer:
    return Customer(
        provider="fiken", provider_id="7", number="10007", name="Gamle Øyen Trelast AS",
        kind=CustomerKind.COMPANY, org_number=orgnr, email="post@oyentrelast.no",
        invoice_address=Address(street="Sagbruksvegen 1", postcode="2609", city="Lillehammer",
                                country="NO"),
        contact_persons=(ContactPerson(name="Gro Øyen"),),
    )  # fmt: skip


class Settings:
    allow_test_org_numbers = False


def test_credit_monitoring_a_customer_going_bankrupt_shows_in_the_next_run(
    sandbox: BrregSandbox,
) -> None:
    clock = Clock()
    c = client(sandbox.base_url, clock, ttl=timedelta(hours=20))
    customer = _customer("923609016")

    def run() -> list[str]:
        found = validate_customers(
            [customer], country="NO", settings=Settings(), postcodes=fixture_register(), registry=c, today=date(2026, 11, 23)
        )
        return [f.code for f in found]

    assert run() == []
    sandbox.set("923609016", "bankrupt")
    clock.now += timedelta(days=1)  # the next daily run, past the TTL
    assert run() == ["org_number.bankrupt"]


def test_unreachable_register_note_in_validation() -> None:
    c = client(f"http://127.0.0.1:{_closed_port()}", Clock(), timeout=0.5)
    result = validate_customers(
        [_customer("923609016"), _customer("984851006")],
        country="NO", settings=Settings(), postcodes=fixture_register(), registry=c, today=date(2026, 11, 23),
    )  # fmt: skip
    assert list(result) == []
    assert result.notes == ["Brønnøysund register unreachable: 2 org number(s) not checked"]
