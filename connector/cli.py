"""The `kravsync` command line (DESIGN.md §3). Exit codes: 0 ok, 1 a tenant failed, 2 usage/config."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from connector.config import Config, ConfigError, TenantConfig, load_config
from connector.interaction import Terminal
from connector.runtime import (
    end_progress,
    parse_today,
    run_tenant,
    setup_logging,
    terminal_progress,
)
from connector.secrets import CredentialError, credentials_for
from connector.status import collect, status_json, status_table
from connector.store import StoreError, open_store
from providers.base import get_factory, registry
from providers.http import ProviderError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kravsync", description=__doc__)
    parser.add_argument(
        "--config",
        type=Path,
        help="config file (default ./kravsync.toml, then the user config dir)",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for HTTP)"
    )
    parser.add_argument("--log-json", action="store_true", help="log as JSON lines")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "demo", help="sync the built-in sandboxes into a temporary store (no account needed)"
    )
    p.add_argument("--today", type=_date, help="pretend today is this date (YYYY-MM-DD)")

    p = sub.add_parser("sync", help="one cycle for each tenant")
    p.add_argument("--tenant", action="append", default=[], help="only this tenant (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="pull and plan, never push")
    p.add_argument("--today", type=_date, help="pretend today is this date (YYYY-MM-DD)")

    p = sub.add_parser("status", help="per tenant: customers, open invoices, balances, last run")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--tenant", action="append", default=[])
    p.add_argument("--today", type=_date)

    p = sub.add_parser("sandbox", help="run a provider sandbox alone, for trying things with curl")
    p.add_argument("--provider", default="fiken", help="provider name (default fiken)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--token", help="the bearer token the sandbox accepts")
    p.add_argument("--customers", type=int, help="generate this many customers (benchmarks)")
    p.add_argument("--invoices", type=int, help="generate this many invoices (benchmarks)")
    p.add_argument("--no-rate-limit", action="store_true", help="never answer 429")

    p = sub.add_parser("auth", help="store credentials for a tenant in the keyring")
    p.add_argument("tenant")
    return parser


def _tenants(config: Config, names: Sequence[str]) -> list[TenantConfig]:
    return [config.tenant(n) for n in names] if names else list(config.tenants)


def cmd_sync(args: argparse.Namespace, config: Config) -> int:
    tenants = _tenants(config, args.tenant)
    if not tenants:
        raise UsageError(f"{config.source}: no [[tenants]] configured")
    store = open_store(config.store_url())
    failed = 0
    for tenant in tenants:
        progress = terminal_progress(tenant.name)
        result = run_tenant(tenant, store, progress=progress)
        end_progress(progress)
        print(result.summary())
        for item in result.skipped[:20]:
            print(f"  skipped {item}")
        if len(result.skipped) > 20:
            print(
                f"  ... and {len(result.skipped) - 20} more skipped records (see the store's run_errors)"
            )
        failed += not result.ok
    return EXIT_FAILED if failed else EXIT_OK


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    store = open_store(config.store_url())
    names = [t.name for t in _tenants(config, args.tenant)]
    statuses = collect(store, names, args.today or date.today())
    if args.format == "json":
        print(json.dumps(status_json(statuses), indent=2, ensure_ascii=False))
    else:
        print(status_table(statuses))
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace) -> int:
    try:
        factory = get_factory(args.provider)
    except KeyError as exc:
        raise UsageError(f"--provider: {exc.args[0]}") from None
    kwargs: dict[str, object] = {"port": args.port, "rate_limit": not args.no_rate_limit}
    if args.token:
        kwargs["token"] = args.token
    if args.customers:
        kwargs["customers"] = args.customers
    if args.invoices:
        kwargs["invoices"] = args.invoices
    sandbox = factory.sandbox(**kwargs).start()
    print(f"{factory.name} sandbox running (Ctrl-C to stop)")
    print(f"  base URL: {sandbox.base_url}")
    for key, value in sandbox.tenant_settings().items():
        if key != "base_url":
            print(f"  {key}: {value}")
    print(f"  token: {sandbox.token}")
    sys.stdout.flush()
    try:
        import threading

        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return EXIT_OK


def cmd_auth(args: argparse.Namespace, config: Config) -> int:
    tenant = config.tenant(args.tenant)
    factory = get_factory(tenant.provider)
    if factory.auth is None:
        raise UsageError(f"provider {tenant.provider} has no interactive auth")
    factory.auth(tenant, credentials_for(tenant.credentials), Terminal())
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose, args.log_json)
    try:
        if args.command == "demo":
            from connector.demo import run_demo

            return run_demo(today=args.today)
        if args.command == "sandbox":
            return cmd_sandbox(args)
        config = load_config(args.config)
        handler = {"sync": cmd_sync, "status": cmd_status, "auth": cmd_auth}[args.command]
        return handler(args, config)
    except (ConfigError, UsageError, StoreError) as exc:
        print(f"kravsync: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (CredentialError, ProviderError) as exc:
        print(f"kravsync: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


__all__ = ["main", "parse_today", "registry"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
