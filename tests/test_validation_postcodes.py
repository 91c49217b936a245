"""Postcode formats, Bring's register file format, and its cache."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from connector.validation.postcodes import (
    CACHE_FILE,
    FIXTURE,
    PostcodeRegister,
    fixture_register,
    load_postcode_register,
    parse_bring,
    postcode_format_ok,
)

REQUIRED = {
    "OSLO", "BERGEN", "TRONDHEIM", "STAVANGER", "TROMSØ", "BODØ", "ÅLESUND", "LILLEHAMMER",
    "KRISTIANSAND S", "DRAMMEN", "FREDRIKSTAD", "HAMAR", "MOLDE", "FØRDE", "RØROS", "SKIEN",
}  # fmt: skip
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FILE = "0555\tOSLO\t0301\tOSLO\tG\r\n9008\tTROMSØ\t5501\tTROMSØ\tG\r\n".encode("cp1252")


def test_fixture_is_in_brings_exact_format() -> None:
    raw = resources.files("connector.validation").joinpath(FIXTURE).read_bytes()
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert "TROMSØ".encode("cp1252") in raw  # Windows-1252, not UTF-8
    for line in raw.decode("cp1252").split("\r\n")[:-1]:
        code, place, mnr, mname, cat = line.split("\t")
        assert len(code) == 4 and code.isdigit() and len(mnr) == 4 and cat in "GPBFS"


def test_fixture_covers_the_sandbox_cities() -> None:
    reg = fixture_register()
    places = {e.place for e in map(reg.lookup, _codes(reg)) if e is not None}
    assert REQUIRED <= places
    assert not reg.complete


def _codes(reg: PostcodeRegister) -> list[str]:
    return [f"{n:04d}" for n in range(10000) if f"{n:04d}" in reg]


def test_fiken_sandbox_postcodes_are_in_the_fixture() -> None:
    seed = pytest.importorskip("providers.fiken.sandbox.seed")
    reg = fixture_register()
    pairs = list(seed.PLACES) + [
        (c.postcode, c.city) for c in seed.DEMO_CONTACTS if c.postcode and c.country == "Norge"
    ]
    wrong = {(p, c) for p, c in pairs if not reg.city_matches(p, c)}
    assert wrong == {("2000", "Lillehammer")}  # the seed's deliberate mismatch


@pytest.mark.parametrize(
    ("postcode", "city", "ok"),
    [
        ("4612", "Kristiansand", True),
        ("4612", "KRISTIANSAND S", True),
        ("9008", "Tromso", True),
        ("6002", "Aalesund", True),
        ("9008", "tromsø", True),
        ("2000", "Lillehammer", False),
        ("0555", "Bergen", False),
    ],
)
def test_city_matching(postcode: str, city: str, ok: bool) -> None:
    assert fixture_register().city_matches(postcode, city) is ok


@pytest.mark.parametrize(
    ("postcode", "country", "ok"),
    [
        ("0150", "NO", True), ("NO-0150", "NO", True), ("150", "NO", False), ("01500", "NO", False),
        ("114 18", "SE", True), ("11418", "SE", True), ("SE-114 18", "SE", True),
        ("014 18", "SE", False), ("1141", "SE", False),
        ("1050", "DK", True), ("00100", "FI", True), ("101", "IS", True),
        ("1011 AB", "NL", True), ("1011", "NL", False), ("00-950", "PL", True),
        ("22767", "DE", True), ("2276", "DE", False), ("D02 X285", "IE", True),
        ("12345", "US", None),
    ],
)  # fmt: skip
def test_postcode_formats(postcode: str, country: str, ok: bool | None) -> None:
    assert postcode_format_ok(postcode, country) is ok


def test_parse_rejects_a_garbled_file() -> None:
    with pytest.raises(ValueError):
        parse_bring(b"<html>Service unavailable</html>")
    with pytest.raises(ValueError):
        parse_bring(b"")


class Fetcher:
    def __init__(self, data: bytes | Exception) -> None:
        self.data = data
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        if isinstance(self.data, Exception):
            raise self.data
        return self.data


def _age(path: Path, age: timedelta) -> None:
    t = (NOW - age).timestamp()
    os.utime(path, (t, t))


def test_fetches_once_and_caches(tmp_path: Path) -> None:
    fetch = Fetcher(FILE)
    reg = load_postcode_register(cache_dir=tmp_path, fetch=fetch, now=lambda: NOW)
    assert reg is not None and reg.complete and reg.lookup("9008").place == "TROMSØ"  # type: ignore[union-attr]
    assert (tmp_path / CACHE_FILE).read_bytes() == FILE
    _age(tmp_path / CACHE_FILE, timedelta(days=1))
    again = load_postcode_register(cache_dir=tmp_path, fetch=fetch, now=lambda: NOW)
    assert fetch.calls == 1 and again is not None and len(again) == 2


def test_stale_cache_is_refreshed(tmp_path: Path) -> None:
    (tmp_path / CACHE_FILE).write_bytes(FILE)
    _age(tmp_path / CACHE_FILE, timedelta(days=30))
    newer = FILE + "2000\tLILLESTRØM\t3205\tLILLESTRØM\tG\r\n".encode("cp1252")
    fetch = Fetcher(newer)
    reg = load_postcode_register(cache_dir=tmp_path, fetch=fetch, now=lambda: NOW)
    assert fetch.calls == 1 and reg is not None and "2000" in reg


def test_unavailable_register_falls_back_to_stale_cache_then_none(tmp_path: Path) -> None:
    down = Fetcher(ConnectionError("no route to host"))
    assert load_postcode_register(cache_dir=tmp_path, fetch=down, now=lambda: NOW) is None
    (tmp_path / CACHE_FILE).write_bytes(FILE)
    _age(tmp_path / CACHE_FILE, timedelta(days=30))
    reg = load_postcode_register(cache_dir=tmp_path, fetch=down, now=lambda: NOW)
    assert reg is not None and "0555" in reg
    garbled = Fetcher(b"<html>oops</html>")
    reg = load_postcode_register(cache_dir=tmp_path, fetch=garbled, now=lambda: NOW)
    assert reg is not None and (tmp_path / CACHE_FILE).read_bytes() == FILE  # not overwritten
