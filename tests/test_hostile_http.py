"""Hostile servers: redirects to other origins, repeated ids, paging loops, dripping answers.

Real HTTP on 127.0.0.1 where the socket matters (redirects, the deadline); ``responses`` where
only the answers do (paging). Before issue 12: a redirect to another port was followed and its
data replaced 230 stored rows; duplicate ids across pages overwrote 5 rows; a page count of 10⁶
ran 288 requests until killed; a server dripping a byte every 5 s held one request past 150 s.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import responses
from hostile_support import BASE, COMPANY, TODAY, contact, provider, pull_fiken, serve_pages

from connector.clock import Clock
from connector.store import SqliteStore
from providers.http import HttpClient, ProtocolError, RedirectRefused, RetryPolicy, TransportError


@pytest.fixture
def clock() -> Clock:
    return Clock.starting_at(TODAY)


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> SqliteStore:
    return SqliteStore(str(tmp_path / "state.db"), clock)


# --- a tiny programmable server ------------------------------------------------------------------


class Server:
    """An HTTP server on 127.0.0.1 answering GETs with ``answer(path) -> (status, headers,
    body)`` and counting what it received."""

    def __init__(self, answer: Callable[[str], tuple[int, dict[str, str], bytes]]) -> None:
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                server.hits.append(self.path)
                status, headers, body = answer(self.path)
                self.send_response(status)
                for k, v in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for s in started:
        s.stop()


def client(base_url: str, **kwargs: Any) -> HttpClient:
    return HttpClient(
        provider="fiken",
        base_url=base_url,
        retry=RetryPolicy(max_tries=1),
        sleep=lambda _s: None,
        **kwargs,
    )


# --- redirects -------------------------------------------------------------------------------


PAGE_HEADERS = {"Fiken-Api-Page-Count": "1", "Fiken-Api-Result-Count": "1"}


def test_a_redirect_to_another_port_is_not_followed(servers: list[Server]) -> None:
    other = Server(lambda _p: (200, {"Content-Type": "application/json"}, b'[{"forged": 1}]'))
    servers.append(other)
    first = Server(lambda p: (302, {"Location": f"{other.url}{p}"}, b""))
    servers.append(first)
    with pytest.raises(RedirectRefused) as err:
        client(first.url).get_json("/companies/x/contacts")
    assert "another origin" in str(err.value) and err.value.status == 302
    assert other.hits == []  # nothing was asked of the other origin


def test_a_redirect_to_another_host_is_not_followed(servers: list[Server]) -> None:
    first = Server(lambda p: (307, {"Location": f"https://evil.example{p}"}, b""))
    servers.append(first)
    with pytest.raises(RedirectRefused) as err:
        client(first.url).get_json("/x")
    assert "evil.example" in str(err.value)


def test_a_redirect_within_the_same_origin_is_followed_for_reads(servers: list[Server]) -> None:
    def answer(path: str) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("/old"):
            return 301, {"Location": "/new/contacts"}, b""
        return 200, {"Content-Type": "application/json"}, b'{"ok": true}'

    s = Server(answer)
    servers.append(s)
    assert client(s.url).get_json("/old/contacts") == {"ok": True}
    assert s.hits == ["/old/contacts", "/new/contacts"]


def test_a_redirected_pull_leaves_the_stored_rows_alone(
    servers: list[Server], store: SqliteStore, clock: Clock
) -> None:
    assert pull_fiken(store, clock, [[contact(n, name=f"Kunde {n} AS") for n in range(1, 6)]]).ok
    forged = json.dumps([contact(n, name="FORGED") for n in range(1, 6)]).encode()
    other = Server(lambda _p: (200, {"Content-Type": "application/json", **PAGE_HEADERS}, forged))
    servers.append(other)
    first = Server(lambda p: (302, {"Location": f"{other.url}{p}"}, b""))
    servers.append(first)
    from hostile_support import tenant

    from connector.cycle.pull import pull
    from providers.fiken.adapter import FikenProvider
    from providers.fiken.client import FikenClient

    p = FikenProvider(FikenClient(client(first.url), COMPANY), today=clock.today)
    result = pull(tenant(), p, store, clock=clock)
    assert not result.ok and "another origin" in (result.error or "")
    assert {c.name for c in store.customers("fjord")} == {f"Kunde {n} AS" for n in range(1, 6)}
    assert other.hits == []


# --- repeated ids and paging loops -------------------------------------------------------------


def full_page(start: int, **changes: Any) -> list[dict[str, Any]]:
    return [contact(n, name=f"Kunde {n} AS", **changes) for n in range(start, start + 100)]


def test_ids_repeated_across_pages_fail_the_pull_and_overwrite_nothing(
    store: SqliteStore, clock: Clock
) -> None:
    assert pull_fiken(store, clock, [full_page(1), full_page(101)]).ok
    cursor = store.get_cursor("fjord", "customers")
    clock.advance(timedelta(hours=1))
    first, second = full_page(1), full_page(101)
    second[-5:] = [contact(n, name="OVERWRITTEN") for n in range(1, 6)]  # ids 1-5 again
    result = pull_fiken(store, clock, [first, second])
    assert not result.ok
    assert "customer 1 was listed twice in one pull" in (result.error or "")
    names = {c.provider_id: c.name for c in store.customers("fjord")}
    assert all(names[str(n)] == f"Kunde {n} AS" for n in range(1, 6))
    assert "OVERWRITTEN" not in names.values()
    assert store.get_cursor("fjord", "customers") == cursor  # the next cycle asks again


def test_the_same_page_twice_is_a_paging_loop(store: SqliteStore, clock: Clock) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        page = json.dumps(full_page(1))
        rsps.get(
            f"{BASE}/companies/{COMPANY}/contacts",
            body=page,
            headers={"Fiken-Api-Page-Count": "3", "Fiken-Api-Result-Count": "300"},
        )
        p = provider(clock)
        with pytest.raises(ProtocolError) as err:
            list(p.client.contacts({}))
    assert "page 1 repeats page 0" in str(err.value)
    assert p.requests_sent == 2


@pytest.mark.parametrize(
    ("pages", "rows", "says"),
    [
        (1000, 100, "announces 1000 pages for 100 rows"),
        (10**6, 10**8, "more than kravsync reads in one listing"),
        (5, -1, "announces -1 rows"),
    ],
)
def test_more_pages_than_the_total_allows_stops_at_the_first_page(
    clock: Clock, pages: int, rows: int, says: str
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_pages(rsps, "contacts", [full_page(1)], page_count=pages, total=rows)
        p = provider(clock)
        with pytest.raises(ProtocolError) as err:
            list(p.client.contacts({}))
    assert says in str(err.value)
    assert p.requests_sent == 1


def test_a_page_count_that_grows_mid_pull_fails_it(clock: Clock) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for number, count in ((0, "2"), (1, "3")):
            rsps.get(
                f"{BASE}/companies/{COMPANY}/contacts",
                body=json.dumps(full_page(1 + 100 * number)),
                headers={"Fiken-Api-Page-Count": count, "Fiken-Api-Result-Count": "200"},
                match=[responses.matchers.query_param_matcher({"page": str(number)}, strict_match=False)],
            )
        p = provider(clock)
        with pytest.raises(ProtocolError) as err:
            list(p.client.contacts({}))
    assert "the listing changed while it was read" in str(err.value)


def test_a_page_longer_than_the_page_size_is_refused(clock: Clock) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_pages(rsps, "contacts", [full_page(1) + full_page(101)])
        p = provider(clock)
        with pytest.raises(ProtocolError) as err:
            list(p.client.contacts({}))
    assert "more than the page size 100" in str(err.value)


# --- a total deadline per request ------------------------------------------------------------------


class Dripper:
    """A raw TCP server that answers one byte at a time, ``gap`` seconds apart: the status line
    and headers (``phase="headers"``) or, after prompt headers, the body (``phase="body"``)."""

    def __init__(self, phase: str, gap: float = 0.2, size: int = 2000) -> None:
        self.sent = 0
        self.size = size
        self.done = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        body = b"[" + b" " * (size - 2) + b"]"
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
        self.prompt, self.drip = (b"", head.encode() + body) if phase == "headers" else (
            head.encode(), body
        )
        self.gap = gap
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.recv(65536)
            try:
                conn.sendall(self.prompt)
                for i in range(len(self.drip)):
                    if self.done.wait(self.gap):
                        return
                    conn.sendall(self.drip[i : i + 1])
                    self.sent += 1
            except OSError:  # the client cut the connection: what the deadline is for
                return

    def stop(self) -> None:
        self.done.set()
        self.listener.close()


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_server_dripping_bytes_is_cut_off_at_the_deadline(phase: str) -> None:
    dripper = Dripper(phase)
    try:
        # The read timeout (2 s) never fires: a byte comes every 0.2 s. Only the total
        # deadline can end this request, which would otherwise take 400 s.
        http = client(dripper.url, timeout=(2.0, 2.0), deadline=1.0)
        started = time.monotonic()
        with pytest.raises(TransportError) as err:
            http.get_json("/companies/x/contacts")
        elapsed = time.monotonic() - started
    finally:
        dripper.stop()
    assert "within the 1 s deadline" in str(err.value)
    assert dripper.sent < dripper.size  # cut off long before the answer was complete
    assert elapsed < 30  # (400 s without the deadline)


def test_the_deadline_does_not_cut_a_prompt_answer(servers: list[Server]) -> None:
    s = Server(lambda _p: (200, {"Content-Type": "application/json"}, b"[1, 2, 3]"))
    servers.append(s)
    http = client(s.url, deadline=5.0)
    for _ in range(5):  # kept-alive connections are reused under fresh deadlines
        assert http.get_json("/x") == [1, 2, 3]
