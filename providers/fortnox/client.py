"""Fortnox API v3 transport: declarations on top of the shared HTTP layer."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import requests

from providers.http import ClientError, HttpClient, Page, RateLimiter, iter_pages, json_body

BASE_URL = "https://api.fortnox.se"
TOKEN_URL = "https://apps.fortnox.se/oauth-v1/token"
AUTHORIZE_URL = "https://apps.fortnox.se/oauth-v1/auth"
SCOPES = "companyinformation customer invoice"
# 25 requests per sliding 5 s per client and tenant (fortnox.se, "Rate limits").
MAX_PER_WINDOW = 25
WINDOW_SECONDS = 5.0
PAGE_SIZE = 500  # the largest ``limit`` Fortnox accepts
STOCKHOLM = ZoneInfo("Europe/Stockholm")
PDF_DOCUMENTS = ("printreminder", "preview", "print")
PDF_ACCEPT = "application/pdf, application/json"  # errors still come as ErrorInformation JSON
FINANS_KEY = "NoxFinansInvoice"
# Fortnox Finans needs its own scope on the integration (fortnox.se, "Finance Invoice").
FINANS_SCOPE = "noxfinansinvoice"
# ``lastmodified`` has minute precision in Swedish local time; ask a little earlier than the
# cursor so a change in the cursor's minute, or a clock slightly behind ours, is still seen.
OVERLAP = timedelta(minutes=2)


def default_limiter(per_window: int | None = None, window: float | None = None) -> RateLimiter:
    return RateLimiter(per_window or MAX_PER_WINDOW, window or WINDOW_SECONDS, max_concurrent=4)


def lastmodified(since: datetime) -> str:
    """A cursor as Fortnox's ``lastmodified`` value: ``YYYY-MM-DD HH:MM``, Stockholm time."""
    if since.tzinfo is None:
        raise ValueError("since must be timezone-aware")
    return (since - OVERLAP).astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


class FortnoxPaginator:
    """``page`` from 1 and ``limit`` ≤ 500; rows under the resource key; counts in
    ``MetaInformation`` (``@TotalPages``, ``@TotalResources``)."""

    first_page = 1

    def __init__(self, key: str, page_size: int = PAGE_SIZE) -> None:
        self.key = key
        self.page_size = page_size

    def params(self, page: int) -> dict[str, Any]:
        return {"page": page, "limit": self.page_size}

    def parse(self, response: requests.Response) -> Page:
        body = json_body(response)
        if not isinstance(body, dict):
            raise ValueError(f"expected a JSON object, got {type(body).__name__}")
        rows = body.get(self.key)
        if not isinstance(rows, list):
            raise ValueError(f"{self.key} missing from the page")
        meta = body.get("MetaInformation")
        if not isinstance(meta, dict):
            raise ValueError("MetaInformation missing from the page")
        return Page(
            rows=rows,
            total_pages=int(meta["@TotalPages"]),
            total_rows=int(meta["@TotalResources"]),
        )


def _ci(mapping: Mapping[str, Any], key: str) -> Any:
    """``mapping[key]`` ignoring case: Fortnox writes ErrorInformation keys in either case."""
    for k, v in mapping.items():
        if k.lower() == key.lower():
            return v
    return None


def error_message(response: requests.Response) -> str | None:
    """``ErrorInformation`` (``message``/``Message``, ``code``/``Code``), OAuth errors, or
    ``{"message": ...}``."""
    try:
        body = json_body(response)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    info = _ci(body, "ErrorInformation")
    if isinstance(info, dict):
        message, code = _ci(info, "message"), _ci(info, "code")
        return f"{message} (code {code})" if code is not None else str(message)
    parts = [str(body[k]) for k in ("error", "error_description", "message") if body.get(k)]
    return ": ".join(parts) or None


class FortnoxClient:
    """Customers and invoices of one Fortnox tenant."""

    def __init__(self, http: HttpClient, page_size: int = PAGE_SIZE) -> None:
        self.http = http
        self.page_size = page_size

    def customers(self, params: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        paginator = FortnoxPaginator("Customers", self.page_size)
        return iter_pages(self.http, "/3/customers", params, paginator)

    def invoices(self, params: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        paginator = FortnoxPaginator("Invoices", self.page_size)
        return iter_pages(self.http, "/3/invoices", params, paginator)

    def _one(self, path: str, key: str) -> dict[str, Any]:
        def parse(response: requests.Response) -> dict[str, Any]:
            body = json_body(response)
            record = body.get(key) if isinstance(body, dict) else None
            if not isinstance(record, dict):
                raise ValueError(f"{key} missing from the response")
            return record

        return self.http.call("GET", path, parse)

    def customer(self, number: str) -> dict[str, Any]:
        return self._one(f"/3/customers/{quote(number, safe='')}", "Customer")

    def invoice(self, number: str) -> dict[str, Any]:
        return self._one(f"/3/invoices/{quote(number, safe='')}", "Invoice")

    # -- writes and documents (the push routes) --------------------------------------------
    def update_invoice(self, number: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /3/invoices/{n}`` with ``{"Invoice": fields}``; the invoice as it now reads."""

        def parse(response: requests.Response) -> dict[str, Any]:
            body = json_body(response)
            record = body.get("Invoice") if isinstance(body, dict) else None
            if not isinstance(record, dict):
                raise ValueError("Invoice missing from the response")
            return record

        path = f"/3/invoices/{quote(number, safe='')}"
        return self.http.call("PUT", path, parse, json_payload={"Invoice": dict(fields)})

    def invoice_pdf(self, number: str, document: str) -> bytes:
        """``GET /3/invoices/{n}/{document}`` as PDF bytes: ``printreminder``, ``preview``
        (no side effect) or ``print`` (marks the invoice sent)."""
        if document not in PDF_DOCUMENTS:
            raise ValueError(f"unknown invoice document {document!r}")

        def parse(response: requests.Response) -> bytes:
            if not response.content.startswith(b"%PDF-"):
                kind = response.headers.get("Content-Type", "?")
                raise ValueError(f"expected a PDF, got {kind} ({len(response.content)} bytes)")
            return response.content

        path = f"/3/invoices/{quote(number, safe='')}/{document}"
        return self.http.call("GET", path, parse, headers={"Accept": PDF_ACCEPT})

    def company_information(self) -> dict[str, Any]:
        """``GET /3/companyinformation``: the company the token reaches (``DatabaseNumber``)."""
        return self._one("/3/companyinformation", "CompanyInformation")

    def finans_invoice(self, number: str) -> dict[str, Any] | None:
        """``GET /3/noxfinansinvoices/{n}``: the invoice's Fortnox Finans record, None if it
        has none (404)."""
        try:
            return self._one(f"/3/noxfinansinvoices/{quote(number, safe='')}", FINANS_KEY)
        except ClientError as exc:
            if exc.status == 404:
                return None
            raise

    def send_to_finans(self, number: str, service: str, send_method: str) -> dict[str, Any]:
        """``POST /3/noxfinansinvoices``: hand invoice ``number`` to Fortnox Finans."""

        def parse(response: requests.Response) -> dict[str, Any]:
            body = json_body(response)
            record = body.get(FINANS_KEY) if isinstance(body, dict) else None
            if not isinstance(record, dict):
                raise ValueError(f"{FINANS_KEY} missing from the response")
            return record

        payload = {
            FINANS_KEY: {"InvoiceNumber": number, "SendMethod": send_method, "Service": service}
        }
        return self.http.call("POST", "/3/noxfinansinvoices", parse, json_payload=payload)
