"""Config errors are one line naming the file, the table and the key; the example config loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main
from connector.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]

GOOD = """
[store]
url = "sqlite:///state/kravsync.db"

[[tenants]]
name = "acme-no"
provider = "fiken"
country = "NO"
company = "acme-as"
credentials = "env:FIKEN_TOKEN"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kravsync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_loads_with_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    tenant = config.tenant("acme-no")
    assert tenant.push is False  # plan-only until the user turns pushing on
    assert tenant.interval_minutes == 60
    assert config.store_url() == f"sqlite:///{tmp_path / 'state' / 'kravsync.db'}"


def test_example_config_documents_a_valid_setup() -> None:
    config = load_config(ROOT / "config.example.toml")
    assert {t.provider for t in config.tenants} >= {"fiken"}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ('provider = "fiken"', 'provider = "fikn"'),
            "kravsync.toml: tenants[0].provider: unknown provider 'fikn' (known: fiken",
        ),
        (
            ('country = "NO"', 'country = "DK"'),
            "kravsync.toml: tenants[0].country: 'DK' is not allowed",
        ),
        (
            ('company = "acme-as"\n', ""),
            "kravsync.toml: tenants[0].company: required for provider 'fiken'",
        ),
        (
            ('credentials = "env:FIKEN_TOKEN"', 'credentials = "plaintext:abc"'),
            "kravsync.toml: tenants[0].credentials: must be 'keyring' or 'env:VARNAME'",
        ),
        (
            ('credentials = "env:FIKEN_TOKEN"', 'credentials = "access-token"'),
            "kravsync.toml: tenants[0].credentials: the legacy Access-Token/Client-Secret headers stopped working",
        ),
        (('name = "acme-no"', 'name = "acme no!"'), "kravsync.toml: tenants[0].name: must be"),
        (
            ('company = "acme-as"', 'company = "acme-as"\ninterval_minute = 5'),
            "kravsync.toml: tenants[0].interval_minute: unknown key",
        ),
        (
            ('url = "sqlite:///state/kravsync.db"', 'url = "mysql://x"'),
            "kravsync.toml: store.url: must start with",
        ),
    ],
)
def test_bad_config_names_file_table_and_key(
    tmp_path: Path, edit: tuple[str, str], expected: str
) -> None:
    path = write(tmp_path, GOOD.replace(*edit))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_second_tenant_is_numbered(tmp_path: Path) -> None:
    text = GOOD + GOOD.replace("[store]", "").replace(
        'url = "sqlite:///state/kravsync.db"', ""
    ).replace('"acme-no"', '"beta-no"').replace('provider = "fiken"', 'provider = "fikn"')
    with pytest.raises(
        ConfigError, match=r"^kravsync.toml: tenants\[1\].provider: unknown provider 'fikn'"
    ):
        load_config(write(tmp_path, text))


def test_duplicate_tenant_names_are_refused(tmp_path: Path) -> None:
    text = GOOD + GOOD.split("[[tenants]]")[1].join(["[[tenants]]", ""])
    with pytest.raises(ConfigError, match=r"tenants\[1\].name: duplicate tenant name 'acme-no'"):
        load_config(write(tmp_path, text))


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^kravsync.toml: TOML syntax"):
        load_config(write(tmp_path, "[[tenants]\nname=1"))


def test_cli_exits_2_with_one_line_on_bad_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD.replace('provider = "fiken"', 'provider = "fikn"'))
    assert main(["--config", str(path), "sync"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "tenants[0].provider: unknown provider 'fikn'" in err


def test_cli_exits_2_on_missing_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(tmp_path / "nope.toml"), "status"]) == 2
    assert "no such config file" in capsys.readouterr().err
