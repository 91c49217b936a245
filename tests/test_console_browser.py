"""The console driven as a person uses it: real headless Chromium (Debian's, through Playwright)
against the console served by uvicorn on 127.0.0.1, the Fiken sandbox behind it.

Screenshots of each page (1280×800) go to tests/artifacts/console/ (not committed)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from console_support import PASSWORD, approve_config, console_for

from connector.cli import main
from connector.clock import Clock
from connector.config import load_config
from connector.console.app import build_app
from connector.cycle.plan import plan_tenant
from connector.models import ActionState
from connector.store import Store
from providers.fiken.sandbox import FikenSandbox

pytestmark = pytest.mark.e2e
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts" / "console"

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)",
        allow_module_level=True,
    )


class Served:
    """The console under uvicorn in a thread, on a free port of 127.0.0.1."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> Served:
        self.thread.start()
        started = threading.Event()
        for _ in range(200):
            if self.server.started:
                break
            started.wait(0.05)
        assert self.server.started, "the console did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def console(
    tmp_path: Path, sandbox: FikenSandbox, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Served, Path, Store]]:
    monkeypatch.chdir(tmp_path)
    config = approve_config(tmp_path, sandbox, monkeypatch)
    assert main(["--config", str(config), "sync"], clock=clock) == 0
    app_console, store = console_for(config, clock)
    with Served(build_app(app_console)) as served:
        yield served, config, store


@pytest.fixture
def page(console: tuple[Served, Path, Store]) -> Iterator[Any]:
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        yield context.new_page()
        browser.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def log_in(page: Any, url: str, name: str = "alf") -> None:
    page.goto(url + "/")
    assert page.url.endswith("/login")
    shot(page, "01-login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    assert page.locator("header.top").inner_text().count(name) == 1


def test_approve_two_hold_one_and_the_next_cycle_pushes_exactly_the_two(
    console: tuple[Served, Path, Store], page: Any, clock: Clock
) -> None:
    served, config, store = console
    log_in(page, served.url)
    shot(page, "02-overview")
    page.goto(served.url + "/queue")
    shot(page, "03-queue")
    boxes = page.locator("input[name=letter]")
    assert boxes.count() >= 3
    ids = [boxes.nth(i).get_attribute("value") for i in range(3)]
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("button[value=approve]")
    page.wait_for_url(served.url + "/queue")
    page.locator(f"input[name=letter][value='{ids[2]}']").check()
    page.click("button[value=hold]")
    page.wait_for_url(served.url + "/queue")
    shot(page, "04-queue-decided")
    assert page.locator("text=approved").count() >= 2

    latest = store.latest_decisions("fjord")
    approved = {k for k, d in latest.items() if d.decision == "approved"}
    held = {k for k, d in latest.items() if d.decision == "held"}
    assert approved and held and {d.author for d in latest.values()} == {"alf"}

    assert main(["--config", str(config), "sync"], clock=clock) == 0
    done = {e.action.action_tail for e in store.journal("fjord", states=(ActionState.DONE,))}
    assert done == {":".join(k.rsplit(":", 3)[-3:]) for k in approved}
    page.goto(served.url + "/actions")
    shot(page, "07-actions")
    assert page.locator("table tbody tr").first.is_visible()


def test_a_promise_from_the_customer_page_drops_the_invoice_from_the_plan(
    console: tuple[Served, Path, Store], page: Any, clock: Clock
) -> None:
    served, config, store = console
    tenant = load_config(config).tenants[0]
    planned = [d.action for d in plan_tenant(tenant, store, clock.today()) if d.action]
    target = planned[0]
    log_in(page, served.url)
    page.goto(served.url + "/customers")
    shot(page, "05-customers")
    page.goto(f"{served.url}/t/fjord/customers/{target.customer_id}")
    page.select_option("#kind", "promise")
    page.select_option("#invoice", target.invoice_id)
    page.fill("#until", (clock.today() + timedelta(days=10)).isoformat())
    page.fill("input[name=text]", "Called; will pay within ten days")
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"{served.url}/t/fjord/customers/{target.customer_id}")
    shot(page, "06-customer")
    assert "Called; will pay within ten days" in page.content()
    notes = [n for n in store.notes("fjord") if n.invoice_id == target.invoice_id]
    assert notes and notes[-1].author == "alf" and notes[-1].kind.value == "promise"
    after = {d.invoice.provider_id: d for d in plan_tenant(tenant, store, clock.today())}
    assert after[target.invoice_id].action is None
    for name, path in (
        ("08-quality", "/quality"),
        ("09-holds", "/holds"),
        ("11-tenant", "/t/fjord"),
        ("12-invoice", f"/t/fjord/invoices/{target.invoice_id}"),
    ):
        page.goto(served.url + path)
        shot(page, name)
    report = config.parent / "report.html"
    assert (
        main(
            ["--config", str(config), "report", "--format", "html", "--output", str(report)],
            clock=clock,
        )
        == 0
    )
    page.screenshot(path=str(ARTIFACTS / "11-tenant-full.png"), full_page=True)
    page.goto(report.as_uri())
    shot(page, "10-printed-report")
    assert page.locator("table.customers").count() == 1
