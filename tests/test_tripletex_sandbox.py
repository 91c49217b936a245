"""The Tripletex sandbox behaves like Tripletex where kravsync depends on it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from providers.http import json_body
from providers.tripletex.sandbox import TripletexSandbox
from providers.tripletex.sandbox import seed as s
from providers.tripletex.sandbox.access import host_today

TODAY = date(2026, 11, 23)


@pytest.fixture
def sandbox() -> Iterator[TripletexSandbox]:
    with TripletexSandbox(today=TODAY, rate_limit=False) as sb:
        yield sb


def session(sb: TripletexSandbox, **over: str) -> requests.Response:
    params = {
        "consumerToken": sb.consumer_token,
        "employeeToken": sb.employee_token,
        "expirationDate": (host_today() + timedelta(days=2)).isoformat(),
        **over,
    }
    return requests.put(sb.base_url + "/token/session/:create", params=params, timeout=10)


def token(sb: TripletexSandbox) -> str:
    return str(session(sb).json()["value"]["token"])


def get(sb: TripletexSandbox, path: str, company: int | str | None = None, tok: str | None = None,
        **params: Any) -> requests.Response:  # fmt: skip
    who = str(sb.company if company is None else company)
    return requests.get(sb.base_url + path, params=params, auth=(who, tok or sb.token), timeout=10)


def put(sb: TripletexSandbox, path: str, **params: Any) -> requests.Response:
    return requests.put(
        sb.base_url + path, params=params, auth=(str(sb.company), sb.token), timeout=10
    )


def window(**extra: Any) -> dict[str, Any]:
    return {"invoiceDateFrom": "2000-01-01", "invoiceDateTo": "2030-01-01", **extra}


def assert_error(resp: requests.Response, status: int, code: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["status"] == status and body["code"] == code and body["message"]
    assert body["requestId"] == resp.headers["x-tlx-request-id"]
    return dict(body)


# --- auth --------------------------------------------------------------------------------------


def test_a_session_from_both_tokens_then_basic_auth_with_the_company_id(sandbox) -> None:
    created = session(sandbox)
    assert created.status_code == 200
    value = created.json()["value"]
    assert value["expirationDate"] == (host_today() + timedelta(days=2)).isoformat()
    tok = value["token"]
    mine = get(sandbox, "/token/session/>whoAmI", company=0, tok=tok).json()["value"]
    assert mine["companyId"] == s.BUREAU_ID and mine["employeeIsProxy"] is False
    client = get(sandbox, "/token/session/>whoAmI", tok=tok).json()["value"]
    assert client["companyId"] == s.DEMO_COMPANY_ID and client["employeeIsProxy"] is True
    assert client["employeeId"] == mine["employeeId"]  # one employee, several companies


def test_wrong_tokens_expired_sessions_and_foreign_companies_are_refused(sandbox) -> None:
    assert_error(session(sandbox, employeeToken="nope"), 401, 3000)
    assert_error(session(sandbox, expirationDate=host_today().isoformat()), 422, 15000)
    assert_error(get(sandbox, "/customer", tok="not-a-session"), 401, 3000)
    assert_error(get(sandbox, "/customer", company=9_999_999), 403, 9000)
    assert_error(requests.get(sandbox.base_url + "/customer", timeout=10), 401, 3000)
    tok = token(sandbox)
    sandbox.clock.advance(timedelta(days=30))  # business time is not the session's clock
    assert get(sandbox, "/customer", tok=tok).status_code == 200
    sandbox.gate.today = lambda: host_today() + timedelta(days=2)  # its expiration day has come
    assert_error(get(sandbox, "/customer", tok=tok), 401, 3000)


def test_revoked_employee_token_stops_sessions_and_new_ones(sandbox) -> None:
    tok = token(sandbox)
    sandbox.revoke()
    assert_error(get(sandbox, "/customer", tok=tok), 401, 3000)
    assert_error(session(sandbox), 401, 3000)


def test_client_companies_behind_one_login(sandbox) -> None:
    body = get(sandbox, "/company/>withLoginAccess", company=0, fields="id,name").json()
    assert body["values"] == [
        {"id": s.DEMO_COMPANY_ID, "name": "Nordlys Hytteutleie AS"},
        {"id": s.FIXED_FEE_COMPANY_ID, "name": "Sørvik Bygg AS"},
        {"id": s.SMALL_COMPANY_ID, "name": "Elvebakken Kafé SA"},
    ]
    other = get(sandbox, "/customer", company=s.SMALL_COMPANY_ID, fields="name").json()["values"]
    assert [c["name"] for c in other] == ["Alta Turistkontor AS", "Finnmark Fjellstue AS"]


# --- lists, paging, fields ---------------------------------------------------------------------------


def test_paging_by_from_and_count_with_the_list_envelope(sandbox) -> None:
    pages = [
        get(sandbox, "/invoice", **window(fields="id"), **{"from": start, "count": 10}).json()
        for start in (0, 10, 20, 30)
    ]
    ids = [row["id"] for page in pages for row in page["values"]]
    assert len(ids) == len(set(ids)) == pages[0]["fullResultSize"] and ids == sorted(ids)
    assert [p["from"] for p in pages] == [0, 10, 20, 30]
    assert [p["count"] for p in pages] == [10, 10, 10, len(ids) - 30]
    assert pages[0]["versionDigest"] == pages[3]["versionDigest"]
    empty = get(
        sandbox, "/invoice", invoiceDateFrom="2001-01-01", invoiceDateTo="2001-02-01"
    ).json()
    assert empty == {
        "fullResultSize": 0,
        "from": 0,
        "count": 0,
        "versionDigest": None,
        "values": [],
    }


def test_fields_select_what_is_asked_for_and_nothing_else(sandbox) -> None:
    row = get(
        sandbox, "/invoice", **window(fields="id,customer(name,postalAddress(city))", count=1)
    )
    assert row.json()["values"][0] == {
        "id": 2_200_001,
        "customer": {"name": "Fjordlys Catering AS", "postalAddress": {"city": "Ålesund"}},
    }
    plain = get(sandbox, "/invoice", **window(count=1)).json()["values"][0]
    assert set(plain["customer"]) == {"id", "url"} and "amountCurrencyOutstanding" in plain
    assert_error(get(sandbox, "/invoice", **window(fields="id,nosuch")), 400, 11000)


def test_customers_active_by_default_inactive_on_request_and_changed_since(sandbox) -> None:
    active = get(sandbox, "/customer", fields="name,isInactive").json()["values"]
    inactive = get(sandbox, "/customer", fields="name", isInactive="true").json()["values"]
    assert all(c["isInactive"] is False for c in active)
    assert [c["name"] for c in inactive] == ["Gamle Øyen Trelast AS"]
    recent = get(
        sandbox, "/customer", fields="name", changedSince=f"{TODAY - timedelta(days=5)}T00:00:00"
    )
    assert {c["name"] for c in recent.json()["values"]} == {"Ingrid Bråten", "Vågen Bryggeri AS"}
    sandbox.update_customer(2_100_001, email="ny@aerligbakeri.no")
    later = get(sandbox, "/customer", fields="email", changedSince=f"{TODAY}T11:00:00").json()
    assert later["values"] == [{"email": "ny@aerligbakeri.no"}]


def test_contacts_by_customer(sandbox) -> None:
    rows = get(sandbox, "/contact", customerId="2100001,2100002", fields="firstName,customer(id)")
    assert rows.json()["values"] == [
        {"firstName": "Åse", "customer": {"id": 2_100_001}},
        {"firstName": "Øyvind", "customer": {"id": 2_100_002}},
    ]


def test_parameters_are_the_specs_exactly(sandbox) -> None:
    assert_error(get(sandbox, "/invoice", invoiceDateFrom="2000-01-01"), 422, 15000)
    body = assert_error(get(sandbox, "/invoice", **window(settled="false")), 400, 4000)
    assert body["validationMessages"] == [{"field": "settled", "message": body["message"]}]
    assert_error(get(sandbox, "/invoice", **window(voucherId="1")), 400, 4000)  # not implemented
    assert_error(get(sandbox, "/reminder", dateFrom="2026-01-01"), 422, 15000)
    assert_error(get(sandbox, "/nosuch"), 404, 6000)


# --- rate limit ----------------------------------------------------------------------------------------


def test_rate_limit_headers_then_429_for_the_rest_of_the_period() -> None:
    with TripletexSandbox(today=TODAY, max_requests=3, period_seconds=1.5) as sb:
        answers = [get(sb, "/customer", fields="id") for _ in range(5)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
        assert [a.headers["X-Rate-Limit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
        assert all(a.headers["X-Rate-Limit-Limit"] == "3" for a in answers[:3])
        assert 0 < int(answers[0].headers["X-Rate-Limit-Reset"]) <= 2
        assert "X-Rate-Limit-Reset" not in answers[3].headers  # as Tripletex (tripletex-api2#103)
        assert_error(answers[4], 429, 0)
        time.sleep(1.6)
        assert get(sb, "/customer", fields="id").status_code == 200
        assert sb.stats.rate_limited == 2


def test_the_limit_is_per_employee_across_companies() -> None:
    with TripletexSandbox(today=TODAY, max_requests=2, period_seconds=30) as sb:
        assert get(sb, "/customer", company=s.DEMO_COMPANY_ID, fields="id").status_code == 200
        assert get(sb, "/customer", company=s.SMALL_COMPANY_ID, fields="id").status_code == 200
        assert get(sb, "/customer", company=0, fields="id").status_code == 429


# --- :createReminder ----------------------------------------------------------------------------------


def invoice_id(sb: TripletexSandbox, tag: str, company: int | None = None) -> int:
    book = sb.book(company)
    assert isinstance(book, s.ListBook)
    return book.invoice_id(book.tags[tag])


def remind(sb: TripletexSandbox, iid: int, **params: Any) -> requests.Response:
    query = {"type": "REMINDER", "date": TODAY.isoformat(), "dispatchType": "EMAIL", **params}
    return put(sb, f"/invoice/{iid}/:createReminder", **query)


def test_create_reminder_records_it_with_the_statutory_charge_and_interest(sandbox) -> None:
    iid = invoice_id(sandbox, "overdue_20")
    made = remind(sandbox, iid, includeCharge="true", includeInterest="true")
    assert made.status_code == 200
    rid = made.json()["value"]
    listed = get(
        sandbox, "/reminder", dateFrom=TODAY.isoformat(), dateTo="2026-11-24", invoiceId=iid
    )
    (row,) = json_body(listed)["values"]
    assert row["id"] == rid and row["type"] == "REMINDER" and row["reminderDate"] == "2026-11-23"
    assert row["charge"] == Decimal("38") and row["interestRate"] == Decimal("12.25")
    # 4 375.00 NOK (Regnskapsføring, månedlig, 25 % VAT) at 12.25 % for 20 days, actual/365
    assert row["interests"] == Decimal("29.37") and row["termOfPayment"] == "2026-12-07"
    on_invoice = json_body(get(sandbox, f"/invoice/{iid}", fields="reminders(id)"))["value"]
    assert on_invoice["reminders"] == [{"id": rid}]


def test_charges_follow_the_company_and_the_law(sandbox) -> None:
    assert (
        remind(sandbox, invoice_id(sandbox, "overdue_10"), includeCharge="true").status_code == 200
    )
    (early,) = sandbox.reminders_of(invoice_id(sandbox, "overdue_10"))
    assert early.charge == 0  # only 10 days after the due date: no fee yet
    eur = invoice_id(sandbox, "eur")
    remind(sandbox, eur, includeCharge="true")
    assert sandbox.reminders_of(eur)[0].charge == 0  # no fee on a EUR invoice
    soft = invoice_id(sandbox, "overdue_40")
    remind(sandbox, soft, type="SOFT_REMINDER", includeCharge="true", includeInterest="true")
    assert sandbox.reminders_of(soft)[0].charge == sandbox.reminders_of(soft)[0].interests == 0
    for _ in range(3):
        remind(sandbox, invoice_id(sandbox, "overdue_20_b2c"), includeCharge="true")
    fees = [r.charge for r in sandbox.reminders_of(invoice_id(sandbox, "overdue_20_b2c"))]
    assert fees == [Decimal("38"), Decimal("38"), Decimal("0")]  # at most two fees per claim
    fixed = s.FIXED_FEE_COMPANY_ID
    book = sandbox.book(fixed)
    made = requests.put(
        sandbox.base_url + f"/invoice/{book.invoice_id(0)}/:createReminder",
        params={"type": "REMINDER", "date": TODAY.isoformat(), "dispatchType": "EMAIL",
                "includeCharge": "true"},
        auth=(str(fixed), sandbox.token),
        timeout=10,
    )  # fmt: skip
    assert made.status_code == 200
    assert book.reminders[book.invoice_id(0)][-1].charge == Decimal("70.00")  # its own fixed fee


@pytest.mark.parametrize(
    ("tag", "params", "field"),
    [
        ("not_due", {}, "date"),
        ("settled_old", {}, "id"),
        ("overdue_20", {"date": "2026-11-24"}, "date"),
        ("overdue_20", {"dispatchType": "NETS_PRINT"}, "dispatchType"),
        ("overdue_20", {"dispatchType": "SMS"}, "dispatchType"),
        ("overdue_3_noemail", {}, "email"),
        ("overdue_20", {"type": "PURRING"}, "type"),
    ],
)
def test_create_reminder_refusals(sandbox, tag: str, params: dict[str, str], field: str) -> None:
    body = assert_error(remind(sandbox, invoice_id(sandbox, tag), **params), 422, body_code(params))
    assert body["validationMessages"][0]["field"] == field
    assert sandbox.reminders_of(invoice_id(sandbox, tag)) == []


def body_code(params: dict[str, str]) -> int:
    return 15000 if "type" in params or "date" in params else 18000


def test_debt_collection_needs_a_debt_collector() -> None:
    with TripletexSandbox(today=TODAY, rate_limit=False, company=s.SMALL_COMPANY_ID) as sb:
        book = sb.book()
        resp = put(sb, f"/invoice/{book.invoice_id(0)}/:createReminder", type="DEBT_COLLECTION",
                   date=TODAY.isoformat(), dispatchType="EMAIL")  # fmt: skip
        assert assert_error(resp, 422, 18000)["validationMessages"][0]["field"] == "type"
    with TripletexSandbox(today=TODAY, rate_limit=False) as sb:
        made = remind(sb, invoice_id(sb, "overdue_40"), type="DEBT_COLLECTION")
        assert made.status_code == 200


def test_injected_faults_and_a_lost_answer(sandbox) -> None:
    sandbox.inject("/invoice", status=503)
    assert_error(get(sandbox, "/invoice", **window()), 503, 1000)
    sandbox.inject("/invoice", malformed=True)
    with pytest.raises(ValueError):
        get(sandbox, "/invoice", **window()).json()
    iid = invoice_id(sandbox, "overdue_20")
    sandbox.inject(":createReminder", status=502, after=True)
    assert remind(sandbox, iid).status_code == 502
    assert len(sandbox.reminders_of(iid)) == 1  # made, though the answer was lost


def test_generated_book_is_a_date_window_of_any_size() -> None:
    with TripletexSandbox(today=TODAY, rate_limit=False, customers=300, invoices=1500) as sb:
        body = get(sb, "/invoice", **window(fields="id,invoiceDate", count=2000)).json()
        assert body["fullResultSize"] == 1500
        dates = [r["invoiceDate"] for r in body["values"]]
        assert dates == sorted(dates)
        half = get(
            sb, "/invoice", invoiceDateFrom=dates[750], invoiceDateTo="2030-01-01", fields="id"
        ).json()
        assert 700 < half["fullResultSize"] <= 750 + 5
        customers = get(sb, "/customer", fields="id").json()["fullResultSize"]
        inactive = get(sb, "/customer", fields="id", isInactive="true").json()["fullResultSize"]
        assert customers + inactive == 300
        reminders = get(
            sb, "/reminder", dateFrom="2020-01-01", dateTo="2030-01-01", fields="type"
        ).json()
        assert reminders["fullResultSize"] > 0  # Tripletex reminded a few itself
