"""One tenant's failure is that tenant's alone: one line, stored in its run, the others run.

Before issue 12 a single hostile record raised out of the cycle, ended the process (later
tenants never ran) and left the run with ``error = NULL``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import TOKEN

from connector.cli import main
from connector.clock import Clock
from connector.store import SqliteStore
from providers.fiken.sandbox import FikenSandbox


def two_tenants(path: Path, sandbox: FikenSandbox) -> Path:
    tenants = "".join(
        f"""
[[tenants]]
name = "{name}"
provider = "fiken"
country = "NO"
company = "{sandbox.company}"
base_url = "{sandbox.base_url}"
credentials = "env:HOSTILE_TOKEN"
requests_per_window = 1000
[tenants.validation]
postcode_register_source = "fixture"
"""
        for name in ("first", "second")
    )
    path.write_text(f'[store]\nurl = "sqlite:///state.db"\n{tenants}', encoding="utf-8")
    return path


@pytest.fixture
def setup(tmp_path: Path, sandbox: FikenSandbox, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOSTILE_TOKEN", TOKEN)
    return two_tenants(tmp_path / "kravsync.toml", sandbox)


def runs(config: Path) -> dict[str, tuple[str, str | None]]:
    with sqlite3.connect(config.parent / "state.db") as db:
        rows = db.execute("SELECT tenant, outcome, error FROM runs ORDER BY id").fetchall()
    return {tenant: (outcome, error) for tenant, outcome, error in rows}


BUG = TypeError("'int' object is not iterable\nTraceback (most recent call last):")


def _break_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the pull: the checks raise for tenant "first" (a bug, or data beyond the rules)."""
    import connector.cycle

    real = connector.cycle.check_tenant

    def check(tenant, *args, **kwargs):  # type: ignore[no-untyped-def]
        if tenant.name == "first":
            raise BUG
        return real(tenant, *args, **kwargs)

    monkeypatch.setattr(connector.cycle, "check_tenant", check)


def _break_pull(monkeypatch: pytest.MonkeyPatch) -> None:
    """During the pull: storing customers raises for tenant "first"."""
    real = SqliteStore.upsert_customers

    def upsert(self, tenant, customers):  # type: ignore[no-untyped-def]
        if tenant == "first":
            raise BUG
        return real(self, tenant, customers)

    monkeypatch.setattr(SqliteStore, "upsert_customers", upsert)


def _break_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the pull: building the provider raises for tenant "first"."""
    import connector.runtime

    real = connector.runtime.build_provider

    def build(tenant, *args, **kwargs):  # type: ignore[no-untyped-def]
        if tenant.name == "first":
            raise BUG
        return real(tenant, *args, **kwargs)

    monkeypatch.setattr(connector.runtime, "build_provider", build)


@pytest.mark.parametrize("breaker", [_break_checks, _break_pull, _break_provider])
def test_any_exception_in_one_tenants_cycle_fails_it_alone_with_its_error_stored(
    setup: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    breaker,  # type: ignore[no-untyped-def]
) -> None:
    breaker(monkeypatch)
    code = main(["--config", str(setup), "sync"], clock=clock)
    out = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out.err
    lines = out.out.strip().splitlines()
    first = [line for line in lines if line.startswith("first:")]
    second = [line for line in lines if line.startswith("second:")]
    assert len(first) == 1 and "FAILED" in first[0] and "internal error: TypeError" in first[0]
    assert len(second) == 1 and second[0].startswith("second: ok")
    stored = runs(setup)
    assert stored["first"][0] == "failed" and stored["first"][1]
    assert "TypeError" in stored["first"][1] and "\n" not in stored["first"][1]
    assert stored["second"] == ("ok", None)


def test_a_tenant_whose_records_are_all_hostile_still_lets_the_next_one_run(
    setup: Path, clock: Clock, sandbox: FikenSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    # The first contacts page the sandbox serves (to the first tenant) is JSON nested far beyond
    # what Python's parser follows: that tenant fails with one line, the second one syncs.
    deep = "[" * 200_000 + "]" * 200_000
    # Every retry must meet the injected body: a 429 from the sandbox's window (the client's pace
    # jitters on a loaded machine) would take one of the tries and leave one injection for the
    # second tenant. Rate limits have their own tests.
    sandbox.limiter.enabled = False
    sandbox.inject(
        "/contacts",
        status=200,
        body=deep,
        times=5,
        headers={"Fiken-Api-Page-Count": "1", "Fiken-Api-Result-Count": "1"},
    )
    code = main(["--config", str(setup), "sync"], clock=clock)
    out = capsys.readouterr().out
    assert code == 1
    stored = runs(setup)
    assert stored["first"][0] == "failed" and "nested too deep" in (stored["first"][1] or "")
    assert stored["second"][0] == "ok"
    assert "second: ok" in out
    store = SqliteStore(str(setup.parent / "state.db"), clock)
    assert store.customer_count("second") > 0 and store.customer_count("first") == 0
