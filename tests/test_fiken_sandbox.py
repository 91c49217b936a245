"""The Fiken sandbox behaves like Fiken's API v2: auth, parameters, paging, filters, limits,
faults, OAuth2 and deterministic data at demo and benchmark size."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import requests
from stdnum import luhn
from stdnum.no import orgnr

from providers.fiken.sandbox import FikenSandbox
from providers.fiken.sandbox import seed as s

TODAY = date(2026, 3, 10)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sandbox() -> Any:
    with FikenSandbox(today=TODAY, rate_limit=False) as sb:
        yield sb


def call(
    sb: FikenSandbox, path: str, *, token: str | None = "default", **params: Any
) -> requests.Response:
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {sb.token if token == 'default' else token}"
    return requests.get(sb.base_url + path, params=params, headers=headers, timeout=10)


def company_path(sb: FikenSandbox, rest: str = "") -> str:
    return f"/companies/{sb.company}{rest}"


def pull_all(sb: FikenSandbox, rest: str, page_size: int = 7, **params: Any) -> list[dict]:
    rows: list[dict] = []
    page = 0
    while True:
        r = call(sb, company_path(sb, rest), page=page, pageSize=page_size, **params)
        assert r.status_code == 200, r.text
        rows.extend(r.json())
        page += 1
        if page >= int(r.headers["Fiken-Api-Page-Count"]):
            return rows


# --- lifecycle and auth ------------------------------------------------------------------------


def test_starts_on_a_free_port_and_stops() -> None:
    a = FikenSandbox(today=TODAY).start()
    b = FikenSandbox(today=TODAY).start()
    try:
        assert a.port != b.port and a.port > 0
        assert a.base_url == f"http://127.0.0.1:{a.port}/api/v2"
        assert a.tenant_settings() == {"base_url": a.base_url, "company": a.company}
        assert call(a, "/user").json() == s.USER
    finally:
        a.stop()
        b.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", a.port), timeout=2):
        pass


def test_constructing_does_not_listen() -> None:
    sb = FikenSandbox(today=TODAY)
    assert sb.base_url == "" and sb.port == 0


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_missing_or_wrong_token_is_401_with_error_body(sandbox: FikenSandbox, token: Any) -> None:
    r = call(sandbox, company_path(sandbox, "/invoices"), token=token)
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized" and r.json()["error_description"]


def test_basic_auth_is_not_a_bearer_token(sandbox: FikenSandbox) -> None:
    r = requests.get(sandbox.base_url + "/user", auth=("user", sandbox.token), timeout=10)
    assert r.status_code == 401


def test_revoked_token_gets_401_until_a_new_one_is_set(sandbox: FikenSandbox) -> None:
    assert call(sandbox, "/companies").status_code == 200
    sandbox.revoke_token()
    assert call(sandbox, "/companies").status_code == 401
    sandbox.set_token("ny-nøkkel")
    assert call(sandbox, "/companies").status_code == 200


# --- errors and parameters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"page": "x"}, "page"),
        ({"page": "-1"}, "page"),
        ({"pageSize": "0"}, "pageSize"),
        ({"pageSize": "101"}, "pageSize"),
        ({"pageSize": "2.5"}, "pageSize"),
        ({"lastModifiedGe": "2026-13-01"}, "lastModifiedGe"),
        ({"dueDateLt": "10.03.2026"}, "dueDateLt"),
        ({"settled": "yes"}, "settled"),
        ({"customerId": "abc"}, "customerId"),
        ({"pagesize": "10"}, "pagesize"),  # a client typo
        ({"lastModifiedGte": "2026-01-01"}, "lastModifiedGte"),
    ],
)
def test_bad_or_unknown_parameter_is_400_naming_it(
    sandbox: FikenSandbox, params: dict[str, str], named: str
) -> None:
    r = call(sandbox, company_path(sandbox, "/invoices"), **params)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_parameter"
    assert f"'{named}'" in r.json()["error_description"]


def test_detail_endpoints_take_no_query_parameters(sandbox: FikenSandbox) -> None:
    iid = sandbox.demo_invoice_id("overdue_10")
    assert call(sandbox, company_path(sandbox, f"/invoices/{iid}"), page=0).status_code == 400


def test_repeated_parameter_is_400(sandbox: FikenSandbox) -> None:
    r = requests.get(
        sandbox.base_url + company_path(sandbox, "/invoices?page=0&page=1"),
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=10,
    )
    assert r.status_code == 400 and "'page'" in r.json()["error_description"]


def test_not_found_and_method_not_allowed(sandbox: FikenSandbox) -> None:
    assert call(sandbox, "/companies/ukjent-firma-as/invoices").status_code == 404
    assert call(sandbox, "/companies/ukjent-firma-as").json()["error"] == "not_found"
    assert call(sandbox, company_path(sandbox, "/invoicez")).status_code == 404
    assert call(sandbox, company_path(sandbox, "/invoices/999")).status_code == 404
    assert call(sandbox, company_path(sandbox, "/contacts/1")).status_code == 404
    assert call(sandbox, company_path(sandbox, "/invoices/abc")).status_code == 404
    r = requests.delete(
        sandbox.base_url + company_path(sandbox, "/invoices"),
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=10,
    )
    assert r.status_code == 405 and r.headers["Allow"] == "GET, POST"
    assert r.json()["error"] == "method_not_allowed"


def test_request_id_is_echoed_or_generated(sandbox: FikenSandbox) -> None:
    rid = str(uuid.uuid4())
    for token in ("default", None):  # on success and on errors alike
        r = requests.get(
            sandbox.base_url + "/companies",
            headers={"X-Request-ID": rid}
            | ({"Authorization": f"Bearer {sandbox.token}"} if token else {}),
            timeout=10,
        )
        assert r.headers["X-Request-ID"] == rid
    generated = {call(sandbox, "/companies").headers["X-Request-ID"] for _ in range(2)}
    assert len(generated) == 2
    assert all(uuid.UUID(g) for g in generated)


# --- paging and content ------------------------------------------------------------------------


def test_paging_headers_bare_arrays_and_pages_past_the_end(sandbox: FikenSandbox) -> None:
    r = call(sandbox, company_path(sandbox, "/contacts"), page=1, pageSize=5)
    assert isinstance(r.json(), list) and len(r.json()) == 5
    total = sandbox.seed.n_contacts
    assert r.headers["Fiken-Api-Page"] == "1"
    assert r.headers["Fiken-Api-Page-Size"] == "5"
    assert r.headers["Fiken-Api-Result-Count"] == str(total)
    assert r.headers["Fiken-Api-Page-Count"] == str(-(-total // 5))
    rows = pull_all(sandbox, "/contacts", page_size=5)
    assert len({c["contactId"] for c in rows}) == total
    past = call(sandbox, company_path(sandbox, "/contacts"), page=99, pageSize=5)
    assert past.status_code == 200 and past.json() == []
    assert past.headers["Fiken-Api-Result-Count"] == str(total)


def test_default_page_size_is_25(sandbox: FikenSandbox) -> None:
    r = call(sandbox, company_path(sandbox, "/invoices"))
    assert len(r.json()) == 25 and r.headers["Fiken-Api-Page-Size"] == "25"
    assert r.headers["Fiken-Api-Result-Count"] == str(sandbox.seed.n_invoices)


def test_names_with_aeoeaa_round_trip_as_utf8(sandbox: FikenSandbox) -> None:
    cid = sandbox.demo_contact_id("smoras")
    r = call(sandbox, company_path(sandbox, f"/contacts/{cid}"))
    assert "charset=UTF-8" in r.headers["Content-Type"]
    assert "Øvre Smørås Gårdsbutikk".encode() in r.content
    assert r.json()["address"]["streetAddress"] == "Smøråsvegen 41"


def test_contacts_do_not_carry_write_only_phone_but_persons_do(sandbox: FikenSandbox) -> None:
    rows = pull_all(sandbox, "/contacts", page_size=100)
    assert all("phoneNumber" not in c for c in rows)
    assert any(p.get("phoneNumber") for c in rows for p in c["contactPerson"])


def test_invoice_embeds_current_customer_and_sale(sandbox: FikenSandbox) -> None:
    iid = sandbox.demo_invoice_id("part_paid_40")
    inv = call(sandbox, company_path(sandbox, f"/invoices/{iid}")).json()
    assert inv["customer"]["name"] == "Bjørg Løvås"
    sale = inv["sale"]
    assert sale["totalPaid"] == 100_000
    assert sale["outstandingBalance"] == inv["gross"] - 100_000
    assert sale["settled"] is False and len(sale["salePayments"]) == 1
    assert inv["invoicePdf"]["downloadUrl"].startswith(sandbox.root_url + "/files/")
    sandbox.update_contact(inv["customer"]["contactId"], email="bjorg@løvås.no")
    again = call(sandbox, company_path(sandbox, f"/invoices/{iid}")).json()
    assert again["customer"]["email"] == "bjorg@løvås.no"


# --- filters -----------------------------------------------------------------------------------


def test_settled_filter_splits_invoices_by_sale_state(sandbox: FikenSandbox) -> None:
    open_rows = pull_all(sandbox, "/invoices", settled="false")
    closed_rows = pull_all(sandbox, "/invoices", settled="true")
    assert open_rows and all(not i["sale"]["settled"] for i in open_rows)
    assert closed_rows and all(i["sale"]["settled"] for i in closed_rows)
    assert len(open_rows) + len(closed_rows) == sandbox.seed.n_invoices
    tags = sandbox.demo.invoice_tags
    open_numbers = {i["invoiceNumber"] for i in open_rows}
    assert s.FIRST_INVOICE_NUMBER + tags["part_paid_10"] in open_numbers
    assert s.FIRST_INVOICE_NUMBER + tags["settled_recent"] not in open_numbers
    assert s.FIRST_INVOICE_NUMBER + tags["written_off"] not in open_numbers


def test_customer_filter_excludes_supplier_only_contacts(sandbox: FikenSandbox) -> None:
    names = {c["name"] for c in pull_all(sandbox, "/contacts", customer="true")}
    assert "Nordisk Kontorrekvisita AS" not in names
    assert {"Vågen Bryggeri AS", "Bjørg Løvås", "Gamle Øyen Trelast AS"} <= names
    suppliers = {c["name"] for c in pull_all(sandbox, "/contacts", supplier="true")}
    assert suppliers == {"Nordisk Kontorrekvisita AS", "Vågen Bryggeri AS"}


def test_inactive_and_exact_field_filters(sandbox: FikenSandbox) -> None:
    inactive = pull_all(sandbox, "/contacts", inactive="true")
    assert [c["name"] for c in inactive] == ["Gamle Øyen Trelast AS"]
    active = pull_all(sandbox, "/contacts", inactive="false")
    assert len(active) == sandbox.seed.n_contacts - 1
    shared = sandbox.contact(sandbox.demo_contact_id("gronli1"))["organizationNumber"]
    dupes = pull_all(sandbox, "/contacts", organizationNumber=shared)
    assert {c["name"] for c in dupes} == {"Grønli Rør AS", "Grønli Rør og Varme AS"}
    assert [c["name"] for c in pull_all(sandbox, "/contacts", name="Håkon Sæther")] == [
        "Håkon Sæther"
    ]
    assert pull_all(sandbox, "/contacts", name="Håkon") == []


def test_last_modified_ge_finds_recent_changes_with_day_precision(sandbox: FikenSandbox) -> None:
    since = TODAY - timedelta(days=2)
    before = {i["invoiceId"] for i in pull_all(sandbox, "/invoices", lastModifiedGe=since)}
    assert sandbox.demo_invoice_id("settled_recent") in before  # paid yesterday
    assert sandbox.demo_invoice_id("overdue_20") not in before
    iid = sandbox.demo_invoice_id("overdue_20")
    sandbox.settle(iid)
    after = pull_all(sandbox, "/invoices", lastModifiedGe=since)
    changed = next(i for i in after if i["invoiceId"] == iid)
    assert changed["lastModifiedDate"] == TODAY.isoformat()
    assert changed["sale"]["settled"] is True
    assert changed["sale"]["settledDate"] == TODAY.isoformat()
    assert len(after) == len(before) + 1


def test_customer_invoice_number_and_due_date_filters(sandbox: FikenSandbox) -> None:
    cid = sandbox.demo_contact_id("baker")
    mine = pull_all(sandbox, "/invoices", customerId=cid)
    baker = sum(1 for d in s.DEMO_INVOICES if d.customer == "baker")
    assert len(mine) == baker == 4 and all(i["customer"]["contactId"] == cid for i in mine)
    number = s.FIRST_INVOICE_NUMBER + sandbox.demo.invoice_tags["eur"]
    [eur] = pull_all(sandbox, "/invoices", invoiceNumber=str(number))
    assert eur["currency"] == "EUR"
    overdue = pull_all(sandbox, "/invoices", settled="false", dueDateLt=TODAY)
    assert overdue and all(date.fromisoformat(i["dueDate"]) < TODAY for i in overdue)
    not_due = pull_all(sandbox, "/invoices", settled="false", dueDateGe=TODAY)
    assert {i["invoiceId"] for i in not_due} >= {sandbox.demo_invoice_id("not_due")}


# --- rate limits -------------------------------------------------------------------------------


def test_second_request_in_flight_gets_429() -> None:
    with FikenSandbox(today=TODAY) as sb:
        results: list[int] = []
        with sb.hold("/invoices") as hold:
            worker = threading.Thread(
                target=lambda: results.append(call(sb, company_path(sb, "/invoices")).status_code)
            )
            worker.start()
            assert hold.arrived.wait(5)
            second = call(sb, "/companies")
            assert second.status_code == 429
            assert second.json()["error"] == "too_many_requests"
        worker.join(5)
        assert results == [200]
        assert sb.stats.max_concurrency == 2
        assert sb.stats.rate_limited == 1


def test_more_than_four_per_second_gets_429_and_the_window_slides() -> None:
    clock = FakeClock()
    with FikenSandbox(today=TODAY, monotonic=clock) as sb:
        assert [call(sb, "/user").status_code for _ in range(4)] == [200] * 4
        assert call(sb, "/user").status_code == 429
        clock.now += 0.5
        assert call(sb, "/user").status_code == 429  # still 4 in the last second
        clock.now += 0.5001  # the first four left the window; refusals never entered it
        assert [call(sb, "/user").status_code for _ in range(5)] == [200] * 4 + [429]
        assert sb.stats.rate_limited == 3


def test_rate_limit_can_be_disabled() -> None:
    clock = FakeClock()
    with FikenSandbox(today=TODAY, monotonic=clock, rate_limit=False) as sb:
        assert {call(sb, "/user").status_code for _ in range(10)} == {200}


# --- fault injection ---------------------------------------------------------------------------


def test_injected_status_applies_the_given_number_of_times(sandbox: FikenSandbox) -> None:
    sandbox.inject("/invoices", status=500, times=2)
    statuses = [call(sandbox, company_path(sandbox, "/invoices")).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert call(sandbox, company_path(sandbox, "/contacts")).status_code == 200


def test_injected_429_carries_headers_and_body(sandbox: FikenSandbox) -> None:
    sandbox.inject("/contacts", status=429, headers={"Retry-After": "1"}, body='{"x":"å"}')
    r = call(sandbox, company_path(sandbox, "/contacts"))
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert r.json() == {"x": "å"}
    assert sandbox.stats.rate_limited == 1


def test_injection_matches_the_query_string_too(sandbox: FikenSandbox) -> None:
    sandbox.inject("page=2", status=503)
    path = company_path(sandbox, "/invoices")
    assert call(sandbox, path, page=1).status_code == 200
    assert call(sandbox, path, page=2).status_code == 503


def test_malformed_body_is_not_json(sandbox: FikenSandbox) -> None:
    sandbox.inject("/invoices", malformed=True)
    r = call(sandbox, company_path(sandbox, "/invoices"))
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)
    assert call(sandbox, company_path(sandbox, "/invoices")).json()


def test_dropped_rows_leave_headers_claiming_more(sandbox: FikenSandbox) -> None:
    sandbox.inject("/contacts", drop_rows=True)
    r = call(sandbox, company_path(sandbox, "/contacts"), pageSize=10)
    assert r.status_code == 200
    assert len(r.json()) == 9 and r.headers["Fiken-Api-Page-Size"] == "10"
    assert r.headers["Fiken-Api-Result-Count"] == str(sandbox.seed.n_contacts)


def test_inject_rejects_a_fault_that_does_nothing(sandbox: FikenSandbox) -> None:
    with pytest.raises(ValueError):
        sandbox.inject("/invoices")


# --- OAuth2 ------------------------------------------------------------------------------------


def _token(sb: FikenSandbox, basic: bool = True, **form: str) -> requests.Response:
    auth = (sb.oauth_client_id, sb.oauth_client_secret) if basic else None
    if not basic:
        form |= {"client_id": sb.oauth_client_id, "client_secret": sb.oauth_client_secret}
    return requests.post(sb.oauth_token_url, data=form, auth=auth, timeout=10)


@pytest.mark.parametrize("basic", [True, False])
def test_code_exchange_gives_a_working_bearer_token(sandbox: FikenSandbox, basic: bool) -> None:
    r = _token(
        sandbox, basic, grant_type="authorization_code", code="sandbox-code", redirect_uri="x"
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    assert body["access_token"] and body["refresh_token"]
    assert call(sandbox, "/companies", token=body["access_token"]).status_code == 200


def test_bad_code_or_client_is_refused(sandbox: FikenSandbox) -> None:
    r = _token(sandbox, grant_type="authorization_code", code="stale", redirect_uri="x")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = requests.post(
        sandbox.oauth_token_url,
        data={"grant_type": "authorization_code", "code": "sandbox-code"},
        auth=(sandbox.oauth_client_id, "wrong"),
        timeout=10,
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = _token(sandbox, grant_type="password")
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


def test_refresh_rotates_and_the_old_refresh_token_dies(sandbox: FikenSandbox) -> None:
    first = _token(sandbox, grant_type="authorization_code", code="sandbox-code").json()
    sandbox.expire_access_tokens()
    assert call(sandbox, "/companies", token=first["access_token"]).status_code == 401
    second = _token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    new = second.json()
    assert new["refresh_token"] != first["refresh_token"]
    assert call(sandbox, "/companies", token=new["access_token"]).status_code == 200
    reuse = _token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    third = _token(sandbox, grant_type="refresh_token", refresh_token=new["refresh_token"])
    assert third.status_code == 200


def test_authorize_redirects_back_with_code_and_state(sandbox: FikenSandbox) -> None:
    r = requests.get(
        sandbox.oauth_authorize_url,
        params={
            "response_type": "code",
            "client_id": sandbox.oauth_client_id,
            "redirect_uri": "http://localhost:8765/callback",
            "state": "xyz",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302
    assert r.headers["Location"] == "http://localhost:8765/callback?code=sandbox-code&state=xyz"


# --- test-data mutations -----------------------------------------------------------------------


def test_part_payment_then_the_rest(sandbox: FikenSandbox) -> None:
    iid = sandbox.demo_invoice_id("overdue_3")
    gross = sandbox.invoice(iid)["gross"]
    part = sandbox.settle(iid, 10_000, on=TODAY - timedelta(days=1))
    assert part["sale"]["outstandingBalance"] == gross - 10_000
    assert part["sale"]["settled"] is False
    with pytest.raises(ValueError):
        sandbox.settle(iid, gross)  # more than is open
    done = sandbox.settle(iid)
    assert done["sale"]["settled"] is True and done["sale"]["outstandingBalance"] == 0
    assert [p["amount"] for p in done["sale"]["salePayments"]] == [10_000, gross - 10_000]
    open_ids = {i["invoiceId"] for i in pull_all(sandbox, "/invoices", settled="false")}
    assert iid not in open_ids


def test_touch_moves_last_modified(sandbox: FikenSandbox) -> None:
    iid = sandbox.demo_invoice_id("overdue_400")
    assert pull_all(sandbox, "/invoices", lastModified=TODAY) == []
    sandbox.touch(iid)
    assert [i["invoiceId"] for i in pull_all(sandbox, "/invoices", lastModified=TODAY)] == [iid]


def test_added_contact_and_invoice_are_served(sandbox: FikenSandbox) -> None:
    contact = sandbox.add_contact(
        "Sæbjørn Åsgård",
        email="saebjorn@example.no",
        street="Fjæreveien 2",
        postcode="8006",
        city="Bodø",
    )
    invoice = sandbox.add_invoice(contact["contactId"], due_date=TODAY - timedelta(days=5))
    got = pull_all(sandbox, "/invoices", customerId=contact["contactId"])
    assert [i["invoiceId"] for i in got] == [invoice["invoiceId"]]
    assert got[0]["customer"]["name"] == "Sæbjørn Åsgård"
    assert luhn.is_valid(got[0]["kid"])
    names = {c["name"] for c in pull_all(sandbox, "/contacts", customer="true")}
    assert "Sæbjørn Åsgård" in names


# --- seed data ---------------------------------------------------------------------------------


def test_generated_org_numbers_pass_or_fail_mod11_as_intended() -> None:
    for n in range(0, 50_000, 7):
        good = s.valid_orgnr(n)
        assert orgnr.is_valid(good) and good[0] in "89", good
        assert not orgnr.is_valid(s.bad_checksum_orgnr(n))


def test_demo_customers_carry_each_deliberate_defect() -> None:
    demo = s.DemoSeed(TODAY)
    c = demo.contact_by_key
    assert "organizationNumber" not in c("fjellstue")
    assert not orgnr.is_valid(c("kaffe")["organizationNumber"])
    assert "postCode" not in c("sjobris")["address"]
    assert "email" not in c("karstad")
    assert c("fjordlys")["contactPerson"] == []
    assert c("gronli1")["organizationNumber"] == c("gronli2")["organizationNumber"]
    assert not c("gronli1")["inactive"] and not c("gronli2")["inactive"]
    assert c("oyen")["inactive"] is True
    assert c("kontor")["customer"] is False and c("kontor")["supplier"] is True
    for key in ("baker", "smoras", "gronli1", "vagen", "maloy", "kvitfjell"):
        number = c(key)["organizationNumber"]
        assert orgnr.is_valid(number) and number[0] in "89"


def test_demo_postcodes_match_cities_except_the_deliberate_mismatch() -> None:
    demo = s.DemoSeed(TODAY)
    known = dict(s.PLACES) | {
        "0555": "Oslo", "5232": "Paradis", "0582": "Oslo", "2634": "Fåvang", "22767": "Hamburg",
    }  # fmt: skip
    for key in demo.contact_keys:
        address = demo.contact_by_key(key)["address"]
        if "postCode" in address:
            expected = known[address["postCode"]]
            assert (address["city"] == expected) == (key != "sykkel"), key


def test_demo_invoices_cover_every_stage() -> None:
    demo = s.DemoSeed(TODAY)
    invoices = [demo.invoice(i) for i in range(demo.n_invoices)]
    assert 25 <= len(invoices) <= 40
    open_overdue = {
        (TODAY - date.fromisoformat(i["dueDate"])).days
        for i in invoices
        if not i["sale"]["settled"]
    }
    assert {0, 3, 10, 20, 40, 400} <= open_overdue
    assert any(d < 0 for d in open_overdue)  # not yet due
    for i in invoices:
        assert luhn.is_valid(i["kid"]) and i["kid"] == i["sale"]["kid"]
        assert i["gross"] == i["net"] + i["vat"] == sum(ln["gross"] for ln in i["lines"])
    part = demo.invoice_by_tag("part_paid_10")["sale"]
    assert 0 < part["outstandingBalance"] < demo.invoice_by_tag("part_paid_10")["gross"]
    recent = demo.invoice_by_tag("settled_recent")
    assert recent["sale"]["settled"] and recent["lastModifiedDate"] == "2026-03-09"
    assert demo.invoice_by_tag("eur")["currency"] == "EUR"
    reminded = demo.invoice_by_tag("fiken_reminder")
    assert [a["type"] for a in reminded["attachments"]] == ["reminder"]
    assert len(reminded["dispatches"]) == 2


# --- benchmark-size data -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def big() -> Any:
    with FikenSandbox(today=TODAY, customers=20_000, invoices=100_000, rate_limit=False) as sb:
        yield sb


def test_large_set_is_deterministic_and_built_on_demand(big: FikenSandbox) -> None:
    fresh = s.GeneratedSeed(TODAY, 20_000, 100_000)  # no indexes: records straight from index
    for page in (0, 417, 999):
        r = call(big, company_path(big, "/invoices"), page=page, pageSize=100)
        assert r.headers["Fiken-Api-Result-Count"] == "100000"
        assert r.headers["Fiken-Api-Page-Count"] == "1000"
        rows = r.json()
        assert len(rows) == 100
        expected = [fresh.invoice(page * 100 + k) for k in (0, 57, 99)]
        for got, want in zip((rows[0], rows[57], rows[99]), expected, strict=True):
            customer = got.pop("customer")
            assert customer == fresh.contact(s.contact_index(customer["contactId"]) or 0)
            got["invoicePdf"]["downloadUrl"] = got["invoicePdf"]["downloadUrl"].removeprefix(
                big.root_url
            )
            for att in got["attachments"]:
                att["downloadUrl"] = att["downloadUrl"].removeprefix(big.root_url)
            assert got == want
    assert big.ledger._invoices == {} and big.ledger._contacts == {}  # nothing retained


def test_large_set_pages_are_consistent_across_page_sizes(big: FikenSandbox) -> None:
    path = company_path(big, "/invoices")
    wide = call(big, path, settled="false", page=40, pageSize=100)
    narrow = [call(big, path, settled="false", page=p, pageSize=50).json() for p in (80, 81)]
    assert [i["invoiceId"] for i in wide.json()] == [i["invoiceId"] for i in narrow[0] + narrow[1]]
    assert all(not i["sale"]["settled"] for i in wide.json())
    ids = [i["invoiceId"] for i in wide.json()]
    assert ids == sorted(ids)  # creation order
    count = int(wide.headers["Fiken-Api-Result-Count"])
    assert 0.03 * 100_000 < count < 0.3 * 100_000


def test_small_generated_set_filters_agree_with_the_records() -> None:
    with FikenSandbox(today=TODAY, customers=300, invoices=1_500, rate_limit=False) as sb:
        open_rows = pull_all(sb, "/invoices", page_size=100, settled="false")
        gen = s.GeneratedSeed(TODAY, 300, 1_500)
        expected = [s.invoice_id(i) for i in range(1_500) if not gen.invoice(i)["sale"]["settled"]]
        assert [i["invoiceId"] for i in open_rows] == expected
        customers = pull_all(sb, "/contacts", page_size=100, customer="true")
        assert all(c["customer"] for c in customers)
        assert len(customers) == sum(1 for i in range(300) if gen.contact(i)["customer"])
        orgs = [c.get("organizationNumber") for c in customers if "AS" in c["name"]]
        valid = sum(1 for o in orgs if o and orgnr.is_valid(o))
        assert 0.8 * len(orgs) < valid < len(orgs)  # mostly valid, some deliberate defects
