"""The console over HTTP (Starlette's TestClient): login, sessions, CSRF and role refusals,
hostile names, masked ids, and the approval gate of push = "approve" against the Fiken sandbox."""

from __future__ import annotations

import io
import re
import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from console_support import PASSWORD, approve_config, console_for, csrf_of
from starlette.testclient import TestClient

from connector.cli import main
from connector.clock import Clock
from connector.console.app import build_app
from connector.console.review import letters
from connector.console.serve import exposure_warning
from connector.models import ActionState
from connector.store import Store
from providers.fiken.sandbox import FikenSandbox

pytestmark = pytest.mark.e2e


@pytest.fixture
def setup(
    tmp_path: Path, sandbox: FikenSandbox, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, TestClient, Store]:
    monkeypatch.chdir(tmp_path)
    config = approve_config(tmp_path, sandbox, monkeypatch)
    assert main(["--config", str(config), "sync"], clock=clock) == 0
    console, store = console_for(config, clock)
    return config, TestClient(build_app(console)), store


def login_form(client: TestClient, name: str = "ada", password: str = PASSWORD) -> dict[str, str]:
    """The login form's fields as a browser sends them: the CSRF token from the form (its
    cookie stays in the client)."""
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token
    return {"name": name, "password": password, "csrf": token.group(1)}


def login(client: TestClient, name: str = "ada", password: str = PASSWORD) -> str:
    response = client.post("/login", data=login_form(client, name, password))
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


def test_pages_need_a_login(setup: tuple[Path, TestClient, Store]) -> None:
    _, client, _ = setup
    for path in ("/", "/queue", "/customers", "/quality", "/holds", "/actions"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.post("/queue/decide", data={"decision": "approve"}).status_code == 401


def test_login_sets_a_strict_httponly_cookie_and_every_page_renders(
    setup: tuple[Path, TestClient, Store],
) -> None:
    _, client, _ = setup
    response = client.post("/login", data=login_form(client), follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    for path in ("/", "/queue", "/customers", "/quality", "/holds", "/actions", "/holds.csv"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert "<script" not in page.text.lower()


def test_wrong_passwords_are_rate_limited(setup: tuple[Path, TestClient, Store]) -> None:
    _, client, _ = setup
    for _ in range(5):
        assert client.post("/login", data=login_form(client, password="nope")).status_code == 401
    # the right password no longer helps for a while
    assert client.post("/login", data=login_form(client)).status_code == 429


def test_a_login_without_the_forms_token_is_refused(setup: tuple[Path, TestClient, Store]) -> None:
    # Login CSRF: another site can make a browser post the right form, but not read the token.
    _, client, _ = setup
    fields = login_form(client)
    forged = client.post("/login", data={**fields, "csrf": "forged"}, follow_redirects=False)
    bare = client.post("/login", data={"name": "ada", "password": PASSWORD}, follow_redirects=False)
    assert forged.status_code == bare.status_code == 403
    assert "kravsync_session" not in str(forged.headers) + str(bare.headers)
    client.cookies.clear()  # the form's token without its cookie is no login either
    assert client.post("/login", data=fields, follow_redirects=False).status_code == 403
    assert client.post("/login", data=login_form(client), follow_redirects=False).status_code == 303


def test_a_post_without_the_csrf_token_is_refused(setup: tuple[Path, TestClient, Store]) -> None:
    _, client, store = setup
    login(client)
    queue = client.get("/queue").text
    first = re.search(r'name="letter" value="([^"]+)"', queue)
    assert first
    for token in (None, "forged"):
        data = {"decision": "approve", "letter": first.group(1)}
        if token:
            data["csrf"] = token
        response = client.post("/queue/decide", data=data)
        assert response.status_code == 403 and "CSRF" in response.text
    assert store.latest_decisions("fjord") == {}


def test_a_viewer_may_look_but_not_approve_or_write_notes(
    setup: tuple[Path, TestClient, Store],
) -> None:
    _, client, store = setup
    csrf = login(client, "vera")
    queue = client.get("/queue").text
    assert 'value="approve"' not in queue  # no buttons for a viewer
    letter = re.search(r'name="letter" value="([^"]+)"', queue)
    assert letter
    refused = client.post(
        "/queue/decide", data={"csrf": csrf, "decision": "approve", "letter": letter.group(1)}
    )
    assert refused.status_code == 403 and "approver" in refused.text
    assert store.latest_decisions("fjord") == {}
    customer = next(c for c in store.customers("fjord"))
    refused = client.post(
        f"/t/fjord/customers/{customer.provider_id}/notes",
        data={"csrf": csrf, "kind": "contact", "text": "hi"},
    )
    assert refused.status_code == 403


def test_hostile_names_are_text_and_person_numbers_masked(
    tmp_path: Path, sandbox: FikenSandbox, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    hostile = sandbox.add_contact('<img src=x onerror="alert(1)"> 15108695088 AS')
    sandbox.add_invoice(int(hostile["contactId"]), due_date=clock.today().replace(day=1))
    config = approve_config(tmp_path, sandbox, monkeypatch)
    assert main(["--config", str(config), "sync"], clock=clock) == 0
    console, store = console_for(config, clock)
    client = TestClient(build_app(console))
    login(client)
    customers = client.get("/customers", params={"q": "img"}).text
    assert "<img" not in customers and "&lt;img" in customers
    assert "15108695088" not in customers
    page = client.get(f"/t/fjord/customers/{hostile['contactId']}").text
    assert "<img" not in page and "15108695088" not in page


def test_only_approved_letters_are_pushed_and_who_approved_is_kept(
    setup: tuple[Path, TestClient, Store], clock: Clock
) -> None:
    config, client, store = setup
    csrf = login(client, "alf")
    tenant = client.app.state.console.config.tenants[0]  # type: ignore[attr-defined]
    planned = letters(tenant, store, clock.today())
    assert len(planned) >= 3
    chosen = planned[:2]
    response = client.post(
        "/queue/decide",
        data={"csrf": csrf, "decision": "approve", "letter": [m.id for m in chosen]},
    )
    assert response.status_code == 200
    approved = {ln.action.action_tail for m in chosen for ln in m.lines}
    decisions = store.latest_decisions("fjord")
    assert {":".join(k.rsplit(":", 3)[-3:]) for k in decisions} == approved
    assert {d.author for d in decisions.values()} == {"alf"}
    assert main(["--config", str(config), "sync"], clock=clock) == 0
    done = {e.action.action_tail for e in store.journal("fjord", states=(ActionState.DONE,))}
    assert done == approved
    assert "alf" in client.get("/actions").text


def test_an_approval_is_void_when_the_facts_change(
    setup: tuple[Path, TestClient, Store], sandbox: FikenSandbox, clock: Clock
) -> None:
    config, client, store = setup
    csrf = login(client, "alf")
    tenant = client.app.state.console.config.tenants[0]  # type: ignore[attr-defined]
    letter = letters(tenant, store, clock.today())[0]
    client.post("/queue/decide", data={"csrf": csrf, "decision": "approve", "letter": letter.id})
    invoice_id = int(letter.lines[0].action.invoice_id)
    sandbox.settle(invoice_id, 100_00)  # a part payment: the amount changes
    assert main(["--config", str(config), "sync"], clock=clock) == 0
    assert list(store.journal("fjord", states=(ActionState.DONE,))) == []
    again = [m for m in letters(tenant, store, clock.today()) if m.id == letter.id]
    assert again and again[0].state == "void"
    stale = client.get("/queue").text  # the plan before the sync, while the new one is worked out
    assert "The store has changed since these figures were worked out" in stale
    assert '<a href="/queue">Show the new figures</a>' in stale
    assert client.app.state.console.review.wait_idle()  # type: ignore[attr-defined]
    fresh = client.get("/queue").text
    assert "approval void" in fresh and "The store has changed" not in fresh


def test_user_add_reads_the_password_from_stdin(
    setup: tuple[Path, TestClient, Store], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, client, store = setup
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    assert (
        main(["--config", str(config), "user", "add", "olga", "--role", "viewer"], clock=clock) == 0
    )
    user = store.console_user("olga")
    assert user is not None and user.role == "viewer"
    assert "a long enough secret" not in user.password_hash
    login(client, "olga", "a long enough secret")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert (
        main(["--config", str(config), "user", "add", "olga", "--role", "admin"], clock=clock) == 2
    )


def test_off_loopback_without_tls_is_warned() -> None:
    assert exposure_warning("127.0.0.1", tls=False) is None
    assert exposure_warning("::1", tls=False) is None
    assert exposure_warning("0.0.0.0", tls=True) is None
    warning = exposure_warning("0.0.0.0", tls=False)
    assert warning and "WITHOUT TLS" in warning


def test_send_now_pushes_the_approved_letter_at_once(
    setup: tuple[Path, TestClient, Store], clock: Clock
) -> None:
    _, client, store = setup
    csrf = login(client, "alf")
    tenant = client.app.state.console.config.tenants[0]  # type: ignore[attr-defined]
    letter = letters(tenant, store, clock.today())[0]
    client.post("/queue/decide", data={"csrf": csrf, "decision": "approve", "letter": letter.id})
    sent = client.post("/queue/send", data={"csrf": csrf, "tenant": "fjord"})
    assert sent.status_code == 200 and "1 done" in sent.text
    done = {e.action.action_tail for e in store.journal("fjord", states=(ActionState.DONE,))}
    assert done == {ln.action.action_tail for ln in letter.lines}
    after = {m.id: m.state for m in letters(tenant, store, clock.today())}
    assert letter.id not in after  # sent: no longer planned


def test_skip_takes_a_letter_out_of_the_push_and_hold_out_of_the_plan(
    setup: tuple[Path, TestClient, Store], clock: Clock
) -> None:
    _, client, store = setup
    csrf = login(client, "ada")
    tenant = client.app.state.console.config.tenants[0]  # type: ignore[attr-defined]
    first, second = letters(tenant, store, clock.today())[:2]
    client.post("/queue/decide", data={"csrf": csrf, "decision": "skip", "letter": first.id})
    client.post("/queue/decide", data={"csrf": csrf, "decision": "hold", "letter": second.id})
    after = {m.id: m.state for m in letters(tenant, store, clock.today())}
    assert after[first.id] == "skipped"
    assert second.id not in after
    holds = [n for n in store.notes("fjord") if n.kind.value == "do_not_remind"]
    assert {n.invoice_id for n in holds} == {ln.action.invoice_id for ln in second.lines}
    assert all(n.author == "ada" for n in holds)


def test_each_user_reads_the_console_in_their_language_legal_terms_kept(
    setup: tuple[Path, TestClient, Store],
) -> None:
    _, client, store = setup
    csrf = login(client, "alf")
    assert "Review queue" in client.get("/queue").text
    client.post("/me/language", data={"csrf": csrf, "language": "nb", "back": "/queue"})
    page = client.get("/queue").text
    assert 'lang="nb"' in page and "Godkjenningskø" in page and "Godkjenn" in page
    assert "purring" in page  # the legal term stays as the law names it
    user = store.console_user("alf")
    assert user is not None and user.language == "nb"
    client.post("/me/language", data={"csrf": csrf, "language": "sv"})
    assert "Granskningskö" in client.get("/queue").text
    client.post("/me/language", data={"csrf": csrf, "language": "xx"})  # unknown: ignored
    assert store.console_user("alf").language == "sv"  # type: ignore[union-attr]


def test_redirects_stay_on_the_site(setup: tuple[Path, TestClient, Store]) -> None:
    _, client, _ = setup
    csrf = login(client, "alf")
    for back in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
        response = client.post(
            "/me/language",
            data={"csrf": csrf, "language": "en", "back": back},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"


def test_the_console_beside_the_daemon_serves_on_loopback(
    setup: tuple[Path, TestClient, Store], clock: Clock
) -> None:
    import socket

    import requests

    from connector.config import load_config
    from connector.console.serve import start_in_thread

    config, _, store = setup
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    stop = start_in_thread(load_config(config), store, clock, port=port)
    try:
        for _ in range(100):
            try:
                page = requests.get(f"http://127.0.0.1:{port}/login", timeout=5)
                break
            except requests.ConnectionError:
                threading_wait(0.05)
        assert page.status_code == 200 and 'name="password"' in page.text
        assert "server" not in {k.lower() for k in page.headers}
    finally:
        stop()


def threading_wait(seconds: float) -> None:
    import threading

    threading.Event().wait(seconds)


def test_a_failed_action_is_retried_from_the_actions_page(
    setup: tuple[Path, TestClient, Store], clock: Clock
) -> None:
    _, client, store = setup
    tenant = client.app.state.console.config.tenants[0]  # type: ignore[attr-defined]
    action = letters(tenant, store, clock.today())[0].lines[0].action
    assert store.journal_begin(action)
    store.journal_finish(action.idempotency_key, ActionState.FAILED, message="422 refused")
    csrf = login(client, "vera")
    page = client.get("/actions").text
    assert "422 refused" in page and "/actions/retry" not in page  # a viewer cannot retry
    refused = client.post(
        "/actions/retry", data={"csrf": csrf, "tenant": "fjord", "key": action.idempotency_key}
    )
    assert refused.status_code == 403
    client.post("/logout", data={"csrf": csrf})
    csrf = login(client, "alf")
    client.post(
        "/actions/retry", data={"csrf": csrf, "tenant": "fjord", "key": action.idempotency_key}
    )
    states = {e.action.idempotency_key: e.state for e in store.journal("fjord")}
    assert states[action.idempotency_key] is ActionState.PENDING


def test_a_tenant_overview_shows_collection_rate_and_dso(
    setup: tuple[Path, TestClient, Store], clock: Clock
) -> None:
    _, client, store = setup
    login(client, "vera")
    page = client.get("/t/fjord").text
    assert "Collection rate by month of issue" in page and "DSO, last 90 days" in page
    assert re.search(r"\d+\.\d %", page)  # a collected share
    (snapshot,) = [  # the setup's sync wrote it
        r for r in store.month_end_receivables("fjord", clock.today()) if r["currency"] == "NOK"
    ]
    dso = Decimal(snapshot["open_units"]) / Decimal(snapshot["invoiced_90d_units"]) * 90
    month = clock.today().isoformat()[:7]
    row = f"<tr><td>{month}</td><td class=\"num\">{dso.quantize(Decimal(1))} days (NOK)</td>"
    assert "DSO by month" in page and row in page
    assert "Collection rate" not in client.get("/").text  # only on one tenant's overview


def test_a_letter_held_while_the_plan_is_stale_is_gone_at_once(
    setup: tuple[Path, TestClient, Store], clock: Clock
) -> None:
    """The hold's note changes the store, so the queue is served from the plan before it while
    the new one is worked out; the held letter is not shown on it even so."""
    _, client, store = setup
    csrf = login(client, "alf")
    first_view = client.get("/queue").text
    console = client.app.state.console  # type: ignore[attr-defined]
    tenant = console.config.tenants[0]
    held, kept = letters(tenant, store, clock.today())[:2]
    assert f'value="{held.id}"' in first_view and "The store has changed" not in first_view
    gate, work_out = threading.Event(), console.review.plans.compute
    console.review.plans.compute = lambda *a: (gate.wait(30), work_out(*a))[1]  # a slow plan
    client.post("/queue/decide", data={"csrf": csrf, "decision": "hold", "letter": held.id})
    stale = client.get("/queue").text
    assert "The store has changed since these figures were worked out" in stale
    assert f'value="{held.id}"' not in stale and f'value="{kept.id}"' in stale
    gate.set()
    assert console.review.wait_idle()
    fresh = client.get("/queue").text
    assert f'value="{held.id}"' not in fresh and "The store has changed" not in fresh


def test_data_quality_links_each_customer_finding_to_its_record_in_fiken(
    setup: tuple[Path, TestClient, Store],
) -> None:
    config, client, store = setup
    login(client, "vera")
    page = client.get("/quality").text
    company = client.app.state.console.config.tenants[0].company  # type: ignore[attr-defined]
    linked = set(re.findall(rf'href="https://fiken.no/foretak/{company}/kontakter/kontakt/([^"]+)"', page))
    with_customer = {f["customer_id"] for f in store.finding_rows("fjord") if f["customer_id"]}
    assert linked and linked == with_customer


def test_a_first_look_before_the_plan_is_ready_says_so_instead_of_waiting(
    tmp_path: Path, sandbox: FikenSandbox, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A console just started (its warm-up still running): the queue and the trends say they
    are being worked out, at once; once they are, the next look shows them."""
    monkeypatch.chdir(tmp_path)
    config = approve_config(tmp_path, sandbox, monkeypatch)
    assert main(["--config", str(config), "sync"], clock=clock) == 0
    console, store = console_for(config, clock, warm=False)
    gate, work_out = threading.Event(), console.review.plans.compute
    console.review.plans.compute = lambda *a: (gate.wait(30), work_out(*a))[1]  # a slow plan
    client = TestClient(build_app(console))
    login(client, "vera")
    first = client.get("/queue").text
    assert "The review queue is being worked out" in first and 'name="letter"' not in first
    assert "being worked out" in client.get("/t/fjord").text
    gate.set()
    assert console.review.wait_idle()
    ready = client.get("/queue").text
    assert "being worked out" not in ready and 'name="letter"' in ready
    assert "DSO by month" in client.get("/t/fjord").text


def test_a_plan_that_cannot_be_worked_out_is_an_error_not_forever_being_worked_out(
    tmp_path: Path, sandbox: FikenSandbox, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = approve_config(tmp_path, sandbox, monkeypatch)
    assert main(["--config", str(config), "sync"], clock=clock) == 0
    console, _ = console_for(config, clock, warm=False)

    def broken(*_: object) -> list[object]:
        raise RuntimeError("the store went away")

    console.review.plans.compute = broken
    client = TestClient(build_app(console), raise_server_exceptions=False)
    login(client, "vera")
    assert "being worked out" in client.get("/queue").text
    assert console.review.wait_idle()
    after = client.get("/queue")
    assert after.status_code == 500 and "being worked out" not in after.text


def test_an_invoice_page_shows_its_facts_and_takes_a_promise_that_drops_it_from_the_plan(
    setup: tuple[Path, TestClient, Store], clock: Clock
) -> None:
    _, client, store = setup
    csrf = login(client, "alf")
    tenant = client.app.state.console.config.tenants[0]  # type: ignore[attr-defined]
    line = letters(tenant, store, clock.today())[0].lines[0]
    invoice = store.invoice("fjord", line.action.invoice_id)
    assert invoice is not None and invoice.customer_id
    url = f"/t/fjord/invoices/{invoice.provider_id}"
    assert url in client.get("/queue").text  # the queue links each invoice
    page = client.get(url).text
    assert f"Invoice {invoice.number}" in page
    assert f'href="/t/fjord/customers/{invoice.customer_id}"' in page
    assert f'<input type="hidden" name="invoice" value="{invoice.provider_id}">' in page
    assert f'<input type="hidden" name="back" value="{url}">' in page
    promised = client.post(
        f"/t/fjord/customers/{invoice.customer_id}/notes",
        data={
            "csrf": csrf,
            "invoice": invoice.provider_id,
            "kind": "promise",
            "until": (clock.today() + timedelta(days=7)).isoformat(),
            "text": "betaler fredag",
            "back": url,
        },
    )
    assert promised.url.path == url and "betaler fredag" in promised.text
    planned = {ln.action.invoice_id for m in letters(tenant, store, clock.today()) for ln in m.lines}
    assert invoice.provider_id not in planned
    assert client.get("/t/fjord/invoices/no-such").status_code == 404
