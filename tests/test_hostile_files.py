"""Files with personal data: 0600 (folders 0700) whatever the umask; reports written atomically
and never through a planted link; a path that cannot be written is one line, exit 2.

Before issue 12, under umask 022 the state DB, its -wal and -shm and every report were 0644 and
the store folder 0755; ``--output`` followed a symlink and overwrote its target; a read-only
path, a missing folder or a folder as ``--output`` ended in a traceback.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from connector.cli import main
from connector.clock import Clock
from connector.store import SqliteStore

REPO = Path(__file__).resolve().parent.parent
TODAY_CLOCK = Clock.starting_at(date(2026, 11, 23))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def config_in(folder: Path, store_url: str = "sqlite:///data/private/state.db") -> Path:
    path = folder / "kravsync.toml"
    path.write_text(
        f'[store]\nurl = "{store_url}"\n[[tenants]]\nname = "acme-no"\nprovider = "fiken"\n'
        'country = "NO"\ncompany = "acme-as"\n',
        encoding="utf-8",
    )
    return path


def test_the_state_store_its_wal_and_shm_are_0600_in_0700_folders(
    tmp_path: Path, umask_022: None
) -> None:
    path = tmp_path / "data" / "private" / "state.db"
    store = SqliteStore(str(path), TODAY_CLOCK)
    store.ensure_tenant("t", "fiken", "NO")  # a write: the -wal and -shm files exist now
    try:
        assert (tmp_path / "data" / "private" / "state.db-wal").exists()
        for name in ("state.db", "state.db-wal", "state.db-shm"):
            assert mode(path.parent / name) == 0o600, name
        assert mode(tmp_path / "data") == 0o700 and mode(tmp_path / "data" / "private") == 0o700
    finally:
        store.close()


def test_an_existing_world_readable_store_is_made_private(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "state.db"
    SqliteStore(str(path), TODAY_CLOCK).close()
    os.chmod(path, 0o644)
    store = SqliteStore(str(path), TODAY_CLOCK)
    store.ensure_tenant("t", "fiken", "NO")
    try:
        assert mode(path) == 0o600 and mode(tmp_path / "state.db-wal") == 0o600
    finally:
        store.close()


def test_a_report_is_0600_and_replaces_the_old_file_atomically(
    tmp_path: Path, umask_022: None, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_in(tmp_path)
    out = tmp_path / "report.csv"
    out.write_text("old report\n")
    os.chmod(out, 0o644)
    before = out.stat().st_ino
    assert main(["--config", str(config), "report", "--format", "csv", "--output", str(out)],
                clock=TODAY_CLOCK) == 0  # fmt: skip
    assert mode(out) == 0o600
    assert out.stat().st_ino != before  # a new file renamed over the old one, not rewritten
    assert out.read_text().startswith("tenant,provider,")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".report")) == []


def test_output_refuses_a_planted_symlink(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_in(tmp_path)
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    link = tmp_path / "report.txt"
    link.symlink_to(target)
    code = main(["--config", str(config), "report", "--output", str(link)], clock=TODAY_CLOCK)
    err = capsys.readouterr().err
    assert code == 2 and "symbolic link" in err and len(err.strip().splitlines()) == 1
    assert target.read_text() == "keep me\n" and link.is_symlink()


def unwritable(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        return folder / "report.txt"
    return Path("/sys/kravsync-report.txt")  # read-only even for root


@pytest.mark.parametrize(
    ("where", "says"),
    [
        (lambda tmp: tmp / "missing" / "report.txt", "does not exist"),
        (lambda tmp: tmp, "is a folder"),
        (unwritable, "cannot write"),
    ],
    ids=["missing-folder", "a-folder", "read-only"],
)
def test_an_output_that_cannot_be_written_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where, says: str  # type: ignore[no-untyped-def]
) -> None:
    config = config_in(tmp_path)
    code = main(["--config", str(config), "report", "--output", str(where(tmp_path))],
                clock=TODAY_CLOCK)  # fmt: skip
    out = capsys.readouterr()
    assert code == 2
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kravsync: --output:") and says in lines[0]
    assert "Traceback" not in out.err


def test_the_systemd_unit_sets_a_private_umask() -> None:
    unit = (REPO / "contrib" / "kravsync.service").read_text()
    assert "\nUMask=0077\n" in unit
