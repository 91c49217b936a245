"""TOML configuration → validated settings.

Every error is one line naming the file, the table and the key, e.g.
``kravsync.toml: tenants[1].provider: unknown provider 'fikn' (known: fiken, fortnox)``.
Tenants are numbered from 0, as in the file's order.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import tomllib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from connector.policy import PolicyError, PolicySettings
from connector.policy.rates import RateRow, row_problem
from connector.policy.tables import Evidence
from providers.base import get_factory

DEFAULT_CONFIG_NAME = "kravsync.toml"
_TENANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")  # matched in full (fullmatch)
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_TEXT = 2000  # characters of any one text setting


def no_control_characters(value: Any) -> Any:
    """Text settings end up in HTTP headers, SMTP headers, paths and letters: no control
    characters (NUL, CR, LF, ESC...), and no novels."""
    if isinstance(value, str):
        if _CONTROL.search(value):
            raise ValueError("contains a control character (NUL, line break, escape...)")
        if len(value) > MAX_TEXT:
            raise ValueError(f"longer than {MAX_TEXT} characters")
    return value


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.rstrip(".").split(".")
    return len(ascii_host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def web_url(value: str | None, *, loopback_http: bool = True) -> str | None:
    """An API URL: ``https://`` with a valid host (``http://`` only to a loopback address, for
    the sandboxes); no user name or password in it. None stays None (the provider's own URL);
    an empty string is refused rather than read as "the default"."""
    if value is None:
        return None
    if not value.strip():
        raise ValueError("is empty; leave the key out to use the provider's own URL")
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        shown = f"{scheme}:" if scheme else "no scheme"
        raise ValueError(f"{value!r} must be an https:// URL (got {shown})")
    host = parts.hostname or ""
    if not host or not _valid_host(host):
        raise ValueError(f"{value!r} has no valid host name")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password (credentials go in the keyring)")
    if port == 0:
        raise ValueError(f"{value!r}: port 0 is not a port")
    if scheme == "http" and not (loopback_http and is_loopback(host)):
        raise ValueError(
            f"{value!r} must use https (plain http only to a loopback address, e.g. a sandbox "
            "on 127.0.0.1)"
        )
    return value.strip()


def credential_reference(value: str) -> str:
    """Where a secret lives, never the secret: ``keyring`` (the tenant's own entry),
    ``keyring:ENTRY`` (one entry shared by several tenants: one login, many companies),
    ``env:VARNAME`` or ``file:/ABSOLUTE/PATH`` (a secrets file of mode 0600). Anything else is
    refused without repeating it: it may be the secret itself."""
    if value == "keyring" or re.fullmatch(r"env:[A-Za-z_][A-Za-z0-9_]*", value):
        return value
    if re.fullmatch(r"keyring:[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}", value):
        return value
    if value.startswith("file:/") and len(value) > len("file:/") and "\x00" not in value:
        return value
    raise ValueError(
        "must be 'keyring' or 'env:VARNAME' (or 'keyring:ENTRY' for an entry shared by several "
        "tenants, or 'file:/PATH' for a secrets file); never the secret itself"
    )


class ConfigError(Exception):
    """A configuration problem, already phrased as one line for the user (exit code 2)."""


class StoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = "sqlite:///kravsync.db"
    # a tenant's lease: renewed every third of this while held; a dead holder's is taken over
    # after it (at once when the holder was a process on this host that no longer runs)
    lease_seconds: float = Field(default=300.0, ge=1.0, le=24 * 3600.0)
    # PostgreSQL: where the password comes from when the URL holds none
    password: str | None = None

    @field_validator("password")
    @classmethod
    def _password_reference(cls, value: str | None) -> str | None:
        if value is not None and not (value == "keyring" or value.startswith(("env:", "keyring:"))):
            raise ValueError(
                "must be \"env:VARNAME\", \"keyring\" or \"keyring:ENTRY\" (never the password "
                "itself; put it in the URL only on a trusted host)"
            )
        return value

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        no_control_characters(value)
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("must start with 'sqlite:///', 'postgresql://' or 'postgres://'")
        if value == "sqlite:///":
            raise ValueError("no path after sqlite:/// (e.g. sqlite:///kravsync.db)")
        return value


class ValidationSettings(BaseModel):
    """Per-tenant settings of the customer-data checks (`[tenants.validation]`)."""

    model_config = ConfigDict(extra="forbid")
    registry_check: bool = False  # Norway: look org numbers up in Brønnøysund
    registry_url: str = "https://data.brreg.no/enhetsregisteret/api"
    registry_ttl_hours: int = Field(default=24 * 7, ge=1, le=24 * 366)
    allow_test_org_numbers: bool = False
    postcode_register: bool = True
    # Where the Norwegian postcode register comes from: "bring" (fetched from Bring and cached),
    # "fixture" (the small extract shipped with kravsync) or a path to a file in Bring's format.
    postcode_register_source: str = "bring"

    _text = field_validator("*")(no_control_characters)

    @field_validator("registry_url")
    @classmethod
    def _registry_url(cls, value: str) -> str:
        return web_url(value) or value


class EmailSettings(BaseModel):
    """kravsync's own e-mail channel (`[tenants.email]`): the tenant's SMTP server."""

    model_config = ConfigDict(extra="forbid")
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    # Where the SMTP password lives: "keyring" (entry "<tenant>:smtp"), "env:VARNAME" or
    # "file:/PATH" (see credential_reference); never the password itself.
    password: str = "keyring"
    from_address: str
    reply_to: str | None = None
    bcc: str | None = None  # a copy of every message, e.g. to the bookkeeper
    timeout_seconds: float = Field(default=30.0, gt=0, le=600, allow_inf_nan=False)

    _text = field_validator("*")(no_control_characters)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str) -> str:
        return credential_reference(value)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not _valid_host(value):
            raise ValueError(f"{value!r} is not a valid host name")
        return value

    @model_validator(mode="after")
    def _encrypted(self) -> EmailSettings:
        if self.security == "none" and not is_loopback(self.host):
            raise ValueError(
                'security: plain SMTP (security = "none") would send the password and the '
                f"letters unencrypted to {self.host}; allowed only to a loopback host "
                '(use "starttls" or "tls")'
            )
        return self


class FeeInvoiceMarks(BaseModel):
    """`[tenants.fee_invoices]`: invoices the tenant books as fees or compensation (made by hand
    or by another tool). Like kravsync's own fee invoices they are never reminded, never charged
    a fee or interest of their own."""

    model_config = ConfigDict(extra="forbid")
    # case-insensitive pieces of the invoice's own text (Fiken: invoiceText)
    text: list[Annotated[str, Field(min_length=2, max_length=100)]] = Field(
        default_factory=list, max_length=100
    )
    # invoice numbers, exactly as the accounting system shows them
    numbers: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=10_000
    )

    @field_validator("text", "numbers")
    @classmethod
    def _clean(cls, value: list[str]) -> list[str]:
        for index, item in enumerate(value):
            try:
                no_control_characters(item)
            except ValueError as exc:
                raise ValueError(f"[{index}] {exc}") from None
            if not item.strip():
                raise ValueError(f"[{index}] is blank")
        return value

    def marks(self, number: str, text: str | None) -> bool:
        if number in self.numbers:
            return True
        folded = (text or "").casefold()
        return any(piece.casefold() in folded for piece in self.text)


class ManualRate(BaseModel):
    """A dated figure set by hand (`[rates.no]` / `[rates.se]`), with where it comes from."""

    model_config = ConfigDict(extra="forbid")
    valid_from: date
    value: Decimal = Field(ge=0)
    source: str = Field(min_length=1)


class TenantConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    provider: str
    country: Literal["NO", "SE"]
    company: str | None = None  # Fiken company slug
    base_url: str | None = None
    credentials: str = "keyring"
    auth: Literal["token", "oauth", "client_credentials"] | None = None
    client_id: str | None = None
    tenant_id: str | None = None  # Fortnox TenantId (client credentials)
    token_url: str | None = None
    authorize_url: str | None = None
    redirect_uri: str | None = None
    interval_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    push: bool | Literal["approve"] = False  # "approve": only letters approved in the console
    # A pending action unmoved this long (and at least two intervals) is "stuck": `sync` exits 3,
    # `status` and /healthz say so.
    stuck_after_hours: float = Field(default=24.0, gt=0, le=90 * 24, allow_inf_nan=False)
    requests_per_window: int | None = Field(default=None, ge=1, le=10_000)
    window_seconds: float | None = Field(default=None, gt=0, le=3600, allow_inf_nan=False)
    # Backfill detail reads per cycle (providers whose lists lack facts, e.g. Fortnox); default:
    # half of what the rate limit allows in one interval; `sync --full` reads them all.
    detail_reads_per_cycle: int | None = Field(default=None, ge=0, le=10_000_000)
    policy: dict[str, Any] = Field(default_factory=dict)
    validation: ValidationSettings = Field(default_factory=ValidationSettings)
    email: EmailSettings | None = None
    fee_invoices: FeeInvoiceMarks = Field(default_factory=FeeInvoiceMarks)
    # Fortnox: the tenant has Fortnox Finans and wants reminders handed to it.
    fortnox_finans: bool = False
    # How a provider with native reminders sends them (e.g. "EMAIL"); checked by the provider.
    dispatch_type: str | None = None
    # The creditor as it appears on letters: name (default: the tenant name), org number and the
    # bank account customers pay to (printed with the KID/OCR of each invoice).
    creditor_name: str | None = None
    creditor_org_number: str | None = None
    creditor_account: str | None = None
    # the config's [rates.<country>] rows for this tenant's country (set by Config)
    _manual_rates: list[tuple[str, ManualRate]] = PrivateAttr(default_factory=list)

    @property
    def stuck_after(self) -> timedelta:
        """When a pending action counts as stuck: ``stuck_after_hours``, but never before two
        of the tenant's cycles had the chance to settle it."""
        return max(
            timedelta(hours=self.stuck_after_hours), timedelta(minutes=2 * self.interval_minutes)
        )

    @property
    def manual_rates(self) -> list[tuple[str, ManualRate]]:
        """(figure, row) for each figure of this tenant's country set by hand in the config."""
        return self._manual_rates

    _text = field_validator("*")(no_control_characters)

    @field_validator("base_url", "token_url", "authorize_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        return web_url(value)

    @field_validator("redirect_uri")
    @classmethod
    def _redirect_uri(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme = urlsplit(value).scheme.lower()
        if scheme not in ("https", "http") or not urlsplit(value).hostname:
            raise ValueError(f"{value!r} must be an http(s):// URL with a host")
        return value

    @field_validator("company")
    @classmethod
    def _company(cls, value: str | None) -> str | None:
        if value is not None and not _SLUG.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a company slug (letters, digits, '.', '_', '-'; as in "
                "https://fiken.no/foretak/<slug>/)"
            )
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _TENANT_NAME.fullmatch(value):
            raise ValueError(
                "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        return value

    @field_validator("provider")
    @classmethod
    def _provider(cls, value: str) -> str:
        get_factory_or_raise(value)
        return value

    @field_validator("credentials")
    @classmethod
    def _credentials(cls, value: str) -> str:
        if value.lower() in {"access-token", "client-secret", "legacy"}:
            raise ValueError(
                "the legacy Access-Token/Client-Secret headers stopped working in 2025; "
                "use 'keyring' or 'env:VARNAME' with OAuth2"
            )
        return credential_reference(value)

    @model_validator(mode="after")
    def _provider_rules(self) -> TenantConfig:
        factory = get_factory(self.provider)
        if self.country not in factory.countries:
            raise ValueError(
                f"country: {self.country} is not served by provider {self.provider!r} "
                f"(serves {', '.join(factory.countries)})"
            )
        for key in factory.required_settings:
            if getattr(self, key, None) in (None, ""):
                raise ValueError(f"{key}: required for provider {self.provider!r}")
        if self.auth == "client_credentials" and not self.tenant_id:
            raise ValueError(
                'tenant_id: required with auth = "client_credentials" (the customer\'s TenantId)'
            )
        problems = factory.check_settings(self) if factory.check_settings else []
        if problems:
            raise ValueError(problems[0])
        if self.push and factory.delivery is not None and not factory.delivery(self):
            hint = f": {factory.delivery_hint}" if factory.delivery_hint else ""
            raise ValueError(
                f"push: {json.dumps(self.push)}, but provider {self.provider!r} has no channel "
                "that can deliver a "
                f"letter with this tenant's settings{hint}"
            )
        return self


def get_factory_or_raise(name: str) -> None:
    try:
        get_factory(name)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None


class DaemonConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    workers: int = Field(default=4, ge=1, le=64)  # tenants cycled in parallel
    healthz_port: int | None = Field(default=None, ge=0, le=65535)  # 127.0.0.1 only; None: off


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    store: StoreConfig = Field(default_factory=StoreConfig)
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    tenants: list[TenantConfig] = Field(default_factory=list)
    # figures set by hand: [rates.no] / [rates.se], a list of rows per figure
    rates: dict[str, dict[str, list[ManualRate]]] = Field(default_factory=dict)
    source: Path | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for index, tenant in enumerate(self.tenants):
            if tenant.name in seen:
                raise ValueError(f"tenants[{index}].name: duplicate tenant name {tenant.name!r}")
            seen.add(tenant.name)
        for tenant in self.tenants:
            tenant._manual_rates = [
                (figure, row)
                for figure, rows in self.rates.get(tenant.country.lower(), {}).items()
                for row in rows
            ]
        return self

    def manual_rate_rows(self) -> list[tuple[str, str, int, ManualRate]]:
        """(country, figure, index, row) for every figure set by hand."""
        return [
            (country.upper(), figure, index, row)
            for country, figures in self.rates.items()
            for figure, rows in figures.items()
            for index, row in enumerate(rows)
        ]

    def tenant(self, name: str) -> TenantConfig:
        for tenant in self.tenants:
            if tenant.name == name:
                return tenant
        known = ", ".join(t.name for t in self.tenants) or "none configured"
        raise ConfigError(
            f"{self.source or DEFAULT_CONFIG_NAME}: no tenant named {name!r} (known: {known})"
        )

    def store_url(self) -> str:
        """The store URL, a relative SQLite path resolved against the config file's folder."""
        url = self.store.url
        if url.startswith("sqlite:///") and self.source is not None:
            path = url[len("sqlite:///") :]
            if path and path != ":memory:" and not os.path.isabs(path):
                return "sqlite:///" + os.path.abspath(os.path.join(self.source.parent, path))
        return url


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _message(error: dict[str, Any]) -> tuple[str, str]:
    loc = _location(tuple(error["loc"]))
    msg = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    # A model validator may name a sub-key itself ("country: ..."); fold it into the location.
    sub = re.match(r"^((?:tenants\[\d+\]\.)?[a-z_]+(?:\.[a-z_]+)*): (.*)$", msg)
    if sub and error["type"] == "value_error":
        key, msg = sub.groups()
        loc = key if key.startswith("tenants[") else (f"{loc}.{key}" if loc else key)
    if error["type"] == "extra_forbidden":
        msg = "unknown key"
    elif error["type"] == "missing":
        msg = "required key is missing"
    elif error["type"] == "literal_error":
        msg = f"{error.get('input')!r} is not allowed: {msg}"
    return loc, msg


def parse_config(data: dict[str, Any], source: Path) -> Config:
    try:
        config = Config.model_validate({**data, "source": source})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc, msg = _message(dict(first))
        raise ConfigError(f"{source.name}: {loc}: {msg}") from None
    problems = check_rates(config) + check_policies(config)
    if problems:
        raise ConfigError(f"{source.name}: {problems[0]}")
    return config


def validate_tenant_tables(
    tables: Any, where: str, *, rates: Any = None, one: bool = False
) -> list[TenantConfig]:
    """``[[tenants]]`` tables validated exactly as a config file's: the same checks and the same
    one-line errors, ``<where>: tenants[i].<key>: <problem>``. With ``one``, ``tables`` is a
    single table and errors read ``<where>: <key>: <problem>``. ``rates``: the config's
    ``[rates]``, attached to each tenant of that country as in a config file."""
    try:
        config = Config.model_validate(
            {"tenants": [tables] if one else tables, "rates": rates or {}}
        )
    except ValidationError as exc:
        loc, msg = _message(dict(exc.errors()[0]))
        raise ConfigError(f"{where}: {_single(loc) if one else loc}: {msg}") from None
    problems = check_policies(config)
    if problems:
        raise ConfigError(f"{where}: {_single(problems[0]) if one else problems[0]}")
    return config.tenants


def _single(location: str) -> str:
    """``tenants[0].company`` → ``company`` (one table: no index to name)."""
    if location == "tenants[0]" or location == "tenants":
        return "table"
    return location.removeprefix("tenants[0].")


def default_config_path() -> Path:
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    if local.exists():
        return local
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    user = Path(base) / "kravsync" / DEFAULT_CONFIG_NAME
    return user if user.exists() else local


def load_config(path: Path | None = None) -> Config:
    source = path or default_config_path()
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{source}: no such config file (copy config.example.toml to {DEFAULT_CONFIG_NAME})"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{source.name}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source.name}: TOML syntax: {exc}") from None
    return parse_config(data, source)


__all__ = [
    "Config",
    "ConfigError",
    "ManualRate",
    "StoreConfig",
    "TenantConfig",
    "ValidationSettings",
    "credential_reference",
    "load_config",
    "parse_config",
    "validate_tenant_tables",
]


# -- checks against the law of each tenant's country (run by load_config) ---------------------
_RATE_COUNTRIES = ("no", "se")


def manual_row(country: str, figure: str, row: ManualRate, where: str) -> RateRow:
    return RateRow(
        country.upper(),
        figure,
        row.valid_from,
        row.value,
        row.source,
        Evidence.MANUAL,
        f"set by hand in {where}",
    )


def manual_rows(tenant: TenantConfig) -> tuple[RateRow, ...]:
    """The tenant's country's figures set by hand in the config, as rate rows."""
    return tuple(
        manual_row(tenant.country, figure, row, f"[rates.{tenant.country.lower()}]")
        for figure, row in tenant.manual_rates
    )


def check_rates(config: Config) -> list[str]:
    """One message per bad `[rates.<country>]` row, as ``rates.no.<figure>[i]: <problem>``."""
    problems: list[str] = []
    for country in config.rates:
        if country not in _RATE_COUNTRIES:
            problems.append(f"rates.{country}: unknown country (known: {', '.join(_RATE_COUNTRIES)})")
    for country, figure, index, row in config.manual_rate_rows():
        if country.lower() not in _RATE_COUNTRIES:
            continue
        problem = row_problem(manual_row(country, figure, row, ""))
        if problem:
            key = f"rates.{country.lower()}.{figure}"
            if not problem.startswith("unknown figure"):
                key += f"[{index}]"
            problems.append(f"{key}: {problem}")
    return problems


def check_policies(config: Config) -> list[str]:
    """One message per problem, as ``tenants[i].policy.<key>: <rule>``; empty when all is legal."""
    problems: list[str] = []
    for index, tenant in enumerate(config.tenants):
        try:
            PolicySettings.for_country(tenant.country, tenant.policy)
        except PolicyError as exc:
            problems += [f"tenants[{index}].{error}" for error in exc.errors]
    return problems
