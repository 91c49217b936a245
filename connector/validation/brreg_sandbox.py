"""A local double of Brønnøysund's ``GET /enheter/{orgnr}`` (shared/specs/brreg-…-openapi.json).

Entries are org number → status (or a dict with ``status`` plus ``Enhet`` fields to override):

``active`` 200 · ``bankrupt`` 200 with ``konkurs`` · ``dissolving`` 200 with ``underAvvikling``
· ``forced_dissolution`` 200 with ``underTvangsavviklingEllerTvangsopplosning`` · ``struck_off``
200 with ``slettedato`` · ``deleted`` 410 · ``not_found`` 404 (also any number not listed, unless
``unknown`` says otherwise). A 200 is ``application/json``, or the spec's
``application/vnd.enhetsregisteret.enhet.v1+json`` when the client asks for that.

>>> sandbox = BrregSandbox(entries={"923609016": "bankrupt"}).start()
>>> import requests
>>> requests.get(f"{sandbox.base_url}/enheter/923609016").json()["konkurs"]
True
>>> requests.get(f"{sandbox.base_url}/enheter/912345009").status_code
404
>>> sandbox.stop()
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

STATUSES = (
    "active",
    "bankrupt",
    "dissolving",
    "forced_dissolution",
    "struck_off",
    "deleted",
    "not_found",
)
VENDOR_TYPE = "application/vnd.enhetsregisteret.enhet.v1+json"

Entry = str | Mapping[str, Any]

# The org numbers of the Fiken sandbox (providers/fiken/sandbox/seed.py: the tenant company and its demo
# contacts) and three large, real companies. One each is bankrupt, dissolving and deleted.
DEFAULT_ENTRIES: dict[str, Entry] = {
    "906400421": {"status": "active", "navn": "NORDLYS REGNSKAP AS"},
    "963471696": {"status": "active", "navn": "ÆRLIG BAKERI AS"},
    "939068287": {"status": "active", "navn": "ØVRE SMØRÅS GÅRDSBUTIKK", "form": "ENK"},
    "803060568": {"status": "active", "navn": "SJØBRIS MARINA AS"},
    "940068738": {"status": "active", "navn": "KÅRSTAD ELEKTRO AS"},
    "921464320": {"status": "active", "navn": "FJORDLYS CATERING AS"},
    "984212844": {"status": "active", "navn": "GRØNLI RØR AS"},
    "965803289": {"status": "bankrupt", "navn": "GAMLE ØYEN TRELAST AS"},
    "930808067": {"status": "deleted", "navn": "NORDISK KONTORREKVISITA AS"},
    "977406323": {"status": "active", "navn": "VÅGEN BRYGGERI AS"},
    "944244972": {"status": "active", "navn": "MÅLØY SJØMAT AS"},
    "968184024": {"status": "active", "navn": "LILLESTRØM SYKKELVERKSTED AS"},
    "982236649": {"status": "dissolving", "navn": "KVITFJELL HYTTEUTLEIE AS"},
    "923609016": {"status": "active", "navn": "EQUINOR ASA", "form": "ASA"},
    "984851006": {"status": "active", "navn": "DNB BANK ASA", "form": "ASA"},
    "976820479": {"status": "active", "navn": "TELENOR ASA", "form": "ASA"},
    "912345009": {"status": "struck_off", "navn": "NEDLAGT HANDEL AS"},
}

_FORMS = {
    "AS": "Aksjeselskap",
    "ASA": "Allmennaksjeselskap",
    "ENK": "Enkeltpersonforetak",
    "DA": "Ansvarlig selskap med delt ansvar",
}
_PATH = re.compile(r"^/enheter/([^/?#]+)/?(?:\?.*)?$")


class BrregSandbox:
    def __init__(
        self,
        port: int = 0,
        entries: Mapping[str, Entry] | None = None,
        *,
        unknown: str = "not_found",
        host: str = "127.0.0.1",
    ) -> None:
        self._entries: dict[str, Entry] = dict(DEFAULT_ENTRIES if entries is None else entries)
        for entry in self._entries.values():
            _check_status(_status_of(entry))
        self.unknown = _check_status(unknown)
        self.fail_with: int | None = None  # e.g. 503: every request answers that
        self.requests: list[str] = []  # org numbers asked for, in order
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> BrregSandbox:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> BrregSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set(self, orgnr: str, entry: Entry) -> None:
        """Change what the register says about ``orgnr`` (e.g. it went bankrupt)."""
        _check_status(_status_of(entry))
        with self._lock:
            self._entries[orgnr] = entry

    def enhet(self, orgnr: str) -> tuple[int, dict[str, Any] | None]:
        """(HTTP status, body) for ``orgnr``, as the server answers it."""
        with self._lock:
            entry = self._entries.get(orgnr, self.unknown)
        status = _status_of(entry)
        if not re.fullmatch(r"\d{9}", orgnr):
            return 400, _error(400, "Bad Request", f"Ugyldig organisasjonsnummer: {orgnr}")
        if status == "not_found":
            return 404, _error(
                404, "Not Found", f"Enhet med organisasjonsnummer {orgnr} finnes ikke"
            )
        if status == "deleted":
            return 410, _error(410, "Gone", f"Enhet med organisasjonsnummer {orgnr} er fjernet")
        extra = dict(entry) if isinstance(entry, Mapping) else {}
        form = str(extra.pop("form", "AS"))
        extra.pop("status", None)
        body: dict[str, Any] = {
            "organisasjonsnummer": orgnr,
            "navn": f"ENHET {orgnr} AS",
            "organisasjonsform": {
                "kode": form,
                "beskrivelse": _FORMS.get(form, form),
                "_links": {"self": {"href": f"{self.base_url}/organisasjonsformer/{form}"}},
            },
            "registreringsdatoEnhetsregisteret": "2005-03-14",
            "registrertIMvaregisteret": True,
            "naeringskode1": {"kode": "47.190", "beskrivelse": "Butikkhandel med bredt vareutvalg"},
            "antallAnsatte": 12,
            "stiftelsedato": "2005-02-01",
            "institusjonellSektorkode": {
                "kode": "2100",
                "beskrivelse": "Private aksjeselskaper mv.",
            },
            "registrertIForetaksregisteret": True,
            "registrertIStiftelsesregisteret": False,
            "registrertIFrivillighetsregisteret": False,
            "sisteInnsendteAarsregnskap": "2024",
            "konkurs": status == "bankrupt",
            "underAvvikling": status == "dissolving",
            "underTvangsavviklingEllerTvangsopplosning": status == "forced_dissolution",
            "maalform": "Bokmål",
            "_links": {"self": {"href": f"{self.base_url}/enheter/{orgnr}"}},
        }
        if status == "struck_off":
            body["slettedato"] = "2024-06-30"
        body.update(extra)
        return 200, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                match = _PATH.match(self.path)
                if match is None:
                    self._send(404, _error(404, "Not Found", "Ukjent ressurs"), "application/json")
                    return
                orgnr = match.group(1)
                with sandbox._lock:
                    sandbox.requests.append(orgnr)
                    fail = sandbox.fail_with
                if fail is not None:
                    self._send(fail, _error(fail, "Service Unavailable", "Prøv igjen senere"))
                    return
                status, body = sandbox.enhet(orgnr)
                accept = self.headers.get("Accept") or ""
                ctype = VENDOR_TYPE if status == 200 and VENDOR_TYPE in accept else None
                self._send(status, body, ctype or "application/json")

            def _send(self, status: int, body: Any, ctype: str = "application/json") -> None:
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", f"{ctype};charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _status_of(entry: Entry) -> str:
    return str(entry.get("status", "active")) if isinstance(entry, Mapping) else entry


def _check_status(status: str) -> str:
    if status not in STATUSES:
        raise ValueError(f"unknown register status {status!r} (known: {', '.join(STATUSES)})")
    return status


def _error(status: int, error: str, message: str) -> dict[str, Any]:
    return {"status": status, "error": error, "message": message}
