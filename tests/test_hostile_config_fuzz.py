"""Config fuzz: seeded mutations of config.example.toml; every one gives exit 0, or exit 2 with
exactly one line on stderr, and never a traceback.

Each mutation applies one to three edits, chosen by ``random.Random(seed)``: a value replaced by
a hostile TOML literal (wrong type, huge or non-finite number, control characters, empty,
arrays, inline tables, dates), a documented-but-commented key switched on (with its value or a
hostile one), a line deleted or duplicated, a key or table name misspelt, garbage or invalid
UTF-8 inserted, the file cut short. The command run is ``plan``, ``status`` or ``report``
(no network, no credentials needed), in-process on the test's clock.
"""

from __future__ import annotations

import contextlib
import io
import random
import re
from datetime import date
from pathlib import Path

import pytest

from connector.cli import main
from connector.clock import Clock
from connector.config import load_config
from connector.secrets import MemoryCredentials
from providers.base import get_factory
from providers.http import ProviderError

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = (REPO / "config.example.toml").read_text(encoding="utf-8")
MUTATIONS = 400
CLOCK = Clock.starting_at(date(2026, 11, 23))

HOSTILE_VALUES = [
    '""', '" "', '"\\u0000"', '"x\\r\\ny"', '"\\u001b[2J"', '"\\ud7ff"', '"' + "x" * 5000 + '"',
    "0", "-1", "1", "65536", "9223372036854775807", "-9223372036854775808", "1e308", "-1e308",
    "inf", "-inf", "nan", "0.0", "1.5", "true", "false", "[]", "[1, 2]", '["a", 1]', "{}",
    "{ a = 1 }", "1979-05-27", "1979-05-27T07:32:00Z", "07:32:00", '"file:///etc/passwd"',
    '"javascript:alert(1)"', '"http://example.com"', '"https://"', '"ftp://x"', '"env:"',
    '"env:1BAD"', '"keyring"', '"NO"', '"SE"', '"DK"', '"fiken"', '"fortnox"', '"tripletex"',
    '"none"', '"tls"', '"acme-no"', '"=cmd|\' /C calc\'!A0"', '"../../etc"', "'literal'",
]  # fmt: skip
# The store URL is a path kravsync creates: only values that stay inside the test's folder or
# that kravsync must refuse (never a writable absolute path elsewhere).
STORE_URLS = [
    '""', '"sqlite:///"', '"sqlite:///."', '"sqlite:////dev/null"', '"sqlite:////proc/x.db"',
    '"sqlite:///sub/dir/state.db"', '"sqlite:///state.db"', '"sqlite:///' + "y" * 300 + '"',
    '"sqlite:///a\\u0000b"', '"postgresql://u@h/db"', '"mysql://x"', "1", "[]",
]  # fmt: skip
GARBAGE = ["\x00", "\ufeff", "[[", "]]", "= =", '"', "'''", "\\", "[tenants]", "[[store]]", "é"]
ASSIGNMENT = re.compile(r"^(#\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)(\s+#.*)?$")


def _value_for(key: str, rng: random.Random) -> str:
    return rng.choice(STORE_URLS if key == "url" else HOSTILE_VALUES)


def mutate(text: str, rng: random.Random) -> bytes:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(
            ["value", "value", "value", "uncomment", "uncomment", "delete", "duplicate",
             "rename", "garbage", "truncate", "header"]
        )  # fmt: skip
        assignments = [i for i, line in enumerate(lines) if ASSIGNMENT.match(line)]
        if op in ("value", "uncomment", "rename") and assignments:
            i = rng.choice(assignments)
            match = ASSIGNMENT.match(lines[i])
            assert match is not None
            commented, key, value = match.group(1), match.group(2), match.group(3)
            if op == "uncomment" and commented:
                keep = key != "url" and rng.random() < 0.5
                lines[i] = f"{key} = {value if keep else _value_for(key, rng)}"
            elif op == "rename":
                lines[i] = f"{commented or ''}{key}{rng.choice(['x', '_', 'S', ''])}s = {value}"
            else:
                lines[i] = f"{commented or ''}{key} = {_value_for(key, rng)}"
        elif op == "delete" and lines:
            del lines[rng.randrange(len(lines))]
        elif op == "duplicate" and lines:
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
        elif op == "garbage" and lines:
            i = rng.randrange(len(lines))
            at = rng.randint(0, len(lines[i]))
            lines[i] = lines[i][:at] + rng.choice(GARBAGE) + lines[i][at:]
        elif op == "header":
            headers = [i for i, line in enumerate(lines) if line.startswith("[")]
            if headers:
                i = rng.choice(headers)
                lines[i] = rng.choice(["[stor]", "[[tenant]]", "[tenants.polcy]", "[daemon.x]",
                                       "[[tenants.email]]", "[tenants]", lines[i] * 2])  # fmt: skip
        elif op == "truncate" and lines:
            lines = lines[: rng.randrange(len(lines))]
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if rng.random() < 0.03:
        data += b"\xff\xfe invalid utf-8"
    return data


def run(config: Path, command: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(["--config", str(config), command], clock=CLOCK)
    return code, err.getvalue()


def build_every_provider(config: Path, seed: int) -> None:
    """A config that loads also builds: each tenant's client, rate limiter and auth (offline,
    with a stand-in secret), as a sync would before its first request."""
    secret = '{"client_id": "c", "client_secret": "s", "access_token": "a", "refresh_token": "r"}'
    for tenant in load_config(config).tenants:
        try:
            get_factory(tenant.provider).create(
                tenant, MemoryCredentials({tenant.name: secret}), clock=CLOCK
            ).close()
        except ProviderError:
            continue  # a credential the provider refuses: one line when the tenant syncs
        except BaseException as exc:  # noqa: BLE001 - reported with the seed that made it
            pytest.fail(f"seed {seed}: tenant {tenant.name}: {type(exc).__name__}: {exc}")


def test_the_example_itself_loads(tmp_path: Path) -> None:
    config = tmp_path / "kravsync.toml"
    config.write_text(EXAMPLE, encoding="utf-8")
    assert run(config, "plan") == (0, "")


def test_seeded_mutations_of_the_example_exit_0_or_2_with_one_line(tmp_path: Path) -> None:
    outcomes: dict[int, int] = {0: 0, 2: 0}
    for seed in range(MUTATIONS):
        rng = random.Random(seed)
        folder = tmp_path / f"m{seed}"
        folder.mkdir()
        config = folder / "kravsync.toml"
        config.write_bytes(mutate(EXAMPLE, rng))
        command = rng.choice(["plan", "status", "report"])
        try:
            code, err = run(config, command)
        except BaseException as exc:  # noqa: BLE001 - reported with the seed that made it
            pytest.fail(f"seed {seed} ({command}): raised {type(exc).__name__}: {exc}")
        lines = err.strip().splitlines()
        assert code in (0, 2), (seed, command, code, err)
        assert "Traceback" not in err, (seed, err)
        if code == 2:
            assert len(lines) == 1 and lines[0].startswith("kravsync: "), (seed, err)
        else:
            assert lines == [], (seed, err)
            build_every_provider(config, seed)
        outcomes[code] += 1
    # Both outcomes occur: the mutations are neither all harmless nor all fatal.
    assert outcomes[0] >= 10 and outcomes[2] >= 100, outcomes
    assert sum(outcomes.values()) == MUTATIONS >= 200
