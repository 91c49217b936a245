"""The Fortnox sandbox answers in the shapes of the official v3 description."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests

from providers.fortnox.sandbox import FortnoxSandbox

openapi_schema_validator = pytest.importorskip("openapi_schema_validator")

REPO = Path(__file__).resolve().parents[1]
SPECS = Path(os.environ.get("KRAVSYNC_SPECS_DIR") or REPO.parent / "shared" / "specs")
SPEC_FILE = SPECS / "fortnox-openapi.json"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_FILE.is_file():
        pytest.skip(f"Fortnox spec not found at {SPEC_FILE} (set KRAVSYNC_SPECS_DIR)")
    return json.loads(SPEC_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sandbox():
    with FortnoxSandbox(today=date(2026, 3, 2), customers=40, invoices=120, rate_limit=False) as sb:
        yield sb


def _strict(schema: Any) -> Any:
    """The spec's schema with ``additionalProperties: false`` on every object, so an invented
    field name fails (the spec itself leaves objects open)."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if out.get("type") == "object" and "properties" in out:
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def _refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        if "$ref" in schema:
            yield schema["$ref"].rsplit("/", 1)[-1]
        for value in schema.values():
            yield from _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs(value)


def _reachable(schema: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """Only the component schemas ``schema`` refers to (validating against all is slow)."""
    found: dict[str, Any] = {}
    todo = list(_refs(schema))
    while todo:
        name = todo.pop()
        if name not in found:
            found[name] = schemas[name]
            todo.extend(_refs(schemas[name]))
    return found


def _validate(spec: dict[str, Any], path: str, body: Any, status: str = "200") -> None:
    op = spec["paths"][path]["get"]["responses"][status]
    schema = op["content"]["application/json"]["schema"]
    used = _reachable(schema, spec["components"]["schemas"])
    wrapped = dict(_strict(schema), components={"schemas": _strict(used)})
    openapi_schema_validator.validate(body, wrapped, cls=openapi_schema_validator.OAS30Validator)


def _get(sb: FortnoxSandbox, path: str, **params: Any) -> requests.Response:
    return requests.get(
        sb.base_url + path,
        params=params,
        headers={"Authorization": f"Bearer {sb.token}"},
        timeout=5,
    )


def _validate_meta(spec: dict[str, Any], body: dict[str, Any]) -> None:
    meta_schema = dict(
        _strict(spec["components"]["schemas"]["fortnox_MetaInformation"]),
        components=spec["components"],
    )
    openapi_schema_validator.validate(body.pop("MetaInformation"), meta_schema)


@pytest.mark.parametrize(
    "flt", [None, "unpaid", "unpaidoverdue", "fullypaid", "cancelled", "unbooked"]
)
def test_invoice_list_matches_spec(spec, sandbox, flt) -> None:
    params = {"limit": 500} | ({"filter": flt} if flt else {})
    body = _get(sandbox, "/3/invoices", **params).json()
    assert body["Invoices"], f"sample data has no {flt} invoices"
    _validate_meta(spec, body)
    _validate(spec, "/3/invoices", body)


def test_invoice_detail_matches_spec(spec, sandbox) -> None:
    for n in range(1, 40):
        _validate(spec, "/3/invoices/{DocumentNumber}", _get(sandbox, f"/3/invoices/{n}").json())


def test_customer_list_and_detail_match_spec(spec, sandbox) -> None:
    for flt in (None, "active", "inactive"):
        body = _get(sandbox, "/3/customers", **({"filter": flt} if flt else {})).json()
        assert body["Customers"]
        _validate_meta(spec, body)
        _validate(spec, "/3/customers", body)
    for n in range(1, 41):
        _validate(spec, "/3/customers/{CustomerNumber}", _get(sandbox, f"/3/customers/{n}").json())


def test_error_body_matches_spec(spec, sandbox) -> None:
    resp = _get(sandbox, "/3/invoices", filter="nonsense")
    assert resp.status_code == 400
    _validate(spec, "/3/invoices", resp.json(), status="default")
    missing = _get(sandbox, "/3/customers/99999")
    assert missing.status_code == 404
    _validate(spec, "/3/customers/{CustomerNumber}", missing.json(), status="default")


def test_filters_are_the_specs(spec, sandbox) -> None:
    import providers.fortnox.sandbox.server as module

    params = spec["paths"]["/3/invoices"]["get"]["parameters"]
    enum = next(p for p in params if p["name"] == "filter")["schema"]["enum"]
    assert set(module.INVOICE_FILTERS) == set(enum)
    params = spec["paths"]["/3/customers"]["get"]["parameters"]
    enum = next(p for p in params if p["name"] == "filter")["schema"]["enum"]
    assert set(module.CUSTOMER_FILTERS) == set(enum)


# --- the push endpoints ----------------------------------------------------------------------


def _validate_op(
    spec: dict[str, Any], path: str, method: str, body: Any, status: str = "200"
) -> None:
    op = spec["paths"][path][method]["responses"][status]
    schema = next(iter(op["content"].values()))["schema"]
    if schema.get("type") == "string":  # a PDF
        raise AssertionError(f"{method} {path} {status} is not a JSON response")
    used = _reachable(schema, spec["components"]["schemas"])
    wrapped = dict(_strict(schema), components={"schemas": _strict(used)})
    openapi_schema_validator.validate(body, wrapped, cls=openapi_schema_validator.OAS30Validator)


def _validate_request(spec: dict[str, Any], path: str, method: str, body: Any) -> None:
    schema = spec["paths"][path][method]["requestBody"]["content"]["*/*"]["schema"]
    used = _reachable(schema, spec["components"]["schemas"])
    wrapped = dict(_strict(schema), components={"schemas": _strict(used)})
    openapi_schema_validator.validate(body, wrapped, cls=openapi_schema_validator.OAS30Validator)


def _send(sb: FortnoxSandbox, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(
        method,
        sb.base_url + path,
        json=body,
        headers={"Authorization": f"Bearer {sb.token}"},
        timeout=5,
    )


@pytest.fixture
def fresh() -> Iterator[FortnoxSandbox]:
    with FortnoxSandbox(today=date(2026, 3, 2), rate_limit=False) as sb:
        yield sb


def test_finans_endpoints_match_spec(spec, fresh) -> None:
    payload = {
        "NoxFinansInvoice": {"InvoiceNumber": "4", "SendMethod": "EMAIL", "Service": "REMINDER"}
    }
    _validate_request(spec, "/3/noxfinansinvoices", "post", payload)
    created = _send(fresh, "POST", "/3/noxfinansinvoices", payload)
    assert created.status_code == 201
    _validate_op(spec, "/3/noxfinansinvoices", "post", created.json(), "201")
    got = _get(fresh, "/3/noxfinansinvoices/4")
    assert got.status_code == 200 and got.json() == created.json()
    _validate_op(spec, "/3/noxfinansinvoices/{Number}", "get", got.json())
    seeded = _get(fresh, "/3/noxfinansinvoices/10").json()["NoxFinansInvoice"]
    assert seeded["Service"] == "LEDGERBASE"  # a NoxFinans invoice of the sample book
    _validate_op(spec, "/3/noxfinansinvoices/{Number}", "get", {"NoxFinansInvoice": seeded})
    for path, status in (("/3/noxfinansinvoices/2", 404),):
        resp = _get(fresh, path)
        assert resp.status_code == status
        _validate_op(spec, "/3/noxfinansinvoices/{Number}", "get", resp.json(), "default")
    twice = _send(fresh, "POST", "/3/noxfinansinvoices", payload)
    assert twice.status_code == 400 and "redan" in twice.text
    _validate_op(spec, "/3/noxfinansinvoices", "post", twice.json(), "default")
    eur = dict(payload["NoxFinansInvoice"], InvoiceNumber="9")
    resp = _send(fresh, "POST", "/3/noxfinansinvoices", {"NoxFinansInvoice": eur})
    assert resp.status_code == 400 and "SEK" in resp.json()["ErrorInformation"]["Message"]


def test_finans_needs_the_service_activated() -> None:
    with FortnoxSandbox(today=date(2026, 3, 2), rate_limit=False, finans=False) as sb:
        body = {
            "NoxFinansInvoice": {"InvoiceNumber": "4", "SendMethod": "NONE", "Service": "REMINDER"}
        }
        assert _send(sb, "POST", "/3/noxfinansinvoices", body).status_code == 403


def test_invoice_update_matches_spec(spec, fresh) -> None:
    line = "kravsync:t:4:reminder:1 sending 2026-03-02 letter=ab"
    payload = {"Invoice": {"CustomerNumber": "4", "Comments": line}}
    _validate_request(spec, "/3/invoices/{DocumentNumber}", "put", payload)
    resp = _send(fresh, "PUT", "/3/invoices/4", payload)
    assert resp.status_code == 200
    assert resp.json()["Invoice"]["Comments"] == line
    _validate_op(spec, "/3/invoices/{DocumentNumber}", "put", resp.json())
    booked = _send(fresh, "PUT", "/3/invoices/4", {"Invoice": {"CustomerNumber": "5"}})
    assert booked.status_code == 400 and "bokförd" in booked.text
    _validate_op(spec, "/3/invoices/{DocumentNumber}", "put", booked.json(), "default")
    long = _send(fresh, "PUT", "/3/invoices/4", {"Invoice": {"Comments": "x" * 1025}})
    assert long.status_code == 400
    recorded = fresh.received("PUT")
    assert [(r.path, r.status) for r in recorded] == [
        ("/3/invoices/4", 200),
        ("/3/invoices/4", 400),
        ("/3/invoices/4", 400),
    ]
    assert recorded[0].body == payload


@pytest.mark.parametrize("document", ["printreminder", "preview", "print"])
def test_invoice_documents_are_pdfs(fresh, document) -> None:
    resp = _get(fresh, f"/3/invoices/4/{document}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/pdf"
    data = resp.content
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
    start = int(data.rsplit(b"startxref", 1)[1].split()[0])
    assert data[start : start + 4] == b"xref"  # the cross-reference table is where it says
    missing = _get(fresh, f"/3/invoices/9999/{document}")
    assert missing.status_code == 404 and missing.json()["ErrorInformation"]["Code"] == 2000434


def test_document_side_effects(fresh) -> None:
    before = fresh.invoice(4)
    _get(fresh, "/3/invoices/4/preview")
    assert fresh.invoice(4) == before
    _get(fresh, "/3/invoices/4/printreminder")
    assert fresh.invoice(4)["Reminders"] == before["Reminders"] + 1
    assert fresh.invoice(4)["LastRemindDate"] == "2026-03-02"
    fresh.update_invoice(2, Sent=False)
    _get(fresh, "/3/invoices/2/print")
    assert fresh.invoice(2)["Sent"] is True


def test_push_endpoints_are_rate_limited() -> None:
    with FortnoxSandbox(today=date(2026, 3, 2), max_requests=2, window_seconds=60.0) as sb:
        codes = [
            _send(sb, "PUT", "/3/invoices/4", {"Invoice": {"Comments": str(i)}}).status_code
            for i in range(3)
        ]
        assert codes == [200, 200, 429]
        assert [r.status for r in sb.received("PUT")] == [200, 200]  # refused before routing
