"""Tripletex transport: header pacing, session tokens, the error envelope, offset paging."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from providers.http import AuthError, HttpClient, ProtocolError, TransportError
from providers.tripletex import auth as tx_auth
from providers.tripletex.auth import SessionAuth, Tokens, parse_tokens
from providers.tripletex.client import (
    HeaderPacer,
    TripletexClient,
    error_message,
    iter_offset,
)

BASE = "https://tripletex.example/v2"
TOKENS = Tokens("consumer-SECRET-1", "employee-SECRET-2")


@pytest.fixture(autouse=True)
def fresh_sessions() -> Iterator[None]:
    tx_auth.forget_sessions()
    yield
    tx_auth.forget_sessions()


class FakeTime:
    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def answer(status: int = 200, **headers: str) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r.headers.update(headers)
    return r


def starts(
    pacer: HeaderPacer, clock: FakeTime, n: int, remaining: list[int], reset: float
) -> list[float]:
    """Start ``n`` requests; after each, the server says ``remaining`` and ``reset`` seconds."""
    out = []
    for k in range(n):
        with pacer.slot():
            out.append(clock.now)
            left = reset - (clock.now - out[0])
            pacer.observe(answer(**{"X-Rate-Limit-Limit": "10", "X-Rate-Limit-Remaining": str(remaining[k]),
                                    "X-Rate-Limit-Reset": str(max(left, 0))}))  # fmt: skip
    return out


def test_pacer_bursts_the_first_half_then_spreads_the_rest_over_the_period() -> None:
    clock = FakeTime()
    pacer = HeaderPacer(clock=clock, sleep=clock.sleep, reset_margin=0.0)
    times = starts(pacer, clock, 10, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0], reset=10.0)
    assert times[:5] == [1000.0] * 5  # while more than half the budget is left: at once
    gaps = [b - a for a, b in zip(times[4:], times[5:], strict=False)]
    assert all(g > 1.5 for g in gaps)  # then the rest of the period is shared out
    assert times[-1] <= 1010.0  # ... and the last one still fits in the period
    with pacer.slot():  # the budget is spent: wait for the next period
        assert clock.now >= 1010.0


def test_pacer_after_a_429_holds_everyone_until_the_period_ends_and_says_when() -> None:
    clock = FakeTime()
    pacer = HeaderPacer(clock=clock, sleep=clock.sleep, reset_margin=0.0)
    pacer.observe(
        answer(
            **{"X-Rate-Limit-Limit": "10", "X-Rate-Limit-Remaining": "3", "X-Rate-Limit-Reset": "7"}
        )
    )
    limited = answer(429)  # Tripletex sends no X-Rate-Limit-Reset with a 429
    pacer.observe(limited)
    assert limited.headers["Retry-After"] == "7"
    with pacer.slot():
        assert clock.now == pytest.approx(1007.0)


def test_pacer_without_headers_does_not_wait() -> None:
    clock = FakeTime()
    pacer = HeaderPacer(clock=clock, sleep=clock.sleep)
    for _ in range(20):
        with pacer.slot():
            pacer.observe(answer())
    assert clock.slept == []


def test_error_envelope_message() -> None:
    r = answer(422)
    r._content = json.dumps({
        "status": 422, "code": 18000, "message": "Validering feilet.", "developerMessage": "VALIDATION",
        "validationMessages": [{"field": "email", "message": "Kunden har ingen e-postadresse."}],
        "requestId": "abc",
    }).encode()  # fmt: skip
    assert error_message(r) == (
        "Validering feilet. (VALIDATION) [email: Kunden har ingen e-postadresse.] code 18000"
    )
    r._content = b"<html>Bad gateway</html>"
    assert error_message(r) is None


# --- sessions --------------------------------------------------------------------------------------


def session_answer(token: str = "S1", expires: str = "2026-11-25") -> dict[str, Any]:
    return {"value": {"id": 1, "token": token, "expirationDate": expires}}


@responses.activate
def test_one_session_serves_every_tenant_and_company_of_the_same_tokens() -> None:
    responses.add(responses.PUT, f"{BASE}/token/session/:create", json=session_answer())
    clock = FakeTime(start=1_764_000_000.0)  # 2025-11-24 (host time)
    a = SessionAuth(tenant="a", base_url=BASE, tokens=TOKENS, company="2000101", clock=clock)
    b = SessionAuth(tenant="b", base_url=BASE, tokens=TOKENS, company="0", clock=clock)
    assert a.headers()["Authorization"] == "Basic " + base64.b64encode(b"2000101:S1").decode()
    assert b.headers()["Authorization"] == "Basic " + base64.b64encode(b"0:S1").decode()
    assert len(responses.calls) == 1
    sent = responses.calls[0].request.url or ""
    assert "consumerToken=consumer-SECRET-1" in sent and "expirationDate=2025-11-26" in sent


@responses.activate
def test_the_session_is_renewed_before_it_expires_and_after_a_401() -> None:
    responses.add(
        responses.PUT, f"{BASE}/token/session/:create", json=session_answer("S1", "2025-11-26")
    )
    responses.add(
        responses.PUT, f"{BASE}/token/session/:create", json=session_answer("S2", "2025-11-28")
    )
    responses.add(
        responses.PUT, f"{BASE}/token/session/:create", json=session_answer("S3", "2025-11-28")
    )
    clock = FakeTime(start=1_764_000_000.0)  # 2025-11-24 17:00 Oslo
    auth = SessionAuth(tenant="a", base_url=BASE, tokens=TOKENS, clock=clock)
    assert auth.headers()["Authorization"].endswith(base64.b64encode(b"0:S1").decode()[-4:])
    clock.now += 24 * 3600  # 2025-11-25 17:00: the session ends at midnight, more than an hour left
    assert "0:S1" == base64.b64decode(auth.headers()["Authorization"][6:]).decode()
    clock.now += 6.5 * 3600  # 23:30: less than an hour left, renewed
    assert "0:S2" == base64.b64decode(auth.headers()["Authorization"][6:]).decode()
    assert auth.refresh() is True  # a 401: a new session
    assert "0:S3" == base64.b64decode(auth.headers()["Authorization"][6:]).decode()


@responses.activate
def test_refused_tokens_name_the_command_and_never_the_tokens() -> None:
    responses.add(
        responses.PUT,
        f"{BASE}/token/session/:create",
        status=401,
        json={
            "status": 401,
            "code": 3000,
            "message": f"Bad token {TOKENS.employee}",
            "requestId": "r",
        },
    )
    auth = SessionAuth(tenant="acme", base_url=BASE, tokens=TOKENS)
    with pytest.raises(AuthError) as err:
        auth.headers()
    text = str(err.value)
    assert "kravsync auth acme" in text and "SECRET" not in text and "consumerToken" not in text


@responses.activate
def test_a_connection_failure_of_the_session_call_leaks_no_url() -> None:
    url = f"{BASE}/token/session/:create?consumerToken={TOKENS.consumer}"
    responses.add(
        responses.PUT,
        f"{BASE}/token/session/:create",
        body=requests.ConnectionError(f"Max retries: {url}"),
    )
    with pytest.raises(TransportError) as err:
        SessionAuth(tenant="acme", base_url=BASE, tokens=TOKENS).headers()
    assert "SECRET" not in str(err.value) and err.value.retryable


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "plain-token",
        '{"consumer_token": "x"}',
        '["x", "y"]',
        '{"consumer_token": "", "employee_token": "e"}',
    ],
)
def test_a_stored_secret_needs_both_tokens(secret: str | None) -> None:
    with pytest.raises(AuthError) as err:
        parse_tokens("acme", secret)
    assert "kravsync auth acme" in str(err.value)


# --- paging ------------------------------------------------------------------------------------------


def page(start: int, n: int) -> dict[str, Any]:
    return {"fullResultSize": 99, "from": start, "count": n, "versionDigest": "d",
            "values": [{"id": start + k} for k in range(n)]}  # fmt: skip


@responses.activate
def test_offset_paging_ends_at_the_first_short_page() -> None:
    for start, n in ((0, 3), (3, 3), (6, 1)):
        responses.add(responses.GET, f"{BASE}/customer", json=page(start, n),
                      match=[responses.matchers.query_param_matcher({"from": str(start), "count": "3"})])  # fmt: skip
    http = HttpClient(provider="tripletex", base_url=BASE, sleep=lambda _s: None)
    ids = [r["id"] for p in iter_offset(http, "/customer", {}, page_size=3) for r in p]
    assert ids == list(range(7)) and len(responses.calls) == 3


@responses.activate
def test_a_page_whose_count_disagrees_is_malformed_and_retried() -> None:
    bad = page(0, 3) | {"count": 5}
    responses.add(responses.GET, f"{BASE}/customer", json=bad)
    http = HttpClient(provider="tripletex", base_url=BASE, sleep=lambda _s: None)
    with pytest.raises(ProtocolError) as err:
        list(iter_offset(http, "/customer", {}, page_size=3))
    assert "malformed" in str(err.value) and len(responses.calls) == 5


@responses.activate
def test_create_reminder_is_sent_once_and_returns_the_id() -> None:
    responses.add(responses.PUT, f"{BASE}/invoice/7/:createReminder", status=502)
    client = TripletexClient(HttpClient(provider="tripletex", base_url=BASE, sleep=lambda _s: None))
    from datetime import date

    with pytest.raises(Exception):  # noqa: B017 - the 502 itself; what matters is the count
        client.create_reminder("7", kind="REMINDER", on=date(2026, 11, 23), include_charge=True,
                               include_interest=False, dispatch_type="EMAIL")  # fmt: skip
    assert len(responses.calls) == 1
    query = responses.calls[0].request.url or ""
    assert (
        "type=REMINDER" in query
        and "includeCharge=true" in query
        and "includeInterest=false" in query
    )
