"""Tenants kept in the store (`kravsync tenants add|list|remove|import|export`).

With hundreds of client companies a ``[[tenants]]`` table per company in every worker's config
file does not scale: the tenants can live in the store instead, shared by every process on it.
The tenants a command works with are the config file's ``[[tenants]]`` plus the store's.

- Validation is the config file's own (:func:`connector.config.validate_tenant_tables`): the same
  checks and the same one-line errors, on the way in and again on every read.
- A name may live in one place only: a name both in the config file and in the store makes every
  command but ``tenants list|remove|export`` exit 2, naming the file's table, until one of the two
  is removed (two definitions of one tenant would share one history in the store).
- Credentials are never stored: ``credentials`` and ``email.password`` are references
  (``keyring``, ``keyring:ENTRY``, ``env:VAR``, ``file:/PATH``); anything else is refused without
  being repeated, as it may be the secret itself.
- ``remove`` forgets the configuration only; the tenant's history (invoices, journal, notes,
  runs) stays in the store, and adding the tenant again carries on from it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tomllib
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from connector.clock import Clock
from connector.config import (
    Config,
    ConfigError,
    TenantConfig,
    credential_reference,
    parse_config,
    validate_tenant_tables,
)
from connector.discovery import toml_string
from connector.scrub import register_secret, safe_message
from connector.store import Store, open_configured_store
from connector.store.tenants import StoredTenant, TenantExists

_BARE_KEY = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class TenantsUsage(Exception):
    """A usage problem of `kravsync tenants` (exit 2), one line."""


# -- reading the store's tenants ------------------------------------------------------------------
def load_stored(store: Store, config: Config) -> list[TenantConfig]:
    """The store's tenants, each validated again as a config file's table would be."""
    return [stored_config(row, config) for row in store.stored_tenants()]


def stored_config(row: StoredTenant, config: Config) -> TenantConfig:
    where = f"store: tenant {row.name}"
    try:
        table = json.loads(row.config)
    except json.JSONDecodeError:
        raise ConfigError(f"{where}: not a JSON object (`kravsync tenants remove {row.name}`)") from None
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: not a JSON object (`kravsync tenants remove {row.name}`)")
    return validate_tenant_tables(table, where, rates=config.rates, one=True)[0]


def merged(config: Config, stored: Sequence[TenantConfig]) -> Config:
    """The config with the store's tenants after its own; a name in both is a ConfigError."""
    names = {t.name for t in stored}
    for index, tenant in enumerate(config.tenants):
        if tenant.name in names:
            raise ConfigError(conflict(config, index, tenant.name))
    return config.model_copy(update={"tenants": [*config.tenants, *stored]})


def conflict(config: Config, index: int, name: str) -> str:
    source = config.source.name if config.source else "config"
    return (
        f"{source}: tenants[{index}].name: tenant {name!r} is defined both in this file and in "
        f"the store; keep one: delete the [[tenants]] table, or run `kravsync tenants remove "
        f"{name}`"
    )


def with_store_tenants(config: Config, clock: Clock) -> Config:
    """The effective config of a command: the file's tenants plus the store's. A SQLite store
    that does not exist yet holds none, and is not created here (`auth` and `rates` never made
    one)."""
    url = config.store_url()
    path = url.removeprefix("sqlite:///")
    if url.startswith("sqlite:///") and path != ":memory:" and not os.path.exists(path):
        return config
    store = open_configured_store(config, clock)
    try:
        return merged(config, load_stored(store, config))
    finally:
        store.close()


# -- writing ----------------------------------------------------------------------------------------
def table_of(tenant: TenantConfig) -> dict[str, Any]:
    """A validated tenant as the table that was given (defaults left out, so they follow
    kravsync's own), in JSON types."""
    return tenant.model_dump(mode="json", exclude_unset=True)


def _guard_secrets(table: Any) -> None:
    """A credential setting that is no reference may be a secret: scrub it from every line
    printed from here on (the validator refuses it without repeating it anyway)."""
    if not isinstance(table, dict):
        return
    values = [table.get("credentials")]
    email = table.get("email")
    if isinstance(email, dict):
        values.append(email.get("password"))
    for value in values:
        if isinstance(value, str):
            try:
                credential_reference(value)
            except ValueError:
                register_secret(value)


def _write(
    store: Store, config: Config, tenants: Sequence[TenantConfig], where: str, replace: bool
) -> list[str]:
    file_names = {t.name: i for i, t in enumerate(config.tenants)}
    for tenant in tenants:
        if tenant.name in file_names:
            raise ConfigError(
                f"{where}: tenant {tenant.name!r} is already defined in "
                f"{config.source.name if config.source else 'the config file'} "
                f"(tenants[{file_names[tenant.name]}]); a name lives in the file or in the "
                "store, not both"
            )
    rows = [
        (t.name, t.provider, t.country, json.dumps(table_of(t), ensure_ascii=False))
        for t in tenants
    ]
    try:
        return store.put_tenants(rows, replace=replace)
    except TenantExists as exc:
        raise ConfigError(
            f"{where}: tenant(s) already in the store: {', '.join(exc.names)} (--replace to "
            "overwrite their configuration); nothing was written"
        ) from None


# -- `tenants add` ---------------------------------------------------------------------------------
_FLAGS = (
    ("provider", "provider"),
    ("country", "country"),
    ("company", "company"),
    ("credentials", "credentials"),
    ("base_url", "base_url"),
    ("interval", "interval_minutes"),
)


def add_table(args: argparse.Namespace) -> dict[str, Any]:
    """The [[tenants]] table `tenants add` describes: the flags, then each ``--set KEY=VALUE``."""
    table: dict[str, Any] = {"name": args.name}
    for flag, key in _FLAGS:
        value = getattr(args, flag, None)
        if value is not None:
            table[key] = value
    for item in args.set:
        key, sep, raw = item.partition("=")
        parts = key.split(".")
        if not sep or not all(part and set(part) <= _BARE_KEY for part in parts):
            raise TenantsUsage(
                "tenants add: --set takes KEY=VALUE, KEY letters, digits and '_' (dotted for a "
                "sub-table: email.host=smtp.example.no)"
            )
        target = table
        for part in parts[:-1]:
            nested = target.setdefault(part, {})
            if not isinstance(nested, dict):
                raise TenantsUsage(f"tenants add: --set {key}: {part} is not a table")
            target = nested
        target[parts[-1]] = _value(parts, raw)
    return table


def _value(parts: list[str], raw: str) -> Any:
    """A TOML value (``30``, ``true``, ``"text"``, ``["a", "b"]``); text that is not TOML is
    taken as text, and so are digits for a setting that is text (an account number)."""
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw
    if isinstance(value, int | float) and not isinstance(value, bool) and _wants_text(parts):
        return raw
    return value


def _wants_text(parts: list[str]) -> bool:
    model: Any = TenantConfig
    annotation: Any = None
    for part in parts:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return False
        annotation = fields[part].annotation
        options = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
        model = next((o for o in options if hasattr(o, "model_fields")), None)
    options = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    return str in options and int not in options and float not in options


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def cmd_add(args: argparse.Namespace, config: Config, store: Store) -> int:
    table = add_table(args)
    _guard_secrets(table)
    tenant = validate_tenant_tables(table, "tenants add", rates=config.rates, one=True)[0]
    added = _write(store, config, [tenant], "tenants add", args.replace)
    verb = "added to" if added else "replaced in"
    print(safe_message(f"tenant {tenant.name} ({tenant.provider}, {tenant.country}) {verb} the store"))
    return 0


# -- `tenants import FILE` -------------------------------------------------------------------------
def read_toml(path: str) -> tuple[dict[str, Any], str]:
    """The TOML document at ``path`` (``-``: standard input) and the name errors use for it."""
    name = "<stdin>" if path == "-" else Path(path).name
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8")), name
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: TOML syntax: {exc}") from None


def cmd_import(args: argparse.Namespace, config: Config, store: Store) -> int:
    data, name = read_toml(args.file)
    tables = data.get("tenants")
    if isinstance(tables, list):
        for table in tables:
            _guard_secrets(table)
    # the whole file is checked as a config file is ([store], [rates]... may be there, and are
    # not imported); every table is valid before any is written
    imported = parse_config(data, Path(name)).tenants
    if not imported:
        raise ConfigError(f"{name}: no [[tenants]] tables to import")
    tenants = validate_tenant_tables(
        [table_of(t) for t in imported], name, rates=config.rates
    )
    added = _write(store, config, tenants, name, args.replace)
    replaced = len(tenants) - len(added)
    extra = f", {replaced} replaced" if replaced else ""
    print(f"{len(tenants)} tenant(s) imported into the store from {safe_message(name)} "
          f"({len(added)} new{extra})")
    others = sorted(k for k in data if k != "tenants")
    if others:
        print(f"not imported (config-file settings): {', '.join(safe_message(k, 40) for k in others)}")
    return 0


# -- `tenants export` ------------------------------------------------------------------------------
def cmd_export(args: argparse.Namespace, config: Config, store: Store) -> int:
    rows = store.stored_tenants()
    wanted = set(args.names)
    missing = wanted - {r.name for r in rows}
    if missing:
        raise TenantsUsage(
            f"tenants export: not in the store: {', '.join(sorted(safe_message(m, 70) for m in missing))}"
        )
    tables = [json.loads(r.config) for r in rows if not wanted or r.name in wanted]
    sys.stdout.write(
        f"# {len(tables)} tenant(s) from the kravsync store; `kravsync tenants import FILE` "
        "reads this back\n"
    )
    sys.stdout.write(to_toml(tables))
    return 0


def to_toml(tables: Sequence[dict[str, Any]]) -> str:
    """``[[tenants]]`` tables as TOML (text escaped; æøå kept as they are)."""
    out: list[str] = []
    for table in tables:
        out += ["", "[[tenants]]"]
        subtables = []
        for key, value in table.items():
            if isinstance(value, dict):
                subtables.append((key, value))
            elif value is not None:
                out.append(f"{_key(key)} = {_toml(value)}")
        for key, sub in subtables:
            out.append(f"[tenants.{_key(key)}]")
            out += [f"{_key(k)} = {_toml(v)}" for k, v in sub.items() if v is not None]
    return "\n".join(out) + "\n"


def _key(key: str) -> str:
    return key if key and set(key) <= _BARE_KEY else toml_string(key)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items() if v is not None)
        return "{ " + inner + " }" if inner else "{}"
    return toml_string(str(value))


# -- `tenants list` and `tenants remove` -----------------------------------------------------------
def cmd_list(args: argparse.Namespace, config: Config, store: Store) -> int:
    stored = {r.name: r for r in store.stored_tenants()}
    rows: list[dict[str, Any]] = []
    for tenant in config.tenants:
        rows.append(
            {
                "name": tenant.name,
                "provider": tenant.provider,
                "country": tenant.country,
                "interval_minutes": tenant.interval_minutes,
                "push": tenant.push,
                "source": "file+store (conflict)" if tenant.name in stored else "file",
            }
        )
    for name, row in stored.items():
        try:
            table = json.loads(row.config)
        except json.JSONDecodeError:
            table = {}
        table = table if isinstance(table, dict) else {}
        rows.append(
            {
                "name": name,
                "provider": row.provider,
                "country": row.country,
                "interval_minutes": table.get("interval_minutes", 60),
                "push": table.get("push", False),
                "source": "store",
            }
        )
    rows.sort(key=lambda r: (r["name"], r["source"]))
    if args.format == "json":
        print(json.dumps({"tenants": rows}, indent=2, ensure_ascii=False))
        return 0
    header = ("NAME", "PROVIDER", "COUNTRY", "INTERVAL", "PUSH", "SOURCE")
    cells = [header] + [
        (
            safe_message(r["name"], 70),
            safe_message(r["provider"], 40),
            safe_message(r["country"], 10),
            safe_message(f"{r['interval_minutes']} min", 20),
            safe_message(json.dumps(r["push"]), 20),
            r["source"],
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    for line in cells:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    conflicts = sum(1 for r in rows if r["source"].startswith("file+store"))
    if conflicts:
        print(
            f"{conflicts} name(s) both in the config file and in the store: every other command "
            "refuses to run until one of the two is removed"
        )
    return 0


def cmd_remove(args: argparse.Namespace, config: Config, store: Store) -> int:
    if store.remove_tenant_config(args.name):
        print(
            safe_message(
                f"tenant {args.name}: configuration removed from the store; its history "
                "(invoices, actions, notes, runs) stays there, and adding it again carries on "
                "from it"
            )
        )
        return 0
    if any(t.name == args.name for t in config.tenants):
        raise TenantsUsage(
            safe_message(
                f"tenants remove: tenant {args.name} is defined in "
                f"{config.source.name if config.source else 'the config file'}, not in the "
                "store: delete its [[tenants]] table there"
            )
        )
    raise TenantsUsage(safe_message(f"tenants remove: no tenant {args.name!r} in the store"))


COMMANDS = {
    "add": cmd_add,
    "import": cmd_import,
    "export": cmd_export,
    "list": cmd_list,
    "remove": cmd_remove,
}


def run(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    store = open_configured_store(config, clock)
    try:
        return COMMANDS[args.tenants_command](args, config, store)
    finally:
        store.close()


__all__ = ["COMMANDS", "TenantsUsage", "load_stored", "merged", "run", "to_toml", "with_store_tenants"]
