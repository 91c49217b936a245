"""The operations the Fiken sandbox serves and their query parameters, as the spec declares them.

Parsing is strict on purpose: an unknown, repeated or malformed parameter is a 400 naming the
parameter, so a client typo (``pagesize``, ``settled=no``) fails loudly in tests instead of being
silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

INT64_MAX = 2**63 - 1
_INT = re.compile(r"[+-]?\d{1,19}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class ParamError(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class Param:
    kind: str  # "int" | "bool" | "date" | "str" | "uuid" | "enum"
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()

    def parse(self, name: str, raw: str) -> Any:
        if self.kind == "str":
            return raw
        if self.kind == "int":
            if not _INT.fullmatch(raw) or abs(int(raw)) > INT64_MAX:
                raise ParamError(name, f"query parameter '{name}' must be an integer, got {raw!r}")
            value = int(raw)
            if self.minimum is not None and value < self.minimum:
                raise ParamError(name, f"query parameter '{name}' must be >= {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise ParamError(name, f"query parameter '{name}' must be <= {self.maximum}")
            return value
        if self.kind == "bool":
            if raw.lower() not in ("true", "false"):
                raise ParamError(name, f"query parameter '{name}' must be true or false")
            return raw.lower() == "true"
        if self.kind == "date":
            try:
                if not _DATE.fullmatch(raw):
                    raise ValueError(raw)
                return date.fromisoformat(raw)
            except ValueError:
                raise ParamError(
                    name, f"query parameter '{name}' must be a date yyyy-MM-dd, got {raw!r}"
                ) from None
        if self.kind == "uuid":
            if not _UUID.fullmatch(raw):
                raise ParamError(name, f"query parameter '{name}' must be a UUID")
            return raw.lower()
        if self.kind == "enum":
            if raw not in self.choices:
                raise ParamError(
                    name, f"query parameter '{name}' must be one of {', '.join(self.choices)}"
                )
            return raw
        raise AssertionError(self.kind)


INT = Param("int")
BOOL = Param("bool")
DATE = Param("date")
STR = Param("str")
PAGING = {"page": Param("int", minimum=0), "pageSize": Param("int", minimum=1, maximum=100)}
DEFAULT_PAGE_SIZE = 25


def _dates(field: str) -> dict[str, Param]:
    return {f"{field}{op}": DATE for op in ("", "Le", "Lt", "Ge", "Gt")}


DATE_OPS = ("", "Le", "Lt", "Ge", "Gt")

# operationId -> (method, spec path, query parameters)
OPERATIONS: dict[str, tuple[str, str, dict[str, Param]]] = {
    "getUser": ("GET", "/user", {}),
    "getCompanies": (
        "GET",
        "/companies",
        {
            **PAGING,
            "sortBy": Param(
                "enum",
                choices=tuple(
                    f"{f} {d}"
                    for f in ("createdDate", "name", "organizationNumber")
                    for d in ("asc", "desc")
                ),
            ),
        },
    ),
    "getCompany": ("GET", "/companies/{companySlug}", {}),
    "getContacts": (
        "GET",
        "/companies/{companySlug}/contacts",
        {
            **PAGING,
            **_dates("lastModified"),
            **_dates("createdDate"),
            "supplierNumber": INT,
            "customerNumber": INT,
            "memberNumber": INT,
            "memberNumberString": STR,
            "name": STR,
            "organizationNumber": STR,
            "email": STR,
            "customer": BOOL,
            "supplier": BOOL,
            "inactive": BOOL,
            "group": STR,
            "sortBy": Param(
                "enum",
                choices=tuple(
                    f"{f} {d}" for f in ("lastModified", "createdDate") for d in ("asc", "desc")
                ),
            ),
            "phoneNumber": STR,
        },
    ),
    "getContact": ("GET", "/companies/{companySlug}/contacts/{contactId}", {}),
    "getInvoices": (
        "GET",
        "/companies/{companySlug}/invoices",
        {
            **PAGING,
            **_dates("issueDate"),
            **_dates("lastModified"),
            **_dates("dueDate"),
            "customerId": INT,
            "settled": BOOL,
            "orderReference": STR,
            "invoiceDraftUuid": Param("uuid"),
            "invoiceNumber": STR,
        },
    ),
    "getInvoice": ("GET", "/companies/{companySlug}/invoices/{invoiceId}", {}),
    "getBankAccounts": (
        "GET",
        "/companies/{companySlug}/bankAccounts",
        {**PAGING, "inactive": BOOL},
    ),
    # writes (request bodies are checked in writes.py)
    "createInvoice": ("POST", "/companies/{companySlug}/invoices", {}),
    "sendInvoice": ("POST", "/companies/{companySlug}/invoices/send", {}),
    "getInvoiceAttachments": (
        "GET",
        "/companies/{companySlug}/invoices/{invoiceId}/attachments",
        {},
    ),
    "addAttachmentToInvoice": (
        "POST",
        "/companies/{companySlug}/invoices/{invoiceId}/attachments",
        {},
    ),
    "addAttachmentToContact": (
        "POST",
        "/companies/{companySlug}/contacts/{contactId}/attachments",
        {},
    ),
}
WRITE_OPERATIONS = frozenset(op for op, (method, _p, _q) in OPERATIONS.items() if method != "GET")


def parse_query(operation: str, query: dict[str, list[str]]) -> dict[str, Any]:
    """Typed parameters for ``operation``; raises :class:`ParamError` on the first bad one."""
    declared = OPERATIONS[operation][2]
    out: dict[str, Any] = {}
    for name in sorted(query):
        values = query[name]
        if name not in declared:
            raise ParamError(name, f"unknown query parameter '{name}'")
        if len(values) != 1:
            raise ParamError(name, f"query parameter '{name}' is given more than once")
        out[name] = declared[name].parse(name, values[0])
    return out
