"""Property: random JSON for every mapped record type never raises past its record.

Records are generated from the providers' own schemas (``shared/specs``: Fiken's ``contact``
and ``invoiceResult``, Fortnox's ``Customer``, ``CustomerListItem``, ``Invoice`` and
``InvoiceListItem``): every property of the schema may be present, with a value of its declared
type (dates, enums, amounts, nested objects and lists as the spec describes them) or with any
JSON value at all (huge numbers, NaN, lone surrogates, control characters, formulas, deep
lists, objects where text belongs). Sometimes the record is not an object at all.

For each: the mapping either returns a model or raises ``MappingError`` (one skipped record);
``map_record`` never raises; a model survives what the cycle does next (masking for storage,
the store's upsert and read-back, the customer checks, the receivables summary).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.clock import Clock
from connector.models import Customer, Invoice
from connector.privacy import minimise
from connector.render.report import aging_buckets
from connector.store import SqliteStore
from connector.validation import validate_customers
from mappings import fiken, fortnox
from mappings.errors import MappingError
from providers.base import RecordError, map_record

REPO = Path(__file__).resolve().parent.parent
SPECS = Path(os.environ.get("KRAVSYNC_SPECS_DIR") or REPO.parent / "shared" / "specs")
TODAY = date(2026, 11, 23)
EXAMPLES = 250  # per record type

# Without the specs (a checkout without shared/), the fields each mapping reads, untyped.
FALLBACK_KEYS = {
    "contact": "contactId name organizationNumber customerNumber email phoneNumber inactive "
    "currency lastModifiedDate address contactPerson",
    "invoiceResult": "invoiceId invoiceNumber currency gross sale dispatches attachments "
    "customer issueDate dueDate kid sentManually associatedCreditNotes lastModifiedDate",
    "fortnox_Customer": "CustomerNumber Name OrganisationNumber Type YourReference EmailInvoice "
    "Email Phone1 Phone2 Address1 Address2 ZipCode City Country CountryCode Active Currency "
    "VATNumber DeliveryAddress1 DeliveryCity DeliveryCountryCode",
    "fortnox_CustomerListItem": "CustomerNumber Name OrganisationNumber Email Phone Address1 "
    "Address2 ZipCode City",
    "fortnox_Invoice": "DocumentNumber Total Balance Credit CreditInvoiceReference "
    "LastRemindDate Reminders Cancelled Booked CustomerNumber CustomerName InvoiceDate DueDate "
    "Currency OCR Sent NoxFinans",
    "fortnox_InvoiceListItem": "DocumentNumber Total Balance Cancelled Booked CustomerNumber "
    "CustomerName InvoiceDate DueDate Currency OCR Sent NoxFinans",
}


def _schemas() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    fiken_spec = SPECS / "fiken-openapi-2026.yaml"
    fortnox_spec = SPECS / "fortnox-openapi.json"
    if fiken_spec.exists():
        found.update(yaml.safe_load(fiken_spec.read_text(encoding="utf-8"))["components"]["schemas"])
    if fortnox_spec.exists():
        found.update(json.loads(fortnox_spec.read_text(encoding="utf-8"))["components"]["schemas"])
    for name, keys in FALLBACK_KEYS.items():
        found.setdefault(name, {"type": "object", "properties": {k: {} for k in keys.split()}})
    return found


SCHEMAS = _schemas()

# --- hostile values ----------------------------------------------------------------------------

TRICKY_TEXT = [
    "", " ", "\t", "true", "false", "null", "NaN", "Infinity", "1e400", "-0", "0", "00",
    "\x1b[2J\x1b]0;owned\x07", "Evil\r\nPAID", "\ud800", "\udfff x", "\u202eSA ekiF", "\x00",
    "=HYPERLINK(\"http://x\")", "+47 22 00 00 00", "@SUM(A1)", "19811228-9874", "01019012345",
    "NO 923 609 016 MVA", "../../etc/passwd", "Ærlig Bakeri AS", "Åsa Öberg", "x" * 5000,
    "2026-02-30", "2026-13-01", "0000-00-00", "9999-12-31", "2026-10-01T10:00:00Z", "SEK", "nok",
    "PRIVATE", "COMPANY", "reminder", "kravsync:x", "Norge", "Sverige",
]  # fmt: skip
text = st.one_of(
    st.sampled_from(TRICKY_TEXT),
    st.text(max_size=30),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=12),
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("1E+400"), Decimal("-1E-400"), Decimal("0.001"), 10**30]),
    st.floats(),  # JSON's NaN and Infinity literals parse to floats
)
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
containers = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
any_json = st.one_of(scalars, scalars, containers)  # a recursive strategy alone is mostly lists
plain = st.one_of(
    st.sampled_from(["Fjord AS", "Ærlig Bakeri AS", "Åsa Öberg", "NOK", "SEK", "Oslo", "0550",
                     "Norge", "SE", "post@fjord.no", "+47 22 00 00 00", "556036-0793", "1001"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøåäö ABC-0123456789", min_size=1, max_size=20),
)  # fmt: skip
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)).map(date.isoformat)


def _typed(schema: dict[str, Any], depth: int, hostile: bool) -> st.SearchStrategy[Any]:
    """A value of the schema's declared type (recursing into objects and arrays)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        target = SCHEMAS.get(name)
        if target is None or depth >= 2:
            return any_json if hostile else st.none()
        return record(target, depth + 1, hostile, name)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") in ("date", "date-time"):
            return dates
        return text if hostile else plain
    if kind == "integer":
        return st.integers(min_value=-(10**7), max_value=10**12)
    if kind == "number":
        return st.decimals(min_value=-(10**9), max_value=10**9, places=2)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(_value(schema.get("items") or {}, depth + 1, hostile), max_size=3)
    if kind == "object" or "properties" in schema:
        return record(schema, depth + 1, hostile)
    return any_json if hostile else st.none()


def _value(schema: dict[str, Any], depth: int, hostile: bool) -> st.SearchStrategy[Any]:
    """The declared type (so the mapping goes deep); in a hostile record, sometimes anything."""
    typed = _typed(schema, depth, hostile)
    return st.one_of(typed, typed, typed, any_json) if hostile else typed


# Keys a record always has (what the mapping needs to go past its first check), and values
# that a typed record takes from a realistic set instead of the schema's bare type.
ALWAYS = {
    "contact": ("contactId", "name"),
    "invoiceResult": ("invoiceId", "invoiceNumber", "issueDate", "dueDate", "sale"),
    "saleResult": ("outstandingBalance", "outstandingBalanceInCurrency"),
    "fortnox_Customer": ("CustomerNumber", "Name"),
    "fortnox_CustomerListItem": ("CustomerNumber", "Name"),
    "fortnox_Invoice": ("DocumentNumber", "InvoiceDate", "DueDate", "Currency"),
    "fortnox_InvoiceListItem": ("DocumentNumber", "InvoiceDate", "DueDate", "Currency"),
}
REALISTIC = {
    "currency": st.sampled_from(["NOK", "SEK", "EUR", "nok"]),
    "Currency": st.sampled_from(["SEK", "NOK", "EUR"]),
    "CountryCode": st.sampled_from(["SE", "NO", "DK", ""]),
    "country": st.sampled_from(["Norge", "Norway", "Sverige", "NO", ""]),
    "Credit": st.sampled_from(["true", "false", True, False]),
    "OrganisationNumber": st.sampled_from(
        ["556036-0793", "811228-9874", "19811228-9874", "701063-2391", "123", ""]
    ),
    "organizationNumber": st.sampled_from(["923609016", "01019012345", "15108695088", ""]),
}


def record(
    schema: dict[str, Any], depth: int = 0, hostile: bool = True, name: str = ""
) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties") or {}
    always = ALWAYS.get(name, ())

    def value(key: str, sub: dict[str, Any]) -> st.SearchStrategy[Any]:
        if not hostile and key in REALISTIC:
            return REALISTIC[key]
        return _value(sub or {}, depth, hostile)

    return st.fixed_dictionaries(
        {key: value(key, properties.get(key) or {}) for key in always},
        optional={k: value(k, sub) for k, sub in properties.items() if k not in always},
    )


@st.composite
def one_spoiled(
    draw: st.DrawFn, typed: st.SearchStrategy[dict[str, Any]], schema_keys: list[str]
) -> dict[str, Any]:
    """A typed record with one value, at any depth, replaced by any JSON value: the mapping
    meets the spoiled field with every field before it in order. At the top, any key of the
    schema may be the spoiled one, present in the typed record or not."""
    raw = draw(typed)
    node: Any = raw
    top = True
    while True:
        keys: list[Any] = list(node) if isinstance(node, dict) else list(range(len(node)))
        if top:
            keys = sorted(set(keys) | set(schema_keys))
            top = False
        if not keys:
            break
        key = draw(st.sampled_from(keys))
        child = node.get(key) if isinstance(node, dict) else node[key]
        if isinstance(child, dict | list) and child and draw(st.booleans()):
            node = child
            continue
        node[key] = draw(any_json)
        break
    return raw


def raw_records(schema_name: str) -> st.SearchStrategy[Any]:
    """Records of the schema: typed ones, ones with one value spoiled (at any depth), hostile
    ones (any field may hold any JSON), ones with junk keys, and now and then no object."""
    schema = SCHEMAS[schema_name]
    typed = record(schema, hostile=False, name=schema_name)
    hostile = record(schema, name=schema_name)
    junk = st.dictionaries(text, any_json, max_size=3)
    with_junk = st.tuples(typed, junk).map(lambda pair: {**pair[1], **pair[0]})
    spoiled = one_spoiled(typed, sorted(schema.get("properties") or {}))
    return st.one_of(typed, spoiled, spoiled, hostile, with_junk, any_json)


# --- the property ------------------------------------------------------------------------------

_store: SqliteStore | None = None


def store() -> SqliteStore:
    global _store
    if _store is None:
        _store = SqliteStore(":memory:", Clock.starting_at(TODAY))
        _store.ensure_tenant("p", "fiken", "NO")
    return _store


class _Settings:
    allow_test_org_numbers = False


def downstream(model: Customer | Invoice) -> None:
    """What a cycle does with a mapped record: it must not raise either."""
    model.model_dump_json()
    if isinstance(model, Customer):
        kept = minimise(model, tenant_country="NO", allow_test=False, today=TODAY)
        store().upsert_customers("p", [kept])
        assert store().customer("p", kept.provider_id) is not None
        validate_customers(
            [kept], country="NO", today=TODAY, settings=_Settings(), postcodes=None, registry=None
        )
    else:
        store().upsert_invoices("p", [model])
        assert store().invoice("p", model.provider_id) == model
        aging_buckets([model], TODAY)


CASES: list[tuple[str, str, Callable[[dict[str, Any]], Customer | Invoice]]] = [
    ("contact", "customer", fiken.customer),
    ("invoiceResult", "invoice", fiken.invoice),
    ("fortnox_Customer", "customer", fortnox.customer),
    ("fortnox_CustomerListItem", "customer", fortnox.customer),
    ("fortnox_Invoice", "invoice", fortnox.invoice),
    ("fortnox_InvoiceListItem", "invoice", fortnox.invoice),
]


@pytest.mark.parametrize(("schema", "kind", "mapper"), CASES, ids=[c[0] for c in CASES])
def test_random_json_maps_or_is_one_skipped_record(
    schema: str, kind: str, mapper: Callable[[dict[str, Any]], Customer | Invoice]
) -> None:
    outcomes = {"mapped": 0, "skipped": 0}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(raw=raw_records(schema))
    def check(raw: Any) -> None:
        try:
            model = mapper(raw)
        except MappingError:
            assert isinstance(map_record(kind, mapper, raw), RecordError)
            outcomes["skipped"] += 1
            return
        assert map_record(kind, mapper, raw) == model
        downstream(model)
        outcomes["mapped"] += 1

    check()
    # Both roads were taken: the generator reaches valid records, not only junk. Without the
    # specs (untyped fallback keys) valid records are too rare to count on: each one still
    # mapped or was one skipped record above.
    assert outcomes["skipped"] > 0, outcomes
    if (SPECS / "fiken-openapi-2026.yaml").exists() and (SPECS / "fortnox-openapi.json").exists():
        assert outcomes["mapped"] > 0, outcomes


# --- the sweep: every field of every record type, with every kind of wrong value ------------------

WRONG_VALUES: list[Any] = [
    None, True, 0, -1, 10**30, Decimal("1E+400"), float("nan"), float("inf"), "", "x" * 1_000_000,
    "\ud800", "\x1b[2J\r\n", "=cmd|'/C calc'!A0", {"a": {"b": 1}}, [1, [2, [3]]], [{"x": 1}],
    ["a", None], {}, [],
]  # fmt: skip


def _deep(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


WRONG_VALUES.append(_deep(600))


def _fiken_contact() -> dict[str, Any]:
    from hostile_support import contact

    return contact(7)


def _fiken_invoice() -> dict[str, Any]:
    from hostile_support import invoice

    raw = invoice(8)
    raw["dispatches"] = [{"date": "2026-10-02", "dispatchType": "email"}]
    raw["attachments"] = [{"type": "reminder", "identifier": "r1"}]
    raw["associatedCreditNotes"] = [77]
    return raw


def _fortnox_customer() -> dict[str, Any]:
    from providers.fortnox.sandbox import seed

    return seed.customer_detail(2, TODAY)


def _fortnox_invoice() -> dict[str, Any]:
    from providers.fortnox.sandbox import seed

    return seed.invoice_detail(3, TODAY, seed.BASE_CUSTOMER_COUNT)


def _paths(raw: Any, prefix: tuple[Any, ...] = (), depth: int = 0) -> list[tuple[Any, ...]]:
    """Every key path in ``raw`` down to three levels (list items by index)."""
    out: list[tuple[Any, ...]] = []
    items = raw.items() if isinstance(raw, dict) else enumerate(raw) if isinstance(raw, list) else ()
    for key, child in items:
        out.append((*prefix, key))
        if depth < 2:
            out += _paths(child, (*prefix, key), depth + 1)
    return out


def _spoil(raw: Any, path: tuple[Any, ...], value: Any) -> Any:
    spoiled = json.loads(json.dumps(raw, default=str))  # a deep copy the mapping may keep
    node = spoiled
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return spoiled


SWEEP: list[tuple[str, str, Callable[[], dict[str, Any]], Any]] = [
    ("contact", "customer", _fiken_contact, fiken.customer),
    ("invoiceResult", "invoice", _fiken_invoice, fiken.invoice),
    ("fortnox_Customer", "customer", _fortnox_customer, fortnox.customer),
    ("fortnox_Invoice", "invoice", _fortnox_invoice, fortnox.invoice),
]


@pytest.mark.parametrize(("schema", "kind", "base", "mapper"), SWEEP, ids=[c[0] for c in SWEEP])
def test_every_field_with_every_wrong_value_maps_or_is_one_skipped_record(
    schema: str, kind: str, base: Callable[[], dict[str, Any]], mapper: Any
) -> None:
    raw = base()
    assert isinstance(mapper(raw), Customer | Invoice)  # the base record itself is fine
    spec_keys = [(key,) for key in (SCHEMAS[schema].get("properties") or {})]
    paths = sorted(set(_paths(raw)) | set(spec_keys), key=repr)
    cases = 0
    for path in paths:
        for value in WRONG_VALUES:
            record_ = _spoil(raw, path, value)
            try:
                model = mapper(record_)
            except MappingError:
                assert isinstance(map_record(kind, mapper, record_), RecordError)
            else:
                downstream(model)
            cases += 1
    assert cases >= 20 * len(WRONG_VALUES)
