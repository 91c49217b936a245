"""The shared HTTP layer: paging, counts, the retry rule, auth errors (all with `responses`)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
import responses

from providers.fiken.client import FikenClient, error_message
from providers.http import (
    AuthError,
    ClientError,
    HttpClient,
    ProtocolError,
    RateLimiter,
    RetryPolicy,
    ServerError,
    TransportError,
    parse_retry_after,
)

BASE = "https://api.example.test/api/v2"
CONTACTS = f"{BASE}/companies/acme/contacts"


class Bearer:
    def __init__(self, token: str = "secret-token", refreshed: str | None = None) -> None:
        self.token = token
        self.refreshed = refreshed
        self.refresh_calls = 0

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def refresh(self) -> bool:
        self.refresh_calls += 1
        if self.refreshed:
            self.token = self.refreshed
            return True
        return False


def client(
    sleeps: list[float] | None = None, auth: Bearer | None = None, tries: int = 4
) -> FikenClient:
    http = HttpClient(
        provider="fiken",
        base_url=BASE,
        auth=auth or Bearer(),
        retry=RetryPolicy(max_tries=tries, backoff_base=0.01, backoff_max=0.05),
        error_message=error_message,
        sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
    )
    return FikenClient(http, "acme", page_size=2)


def page(rows: list[dict], page_count: int, result_count: int) -> dict:
    return {
        "json": rows,
        "headers": {
            "Fiken-Api-Page-Count": str(page_count),
            "Fiken-Api-Result-Count": str(result_count),
        },
    }


@responses.activate
def test_pages_from_zero_until_page_count() -> None:
    for n, rows in enumerate([[{"id": 1}, {"id": 2}], [{"id": 3}, {"id": 4}], [{"id": 5}]]):
        responses.get(
            CONTACTS,
            match=[
                responses.matchers.query_param_matcher(
                    {"customer": "true", "page": str(n), "pageSize": "2"}
                )
            ],
            **page(rows, 3, 5),
        )
    got = [row["id"] for rows in client().contacts({"customer": "true"}) for row in rows]
    assert got == [1, 2, 3, 4, 5]
    assert len(responses.calls) == 3
    assert all(c.request.headers["X-Request-ID"] for c in responses.calls)
    assert len({c.request.headers["X-Request-ID"] for c in responses.calls}) == 3


@responses.activate
def test_result_count_mismatch_is_an_error_not_silent_loss() -> None:
    responses.get(CONTACTS, **page([{"id": 1}, {"id": 2}], 2, 5))
    responses.get(CONTACTS, **page([{"id": 3}], 2, 5))
    with pytest.raises(ProtocolError, match="received 3 rows, provider announced 5"):
        list(client().contacts({}))


@responses.activate
def test_short_page_before_the_last_is_an_error() -> None:
    responses.get(CONTACTS, **page([{"id": 1}], 3, 5))
    with pytest.raises(ProtocolError, match="page 0 of 3 has 1 rows, expected 2"):
        list(client(tries=1).contacts({}))


@responses.activate
def test_429_then_success_honours_retry_after() -> None:
    responses.get(CONTACTS, status=429, headers={"Retry-After": "3"}, json={"error": "slow down"})
    responses.get(CONTACTS, **page([{"id": 1}], 1, 1))
    sleeps: list[float] = []
    c = client(sleeps)
    c.http.retry = RetryPolicy(max_tries=4, backoff_base=0.01, backoff_max=60)
    rows = [r for p in c.contacts({}) for r in p]
    assert rows == [{"id": 1}]
    assert sleeps == [3.0]  # Retry-After, not the exponential backoff
    assert c.http.rate_limited == 1


@responses.activate
def test_retry_after_is_capped_by_backoff_max() -> None:
    responses.get(CONTACTS, status=429, headers={"Retry-After": "3600"})
    responses.get(CONTACTS, **page([], 1, 0))
    sleeps: list[float] = []
    http = client(sleeps).http
    http.retry = RetryPolicy(max_tries=3, backoff_base=0.01, backoff_max=60)
    http.get_json("/companies/acme/contacts")
    assert sleeps == [60]


@responses.activate
def test_5xx_is_retried_then_exhausted_with_wire_facts() -> None:
    for _ in range(4):
        responses.get(
            CONTACTS, status=503, json={"error": "unavailable"}, headers={"X-Request-ID": "req-42"}
        )
    sleeps: list[float] = []
    with pytest.raises(ServerError) as err:
        list(client(sleeps).contacts({}))
    assert len(responses.calls) == 4
    assert len(sleeps) == 3 and all(0 <= s <= 0.05 for s in sleeps)
    text = str(err.value)
    assert "fiken" in text and "HTTP 503" in text and "req-42" in text and "unavailable" in text
    assert err.value.status == 503 and err.value.request_id == "req-42"


@responses.activate
def test_malformed_page_is_retried_then_fails() -> None:
    responses.get(
        CONTACTS,
        body="<html>oops",
        headers={"Fiken-Api-Page-Count": "1", "Fiken-Api-Result-Count": "1"},
    )
    responses.get(CONTACTS, **page([{"id": 1}], 1, 1))
    assert [r for p in client().contacts({}) for r in p] == [{"id": 1}]
    responses.reset()
    for _ in range(4):
        responses.get(
            CONTACTS,
            json={"not": "a list"},
            headers={"Fiken-Api-Page-Count": "1", "Fiken-Api-Result-Count": "1"},
        )
    with pytest.raises(ProtocolError, match="malformed response"):
        list(client().contacts({}))


@responses.activate
def test_other_4xx_is_never_retried() -> None:
    responses.get(
        CONTACTS, status=400, json={"error": "bad_request", "error_description": "pageSize"}
    )
    with pytest.raises(ClientError, match="bad_request: pageSize"):
        list(client().contacts({}))
    assert len(responses.calls) == 1


@responses.activate
def test_401_refreshes_once_then_succeeds() -> None:
    responses.get(CONTACTS, status=401)
    responses.get(CONTACTS, **page([{"id": 1}], 1, 1))
    auth = Bearer(refreshed="new-token")
    assert [r for p in client(auth=auth).contacts({}) for r in p] == [{"id": 1}]
    assert auth.refresh_calls == 1
    assert responses.calls[1].request.headers["Authorization"] == "Bearer new-token"


@responses.activate
def test_401_without_refresh_is_an_auth_error_without_the_token() -> None:
    responses.get(CONTACTS, status=401, json={"error": "invalid_token", "access_token": "leaky"})
    with pytest.raises(AuthError) as err:
        list(client().contacts({}))
    assert len(responses.calls) == 1
    assert "secret-token" not in str(err.value)
    assert "leaky" not in str(err.value)


@responses.activate
def test_connection_errors_are_retried_and_reported() -> None:
    responses.get(CONTACTS, body=requests.ConnectionError("refused"))
    responses.get(CONTACTS, body=requests.ConnectionError("refused"))
    with pytest.raises(TransportError, match="connection failed"):
        list(client(tries=2).contacts({}))
    assert len(responses.calls) == 2


@responses.activate
def test_json_numbers_become_decimals_never_floats() -> None:
    responses.get(f"{BASE}/x", body=json.dumps({"amount": 1250.10}))
    body = client().http.get_json("/x")
    assert body["amount"] == Decimal("1250.1") and isinstance(body["amount"], Decimal)


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_rate_limiter_never_exceeds_its_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(4, 1.0, margin=0.0, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(12):
        with limiter.slot():
            starts.append(clock.now)
    for i in range(len(starts) - 4):
        assert starts[i + 4] - starts[i] >= 1.0 - 1e-9
    assert starts[-1] == pytest.approx(2.0)  # 12 starts at 4/s: t=0,0,0,0,1,1,1,1,2,2,2,2
