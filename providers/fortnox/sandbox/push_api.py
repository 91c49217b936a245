"""The Fortnox sandbox's push endpoints, and a record of what they received.

``POST /3/noxfinansinvoices`` and ``GET /3/noxfinansinvoices/{n}`` (Fortnox Finans),
``GET /3/invoices/{n}/printreminder|preview|print`` (PDFs) and ``PUT /3/invoices/{n}``, with the
envelopes, statuses and ``ErrorInformation`` bodies of ``shared/specs/fortnox-openapi.json``
and the rules of fortnox.se's "Finance Invoice" guide (SEK only, open balance, booked, at most
two years old, not already with Finans). Where the documentation is silent the sandbox makes a
stated assumption: ``printreminder`` registers a reminder (``Reminders`` + 1, ``LastRemindDate``
today), ``print`` marks the invoice sent, ``preview`` changes nothing, and a booked invoice
accepts changes to ``Comments`` only.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from providers.fortnox.sandbox import FortnoxSandbox

FINANS_SERVICES = ("LEDGERBASE", "REMINDER")
SEND_METHODS = ("EMAIL", "LETTER", "EINVOICE", "NONE")
DOCUMENTS = ("printreminder", "preview", "print")
COMMENTS_MAX = 1024
# Fields of fortnox_InvoicePayload the sandbox lets a PUT change (the rest are refused).
UPDATABLE = ("Comments", "CustomerNumber", "Remarks", "YourReference", "OurReference", "DueDate")
UPDATABLE_WHEN_BOOKED = ("Comments",)


class Pdf(bytes):
    """A response body served as ``application/pdf``."""


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    body: Any  # the JSON body, parsed; None when there was none
    status: int


def _error(status: int, message: str, code: int) -> tuple[int, dict[str, Any]]:
    return status, {"ErrorInformation": {"Error": 1, "Message": message, "Code": code}}


def pdf(title: str) -> Pdf:
    """A small valid one-page PDF showing ``title`` (ASCII)."""
    text = title.encode("ascii", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 14 Tf 72 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return Pdf(bytes(out))


class PushApi:
    """The push endpoints of one sandbox; thread-safe through the sandbox's lock."""

    def __init__(self, sandbox: FortnoxSandbox, *, finans: bool) -> None:
        self.sb = sandbox
        self.finans = finans
        self._records: dict[int, dict[str, Any]] = {}
        self._received: list[Received] = []
        self._received_lock = threading.Lock()

    # --- what the tests look at ---------------------------------------------------------
    def watches(self, method: str, parts: list[str]) -> bool:
        """Every write, and every read of a push route, is recorded."""
        return method != "GET" or parts[2] == "noxfinansinvoices" or len(parts) > 4

    def record(self, method: str, path: str, body: bytes, status: int) -> None:
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body.decode("utf-8", "replace")
        with self._received_lock:
            self._received.append(Received(method, path, parsed, status))

    def received(self, method: str | None = None, path_contains: str = "") -> list[Received]:
        with self._received_lock:
            return [
                r
                for r in self._received
                if (method is None or r.method == method) and path_contains in r.path
            ]

    def finans_record(self, n: int) -> dict[str, Any] | None:
        with self.sb._lock:
            record = self._records.get(n)
        if record is None and 1 <= n <= self.sb.invoice_count and self.sb.invoice(n)["NoxFinans"]:
            record = self._new_record(n, "LEDGERBASE", "SERVICE_FULL", "OPEN")  # seeded
        return record

    # --- routing ------------------------------------------------------------------------
    def handle(self, method: str, parts: list[str], body: bytes) -> tuple[int, Any] | None:
        """``(status, payload)`` for a push route, None for any other path."""
        resource, rest = parts[2], parts[3:]
        if resource == "noxfinansinvoices":
            if method == "POST" and not rest:
                return self._finans_create(body)
            if method == "GET" and len(rest) == 1:
                return self._finans_get(rest[0])
            return _error(405, "Method not allowed", 2000405)
        if resource != "invoices" or not rest:
            return None
        if method == "PUT" and len(rest) == 1:
            return self._update(rest[0], body)
        if method == "GET" and len(rest) == 2 and rest[1] in DOCUMENTS:
            return self._document(rest[0], rest[1])
        return None

    def _number(self, value: Any) -> int | None:
        text = str(value)
        n = int(text) if text.isdigit() else 0
        return n if 1 <= n <= self.sb.invoice_count else None

    def _document(self, number: str, kind: str) -> tuple[int, Any]:
        n = self._number(number)
        if n is None:
            return _error(404, "Kan inte hitta fakturan.", 2000434)
        inv = self.sb.invoice(n)
        if kind == "printreminder":
            if inv["Cancelled"] or not inv["Booked"]:
                return _error(400, "Påminnelse kan bara skrivas ut för bokförda fakturor.", 2000760)
            if float(inv["Balance"]) <= 0:
                return _error(400, "Fakturan är slutbetald.", 2000761)
            self.sb.update_invoice(
                n,
                Reminders=int(inv.get("Reminders", 0)) + 1,
                LastRemindDate=self.sb.today.isoformat(),
            )
            return 200, pdf(f"Paminnelse faktura {n}")
        if kind == "print" and not inv["Sent"]:
            self.sb.update_invoice(n, Sent=True)
        return 200, pdf(f"Faktura {n}")

    def _update(self, number: str, body: bytes) -> tuple[int, Any]:
        n = self._number(number)
        if n is None:
            return _error(404, "Kan inte hitta fakturan.", 2000434)
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            return _error(400, "Ogiltig JSON.", 2000103)
        fields = payload.get("Invoice") if isinstance(payload, dict) else None
        if not isinstance(fields, dict):
            return _error(400, "Invoice saknas i anropet.", 2000104)
        inv = self.sb.invoice(n)
        unknown = sorted(set(fields) - set(UPDATABLE))
        if unknown:
            return _error(400, f"Fältet kan inte ändras: {unknown[0]}", 2000105)
        if inv["Cancelled"]:
            return _error(400, "Fakturan är makulerad och kan inte ändras.", 2000106)
        locked = sorted(
            k for k, v in fields.items() if k not in UPDATABLE_WHEN_BOOKED and v != inv.get(k)
        )
        if inv["Booked"] and locked:
            return _error(400, f"Fakturan är bokförd: {locked[0]} kan inte ändras.", 2000107)
        comments = fields.get("Comments")
        if comments is not None and not isinstance(comments, str):
            return _error(400, "Comments: måste vara text.", 2000108)
        if isinstance(comments, str) and len(comments) > COMMENTS_MAX:
            return _error(400, f"Comments: högst {COMMENTS_MAX} tecken.", 2000109)
        changed = {k: v for k, v in fields.items() if v != inv.get(k)}
        if changed:
            self.sb.update_invoice(n, **changed)
        return 200, {"Invoice": self.sb.invoice(n)}

    def _finans_get(self, number: str) -> tuple[int, Any]:
        n = self._number(number)
        record = self.finans_record(n) if n is not None else None
        if record is None:
            return _error(404, "Kan inte hitta fakturan i Fortnox Finans.", 2001740)
        return 200, {"NoxFinansInvoice": record}

    def _finans_create(self, body: bytes) -> tuple[int, Any]:
        if not self.finans:
            return _error(403, "Fortnox Finans är inte aktiverat för företaget.", 2001741)
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            return _error(400, "Ogiltig JSON.", 2000103)
        fields = payload.get("NoxFinansInvoice") if isinstance(payload, dict) else None
        if not isinstance(fields, dict):
            return _error(400, "NoxFinansInvoice saknas i anropet.", 2000104)
        for key in ("InvoiceNumber", "SendMethod", "Service"):
            if fields.get(key) in (None, ""):
                return _error(400, f"{key} saknas.", 2001742)
        if fields["Service"] not in FINANS_SERVICES:
            return _error(400, f"Ogiltig Service: {fields['Service']}", 2001743)
        if fields["SendMethod"] not in SEND_METHODS:
            return _error(400, f"Ogiltig SendMethod: {fields['SendMethod']}", 2001744)
        n = self._number(fields["InvoiceNumber"])
        if n is None:
            return _error(404, "Kan inte hitta fakturan.", 2000434)
        inv = self.sb.invoice(n)
        problem = self._finans_problem(inv)
        if problem:
            return _error(400, problem, 2001745)
        service = str(fields["Service"])
        name = "REMINDER_SERVICE" if service == "REMINDER" else "SERVICE_FULL"
        record = self._new_record(n, service, name, "UNKNOWN")
        with self.sb._lock:
            self._records[n] = record
        self.sb.update_invoice(n, NoxFinans=True)
        return 201, {"NoxFinansInvoice": record}

    def _finans_problem(self, inv: dict[str, Any]) -> str | None:
        if inv["NoxFinans"]:
            return "Fakturan är redan skickad till Fortnox Finans."
        if inv["Currency"] != "SEK":
            return "Fortnox Finans tar bara emot fakturor i SEK."
        if inv["Cancelled"] or not inv["Booked"]:
            return "Fakturan måste vara bokförd."
        if float(inv["Balance"]) <= 0:
            return "Fakturan har inget öppet saldo."
        if date.fromisoformat(inv["InvoiceDate"]) < self.sb.today - timedelta(days=730):
            return "Fakturadatum får inte vara äldre än två år."
        if not all(inv.get(k) for k in ("Address1", "ZipCode", "City", "CustomerName")):
            return "Fakturan saknar namn eller adress."
        return None

    def _new_record(self, n: int, service: str, name: str, status: str) -> dict[str, Any]:
        inv = self.sb.invoice(n)
        balance = float(inv["Balance"])
        return {
            "@url": f"/3/noxfinansinvoices/{n}",
            "BalanceIncludeFees": balance,
            "BalanceIncludeFeesCurrency": balance,
            "CurrentCapitalBalance": balance,
            "CurrentCapitalBalanceCurrency": balance,
            "InvoiceNumber": n,
            "NextEvent": "REMINDER",
            "NextEventDate": (self.sb.today + timedelta(days=5)).isoformat(),
            "OCRNumber": inv["OCR"],
            "Service": service,
            "ServiceName": name,
            "Status": status,
        }
