"""Fiken API v2 transport: declarations on top of the shared HTTP layer."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import requests

from providers.http import SINGLE_TRY, HttpClient, Page, RateLimiter, iter_pages, json_body

T = TypeVar("T")

BASE_URL = "https://api.fiken.no/api/v2"
TOKEN_URL = "https://fiken.no/oauth/token"
AUTHORIZE_URL = "https://fiken.no/oauth/authorize"
# Fiken: one request in flight, about 4 requests per second.
MAX_PER_SECOND = 4
PAGE_SIZE = 100


def default_limiter(per_window: int | None = None, window: float | None = None) -> RateLimiter:
    return RateLimiter(per_window or MAX_PER_SECOND, window or 1.0, max_concurrent=1)


class FikenPaginator:
    """``page`` from 0 and ``pageSize`` ≤ 100; counts in the Fiken-Api-* headers; bare arrays."""

    first_page = 0

    def __init__(self, page_size: int = PAGE_SIZE) -> None:
        self.page_size = page_size

    def params(self, page: int) -> dict[str, Any]:
        return {"page": page, "pageSize": self.page_size}

    def parse(self, response: requests.Response) -> Page:
        body = json_body(response)
        if not isinstance(body, list):
            raise ValueError(f"expected a JSON array, got {type(body).__name__}")
        try:
            pages = int(response.headers["Fiken-Api-Page-Count"])
            total = int(response.headers["Fiken-Api-Result-Count"])
        except KeyError as exc:
            raise ValueError(f"paging header {exc.args[0]} missing") from None
        return Page(rows=body, total_pages=pages, total_rows=total)


def error_message(response: requests.Response) -> str | None:
    """Fiken's error bodies: ``{"error": ..., "error_description": ...}`` or a message string."""
    try:
        body = json_body(response)
    except ValueError:
        return None
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("error", "error_description", "message") if body.get(k)]
        return ": ".join(parts) or None
    return None


def _location(response: requests.Response) -> str | None:
    return response.headers.get("Location")


class FikenClient:
    def __init__(self, http: HttpClient, company: str, page_size: int = PAGE_SIZE) -> None:
        self.http = http
        self.company = company
        self.paginator = FikenPaginator(page_size)

    def _write(
        self, method: str, path: str, parse: Callable[[requests.Response], T], **kwargs: Any
    ) -> T:
        """A write is sent once: one that failed may still have happened, so the push route looks
        for its evidence before trying again (never the blind retry reads get)."""
        return self.http.call(method, path, parse, retry=SINGLE_TRY, **kwargs)

    def _path(self, resource: str) -> str:
        return f"/companies/{self.company}/{resource}"

    def contacts(self, params: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        return iter_pages(self.http, self._path("contacts"), params, self.paginator)

    def invoices(self, params: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        return iter_pages(self.http, self._path("invoices"), params, self.paginator)

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        body = self.http.get_json(self._path(f"invoices/{invoice_id}"))
        if not isinstance(body, dict):
            raise ValueError("invoice detail is not a JSON object")
        return body

    def company_info(self) -> dict[str, Any]:
        body = self.http.get_json(f"/companies/{self.company}")
        return body if isinstance(body, dict) else {}

    def contact(self, contact_id: str) -> dict[str, Any]:
        body = self.http.get_json(self._path(f"contacts/{contact_id}"))
        if not isinstance(body, dict):
            raise ValueError("contact detail is not a JSON object")
        return body

    def bank_accounts(self) -> list[dict[str, Any]]:
        path = self._path("bankAccounts")
        return [row for page in iter_pages(self.http, path, {}, self.paginator) for row in page]

    # --- writes: one try each (see _write); a 2xx answer's Location, if any -------------------

    def add_invoice_attachment(self, invoice_id: str, filename: str, content: bytes) -> str | None:
        return self._write(
            "POST",
            self._path(f"invoices/{invoice_id}/attachments"),
            _location,
            data={"filename": filename},
            files={"file": (filename, content, "application/pdf")},
        )

    def add_contact_attachment(
        self, contact_id: str, filename: str, content: bytes, comment: str
    ) -> str | None:
        return self._write(
            "POST",
            self._path(f"contacts/{contact_id}/attachments"),
            _location,
            data={"filename": filename, "comment": comment},
            files={"file": (filename, content, "application/pdf")},
        )

    def send_invoice(self, request: Mapping[str, Any]) -> None:
        """``POST /invoices/send`` (``sendInvoiceRequest``)."""
        self._write("POST", self._path("invoices/send"), _location, json_payload=request)

    def create_invoice(self, request: Mapping[str, Any]) -> str | None:
        """``POST /invoices`` (``invoiceRequest``); the new invoice's URL."""
        return self._write("POST", self._path("invoices"), _location, json_payload=dict(request))
