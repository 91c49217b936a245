"""The Fiken sandbox against Fiken's own API description (fiken-openapi-2026.yaml).

Responses are validated as *reads* (``writeOnly`` fields such as a contact's ``phoneNumber``
must not appear) with every object schema closed (``additionalProperties: false``), so a field
name the spec does not know fails here. The sandbox may only serve operations and query
parameters that the spec declares. The write bodies kravsync's client sends on a push are
validated as *writes* against the operations' request schemas, closed the same way.
"""

from __future__ import annotations

import copy
import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

from connector.models import ActionStage, ReminderAction
from connector.render.notices import Creditor, render_letter
from mappings import fiken as mapping
from providers.fiken.adapter import FikenProvider
from providers.fiken.client import FikenClient, error_message
from providers.fiken.sandbox import FikenSandbox
from providers.fiken.sandbox.params import OPERATIONS
from providers.http import HttpClient
from providers.oauth import StaticBearer

TODAY = date(2026, 3, 10)
SPEC_NAME = "fiken-openapi-2026.yaml"
PAGING_HEADERS = {
    "Fiken-Api-Page",
    "Fiken-Api-Page-Size",
    "Fiken-Api-Page-Count",
    "Fiken-Api-Result-Count",
}
# The spec declares no schema for API errors; the only error shape it documents is the OAuth
# one ({"error", "error_description"}), which the sandbox uses for every error.
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "error_description"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
    "additionalProperties": False,
}


def _specs_dir() -> Path:
    env = os.environ.get("KRAVSYNC_SPECS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "specs"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    path = _specs_dir() / SPEC_NAME
    if not path.is_file():
        pytest.skip(f"Fiken API description not found at {path} (set KRAVSYNC_SPECS_DIR)")
    with path.open(encoding="utf-8") as fh:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is 10x faster
        loaded: dict[str, Any] = yaml.load(fh, Loader=loader)
    return loaded


@pytest.fixture(scope="module")
def closed_components(spec: dict[str, Any]) -> dict[str, Any]:
    components = copy.deepcopy(spec["components"])

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(components["schemas"])
    return components


@pytest.fixture(scope="module")
def sandbox() -> Any:
    with FikenSandbox(today=TODAY, rate_limit=False) as sb:
        yield sb


def operation(spec: dict[str, Any], op: str) -> dict[str, Any]:
    method, path, _ = OPERATIONS[op]
    found: dict[str, Any] = spec["paths"][path][method.lower()]
    return found


def errors_for(schema: dict[str, Any], components: dict[str, Any], instance: Any) -> list[str]:
    root = {**schema, "components": components}
    validator = OAS30ReadValidator(root, format_checker=OAS30ReadValidator.FORMAT_CHECKER)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(instance)
    ][:10]


def get(sb: FikenSandbox, path: str, **params: Any) -> requests.Response:
    return requests.get(
        sb.base_url + path.replace("{companySlug}", sb.company),
        params=params,
        headers={"Authorization": f"Bearer {sb.token}"},
        timeout=10,
    )


def check_response(
    spec: dict[str, Any], components: dict[str, Any], op: str, resp: requests.Response
) -> None:
    assert resp.status_code == 200, resp.text
    declared = operation(spec, op)["responses"]["200"]
    schema = declared["content"]["application/json"]["schema"]
    assert errors_for(schema, components, resp.json()) == []
    for header in declared.get("headers", {}):
        assert header in resp.headers, f"{op}: missing header {header}"


# --- operations and parameters -----------------------------------------------------------------


def test_every_served_operation_exists_in_the_spec(spec: dict[str, Any]) -> None:
    for op, (method, path, _params) in OPERATIONS.items():
        assert path in spec["paths"], path
        assert method.lower() in spec["paths"][path], f"{method} {path}"
        assert operation(spec, op)["operationId"] == op


def _spec_query_params(spec: dict[str, Any], op: str) -> dict[str, dict[str, Any]]:
    out = {}
    for param in operation(spec, op).get("parameters", []):
        if "$ref" in param:
            param = spec["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
        if param["in"] == "query":
            out[param["name"]] = param
    return out


@pytest.mark.parametrize("op", list(OPERATIONS))
def test_query_parameters_are_exactly_the_specs(spec: dict[str, Any], op: str) -> None:
    assert set(OPERATIONS[op][2]) == set(_spec_query_params(spec, op))


def _sample(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return str(schema["enum"][-1])
    if schema.get("format") == "date":
        return "2026-01-01"
    if schema.get("format") == "uuid":
        return "123e4567-e89b-12d3-a456-426655440000"
    return {"integer": "1", "boolean": "true", "number": "1"}.get(schema.get("type", ""), "x")


@pytest.mark.parametrize("op", ["getCompanies", "getContacts", "getInvoices"])
def test_every_declared_parameter_is_accepted(
    spec: dict[str, Any], sandbox: FikenSandbox, op: str
) -> None:
    path = OPERATIONS[op][1]
    for name, param in _spec_query_params(spec, op).items():
        r = get(sandbox, path, **{name: _sample(param["schema"])})
        assert r.status_code == 200, f"{name}: {r.text}"


def test_an_undeclared_parameter_is_refused(sandbox: FikenSandbox) -> None:
    # ``contactId`` is a real Fiken name, but not a filter of GET /invoices.
    r = get(sandbox, "/companies/{companySlug}/invoices", contactId=1)
    assert r.status_code == 400


# --- response bodies ---------------------------------------------------------------------------


def test_user_company_and_companies(
    spec: dict[str, Any], closed_components: dict[str, Any], sandbox: FikenSandbox
) -> None:
    check_response(spec, closed_components, "getUser", get(sandbox, "/user"))
    check_response(spec, closed_components, "getCompanies", get(sandbox, "/companies"))
    one = get(sandbox, "/companies/{companySlug}")
    check_response(spec, closed_components, "getCompany", one)
    assert one.json()["slug"] == sandbox.company


def test_contacts_list_and_detail(
    spec: dict[str, Any], closed_components: dict[str, Any], sandbox: FikenSandbox
) -> None:
    listed = get(sandbox, "/companies/{companySlug}/contacts", pageSize=100)
    check_response(spec, closed_components, "getContacts", listed)
    assert len(listed.json()) == sandbox.seed.n_contacts
    for contact in listed.json()[:3]:
        detail = get(sandbox, f"/companies/{{companySlug}}/contacts/{contact['contactId']}")
        check_response(spec, closed_components, "getContact", detail)
        assert detail.json() == contact


def test_invoices_list_and_detail(
    spec: dict[str, Any], closed_components: dict[str, Any], sandbox: FikenSandbox
) -> None:
    listed = get(sandbox, "/companies/{companySlug}/invoices", pageSize=100)
    check_response(spec, closed_components, "getInvoices", listed)
    assert len(listed.json()) == sandbox.seed.n_invoices
    for tag in ("eur", "fiken_reminder", "part_paid_10", "written_off", "credited"):
        detail = get(sandbox, f"/companies/{{companySlug}}/invoices/{sandbox.demo_invoice_id(tag)}")
        check_response(spec, closed_components, "getInvoice", detail)


def test_generated_records_match_the_schema_too(
    spec: dict[str, Any], closed_components: dict[str, Any]
) -> None:
    with FikenSandbox(today=TODAY, customers=400, invoices=2_000, rate_limit=False) as sb:
        for page in (0, 7, 19):
            invoices = get(sb, "/companies/{companySlug}/invoices", page=page, pageSize=100)
            check_response(spec, closed_components, "getInvoices", invoices)
        contacts = get(sb, "/companies/{companySlug}/contacts", page=1, pageSize=100)
        check_response(spec, closed_components, "getContacts", contacts)


def test_validation_catches_write_only_and_unknown_fields(
    spec: dict[str, Any], closed_components: dict[str, Any], sandbox: FikenSandbox
) -> None:
    """The checks above can fail: a contact with its write-only phone or a typo'd field."""
    contact = get(sandbox, "/companies/{companySlug}/contacts", pageSize=1).json()[0]
    schema = {"$ref": "#/components/schemas/contact"}
    assert errors_for(schema, closed_components, contact) == []
    assert errors_for(schema, closed_components, contact | {"phoneNumber": "22334455"})
    assert errors_for(schema, closed_components, contact | {"organisationNumber": "1"})


# --- errors ------------------------------------------------------------------------------------


def test_error_bodies_have_one_documented_shape(
    closed_components: dict[str, Any], sandbox: FikenSandbox
) -> None:
    slug_path = "/companies/{companySlug}"
    responses = [
        get(sandbox, slug_path + "/invoices", pageSize=500),  # 400
        requests.get(sandbox.base_url + "/companies", timeout=10),  # 401
        get(sandbox, "/companies/ukjent-as"),  # 404
        requests.post(  # 405
            sandbox.base_url + "/user",
            headers={"Authorization": f"Bearer {sandbox.token}"},
            timeout=10,
        ),
        requests.post(sandbox.oauth_token_url, data={"grant_type": "x"}, timeout=10),  # 401
    ]
    assert [r.status_code for r in responses] == [400, 401, 404, 405, 401]
    for r in responses:
        assert errors_for(ERROR_SCHEMA, closed_components, r.json()) == [], r.text


# --- writes ---------------------------------------------------------------------------------------


def request_schema(spec: dict[str, Any], op: str, content_type: str) -> dict[str, Any]:
    """The request schema, closed; an ``allOf`` is merged first (closing each part alone would
    refuse the other parts' fields)."""
    schema = operation(spec, op)["requestBody"]["content"][content_type]["schema"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in node:
            return resolve(spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
        if "allOf" not in node:
            return node
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in map(resolve, node["allOf"]):
            merged["properties"].update(part.get("properties", {}))
            merged["required"] += part.get("required", [])
        return merged

    return {**resolve(schema), "additionalProperties": False}


def write_errors(schema: dict[str, Any], components: dict[str, Any], instance: Any) -> list[str]:
    root = {**schema, "components": components}
    validator = OAS30WriteValidator(root, format_checker=OAS30WriteValidator.FORMAT_CHECKER)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(instance)
    ][:10]


@pytest.fixture(scope="module")
def pushed() -> Any:
    """A fresh sandbox after kravsync's own client pushed a reminder with a fee and a handover."""
    with FikenSandbox(today=TODAY, rate_limit=False) as sb:
        http = HttpClient(
            provider="fiken",
            base_url=sb.base_url,
            auth=StaticBearer(sb.token),
            error_message=error_message,
        )
        provider = FikenProvider(FikenClient(http, sb.company), today=lambda: TODAY)
        for tag, stage in (
            ("overdue_20", ActionStage.REMINDER),
            ("overdue_400", ActionStage.HANDOVER),
        ):
            raw = sb.invoice(sb.demo_invoice_id(tag))
            inv = mapping.invoice(raw)
            action = ReminderAction(
                tenant="contract",
                invoice_id=inv.provider_id,
                invoice_number=inv.number,
                customer_id=inv.customer_id,
                stage=stage,
                planned_on=TODAY,
                deadline=date(2026, 3, 24),
                fee=Decimal("38") if stage is ActionStage.REMINDER else Decimal("0"),
                currency=inv.currency,
                outstanding=inv.outstanding,
            )
            letter = render_letter(
                tenant="contract",
                country="NO",
                creditor=Creditor("Nordlys Regnskap AS"),
                customer=mapping.customer(raw["customer"]),
                stage=stage,
                currency=inv.currency,
                actions=[action],
                invoices=[inv],
                today=TODAY,
                font_path="",
            )
            assert provider.push(letter, None)[action.idempotency_key].ok
        provider.close()
        yield sb


def test_every_write_the_client_sends_matches_the_spec(
    spec: dict[str, Any], closed_components: dict[str, Any], pushed: FikenSandbox
) -> None:
    ops = [r.operation for r in pushed.received]
    assert sorted(set(ops)) == sorted(
        ["addAttachmentToContact", "addAttachmentToInvoice", "createInvoice", "sendInvoice"]
    )
    for received in pushed.received:
        declared = operation(spec, received.operation)
        assert str(received.status) in declared["responses"], received
        if received.operation in ("sendInvoice", "createInvoice"):
            schema = request_schema(spec, received.operation, "application/json")
            instance = received.body
        else:
            schema = request_schema(spec, received.operation, "multipart/form-data")
            instance = {**received.body, "file": "<binary>"}
        assert write_errors(schema, closed_components, instance) == [], received.operation


def test_write_responses_carry_the_declared_headers(
    spec: dict[str, Any], sandbox: FikenSandbox
) -> None:
    auth = {"Authorization": f"Bearer {sandbox.token}"}
    base = f"{sandbox.base_url}/companies/{sandbox.company}"
    iid = sandbox.demo_invoice_id("overdue_20")
    cid = sandbox.demo_contact_id("baker")
    pdf = {"file": ("a.pdf", b"%PDF-1.3\n", "application/pdf")}
    responses = {
        "addAttachmentToInvoice": requests.post(
            f"{base}/invoices/{iid}/attachments",
            data={"filename": "a.pdf"},
            files=pdf,
            headers=auth,
            timeout=10,
        ),
        "addAttachmentToContact": requests.post(
            f"{base}/contacts/{cid}/attachments",
            data={"filename": "a.pdf", "comment": "Åse"},
            files=pdf,
            headers=auth,
            timeout=10,
        ),
        "sendInvoice": requests.post(
            f"{base}/invoices/send",
            json={"invoiceId": iid, "method": ["auto"], "includeDocumentAttachments": False},
            headers=auth,
            timeout=10,
        ),
    }
    for op, resp in responses.items():
        declared = operation(spec, op)["responses"]
        assert list(declared) == [str(resp.status_code)], (op, resp.text)
        for header in declared[str(resp.status_code)].get("headers", {}):
            assert resp.headers[header].startswith("http://"), (op, header)


def test_records_after_writes_still_match_the_schema(
    spec: dict[str, Any], closed_components: dict[str, Any], pushed: FikenSandbox
) -> None:
    for tag in ("overdue_20", "overdue_400"):
        iid = pushed.demo_invoice_id(tag)
        detail = get(pushed, f"/companies/{{companySlug}}/invoices/{iid}")
        check_response(spec, closed_components, "getInvoice", detail)
        assert any(
            a["identifier"].startswith("kravsync.") for a in detail.json()["attachments"]
        ) or (tag == "overdue_400")
        cid = detail.json()["customer"]["contactId"]
        contact = get(pushed, f"/companies/{{companySlug}}/contacts/{cid}")
        check_response(spec, closed_components, "getContact", contact)
        assert contact.json()["documents"]
        attachments = get(pushed, f"/companies/{{companySlug}}/invoices/{iid}/attachments")
        check_response(spec, closed_components, "getInvoiceAttachments", attachments)
    [fee] = [r for r in pushed.received if r.operation == "createInvoice"]
    listed = get(pushed, "/companies/{companySlug}/invoices", customerId=fee.body["customerId"])
    check_response(spec, closed_components, "getInvoices", listed)
    check_response(
        spec,
        closed_components,
        "getBankAccounts",
        get(pushed, "/companies/{companySlug}/bankAccounts"),
    )


def test_write_validation_catches_unknown_and_missing_fields(
    spec: dict[str, Any], closed_components: dict[str, Any]
) -> None:
    """The write check above can fail: a typo'd field, a missing required one, a bad enum."""
    schema = request_schema(spec, "sendInvoice", "application/json")
    good = {"invoiceId": 1, "method": ["email"], "includeDocumentAttachments": True}
    assert write_errors(schema, closed_components, good) == []
    assert write_errors(schema, closed_components, good | {"attachPdf": True})
    assert write_errors(schema, closed_components, {"invoiceId": 1, "method": ["email"]})
    assert write_errors(schema, closed_components, good | {"method": ["fax"]})
    invoice = request_schema(spec, "createInvoice", "application/json")
    line = {"description": "x", "unitPrice": 1, "quantity": 1, "vatType": "NONE"}
    fee = {
        "issueDate": "2026-03-10",
        "dueDate": "2026-03-24",
        "lines": [line],
        "bankAccountCode": "1920:10001",
        "cash": False,
        "customerId": 1,
    }
    assert write_errors(invoice, closed_components, fee) == []
    assert write_errors(invoice, closed_components, fee | {"lines": [line | {"vatCode": "x"}]})
