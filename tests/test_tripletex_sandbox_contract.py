"""The Tripletex sandbox and kravsync's Tripletex client, both held to tripletex-openapi.json.

* Every operation the sandbox serves exists in the spec with exactly the spec's query
  parameters (names and which are required).
* Its answers validate against the operations' response schemas, closed with
  ``additionalProperties: false`` so that an invented field fails; errors validate against
  ``ApiError``. ``versionDigest`` and ``validationMessages`` may be null, as the spec's
  info.description says ("null if no result", "can be null").
* Every request kravsync sends in a full cycle (pull, push, reconciliation, auth, discover)
  names a spec operation, only declared parameters, every required one, enum values from the
  spec, dates as yyyy-MM-dd, and ``fields`` that name properties of the response schema.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.clock import Clock
from connector.config import TenantConfig
from connector.runtime import run_tenant
from connector.secrets import MemoryCredentials
from connector.store import SqliteStore
from connector.validation import fixture_register
from providers.base import registry
from providers.tripletex.auth import forget_sessions
from providers.tripletex.sandbox import TripletexSandbox
from providers.tripletex.sandbox import fields as fieldsel
from providers.tripletex.sandbox import seed as s
from providers.tripletex.sandbox.access import host_today
from providers.tripletex.sandbox.server import OPERATIONS

openapi_schema_validator = pytest.importorskip("openapi_schema_validator")

REPO = Path(__file__).resolve().parents[1]
SPECS = Path(os.environ.get("KRAVSYNC_SPECS_DIR") or REPO.parent / "shared" / "specs")
SPEC_FILE = SPECS / "tripletex-openapi.json"
TODAY = date(2026, 11, 23)
NULLABLE = {("ListResponse", "versionDigest"), ("ApiError", "validationMessages")}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_FILE.is_file():
        pytest.skip(f"Tripletex spec not found at {SPEC_FILE} (set KRAVSYNC_SPECS_DIR)")
    return dict(json.loads(SPEC_FILE.read_text(encoding="utf-8")))


@pytest.fixture
def sandbox() -> Iterator[TripletexSandbox]:
    forget_sessions()
    with TripletexSandbox(today=TODAY, rate_limit=False) as sb:
        yield sb


def _strict(schema: Any, name: str = "") -> Any:
    if isinstance(schema, dict):
        out = {k: (_strict(v, name) if k != "properties" else
                   {p: dict(_strict(v2, name), nullable=True) if any(name.startswith(n) and p == f for n, f in NULLABLE)
                    else _strict(v2, name) for p, v2 in v.items()})
               for k, v in schema.items()}  # fmt: skip
        if out.get("type") == "object" and "properties" in out:
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(schema, list):
        return [_strict(v, name) for v in schema]
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


def _validate(spec: dict[str, Any], schema: dict[str, Any], body: Any) -> None:
    schemas = spec["components"]["schemas"]
    used: dict[str, Any] = {}
    todo = list(_refs(schema))
    while todo:
        name = todo.pop()
        if name not in used:
            used[name] = schemas[name]
            todo.extend(_refs(schemas[name]))
    closed = {name: _strict(value, name) for name, value in used.items()}
    wrapped = dict(_strict(schema), components={"schemas": closed})
    openapi_schema_validator.validate(body, wrapped, cls=openapi_schema_validator.OAS30Validator)


def _operation(spec: dict[str, Any], name: str) -> dict[str, Any]:
    op = OPERATIONS[name]
    return dict(spec["paths"][op.path][op.method.lower()])


def _response_schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    content = _operation(spec, name)["responses"]["default"]["content"]
    return dict(content["application/json"]["schema"])


def _model(spec: dict[str, Any], name: str) -> str:
    """The record schema an operation answers with (inside its envelope)."""
    wrapper = _response_schema(spec, name)["$ref"].rsplit("/", 1)[-1]
    props = spec["components"]["schemas"][wrapper]["properties"]
    inner = props["values"]["items"] if "values" in props else props["value"]
    return str(inner["$ref"].rsplit("/", 1)[-1])


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_served_operations_have_exactly_the_specs_parameters(
    spec: dict[str, Any], name: str
) -> None:
    op = _operation(spec, name)
    assert op["operationId"] == name
    declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
    required = {
        p["name"] for p in op.get("parameters", []) if p["in"] == "query" and p.get("required")
    }
    assert set(OPERATIONS[name].params) == declared
    assert set(OPERATIONS[name].required) == required


def get(
    sb: TripletexSandbox, path: str, company: int | None = None, **params: Any
) -> requests.Response:
    who = str(sb.company if company is None else company)
    return requests.get(sb.base_url + path, params=params, auth=(who, sb.token), timeout=10)


WINDOW = {"invoiceDateFrom": "2000-01-01", "invoiceDateTo": "2030-01-01"}
DAYS = {"dateFrom": "2000-01-01", "dateTo": "2030-01-01"}


@pytest.mark.parametrize(
    ("name", "path", "params"),
    [
        ("Customer_search", "/customer", {}),
        (
            "Customer_search",
            "/customer",
            {"isInactive": "true", "fields": "*,postalAddress(*,country(*)),currency(*)"},
        ),
        ("Contact_search", "/contact", {"fields": "*,customer(id,name)"}),
        ("Invoice_search", "/invoice", WINDOW),
        (
            "Invoice_search",
            "/invoice",
            {**WINDOW, "fields": "*,customer(*),reminders(*),currency(*)"},
        ),
        ("Reminder_search", "/reminder", DAYS),
        (
            "CompanyWithLoginAccess_getWithLoginAccess",
            "/company/>withLoginAccess",
            {"fields": "*,address(*)"},
        ),
        (
            "TokenSessionWhoAmI_whoAmI",
            "/token/session/>whoAmI",
            {"fields": "*,employee(*),company(*)"},
        ),
        ("Customer_get", "/customer/2100001", {}),
        ("Invoice_get", "/invoice/2200012", {"fields": "*,reminders(*)"}),
    ],
)
def test_answers_match_the_response_schemas(
    spec, sandbox, name: str, path: str, params: dict[str, Any]
) -> None:
    resp = get(sandbox, path, **params)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    if "values" in body:
        assert body["values"], f"{path} answered no records to check"
    _validate(spec, _response_schema(spec, name), body)


def test_reminder_answers_after_a_create_match_the_schemas(spec, sandbox) -> None:
    book = sandbox.book()
    assert isinstance(book, s.ListBook)
    iid = book.invoice_id(book.tags["overdue_20"])
    made = requests.put(
        f"{sandbox.base_url}/invoice/{iid}/:createReminder",
        params={"type": "REMINDER", "date": TODAY.isoformat(), "includeCharge": "true",
                "includeInterest": "true", "dispatchType": "EMAIL"},
        auth=(str(sandbox.company), sandbox.token),
        timeout=10,
    )  # fmt: skip
    _validate(spec, _response_schema(spec, "InvoiceCreateReminder_createReminder"), made.json())
    rid = made.json()["value"]
    _validate(spec, _response_schema(spec, "Reminder_get"), get(sandbox, f"/reminder/{rid}").json())
    listed = get(sandbox, "/reminder", **DAYS, invoiceId=iid, fields="*,currency(*)").json()
    _validate(spec, _response_schema(spec, "Reminder_search"), listed)


def test_session_answer_matches_the_schema(spec, sandbox) -> None:
    created = requests.put(
        sandbox.base_url + "/token/session/:create",
        params={"consumerToken": sandbox.consumer_token, "employeeToken": sandbox.employee_token,
                "expirationDate": (host_today() + timedelta(days=1)).isoformat()},
        timeout=10,
    )  # fmt: skip
    _validate(spec, _response_schema(spec, "TokenSessionCreate_create"), created.json())


def test_error_bodies_are_the_documented_envelope(spec, sandbox) -> None:
    api_error = {"$ref": "#/components/schemas/ApiError"}
    answers = [
        get(sandbox, "/invoice"),  # 422: required parameters
        get(sandbox, "/invoice", **WINDOW, fields="nosuch"),  # 400: fields
        get(sandbox, "/customer", company=12345),  # 403
        requests.get(sandbox.base_url + "/customer", timeout=10),  # 401
        get(sandbox, "/invoice/1"),  # 404
    ]
    assert [a.status_code for a in answers] == [422, 400, 403, 401, 404]
    for answer in answers:
        _validate(spec, api_error, answer.json())
        assert answer.json()["requestId"] == answer.headers["x-tlx-request-id"]
    with TripletexSandbox(today=TODAY, max_requests=1, period_seconds=60) as sb:
        get(sb, "/customer", fields="id")
        limited = get(sb, "/customer", fields="id")
        assert limited.status_code == 429
        _validate(spec, api_error, limited.json())


# --- what kravsync sends ----------------------------------------------------------------------------


def _schema_of(spec: dict[str, Any], prop: dict[str, Any]) -> str | None:
    target = prop.get("items", prop)
    ref = target.get("$ref")
    return str(ref.rsplit("/", 1)[-1]) if ref else None


def _check_fields(
    spec: dict[str, Any], selection: fieldsel.Selection, model: str, where: str = ""
) -> None:
    props = spec["components"]["schemas"][model].get("properties", {})
    for name, sub in selection.items():
        if name == "*":
            continue
        assert name in props, f"fields: {where}{name} is not a property of {model}"
        if sub:
            inner = _schema_of(spec, props[name])
            assert inner is not None, f"fields: {where}{name}(...) but {name} is no object"
            _check_fields(spec, sub, inner, f"{where}{name}.")


def _check_request(spec: dict[str, Any], name: str | None, query: dict[str, list[str]]) -> None:
    assert name is not None, "kravsync called a path the spec does not have"
    op = _operation(spec, name)
    params = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "query"}
    for key, values in query.items():
        assert key in params, f"{name}: undeclared parameter {key}"
        schema = params[key].get("schema", {})
        for value in values:
            if "enum" in schema:
                assert value in schema["enum"], f"{name}: {key}={value} not in {schema['enum']}"
            if schema.get("type") == "integer":
                int(value)
            if schema.get("type") == "boolean":
                assert value in ("true", "false"), f"{name}: {key}={value}"
            if key.lower().endswith(("date", "datefrom", "dateto")):
                date.fromisoformat(value)
    for key, p in params.items():
        if p.get("required"):
            assert query.get(key), f"{name}: required parameter {key} missing"
    if "fields" in query:
        _check_fields(spec, fieldsel.parse(query["fields"][-1]), _model(spec, name))


def test_every_request_kravsync_sends_is_the_specs(spec, sandbox, tmp_path: Path) -> None:
    clock: Clock = sandbox.clock
    tenant = TenantConfig.model_validate(
        {
            "name": "fjell",
            "provider": "tripletex",
            "country": "NO",
            "push": True,
            **sandbox.tenant_settings(),
        }
    )
    creds = MemoryCredentials({tenant.name: sandbox.demo_secret()})
    store = SqliteStore(str(tmp_path / "s.db"), clock)
    first = run_tenant(
        tenant, store, clock=clock, credentials=creds, postcodes=lambda _t: fixture_register()
    )
    assert first.ok and first.pushed is not None and first.pushed.done
    sandbox.inject(":createReminder", status=502, after=True, times=1)  # a lost answer
    clock.advance(timedelta(days=30))  # a month later: incremental pull, the next stage
    later = run_tenant(
        tenant, store, clock=clock, credentials=creds, postcodes=lambda _t: fixture_register()
    )
    assert later.ok
    factory = registry()["tripletex"]
    factory.discover(tenant, creds, clock=clock)  # type: ignore[misc]
    provider = factory.create(tenant, creds, clock=clock)
    for entry in store.journal(tenant.name):
        provider.lookup_action(entry.action)  # the reconciliation look-up
    provider.client.who_am_i()  # type: ignore[attr-defined]
    seen = sandbox.received()
    operations = {r.operation for r in seen}
    assert {"Customer_search", "Contact_search", "Invoice_search", "Invoice_get", "Reminder_search",
            "InvoiceCreateReminder_createReminder", "TokenSessionCreate_create",
            "CompanyWithLoginAccess_getWithLoginAccess", "TokenSessionWhoAmI_whoAmI"} <= operations  # fmt: skip
    assert any("changedSince" in r.query for r in seen if r.operation == "Customer_search")
    for request in seen:
        _check_request(spec, request.operation, request.query)
        assert request.status != 404, f"{request.path} is not a Tripletex resource"
