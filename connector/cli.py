"""The `kravsync` command line (DESIGN.md §3). Exit codes: 0 ok, 1 a tenant failed, 2 usage/config."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from connector.clock import Clock, ClockSettingError
from connector.config import Config, ConfigError, TenantConfig, load_config
from connector.interaction import Terminal
from connector.models import Note, NoteKind
from connector.planning import plan_tenant
from connector.policy import PolicyError
from connector.report import render as render_report
from connector.runtime import (
    end_progress,
    run_tenant,
    setup_logging,
    terminal_progress,
)
from connector.secrets import CredentialError, credentials_for
from connector.status import collect, status_json, status_table
from connector.store import StoreError, open_store
from connector.views import plan_json, plan_table, report_data
from providers.base import get_factory
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

    p = sub.add_parser("daemon", help="cycle every tenant on its interval until SIGTERM/SIGINT")
    p.add_argument("--healthz-port", type=int, help="serve /healthz on 127.0.0.1:PORT")

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
    p.add_argument("--today", type=_date, help="seed the sandbox as of this date")

    p = sub.add_parser("plan", help="the actions a sync would push now, and why others get none")
    p.add_argument("--tenant", action="append", default=[])
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--today", type=_date)

    p = sub.add_parser("report", help="data-quality findings and receivables from the store")
    p.add_argument("--tenant", action="append", default=[])
    p.add_argument("--format", choices=("table", "csv", "json", "html"), default="table")
    p.add_argument("--output", type=Path, help="write to this file instead of standard output")
    p.add_argument("--today", type=_date)

    p = sub.add_parser("note", help="log a contact, a payment promise, a dispute or a hold")
    p.add_argument("tenant")
    p.add_argument(
        "ref", metavar="INVOICE", help="invoice number or id (with --customer: customer)"
    )
    p.add_argument(
        "--customer", action="store_true", help="the note is on a customer, not an invoice"
    )
    p.add_argument("--text", required=True)
    p.add_argument("--today", type=_date, help="date the note this day (YYYY-MM-DD)")
    p.add_argument("--author", help="who talked to the customer (default: your login name)")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--promise-date", type=_date, help="customer promised to pay by this date")
    kind.add_argument("--dispute", action="store_true", help="the customer disputes the claim")
    kind.add_argument(
        "--plan", type=_date, metavar="UNTIL", help="a payment plan runs until this date"
    )
    kind.add_argument(
        "--do-not-remind", type=_date, metavar="UNTIL", help="hold reminders until this date"
    )
    kind.add_argument(
        "--resolve", action="store_true", help="lift every hold on it (dispute settled...)"
    )

    p = sub.add_parser("auth", help="store credentials for a tenant in the keyring")
    p.add_argument("tenant")

    p = sub.add_parser("tenants", help="tenant housekeeping")
    tenants = p.add_subparsers(dest="tenants_command", required=True, metavar="ACTION")
    d = tenants.add_parser(
        "discover",
        help="list the companies a tenant's login reaches (an accounting bureau's clients) "
        "as ready-to-paste [[tenants]] tables",
    )
    d.add_argument("tenant")
    return parser


def _tenants(config: Config, names: Sequence[str]) -> list[TenantConfig]:
    return [config.tenant(n) for n in names] if names else list(config.tenants)


def cmd_sync(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    tenants = _tenants(config, args.tenant)
    if not tenants:
        raise UsageError(f"{config.source}: no [[tenants]] configured")
    store = open_store(config.store_url(), clock)
    failed = 0
    for tenant in tenants:
        progress = terminal_progress(tenant.name)
        result = run_tenant(tenant, store, clock=clock, progress=progress, dry_run=args.dry_run)
        end_progress(progress)
        print(result.summary())
        skipped = result.sync.skipped
        for item in skipped[:20]:
            print(f"  skipped {item}")
        if len(skipped) > 20:
            print(
                f"  ... and {len(skipped) - 20} more skipped records (see the store's run_errors)"
            )
        failed += not result.ok
    return EXIT_FAILED if failed else EXIT_OK


def cmd_daemon(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from connector.daemon import Daemon

    if not config.tenants:
        raise UsageError(f"{config.source}: no [[tenants]] configured")
    port = args.healthz_port if args.healthz_port is not None else config.daemon.healthz_port
    daemon = Daemon(
        config,
        open_store(config.store_url(), clock),
        clock=clock,
        workers=config.daemon.workers,
        healthz_port=port,
    )
    daemon.install_signal_handlers()
    return daemon.run()


def cmd_status(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    store = open_store(config.store_url(), clock)
    names = [t.name for t in _tenants(config, args.tenant)]
    statuses = collect(store, names, clock.today())
    if args.format == "json":
        print(json.dumps(status_json(statuses), indent=2, ensure_ascii=False))
    else:
        print(status_table(statuses))
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace, clock: Clock) -> int:
    try:
        factory = get_factory(args.provider)
    except KeyError as exc:
        raise UsageError(f"--provider: {exc.args[0]}") from None
    kwargs: dict[str, object] = {
        "port": args.port,
        "rate_limit": not args.no_rate_limit,
        "clock": clock,
    }
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
    for line in getattr(sandbox, "usage", list)():  # a sandbox may say how to try it
        print(f"  {line}")
    sys.stdout.flush()
    try:
        import threading

        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return EXIT_OK


def cmd_plan(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    store = open_store(config.store_url(), clock)
    today = clock.today()
    plans = [(t, plan_tenant(t, store, today)) for t in _tenants(config, args.tenant)]
    if args.format == "json":
        print(json.dumps(plan_json(plans), indent=2, ensure_ascii=False))
    else:
        print(plan_table(plans), end="")
    return EXIT_OK


def cmd_report(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    store = open_store(config.store_url(), clock)
    rows, summary = report_data(_tenants(config, args.tenant), store, clock.today())
    text = render_report(args.format, rows, summary, generated_at=clock.now())
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output} ({len(rows)} findings)")
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return EXIT_OK


def cmd_note(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    tenant = config.tenant(args.tenant)
    store = open_store(config.store_url(), clock)
    invoice_id = customer_id = None
    if args.customer:
        customer = store.find_customer(tenant.name, args.ref)
        if customer is None:
            raise UsageError(
                f"tenant {tenant.name}: no customer {args.ref!r} in the store (run sync first)"
            )
        customer_id = customer.provider_id
    else:
        invoice = store.find_invoice(tenant.name, args.ref)
        if invoice is None:
            raise UsageError(
                f"tenant {tenant.name}: no invoice {args.ref!r} in the store (run sync first)"
            )
        invoice_id = invoice.provider_id
    now = clock.now()
    author = args.author or getpass.getuser()
    if args.resolve:
        lifted = store.resolve_notes(
            tenant.name, invoice_id=invoice_id, customer_id=customer_id, at=now
        )
        kind, until = NoteKind.CONTACT, None
    elif args.promise_date:
        kind, until = NoteKind.PROMISE, args.promise_date
    elif args.dispute:
        kind, until = NoteKind.DISPUTE, None
    elif args.plan:
        kind, until = NoteKind.PAYMENT_PLAN, args.plan
    elif args.do_not_remind:
        kind, until = NoteKind.DO_NOT_REMIND, args.do_not_remind
    else:
        kind, until = NoteKind.CONTACT, None
    store.ensure_tenant(tenant.name, tenant.provider, tenant.country)
    store.add_note(
        Note(
            tenant=tenant.name,
            invoice_id=invoice_id,
            customer_id=customer_id,
            kind=kind,
            text=args.text,
            author=author,
            created_at=now,
            until=until,
        )
    )
    what = f"invoice {args.ref}" if invoice_id else f"customer {args.ref}"
    extra = f" until {until}" if until else ""
    if args.resolve:
        print(f"{tenant.name}: {what}: lifted {lifted} hold(s); note logged")
    else:
        print(f"{tenant.name}: {what}: {kind.value}{extra} logged by {author}")
    return EXIT_OK


def cmd_auth(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    tenant = config.tenant(args.tenant)
    factory = get_factory(tenant.provider)
    if factory.auth is None:
        raise UsageError(f"provider {tenant.provider} has no interactive auth")
    factory.auth(tenant, credentials_for(tenant.credentials), Terminal())
    return EXIT_OK


def cmd_tenants(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from connector.discovery import discovered_toml

    tenant = config.tenant(args.tenant)
    factory = get_factory(tenant.provider)
    if factory.discover is None:
        raise UsageError(f"provider {tenant.provider} cannot list other companies of a login")
    found = factory.discover(tenant, credentials_for(tenant.credentials), clock=clock)
    print(discovered_toml(tenant, found, config.tenants), end="")
    return EXIT_OK


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    """``clock``: the clock for the whole command (tests pass theirs); ``--today`` moves it."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "daemon":
        args.verbose = max(args.verbose, 1)  # a daemon logs one line per cycle and per action
    setup_logging(args.verbose, args.log_json)
    try:
        clock = clock or Clock.from_environment()
        if getattr(args, "today", None):
            clock = clock.on(args.today)
        if args.command == "demo":
            from connector.demo import run_demo

            return run_demo(clock)
        if args.command == "sandbox":
            return cmd_sandbox(args, clock)
        config = load_config(args.config)
        handler = {
            "sync": cmd_sync,
            "daemon": cmd_daemon,
            "status": cmd_status,
            "plan": cmd_plan,
            "report": cmd_report,
            "note": cmd_note,
            "auth": cmd_auth,
            "tenants": cmd_tenants,
        }[args.command]
        return handler(args, config, clock)
    except (ConfigError, UsageError, StoreError, PolicyError, ClockSettingError) as exc:
        print(f"kravsync: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (CredentialError, ProviderError) as exc:
        print(f"kravsync: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
