"""A handful of SIGKILL trials from benchmarks/crash.py (the full 50-trial run is a benchmark)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

pytest.importorskip("aiosmtpd")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import crash  # noqa: E402
from backends import fresh_store_url  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.backends]


def test_sigkill_at_random_points_delivers_every_action_exactly_once(
    tmp_path: Path, backend: str
) -> None:
    refused, span, writes = crash.baseline()
    assert span > 0 and writes > 20
    rng = random.Random(20261123)
    for n in range(3):
        folder = tmp_path / f"trial{n}"
        folder.mkdir()
        trial = crash.run_trial(
            rng, 2, folder, refused, span, writes, store_url=fresh_store_url(backend)
        )
        assert trial.planned > 10
        assert trial.ok, trial.problems
