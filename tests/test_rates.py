"""Keeping the legal figures current: precedence of built-in, fetched and hand-set figures,
`kravsync rates` and `kravsync rates update` against recorded-shape fixtures (no network)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import responses
from test_policy_support import D, invoice, run

from connector.cli import main
from connector.clock import Clock
from connector.policy.publishers import (
    NORGES_BANK_API,
    RIKSBANK_API,
    fetch_norway,
    fetch_sweden,
    half_year_starts,
    update,
)
from connector.policy.rates import (
    RateRow,
    effective_rules,
    interest_known_until,
    listing,
    notices,
    row_problem,
)
from connector.policy.tables import Evidence
from providers.http import HttpClient, RetryPolicy

FIXTURES = Path(__file__).parent / "fixtures" / "rates"
TODAY = date(2026, 12, 1)
NB_URL = f"{NORGES_BANK_API}/data/IR/B.KPRA.SD.R"
RB_URL = f"{RIKSBANK_API}/Observations/SECBREFEFF/2024-01-01/{TODAY.isoformat()}"


def row(country: str, figure: str, day: date, value: str, evidence: Evidence) -> RateRow:
    return RateRow(country, figure, day, Decimal(value), f"{evidence.value} source", evidence)


def serve_publishers() -> None:
    responses.get(NB_URL, json=json.loads((FIXTURES / "norges_bank_policy_rate.json").read_text()))
    responses.get(RB_URL, json=json.loads((FIXTURES / "riksbank_referensranta.json").read_text()))


# -- precedence ------------------------------------------------------------------------------


def test_hand_set_beats_built_in_beats_fetched_and_unverified_is_never_used() -> None:
    h2 = date(2026, 7, 1)
    base = effective_rules("NO")
    assert base.interest_rate.at(h2).value is None  # built-in 12.25 is unverified
    fetched = row("NO", "forsinkelsesrente", h2, "12.00", Evidence.FETCHED)
    assert effective_rules("NO", (fetched,)).interest_rate.at(h2).value == D("12.00")
    manual = row("NO", "forsinkelsesrente", h2, "12.25", Evidence.MANUAL)
    both = effective_rules("NO", (fetched, manual))
    assert both.interest_rate.at(h2).value == D("12.25")
    assert "manual source" in both.interest_rate.at(h2).source
    # a verified built-in figure is not replaced by a fetched one that disagrees
    odd = row("NO", "forsinkelsesrente", date(2025, 1, 1), "9.00", Evidence.FETCHED)
    assert effective_rules("NO", (odd,)).interest_rate.at(date(2025, 1, 1)).value == D("12.50")
    # the same rows give the same rules object (the engine's caches key on it)
    assert effective_rules("NO", (fetched,)) is effective_rules("NO", (fetched,))


def test_a_new_half_year_extends_the_table_and_the_sweden_margin_is_added() -> None:
    ref = row("SE", "referensranta", date(2026, 7, 1), "1.75", Evidence.FETCHED)
    rules = effective_rules("SE", (ref,))
    assert rules.interest_rate.at(date(2026, 12, 31)).value == D("9.75")
    assert rules.interest_rate.at(date(2027, 1, 1)).value is None
    assert interest_known_until(rules) == date(2026, 12, 31)
    assert interest_known_until(effective_rules("SE")) == date(2026, 6, 30)


def test_inkassosats_set_by_hand_changes_the_purregebyr_cap() -> None:
    sats = row("NO", "inkassosats", date(2027, 1, 1), "770", Evidence.MANUAL)
    cap = effective_rules("NO", (sats,)).reminder_fee_cap.at(date(2027, 1, 2))
    assert cap.value == D("39")  # 770 / 20 = 38.50, rounded to the nearest krone
    assert cap.evidence is Evidence.MANUAL


@pytest.mark.parametrize(
    "bad,problem",
    [
        (
            row("NO", "forsinkelsesrente", date(2026, 8, 1), "12", Evidence.MANUAL),
            "1 January or 1 July",
        ),
        (row("NO", "styringsrente", date(2026, 7, 1), "4", Evidence.MANUAL), "unknown figure"),
        (
            row("SE", "forsinkelsesrente", date(2026, 7, 1), "4", Evidence.MANUAL),
            "known: referensranta",
        ),
        (RateRow("SE", "referensranta", date(2026, 7, 1), D("2"), " ", Evidence.MANUAL), "source"),
    ],
)
def test_rows_that_do_not_fit_are_refused(bad: RateRow, problem: str) -> None:
    assert problem in (row_problem(bad) or "")
    assert effective_rules(bad.country, (bad,)) is effective_rules(bad.country)


def test_listing_shows_every_candidate_and_which_is_used() -> None:
    fetched = row("NO", "forsinkelsesrente", date(2026, 7, 1), "12.00", Evidence.FETCHED)
    rows = [f for f in listing("NO", (fetched,)) if f.table == "forsinkelsesrente"]
    h2 = [f for f in rows if f.valid_from == date(2026, 7, 1)]
    assert [(f.value, f.evidence, f.used) for f in h2] == [
        ("12.00 %", Evidence.FETCHED, True),
        ("12.25 %", Evidence.UNVERIFIED, False),
    ]
    assert "differs from the figure used (12.00 %)" in h2[1].remark
    every = listing("SE")
    assert {f.table for f in every} >= {"referensranta", "notice_min_bank_days_after_receipt"}
    assert all(f.source for f in every)


def test_notices_name_the_days_without_a_figure() -> None:
    (interest, compensation) = notices(effective_rules("NO"), TODAY)
    assert interest.startswith("NO forsinkelsesrente has no usable figure for 2026-07-01..today")
    assert "no interest is claimed" in interest and "kravsync rates update" in interest
    assert "2025-07-01..2025-12-31" in compensation and "no API publishes it" in compensation


# -- fetching --------------------------------------------------------------------------------


def test_half_year_starts() -> None:
    assert half_year_starts(date(2025, 3, 1), date(2026, 7, 1)) == [
        date(2025, 7, 1),
        date(2026, 1, 1),
        date(2026, 7, 1),
    ]


@responses.activate
def test_norges_bank_policy_rate_on_each_half_years_first_day_plus_8() -> None:
    serve_publishers()
    rows = fetch_norway(TODAY, "2026-12-01T09:00:00+01:00")
    call = responses.calls[0].request
    assert "format=sdmx-json" in call.url and "startPeriod=2023-12-18" in call.url
    assert [(r.valid_from.isoformat(), str(r.value)) for r in rows] == [
        ("2024-01-01", "12.50"),
        ("2024-07-01", "12.50"),
        ("2025-01-01", "12.50"),
        ("2025-07-01", "12.25"),
        ("2026-01-01", "12.00"),
        ("2026-07-01", "12.00"),
    ]
    assert "policy rate 4.25 % in force on 2025-07-01 (observation 2025-07-01" in rows[3].source
    assert all(r.evidence is Evidence.FETCHED and "confirm" in r.source for r in rows)


@responses.activate
def test_riksbank_referensranta_per_half_year() -> None:
    serve_publishers()
    rows, problems = fetch_sweden(TODAY, "2026-12-01T09:00:00+01:00")
    assert problems == []
    assert [(r.valid_from.isoformat(), str(r.value)) for r in rows] == [
        ("2024-01-01", "4.00"),
        ("2024-07-01", "4.00"),
        ("2025-01-01", "3.00"),
        ("2025-07-01", "2.00"),
        ("2026-01-01", "2.00"),
        ("2026-07-01", "2.00"),
    ]


@responses.activate
def test_a_failing_publisher_is_reported_and_the_other_still_fetched() -> None:
    responses.get(NB_URL, status=503, body="down for maintenance")
    responses.get(RB_URL, json=json.loads((FIXTURES / "riksbank_referensranta.json").read_text()))
    quick = HttpClient(
        provider="norges-bank", base_url=NORGES_BANK_API, retry=RetryPolicy(2), sleep=lambda s: None
    )

    def no(today: date, at: str) -> tuple[list[RateRow], list[str]]:
        return fetch_norway(today, at, quick), []

    result = update(["NO", "SE"], TODAY, "now", fetchers={"NO": no, "SE": fetch_sweden})
    assert len(result.failed) == 1 and result.failed[0].startswith("NO: norges-bank")
    assert "HTTP 503" in result.failed[0]
    assert {r.country for r in result.rows} == {"SE"}
    assert "SE referensranta from 2026-07-01: 2.00 (new)" in result.lines


# -- the commands ----------------------------------------------------------------------------


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "kravsync.toml"
    path.write_text(
        '[store]\nurl = "sqlite:///state.db"\n\n[[tenants]]\nname = "fjord"\nprovider = "fiken"\n'
        'country = "NO"\ncompany = "fjord-as"\ncredentials = "env:X"\n' + extra,
        encoding="utf-8",
    )
    return path


def kravsync(config: Path | None, *args: str) -> int:
    head = ["--config", str(config)] if config else []
    return main([*head, *args], clock=Clock.starting_at(TODAY))


def test_rates_without_a_config_shows_the_built_in_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
    assert kravsync(None, "rates") == 0
    out = capsys.readouterr().out
    assert "built-in figures only" in out
    assert "2026-07-01  12.25 %    UNVERIFIED NOT USED" in out
    assert "FOR-2024-12-19-3279 § 1" in out and "räntelagen 6 §" in out
    assert "gjeldsbrevloven § 5" in out and "skuldebrevslagen 5 §" in out


@responses.activate
def test_rates_update_keeps_new_half_years_in_the_store_and_plans_use_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_publishers()
    config = write_config(tmp_path)
    assert kravsync(config, "rates", "update", "--country", "NO", "--country", "SE") == 0
    out = capsys.readouterr().out
    assert "NO forsinkelsesrente from 2026-07-01: 12.00 (new)" in out
    assert "NO standardkompensasjon: no API publishes it" in out
    assert "NO: interest rates now known to 2026-12-31" in out
    assert kravsync(config, "rates", "update") == 0  # again: nothing new
    assert "NO forsinkelsesrente from 2026-07-01: 12.00 (unchanged)" in capsys.readouterr().out

    assert kravsync(config, "rates", "--format", "json") == 0
    doc = json.loads(capsys.readouterr().out)["countries"]["NO"]
    h2 = [
        f
        for f in doc["figures"]
        if f["table"] == "forsinkelsesrente" and f["valid_from"] == "2026-07-01"
    ]
    assert [(f["value"], f["evidence"], f["used"]) for f in h2] == [
        ("12.00 %", "fetched", True),
        ("12.25 %", "unverified", False),
    ]
    assert doc["interest_known_until"] == "2026-12-31"


def test_rates_set_by_hand_in_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        '\n[rates.no]\nforsinkelsesrente = [\n  { valid_from = 2026-07-01, value = "12.25", '
        'source = "FOR-2026-06-25-1372 § 1, read on Lovdata" },\n]\n',
    )
    assert kravsync(config, "rates", "--format", "json") == 0
    doc = json.loads(capsys.readouterr().out)["countries"]["NO"]
    used = [
        f
        for f in doc["figures"]
        if f["table"] == "forsinkelsesrente" and f["valid_from"] == "2026-07-01" and f["used"]
    ]
    assert [(f["evidence"], f["source"]) for f in used] == [
        ("manual", "FOR-2026-06-25-1372 § 1, read on Lovdata; set by hand in [rates.no]")
    ]


@pytest.mark.parametrize(
    "extra,message",
    [
        (
            '[rates.no]\nforsinkelsesrente = [{ valid_from = 2026-08-01, value = "12", source = "x §" }]',
            "kravsync.toml: rates.no.forsinkelsesrente[0]: forsinkelsesrente is set per half-year",
        ),
        (
            '[rates.no]\nrente = [{ valid_from = 2026-07-01, value = "12", source = "x" }]',
            "kravsync.toml: rates.no.rente: unknown figure 'rente' for NO",
        ),
        (
            '[rates.dk]\nrente = [{ valid_from = 2026-07-01, value = "12", source = "x" }]',
            "kravsync.toml: rates.dk: unknown country",
        ),
        (
            '[rates.se]\nreferensranta = [{ valid_from = 2026-07-01, value = "2" }]',
            "kravsync.toml: rates.se.referensranta[0].source: required key is missing",
        ),
    ],
)
def test_bad_rates_config_is_one_line_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, message: str
) -> None:
    config = write_config(tmp_path, "\n" + extra + "\n")
    assert kravsync(config, "rates") == 2
    assert capsys.readouterr().err.strip().startswith(f"kravsync: {message}")


def test_a_plan_names_the_rules_it_used() -> None:
    d = run(invoice(date(2026, 2, 3)), date(2026, 2, 17))
    assert d.action is not None
    assert "due date in advance not agreed (tenant default due_dates_agreed = false)" in (
        d.action.reason
    )


# -- far dates (issue 9) ---------------------------------------------------------------------


def test_plan_far_past_every_table_says_what_it_did(kravsync, capsys) -> None:  # type: ignore[no-untyped-def]
    assert kravsync("sync") == 0
    capsys.readouterr()
    for day in ("2031-01-01", "2031-01-02"):
        assert kravsync("plan", "--today", day) == 0
        out = capsys.readouterr().out
        assert "! NO forsinkelsesrente has no usable figure for 2026-07-01..today" in out, out
        assert kravsync("plan", "--today", day, "--format", "json") == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["notices"]["fjord"][0].startswith("NO forsinkelsesrente has no usable figure")
        for action in doc["actions"]:
            assert "from 2026-07-01 not claimed" in action["reason"] or action["interest"] == "0.00"
    assert kravsync("status", "--today", "2031-01-02") == 0
    assert "figures missing (not claimed):" in capsys.readouterr().out
    assert kravsync("status", "--today", "2031-01-02", "--format", "json") == 0
    (tenant,) = json.loads(capsys.readouterr().out)["tenants"]
    assert tenant["rates"][0].startswith("NO forsinkelsesrente has no usable figure")
    assert kravsync("report", "--today", "2031-01-02", "--format", "json") == 0
    summary = json.loads(capsys.readouterr().out)["summary"]["fjord"]
    assert any("forsinkelsesrente has no usable figure" in n for n in summary["notes"])
