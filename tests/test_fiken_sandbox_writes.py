"""The Fiken sandbox's write side: strict bodies, Fiken's status codes, effects a client can read
back, the record of what was received, rate limits and lost-response faults."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests

from providers.fiken.sandbox import FikenSandbox

TODAY = date(2026, 3, 10)
PDF = b"%PDF-1.3\n% a tiny test document\n"


@pytest.fixture
def sandbox() -> Iterator[FikenSandbox]:
    with FikenSandbox(today=TODAY, rate_limit=False) as sb:
        yield sb


def url(sb: FikenSandbox, rest: str) -> str:
    return f"{sb.base_url}/companies/{sb.company}{rest}"


def auth(sb: FikenSandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {sb.token}"}


def send(sb: FikenSandbox, body: Any) -> requests.Response:
    return requests.post(url(sb, "/invoices/send"), json=body, headers=auth(sb), timeout=10)


def upload(
    sb: FikenSandbox, rest: str, fields: dict[str, str], content: bytes | None = PDF
) -> requests.Response:
    parts: dict[str, tuple[str | None, bytes | str, str]] = {
        name: (None, value, "text/plain; charset=utf-8") for name, value in fields.items()
    }
    if content is not None:
        parts["file"] = (fields.get("filename", "x.pdf"), content, "application/pdf")
    return requests.post(url(sb, rest), files=parts, headers=auth(sb), timeout=10)


def fee_invoice(sb: FikenSandbox, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "issueDate": "2026-03-10",
        "dueDate": "2026-03-24",
        "lines": [
            {
                "description": "Purregebyr, faktura 10013",
                "unitPrice": 3800,
                "quantity": 1,
                "vatType": "OUTSIDE",
                "incomeAccount": "8050",
            }
        ],
        "bankAccountCode": "1920:10001",
        "cash": False,
        "customerId": sb.demo_contact_id("gronli1"),
        "invoiceText": "Purregebyr [kravsync:t:1:reminder:1]",
    }
    body.update(changes)
    return body


# --- POST /invoices/send -------------------------------------------------------------------------


def test_send_appends_a_dispatch_dated_today_and_is_recorded(sandbox: FikenSandbox) -> None:
    iid = sandbox.demo_invoice_id("eur")  # a customer in Germany: no Norwegian letter post
    before = sandbox.invoice(iid)["dispatches"]
    body = {
        "invoiceId": iid,
        "method": ["letter", "email"],
        "includeDocumentAttachments": True,
        "message": "Purring på faktura 10016 – betal innen 24.03.2026",
    }
    r = send(sandbox, body)
    assert r.status_code == 200 and r.content == b""
    after = sandbox.invoice(iid)
    # "letter" is not possible for this customer's address; e-mail is the first that works
    assert after["dispatches"] == [*before, {"date": "2026-03-10", "dispatchType": "email"}]
    assert after["lastModifiedDate"] == "2026-03-10"
    assert sandbox.sent_invoices() == [body]
    assert sandbox.received[-1].path.endswith("/invoices/send")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"method": None}, "method"),
        ({"method": []}, "method"),
        ({"method": ["fax"]}, "method"),
        ({"includeDocumentAttachments": None}, "includeDocumentAttachments"),
        ({"includeDocumentAttachments": "yes"}, "includeDocumentAttachments"),
        ({"invoiceId": "123"}, "invoiceId"),
        ({"attachPdf": True}, "attachPdf"),
    ],
)
def test_send_refuses_a_bad_body_naming_the_field(
    sandbox: FikenSandbox, change: dict[str, Any], named: str
) -> None:
    body = {
        "invoiceId": sandbox.demo_invoice_id("overdue_20"),
        "method": ["email"],
        "includeDocumentAttachments": True,
    }
    body.update(change)
    r = send(sandbox, {k: v for k, v in body.items() if v is not None})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request" and named in r.json()["error_description"]
    assert sandbox.sent_invoices() == []
    assert sandbox.received[-1].status == 400  # refusals are recorded too


def test_send_needs_json_and_a_known_invoice(sandbox: FikenSandbox) -> None:
    r = requests.post(url(sandbox, "/invoices/send"), data="x", headers=auth(sandbox), timeout=10)
    assert r.status_code == 415
    r = send(sandbox, {"invoiceId": 1, "method": ["email"], "includeDocumentAttachments": True})
    assert r.status_code == 404


# --- attachments ---------------------------------------------------------------------------------


def test_invoice_attachment_is_stored_listed_and_downloadable(sandbox: FikenSandbox) -> None:
    iid = sandbox.demo_invoice_id("overdue_20")
    name = "kravsync:t:1:reminder:1 dispatches-before=1.pdf"
    r = upload(sandbox, f"/invoices/{iid}/attachments", {"filename": name})
    assert r.status_code == 201
    listed = requests.get(
        url(sandbox, f"/invoices/{iid}/attachments"), headers=auth(sandbox), timeout=10
    ).json()
    assert [a["identifier"] for a in listed] == [name]
    assert listed == sandbox.invoice(iid)["attachments"] == sandbox.attachments_for(iid)
    assert r.headers["Location"] == listed[0]["downloadUrl"]
    download = requests.get(r.headers["Location"], headers=auth(sandbox), timeout=10)
    assert download.content == PDF and download.headers["Content-Type"] == "application/pdf"
    assert requests.get(r.headers["Location"], timeout=10).status_code == 401
    [received] = sandbox.received
    assert received.body == {"filename": name, "file": {"filename": name, "size": len(PDF)}}


@pytest.mark.parametrize(
    ("fields", "content", "named"),
    [
        ({}, PDF, "filename"),
        ({"filename": "brev.docx"}, PDF, "filename"),
        ({"filename": "brev.pdf"}, None, "file"),
        ({"filename": "brev.pdf"}, b"not a pdf", "file"),
        ({"filename": "brev.pdf", "comment": "no comment field here"}, PDF, "comment"),
    ],
)
def test_invoice_attachment_refuses_bad_uploads(
    sandbox: FikenSandbox, fields: dict[str, str], content: bytes | None, named: str
) -> None:
    iid = sandbox.demo_invoice_id("overdue_20")
    r = upload(sandbox, f"/invoices/{iid}/attachments", fields, content)
    assert r.status_code == 400 and named in r.json()["error_description"]
    assert sandbox.attachments_for(iid) == []


def test_contact_attachment_keeps_its_comment_with_aeoeaa(sandbox: FikenSandbox) -> None:
    cid = sandbox.demo_contact_id("smoras")
    comment = "kravsync:t:1:reminder:1 purring sendt til Øvre Smørås Gårdsbutikk"
    r = upload(sandbox, f"/contacts/{cid}/attachments", {"filename": "a.pdf", "comment": comment})
    assert r.status_code == 201
    contact = requests.get(url(sandbox, f"/contacts/{cid}"), headers=auth(sandbox), timeout=10)
    [doc] = contact.json()["documents"]
    assert doc["comment"] == comment and doc["identifier"] == "a.pdf"
    assert doc["downloadUrl"] == r.headers["Location"]
    assert sandbox.documents_for(cid) == [doc]


# --- POST /invoices ------------------------------------------------------------------------------


def test_created_invoice_has_its_own_sale_and_is_listed(sandbox: FikenSandbox) -> None:
    body = fee_invoice(sandbox)
    r = requests.post(url(sandbox, "/invoices"), json=body, headers=auth(sandbox), timeout=10)
    assert r.status_code == 201 and r.content == b""
    created = requests.get(r.headers["Location"], headers=auth(sandbox), timeout=10).json()
    assert created["invoiceText"] == body["invoiceText"]
    assert (created["gross"], created["vat"]) == (3800, 0)
    assert created["sale"]["outstandingBalance"] == 3800 and not created["sale"]["settled"]
    assert created["lines"][0]["incomeAccount"] == "8050"
    assert created["dispatches"] == []  # created, not sent
    listed = requests.get(
        url(sandbox, "/invoices"),
        params={"customerId": body["customerId"], "issueDateGe": "2026-03-10"},
        headers=auth(sandbox),
        timeout=10,
    ).json()
    assert [i["invoiceId"] for i in listed] == [created["invoiceId"]]
    assert sandbox.created_invoices() == [body]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"bankAccountCode": None}, "bankAccountCode"),
        ({"bankAccountCode": "1920:99999"}, "bankAccountCode"),
        ({"cash": None}, "cash"),
        ({"lines": []}, "lines"),
        ({"dueDate": "2026-03-01"}, "dueDate"),
        ({"issueDate": "10.03.2026"}, "issueDate"),
        ({"customerId": 1}, "customerId"),
        ({"invoiceText": "x" * 501}, "invoiceText"),
        ({"lines": [{"description": "Gebyr", "unitPrice": 100, "vatType": "NONE"}]}, "quantity"),
        (
            {"lines": [{"description": "G", "unitPrice": 1, "quantity": 1, "vatType": "NONE"}]},
            "lines[0].incomeAccount",
        ),
        (
            {"lines": [{"description": "G", "unitPrice": 1, "quantity": 1, "vatType": "ZERO"}]},
            "lines[0].vatType",
        ),
    ],
)
def test_create_invoice_refuses_a_bad_body_naming_the_field(
    sandbox: FikenSandbox, change: dict[str, Any], named: str
) -> None:
    body = {k: v for k, v in fee_invoice(sandbox, **change).items() if v is not None}
    r = requests.post(url(sandbox, "/invoices"), json=body, headers=auth(sandbox), timeout=10)
    assert r.status_code == 400 and named in r.json()["error_description"], r.text
    assert sandbox.created_invoices() == []


def test_a_supplier_is_not_invoiced(sandbox: FikenSandbox) -> None:
    body = fee_invoice(sandbox, customerId=sandbox.demo_contact_id("kontor"))
    r = requests.post(url(sandbox, "/invoices"), json=body, headers=auth(sandbox), timeout=10)
    assert r.status_code == 400 and "not a customer" in r.json()["error_description"]


def test_bank_accounts_are_listed_with_paging_headers(sandbox: FikenSandbox) -> None:
    r = requests.get(url(sandbox, "/bankAccounts"), headers=auth(sandbox), timeout=10)
    assert r.status_code == 200 and r.headers["Fiken-Api-Result-Count"] == "2"
    assert [a["accountCode"] for a in r.json()] == ["1920:10001", "1950:10002"]


# --- limits and faults ---------------------------------------------------------------------------


def test_writes_are_rate_limited_too() -> None:
    with FikenSandbox(today=TODAY) as sb:
        iid = sb.demo_invoice_id("overdue_20")
        body = {"invoiceId": iid, "method": ["email"], "includeDocumentAttachments": True}
        with sb.hold("/invoices/send") as hold:
            first: list[requests.Response] = []
            worker = threading.Thread(target=lambda: first.append(send(sb, body)))
            worker.start()
            assert hold.arrived.wait(5)
            assert send(sb, body).status_code == 429  # one request in flight
        worker.join(5)
        assert first[0].status_code == 200
        assert len(sb.sent_invoices()) == 1


def test_a_processed_fault_carries_the_write_out_and_answers_an_error(
    sandbox: FikenSandbox,
) -> None:
    iid = sandbox.demo_invoice_id("overdue_20")
    before = len(sandbox.invoice(iid)["dispatches"])
    sandbox.inject("", status=502, operation="sendInvoice", processed=True)
    body = {"invoiceId": iid, "method": ["email"], "includeDocumentAttachments": True}
    assert send(sandbox, body).status_code == 502
    assert len(sandbox.invoice(iid)["dispatches"]) == before + 1
    assert send(sandbox, body).status_code == 200  # the fault was used up


def test_an_operation_fault_leaves_other_operations_alone(sandbox: FikenSandbox) -> None:
    sandbox.inject("", status=500, times=5, operation="createInvoice")
    iid = sandbox.demo_invoice_id("overdue_20")
    body = {"invoiceId": iid, "method": ["email"], "includeDocumentAttachments": True}
    assert send(sandbox, body).status_code == 200
    r = requests.post(
        url(sandbox, "/invoices"), json=fee_invoice(sandbox), headers=auth(sandbox), timeout=10
    )
    assert r.status_code == 500
    with pytest.raises(ValueError, match="processed=True needs a status"):
        sandbox.inject("", processed=True, malformed=True)
