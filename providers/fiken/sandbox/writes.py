"""The sandbox's write operations: request bodies checked against the spec, then applied.

``POST /invoices`` (``invoiceRequest``), ``POST /invoices/send`` (``sendInvoiceRequest``) and the
multipart attachment uploads on invoices and contacts. Bodies are checked strictly: a missing
required field, a wrong type or a field the spec does not declare is a 400 naming the field. Every
write that reached its operation is recorded (:class:`Received`) so tests can assert what was
sent, and how often.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from . import seed as s
from .ledger import Ledger

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FILE_EXT = (".png", ".jpeg", ".jpg", ".gif", ".pdf")
SEND_METHODS = ("email", "ehf", "efaktura", "sms", "letter", "auto")
VAT_TYPES = (
    "HIGH",
    "MEDIUM",
    "LOW",
    "EXEMPT",
    "EXEMPT_IMPORT_EXPORT",
    "EXEMPT_REVERSE",
    "OUTSIDE",
    "NONE",
)
_VAT_BY_PERCENT = {25: "HIGH", 15: "MEDIUM", 12: "LOW", 0: "NONE"}

SEND_FIELDS = frozenset(
    {
        "invoiceId",
        "method",
        "includeDocumentAttachments",
        "recipientName",
        "recipientEmail",
        "message",
        "emailSendOption",
        "mergeInvoiceAndAttachments",
        "organizationNumber",
        "mobileNumber",
    }
)
INVOICE_FIELDS = frozenset(
    {
        "uuid",
        "issueDate",
        "dueDate",
        "lines",
        "ourReference",
        "yourReference",
        "orderReference",
        "customerId",
        "contactPersonId",
        "bankAccountCode",
        "currency",
        "invoiceText",
        "cash",
        "paymentAccount",
        "projectId",
        "roundingType",
    }
)
LINE_FIELDS = frozenset(
    {
        "net",
        "vat",
        "vatType",
        "gross",
        "vatInPercent",
        "unitPrice",
        "quantity",
        "discount",
        "productName",
        "productId",
        "description",
        "comment",
        "incomeAccount",
    }
)


class BodyError(ValueError):
    """A request body the spec (or Fiken's rules) does not accept: answered 400 (or 415)."""

    def __init__(self, name: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.name = name
        self.status = status


@dataclass(frozen=True)
class Upload:
    filename: str | None
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Received:
    """One write request as the sandbox understood it. ``body`` is the JSON object, or for a
    multipart upload its text fields plus, per file field, ``{"filename", "size"}``."""

    method: str
    path: str
    operation: str
    body: dict[str, Any]
    status: int
    uploads: dict[str, Upload] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    status: int
    payload: Any = None
    location: str | None = None


# --- body parsing ---------------------------------------------------------------------------------


def _content_type(headers: Any) -> str:
    return str(headers.get("Content-Type") or "")


def parse_json(headers: Any, body: bytes) -> dict[str, Any]:
    ctype = _content_type(headers).split(";")[0].strip().lower()
    if ctype != "application/json":
        raise BodyError("Content-Type", "Content-Type must be application/json", status=415)
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BodyError("body", f"request body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise BodyError("body", "request body must be a JSON object")
    return payload


def parse_multipart(headers: Any, body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    ctype = _content_type(headers)
    if not ctype.lower().startswith("multipart/form-data") or "boundary=" not in ctype:
        raise BodyError("Content-Type", "Content-Type must be multipart/form-data", status=415)
    raw = b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body
    message = BytesParser(policy=policy.HTTP).parsebytes(raw)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        raise BodyError("body", "request body is not multipart/form-data")
    fields: dict[str, str] = {}
    uploads: dict[str, Upload] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise BodyError("body", "a multipart part has no name")
        if name in fields or name in uploads:
            raise BodyError(name, f"form field '{name}' is given more than once")
        content = part.get_payload(decode=True)
        data = content if isinstance(content, bytes) else b""
        filename = part.get_filename()
        if filename is not None or name == "file":
            uploads[name] = Upload(filename, part.get_content_type(), data)
        else:
            try:
                fields[name] = data.decode("utf-8")
            except UnicodeDecodeError:
                raise BodyError(name, f"form field '{name}' is not UTF-8") from None
    return fields, uploads


# --- field checks ---------------------------------------------------------------------------------


def _only(payload: dict[str, Any], allowed: frozenset[str], where: str = "") -> None:
    for name in sorted(payload):
        if name not in allowed:
            raise BodyError(where + name, f"unknown field '{where}{name}'")


def _required(payload: dict[str, Any], name: str, where: str = "") -> Any:
    if payload.get(name) is None:
        raise BodyError(where + name, f"field '{where}{name}' is required")
    return payload[name]


def _int(payload: dict[str, Any], name: str, where: str = "", required: bool = False) -> int | None:
    value = _required(payload, name, where) if required else payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BodyError(where + name, f"field '{where}{name}' must be an integer")
    return value


def _bool(payload: dict[str, Any], name: str, required: bool = False) -> bool | None:
    value = _required(payload, name) if required else payload.get(name)
    if value is not None and not isinstance(value, bool):
        raise BodyError(name, f"field '{name}' must be true or false")
    return value


def _str(payload: dict[str, Any], name: str, where: str = "", max_length: int | None = None) -> str:
    value = payload.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BodyError(where + name, f"field '{where}{name}' must be a string")
    if max_length is not None and len(value) > max_length:
        raise BodyError(where + name, f"field '{where}{name}' is longer than {max_length}")
    return value


def _date(payload: dict[str, Any], name: str) -> date:
    value = _required(payload, name)
    try:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise BodyError(name, f"field '{name}' must be a date yyyy-MM-dd") from None


def _filename(fields: dict[str, str]) -> str:
    name = fields.get("filename")
    if not name:
        raise BodyError("filename", "field 'filename' is required")
    if not name.lower().endswith(_FILE_EXT):
        raise BodyError(
            "filename", "field 'filename' must end with .png, .jpeg, .jpg, .gif or .pdf"
        )
    return name


def _file(uploads: dict[str, Upload], filename: str) -> Upload:
    upload = uploads.get("file")
    if upload is None or not upload.content:
        raise BodyError("file", "field 'file' is required")
    if filename.lower().endswith(".pdf") and not upload.content.startswith(b"%PDF"):
        raise BodyError("file", "field 'file' is not a PDF document")
    return upload


# --- the desk -------------------------------------------------------------------------------------


class WriteDesk:
    """Applies write requests to the ledger and keeps the record of what was received."""

    def __init__(self, ledger: Ledger, today: Callable[[], date]) -> None:
        self.ledger = ledger
        self.today = today
        self.received: list[Received] = []
        self.files: dict[str, bytes] = {}  # downloadUrl path -> content
        self._lock = threading.Lock()

    def record(self, entry: Received) -> None:
        with self._lock:
            self.received.append(entry)

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def _store_file(self, identifier: str, content: bytes) -> str:
        with self._lock:
            token = f"{s.mix(s.hash_str(identifier), len(self.files), len(content)):016x}"
            path = f"/files/{token}"
            self.files[path] = content
            return path

    def _attachment(self, identifier: str, upload: Upload, comment: str | None) -> dict[str, Any]:
        path = self._store_file(identifier, upload.content)
        out: dict[str, Any] = {
            "identifier": identifier,
            "downloadUrl": path,
            "downloadUrlWithFikenNormalUserCredentials": "https://fiken.no/filer" + path[6:],
            "type": "unspecified",
        }
        if comment:
            out["comment"] = comment
        return out

    # operations: each returns an Outcome or raises BodyError / UnknownRecord

    def add_invoice_attachment(
        self, invoice_id: int, fields: dict[str, str], uploads: dict[str, Upload]
    ) -> Outcome:
        _only({**fields, **uploads}, frozenset({"filename", "file"}))
        self.ledger.invoice_index(invoice_id)  # 404 before any 400 about the body
        filename = _filename(fields)
        upload = _file(uploads, filename)
        attachment = self._attachment(filename, upload, None)
        self.ledger.add_invoice_attachment(invoice_id, attachment, self.today())
        return Outcome(201, location=attachment["downloadUrl"])

    def add_contact_attachment(
        self, contact_id: int, fields: dict[str, str], uploads: dict[str, Upload]
    ) -> Outcome:
        _only({**fields, **uploads}, frozenset({"filename", "comment", "file"}))
        self.ledger.contact_index(contact_id)
        filename = _filename(fields)
        upload = _file(uploads, filename)
        document = self._attachment(filename, upload, fields.get("comment"))
        self.ledger.add_contact_document(contact_id, document)
        return Outcome(201, location=document["downloadUrl"])

    def send_invoice(self, payload: dict[str, Any]) -> Outcome:
        _only(payload, SEND_FIELDS)
        invoice_id = _int(payload, "invoiceId", required=True)
        assert invoice_id is not None
        methods = _required(payload, "method")
        if not isinstance(methods, list) or not methods:
            raise BodyError("method", "field 'method' must be a non-empty array")
        for method in methods:
            if method not in SEND_METHODS:
                raise BodyError(
                    "method", f"field 'method' must be one of {', '.join(SEND_METHODS)}"
                )
        _bool(payload, "includeDocumentAttachments", required=True)
        _bool(payload, "mergeInvoiceAndAttachments")
        for name in ("recipientName", "recipientEmail", "message", "organizationNumber"):
            _str(payload, name)
        _str(payload, "mobileNumber")
        option = payload.get("emailSendOption")
        if option is not None and option not in ("document_link", "attachment", "auto"):
            raise BodyError("emailSendOption", "field 'emailSendOption' is not a known option")
        invoice = self.ledger.invoice(self.ledger.invoice_index(invoice_id))
        dispatch_type = self._first_available(methods, payload, invoice["customer"])
        self.ledger.add_dispatch(invoice_id, dispatch_type, self.today())
        return Outcome(200)

    @staticmethod
    def _first_available(methods: list[str], payload: dict[str, Any], customer: Any) -> str:
        """Fiken sends by the first method that works for the recipient."""
        persons = customer.get("contactPerson") or []
        email = payload.get("recipientEmail") or customer.get("email")
        email = email or next((p.get("email") for p in persons if p.get("email")), None)
        org = payload.get("organizationNumber") or customer.get("organizationNumber")
        address = customer.get("address") or {}
        for method in methods:
            if method == "auto":
                return "ehf" if org else "email" if email else "letter"
            if method == "email" and email:
                return "email"
            if method == "ehf" and org:
                return "ehf"
            if (
                method == "letter"
                and address.get("postCode")
                and address.get("country")
                in (
                    "Norge",
                    "Norway",
                    "NO",
                )
            ):
                return "letter"
            if method in ("efaktura", "sms"):
                return method
        raise BodyError("method", "none of the methods given can reach this customer")

    def create_invoice(self, payload: dict[str, Any]) -> Outcome:
        _only(payload, INVOICE_FIELDS)
        issue = _date(payload, "issueDate")
        due = _date(payload, "dueDate")
        if due < issue:
            raise BodyError("dueDate", "field 'dueDate' is before issueDate")
        cash = _bool(payload, "cash", required=True)
        if cash:
            raise BodyError("cash", "cash invoices are not supported by the sandbox")
        customer_id = _int(payload, "customerId", required=True)
        assert customer_id is not None
        try:
            customer = self.ledger.contact(self.ledger.contact_index(customer_id))
        except KeyError:
            raise BodyError("customerId", f"field 'customerId': no contact {customer_id}") from None
        if not customer.get("customer"):
            raise BodyError("customerId", f"field 'customerId': {customer_id} is not a customer")
        code = _required(payload, "bankAccountCode")
        account = next((a for a in s.BANK_ACCOUNTS if a["accountCode"] == code), None)
        if account is None or account["type"] != "normal":
            raise BodyError("bankAccountCode", f"field 'bankAccountCode': no bank account {code}")
        currency = _str(payload, "currency") or "NOK"
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise BodyError("currency", "field 'currency' must match ^[A-Z]{3}$")
        raw_lines = _required(payload, "lines")
        if not isinstance(raw_lines, list) or not raw_lines:
            raise BodyError("lines", "field 'lines' must have at least one line")
        lines = tuple(self._line(raw, k) for k, raw in enumerate(raw_lines))
        for name in ("ourReference", "yourReference", "orderReference"):
            _str(payload, name)
        text = _str(payload, "invoiceText", max_length=500)
        record = self.ledger.add_invoice(
            customer_id,
            lambda i, cust: s.build_invoice(
                i,
                customer=cust,
                issue=issue,
                due=due,
                lines=lines,
                currency=currency,
                invoice_text=text,
                our_reference=_str(payload, "ourReference"),
                your_reference=_str(payload, "yourReference"),
                order_reference=_str(payload, "orderReference"),
                bank_account=account["bankAccountNumber"],
            ),
        )
        return Outcome(201, location=f"invoices/{record['invoiceId']}")

    @staticmethod
    def _line(raw: Any, k: int) -> s.Line:
        where = f"lines[{k}]."
        if not isinstance(raw, dict):
            raise BodyError(f"lines[{k}]", f"field 'lines[{k}]' must be an object")
        _only(raw, LINE_FIELDS, where)
        if raw.get("productId") is not None:
            raise BodyError(where + "productId", "the sandbox has no products: use free-text lines")
        quantity = _required(raw, "quantity", where)
        if isinstance(quantity, bool) or not isinstance(quantity, int | float) or quantity <= 0:
            raise BodyError(
                where + "quantity", f"field '{where}quantity' must be a positive number"
            )
        if quantity != int(quantity):
            raise BodyError(where + "quantity", "the sandbox only takes whole quantities")
        description = _str(raw, "description", where, 200) or _str(raw, "productName", where)
        if not description:
            raise BodyError(where + "description", f"field '{where}description' is required")
        unit = _int(raw, "unitPrice", where)
        if unit is None:
            net = _int(raw, "net", where)
            if net is None:
                raise BodyError(where + "unitPrice", f"field '{where}unitPrice' is required")
            unit = net // int(quantity)
        vat_type = raw.get("vatType")
        if vat_type is None and raw.get("vatInPercent") is not None:
            vat_type = _VAT_BY_PERCENT.get(raw["vatInPercent"])
        if vat_type not in VAT_TYPES:
            raise BodyError(
                where + "vatType", f"field '{where}vatType' must be one of the VAT types"
            )
        account = _str(raw, "incomeAccount", where)
        if not account:
            raise BodyError(where + "incomeAccount", f"field '{where}incomeAccount' is required")
        return s.Line(description, unit, int(quantity), vat_type, account)
