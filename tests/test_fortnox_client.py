"""The Fortnox client, adapter and auth against the sandbox over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from connector.clock import Clock
from connector.config import TenantConfig
from connector.models import Customer, CustomerKind, Invoice
from connector.secrets import MemoryCredentials, OAuthTokens
from connector.store import SqliteStore
from providers.base import RecordError
from providers.fortnox import create
from providers.fortnox.adapter import FortnoxProvider
from providers.fortnox.client import error_message, lastmodified
from providers.fortnox.sandbox import FortnoxSandbox, seed
from providers.http import AuthError, ClientError, ProtocolError, RetryPolicy

CLOCK = Clock.starting_at(date(2026, 11, 23))  # the tests' clock; never the real date

pytestmark = pytest.mark.e2e
TODAY = date(2026, 3, 2)


def tenant(sb: FortnoxSandbox, **over: Any) -> TenantConfig:
    # model_construct: the registry may not list fortnox until the package is reinstalled.
    settings = dict(sb.tenant_settings(), name="acme-se", provider="fortnox", country="SE")
    settings.setdefault("auth", "client_credentials")
    settings.setdefault("requests_per_window", 1000)  # the limiter has its own test
    settings.update(over)
    return TenantConfig.model_construct(**settings)


def client_secret(sb: FortnoxSandbox) -> MemoryCredentials:
    secret = json.dumps({"client_id": sb.client_id, "client_secret": sb.client_secret})
    return MemoryCredentials({"acme-se": secret})


def refresh_secret(sb: FortnoxSandbox, refresh_token: str) -> str:
    extra = {"client_id": sb.client_id, "client_secret": sb.client_secret}
    return OAuthTokens(None, refresh_token, None, extra).to_json()


def provider(sb: FortnoxSandbox, creds: Any = None, **over: Any) -> FortnoxProvider:
    p = create(tenant(sb, **over), creds or client_secret(sb), clock=sb.clock)
    p.client.http.retry = RetryPolicy(max_tries=4, backoff_base=0.01, backoff_max=0.05)
    p._today = lambda: TODAY
    return p


@pytest.fixture
def sb() -> Iterator[FortnoxSandbox]:
    with FortnoxSandbox(today=TODAY, rate_limit=False) as sandbox:
        yield sandbox


def split(items: Any) -> tuple[list[Any], list[RecordError]]:
    ok: list[Any] = []
    bad: list[RecordError] = []
    for item in items:
        (bad if isinstance(item, RecordError) else ok).append(item)
    return ok, bad


def test_lists_map_as_listed_and_the_adapter_flags_what_needs_a_detail_read(
    sb: FortnoxSandbox,
) -> None:
    p = provider(sb)
    customers, bad = split(p.iter_customers(None))
    assert not bad and len(customers) == 15
    assert all(p.needs_detail(c) for c in customers)  # the list lacks Type, Active, country...
    by_name = {c.name: c for c in customers if isinstance(c, Customer)}
    assert by_name["Västerås Vilande AB"].active is True  # as listed: only the detail knows
    full = p.read_detail("customer", by_name["Västerås Vilande AB"].provider_id)
    assert isinstance(full, Customer) and full.active is False
    person = p.read_detail("customer", by_name["Linnéa Åström"].provider_id)
    assert isinstance(person, Customer)
    assert person.kind is CustomerKind.PERSON and person.national_id == "198405172381"
    invoices, bad = split(p.iter_invoices(None, open_only=True))
    assert not bad
    numbers = {i.number: i for i in invoices if isinstance(i, Invoice)}
    assert "8" not in numbers and "12" not in numbers  # fully paid, cancelled
    assert numbers["7"].outstanding == Decimal("6000.0")  # part-paid
    assert numbers["10"].handled_by == "fortnox_finans"  # NoxFinans is on the list
    assert numbers["11"].reminders_sent == 0  # as listed: the list has no Reminders
    read = p.read_detail("invoice", "11")
    assert isinstance(read, Invoice) and read.reminders_sent == 1 and read.last_reminded
    # Fortnox reminds only from the due date on: a not yet due invoice is complete as listed.
    flagged = {n for n, i in numbers.items() if p.needs_detail(i)}
    assert flagged == {n for n, i in numbers.items() if i.due_date <= TODAY}
    assert "1" not in flagged and len(flagged) == len(numbers) - 1
    # The lists cost one page each; the three reads above one request each.
    assert sb.stats.per_path["GET /3/customers"] == 1
    assert sb.stats.per_path["GET /3/invoices"] == 1
    assert p.requests_sent == 2 + 3


def test_incremental_pull_asks_lastmodified_and_lists_only_changes(sb: FortnoxSandbox) -> None:
    p = provider(sb)
    sb.update_invoice(4, Balance=0.0, FinalPayDate=TODAY.isoformat())
    sb.update_customer(2, Email="ny@gbgfisk.se")
    since = sb.clock.now() - timedelta(minutes=1)
    customers, _ = split(p.iter_customers(since))
    assert [c.number for c in customers] == ["2"] and customers[0].email == "ny@gbgfisk.se"
    invoices, _ = split(p.iter_invoices(since, open_only=False))
    assert [(i.number, i.status.value) for i in invoices] == [("4", "paid")]
    assert not p.needs_detail(invoices[0])  # paid: no detail needed
    assert sb.stats.per_path["GET /3/invoices/{n}"] == 0


def test_probe_proves_unmodified_overdue_invoices_complete_with_one_request_a_week() -> None:
    day = date(2026, 11, 23)
    with FortnoxSandbox(today=day, rate_limit=False, customers=200, invoices=3000) as big:
        p = provider(big)
        p._today = lambda: day
        overdue = [
            i
            for i in split(p.iter_invoices(None, open_only=True))[0]
            if isinstance(i, Invoice) and p.needs_detail(i)
        ]
        listed = big.stats.requests
        proven = p.confirm_complete("invoice", overdue)
        probes = big.stats.requests - listed
        weeks = {i.issue_date.toordinal() // 7 for i in overdue}
        assert probes <= len(weeks) < len(overdue) / 5
        assert proven and len(proven) < len(overdue)
        for inv in overdue:  # never proves one that Fortnox may have reminded
            detail = big.invoice(int(inv.provider_id))
            modified = big._inv_mod[int(inv.provider_id) - 1]  # type: ignore[index]
            due_minute = big._minute(
                datetime.combine(inv.due_date, datetime.min.time(), seed.STOCKHOLM)
            )
            if inv.provider_id in proven:
                assert modified < due_minute and not detail.get("Reminders")
            elif detail.get("Reminders"):
                assert modified >= due_minute


def test_lastmodified_is_stockholm_local_minutes_with_overlap() -> None:
    assert lastmodified(datetime(2026, 7, 1, 10, 0, tzinfo=UTC)) == "2026-07-01 11:58"  # CEST
    assert lastmodified(datetime(2026, 1, 15, 23, 30, tzinfo=UTC)) == "2026-01-16 00:28"  # CET
    with pytest.raises(ValueError):
        lastmodified(datetime(2026, 1, 1))


def test_retries_429_and_malformed_pages_then_succeeds(sb: FortnoxSandbox) -> None:
    p = provider(sb)
    sb.inject("/3/invoices?", status=429, times=2, body={"message": "Too Many Requests"})
    sb.inject("/3/invoices?", malformed=True)
    invoices, _ = split(p.iter_invoices(None, open_only=True))
    assert len(invoices) == 18
    assert p.client.http.rate_limited == 2


def test_short_page_is_an_error_not_silent_loss(sb: FortnoxSandbox) -> None:
    p = provider(sb)
    p.client.page_size = 5
    sb.inject("/3/invoices?", drop_rows=True)
    with pytest.raises(ProtocolError):
        list(p.iter_invoices(None, open_only=True))


def test_error_information_in_either_case() -> None:
    def resp(body: dict[str, Any]) -> requests.Response:
        r = requests.Response()
        r._content = json.dumps(body).encode()
        r.status_code = 400
        return r

    lower = {"ErrorInformation": {"error": 1, "message": "Kan inte hitta kunden.", "code": 2000433}}
    upper = {"ErrorInformation": {"Error": 1, "Message": "Ogiltigt filter", "Code": 2000587}}
    assert error_message(resp(lower)) == "Kan inte hitta kunden. (code 2000433)"
    assert error_message(resp(upper)) == "Ogiltigt filter (code 2000587)"
    assert error_message(resp({"error": "invalid_grant"})) == "invalid_grant"


def test_vanished_record_detail_is_a_client_error(sb: FortnoxSandbox) -> None:
    p = provider(sb)
    sb.inject("/3/invoices/6", status=404, body={"ErrorInformation": {"message": "borta"}})
    with pytest.raises(ClientError, match="borta"):
        p.read_detail("invoice", "6")


# --- auth ----------------------------------------------------------------------------------


def _one_line_naming_tenant(exc: AuthError) -> None:
    text = str(exc)
    assert "\n" not in text and "acme-se" in text and "kravsync auth acme-se" in text
    assert "sandbox-secret" not in text


def test_wrong_tenant_id_is_one_clear_line(sb: FortnoxSandbox) -> None:
    p = provider(sb, tenant_id="999")
    with pytest.raises(AuthError) as err:
        list(p.iter_customers(None))
    _one_line_naming_tenant(err.value)


def test_revoked_consent_is_one_clear_line(sb: FortnoxSandbox) -> None:
    p = provider(sb)
    list(p.client.invoices({"filter": "unpaid"}))
    sb.revoke()
    with pytest.raises(AuthError) as err:
        list(p.client.invoices({"filter": "unpaid"}))
    _one_line_naming_tenant(err.value)
    assert "revoked" in str(err.value)


def test_used_or_expired_refresh_token_is_one_clear_line(sb: FortnoxSandbox) -> None:
    creds = MemoryCredentials({"acme-se": refresh_secret(sb, "fnx_rt_long-gone")})
    p = provider(sb, creds, auth="oauth", tenant_id=None)
    with pytest.raises(AuthError) as err:
        list(p.iter_customers(None))
    _one_line_naming_tenant(err.value)
    assert "invalid_grant" in str(err.value)


@pytest.mark.parametrize(
    "secret",
    [
        json.dumps({"Access-Token": "abc", "Client-Secret": "def"}),
        "a-legacy-access-token-uuid",
    ],
)
def test_legacy_credentials_are_refused_clearly(sb: FortnoxSandbox, secret: str) -> None:
    with pytest.raises(AuthError) as err:
        create(
            tenant(sb, auth=None, tenant_id=None),
            MemoryCredentials({"acme-se": secret}),
            clock=sb.clock,
        )
    _one_line_naming_tenant(err.value)
    assert "legacy" in str(err.value).lower()


def test_rotating_refresh_token_is_persisted_before_use(sb: FortnoxSandbox) -> None:
    first = sb.issue_refresh_token()
    creds = MemoryCredentials({"acme-se": refresh_secret(sb, first)})
    p = provider(sb, creds, auth="oauth", tenant_id=None)
    list(p.client.customers({}))
    stored = json.loads(creds.get("acme-se") or "")
    assert stored["refresh_token"] != first and stored["access_token"]
    assert stored["client_secret"] == sb.client_secret  # kept for the next refresh
    assert sb.stats.refreshes == 1


def test_access_token_expiring_mid_pull_is_refreshed_and_pull_continues() -> None:
    with FortnoxSandbox(today=TODAY, rate_limit=False, access_token_ttl=0.3) as sb:
        first = sb.issue_refresh_token()
        creds = MemoryCredentials({"acme-se": refresh_secret(sb, first)})
        p = provider(sb, creds, auth="oauth", tenant_id=None)
        p.client.http.auth._leeway = 0  # type: ignore[attr-defined]
        p.client.page_size = 1
        pulled = []
        for item in p.iter_invoices(None, open_only=True):
            pulled.append(item)
            if len(pulled) in (3, 9):
                sb.expire_access_tokens()  # as if an hour had passed
        assert len([i for i in pulled if isinstance(i, Invoice)]) == 18
        assert sb.stats.refreshes >= 2 and sb.stats.invalid_grants == 0


@pytest.mark.parametrize("as_processes", [False, True], ids=["threads", "store-lock-only"])
def test_ten_workers_share_one_rotating_refresh_token(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, as_processes: bool
) -> None:
    """Ten workers, each with its own provider, through several access-token expiries: exactly
    one refreshes each time. ``store-lock-only`` gives every worker its own process-local lock,
    as separate processes would have, so only the lock shared through the store protects them."""
    if as_processes:
        import providers.oauth

        monkeypatch.setattr(providers.oauth, "_process_lock", lambda _key: threading.Lock())
    store = SqliteStore(str(tmp_path / "state.db"), CLOCK)
    store.migrate()

    def lock(name: str) -> Any:
        return store.advisory_lock(name, timeout=20.0)

    with FortnoxSandbox(today=TODAY, rate_limit=False, access_token_ttl=0.5) as sb:
        creds = MemoryCredentials({"acme-se": refresh_secret(sb, sb.issue_refresh_token())})
        errors: list[BaseException] = []
        stop = threading.Event()

        def worker() -> None:
            p = create(tenant(sb, auth="oauth", tenant_id=None), creds, lock=lock, clock=sb.clock)
            p.client.http.auth._leeway = 0.05  # type: ignore[attr-defined]
            try:
                while not stop.is_set():
                    p.client.invoice("3")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                stop.set()

        threads = [threading.Thread(target=worker) for _ in range(10)]
        for t in threads:
            t.start()
        # Run until the token has rotated a few times (a count, not a duration).
        while sb.stats.refreshes < 5 and not stop.is_set():
            stop.wait(0.05)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert not errors, errors[0]
        assert sb.stats.invalid_grants == 0
        # The stored refresh token is the live one: one more refresh works.
        stored = json.loads(creds.get("acme-se") or "")
        form = {"grant_type": "refresh_token", "refresh_token": stored["refresh_token"]}
        r = requests.post(sb.token_url, data=form, auth=(sb.client_id, sb.client_secret))
        assert r.status_code == 200


def test_client_side_limiter_keeps_under_the_sandbox_limit() -> None:
    # The client keeps 0.1 s of margin of its own: the server counts arrivals, and on a loaded
    # machine a request can arrive later than it left by more than the limiter's 3 % margin.
    with FortnoxSandbox(today=TODAY, max_requests=5, window_seconds=0.4) as sb:
        p = provider(sb, requests_per_window=5, window_seconds=0.5)
        for _ in range(20):
            p.client.invoice("1")
        assert sb.stats.rate_limited == 0 and p.client.http.rate_limited == 0
        assert sb.stats.per_path["GET /3/invoices/{n}"] == 20
