"""Fortnox API v3 transport: declarations on top of the shared HTTP layer."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import requests

from providers.http import HttpClient, Page, RateLimiter, iter_pages, json_body

BASE_URL = "https://api.fortnox.se"
TOKEN_URL = "https://apps.fortnox.se/oauth-v1/token"
AUTHORIZE_URL = "https://apps.fortnox.se/oauth-v1/auth"
SCOPES = "companyinformation customer invoice"
# 25 requests per sliding 5 s per client and tenant (fortnox.se, "Rate limits").
MAX_PER_WINDOW = 25
WINDOW_SECONDS = 5.0
PAGE_SIZE = 500  # the largest ``limit`` Fortnox accepts
STOCKHOLM = ZoneInfo("Europe/Stockholm")
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
