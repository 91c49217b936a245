"""Postcodes: format per country, and Norway's postcode ↔ place register from Bring.

Bring publishes the register at :data:`BRING_URL`: tab-separated, Windows-1252, CRLF lines, one
row per postcode: postcode, place, municipality number, municipality, category (G street, P
post boxes, B both, F several uses, S service codes). It is fetched at most once per TTL and kept
in the user cache dir; a small extract in the same format ships with the package
(:func:`fixture_register`) for tests and the sandbox. That extract is marked incomplete, so a
postcode missing from it is not reported as unknown.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path

from stdnum.se import postnummer as _se_postnummer

from connector.clock import host_time

BRING_URL = "https://www.bring.no/postnummerregister-ansi.txt"
FIXTURE = "postnummerregister-fixture.txt"
CACHE_FILE = "postnummerregister-ansi.txt"
DEFAULT_TTL = timedelta(days=7)
UNAVAILABLE_NOTE = "postcode register unavailable: city/postcode not checked"

# Postcode formats, Nordics and EU (UPU / national post offices); the pattern applies to the
# postcode with an optional "CC-" prefix removed. Countries not listed are not checked.
POSTCODE_FORMATS: dict[str, tuple[str, str]] = {
    # country: (regex, example)
    "NO": (r"\d{4}", "0150"),
    "SE": (r"[1-9]\d{2} ?\d{2}", "114 18"),  # checked with stdnum.se.postnummer
    "DK": (r"\d{4}", "1050"),
    "FI": (r"\d{5}", "00100"),
    "AX": (r"22\d{3}", "22100"),
    "IS": (r"\d{3}", "101"),
    "FO": (r"\d{3}", "100"),
    "GL": (r"39\d{2}", "3900"),
    "DE": (r"\d{5}", "10115"),
    "FR": (r"\d{5}", "75001"),
    "IT": (r"\d{5}", "00184"),
    "ES": (r"\d{5}", "28001"),
    "PT": (r"\d{4}-\d{3}", "1000-001"),
    "NL": (r"[1-9]\d{3} ?[A-Z]{2}", "1011 AB"),
    "BE": (r"\d{4}", "1000"),
    "LU": (r"\d{4}", "1111"),
    "AT": (r"\d{4}", "1010"),
    "CH": (r"\d{4}", "8001"),
    "LI": (r"94\d{2}", "9490"),
    "PL": (r"\d{2}-\d{3}", "00-950"),
    "CZ": (r"\d{3} ?\d{2}", "110 00"),
    "SK": (r"\d{3} ?\d{2}", "811 01"),
    "HU": (r"\d{4}", "1011"),
    "SI": (r"\d{4}", "1000"),
    "HR": (r"\d{5}", "10000"),
    "RO": (r"\d{6}", "010011"),
    "BG": (r"\d{4}", "1000"),
    "GR": (r"\d{3} ?\d{2}", "105 57"),
    "CY": (r"\d{4}", "1010"),
    "MT": (r"[A-Z]{3} ?\d{4}", "VLT 1117"),
    "EE": (r"\d{5}", "10111"),
    "LV": (r"(LV-)?\d{4}", "LV-1050"),
    "LT": (r"(LT-)?\d{5}", "LT-01100"),
    "IE": (r"([AC-FHKNPRTV-Y]\d{2}|D6W) ?[0-9AC-FHKNPRTV-Y]{4}", "D02 X285"),  # Eircode
    "GB": (r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}", "SW1A 1AA"),
}
_FORMATS = {cc: re.compile(rx) for cc, (rx, _) in POSTCODE_FORMATS.items()}
_PREFIX = re.compile(r"^([A-Z]{1,2})-\s*")


@lru_cache(maxsize=65536)  # postcodes repeat across customers; their number is bounded
def postcode_format_ok(postcode: str, country: str) -> bool | None:
    """Whether ``postcode`` has the form used in ``country``; None when that is not known.

    >>> postcode_format_ok('0150', 'NO'), postcode_format_ok('150', 'NO')
    (True, False)
    >>> postcode_format_ok('SE-114 18', 'SE'), postcode_format_ok('014 18', 'SE')
    (True, False)
    >>> postcode_format_ok('12345', 'US') is None
    True
    """
    pattern = _FORMATS.get(country)
    if pattern is None:
        return None
    text = postcode.strip().upper()
    if country == "SE":
        return _se_postnummer.is_valid(text)
    if country not in ("LV", "LT"):
        text = _PREFIX.sub("", text)
    return pattern.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class PostcodeEntry:
    postcode: str
    place: str
    municipality_number: str
    municipality: str
    category: str


_ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "é": "e"})


def _fold(text: str) -> str:
    """Case-, hyphen- and spacing-insensitive key."""
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(text.replace("-", " ").split())


def _ascii(text: str) -> str:
    """How æøå come out on keyboards without them: "Tromso", "Aalesund", "Forde"."""
    return text.replace("aa", "a").replace("oe", "o").translate(_ASCII)


class PostcodeRegister:
    """Norwegian postcodes → place. ``complete`` is False for extracts (the shipped fixture)."""

    def __init__(
        self, entries: Mapping[str, PostcodeEntry], *, complete: bool, source: str
    ) -> None:
        self._entries = dict(entries)
        self.complete = complete
        self.source = source
        # (postcode, city) → answer: customers cluster in few places, so this stays small.
        self._matches: dict[tuple[str, str], bool | None] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, postcode: object) -> bool:
        return postcode in self._entries

    def lookup(self, postcode: str) -> PostcodeEntry | None:
        return self._entries.get(postcode.strip())

    def city_matches(self, postcode: str, city: str) -> bool | None:
        """True/False when the register knows ``postcode``; None when it does not.

        "Kristiansand" matches the register's "KRISTIANSAND S" (a one-letter district suffix),
        and "Tromso" or "Aalesund" match "TROMSØ" and "ÅLESUND" (æøå typed without them).
        """
        key = (postcode, city)
        if key not in self._matches:
            if len(self._matches) > 100_000:
                self._matches.clear()
            self._matches[key] = self._city_matches(postcode, city)
        return self._matches[key]

    def _city_matches(self, postcode: str, city: str) -> bool | None:
        entry = self.lookup(postcode)
        if entry is None:
            return None
        place, given = _fold(entry.place), _fold(city)
        head, _, tail = place.rpartition(" ")
        candidates = {place, head} if len(tail) == 1 else {place}
        return given in candidates or _ascii(given) in {_ascii(c) for c in candidates}


def parse_bring(data: bytes) -> dict[str, PostcodeEntry]:
    """Parse Bring's register file (Windows-1252, tab-separated; CRLF or LF)."""
    entries: dict[str, PostcodeEntry] = {}
    for line_no, line in enumerate(data.decode("cp1252").splitlines(), start=1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 5 or not re.fullmatch(r"\d{4}", cols[0].strip()):
            raise ValueError(f"postcode register line {line_no}: unexpected row {line[:60]!r}")
        code, place, mnr, mname, cat = (c.strip() for c in cols[:5])
        entries[code] = PostcodeEntry(code, place, mnr, mname, cat)
    if not entries:
        raise ValueError("postcode register is empty")
    return entries


def fixture_register() -> PostcodeRegister:
    """The extract shipped with kravsync (Fiken sandbox cities and large Norwegian towns)."""
    data = resources.files("connector.validation").joinpath(FIXTURE).read_bytes()
    return PostcodeRegister(parse_bring(data), complete=False, source=f"fixture:{FIXTURE}")


def user_cache_dir(app: str = "kravsync") -> Path:
    """The platform's per-user cache directory (XDG on Linux)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / app / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / app
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / app


def fetch_bring(url: str = BRING_URL, timeout: float = 10.0) -> bytes:
    import requests

    response = requests.get(url, timeout=timeout, headers={"User-Agent": "kravsync"})
    response.raise_for_status()
    return response.content


def load_postcode_register(
    *,
    cache_dir: Path | None = None,
    ttl: timedelta = DEFAULT_TTL,
    fetch: Callable[[], bytes] = fetch_bring,
    now: Callable[[], datetime] = lambda: datetime.fromtimestamp(host_time(), UTC),
) -> PostcodeRegister | None:
    """The register from the cache while younger than ``ttl``, else fetched and cached.

    A failed fetch falls back to a stale cache; with neither it returns None, and validation
    then carries :data:`UNAVAILABLE_NOTE` instead of postcode/city findings. ``fetch`` is
    injectable so that tests never touch the network. The cache's age is host time (the file's
    mtime), not the business clock.
    """
    path = (cache_dir or user_cache_dir()) / CACHE_FILE
    stale: PostcodeRegister | None = None
    if path.exists():
        try:
            age = now() - datetime.fromtimestamp(path.stat().st_mtime, UTC)
            register = PostcodeRegister(
                parse_bring(path.read_bytes()), complete=True, source=str(path)
            )
        except (OSError, ValueError):
            register = None
        if register is not None and age < ttl:
            return register
        stale = register
    try:
        data = fetch()
        entries = parse_bring(data)
    except Exception:  # network, HTTP or a garbled file: never fail the sync over this
        return stale
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
    except OSError:
        pass  # an unwritable cache costs a fetch next time, nothing more
    return PostcodeRegister(entries, complete=True, source=BRING_URL)
