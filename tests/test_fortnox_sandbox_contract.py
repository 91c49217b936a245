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
    import providers.fortnox.sandbox as module

    params = spec["paths"]["/3/invoices"]["get"]["parameters"]
    enum = next(p for p in params if p["name"] == "filter")["schema"]["enum"]
    assert set(module.INVOICE_FILTERS) == set(enum)
    params = spec["paths"]["/3/customers"]["get"]["parameters"]
    enum = next(p for p in params if p["name"] == "filter")["schema"]["enum"]
    assert set(module.CUSTOMER_FILTERS) == set(enum)
