"""The `kravsync` command line (DESIGN.md §3). Exit codes: 0 ok, 1 a tenant failed, 2 usage/config,
3 (sync) actions failed or stuck pending, 75 a tenant held by another kravsync process
(EX_TEMPFAIL: try again later). The first that applies wins, in that order."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import psycopg

from connector.clock import Clock, ClockSettingError
from connector.config import (
    Config,
    ConfigError,
    TenantConfig,
    default_config_path,
    load_config,
)
from connector.cycle import CycleResult
from connector.cycle.plan import plan_tenant
from connector.files import FileError, write_private
from connector.interaction import NoTerminal, Terminal
from connector.lease import LeaseBusy, LeaseLost, TenantLease
from connector.models import Note, NoteKind
from connector.policy import PolicyError
from connector.render.progress import progress_for
from connector.render.report import render as render_report
from connector.render.report import render_invoices_csv
from connector.render.status import (
    action_counts,
    collect,
    counts_line,
    status_json,
    status_table,
    workers_json,
    workers_table,
)
from connector.render.views import (
    invoice_rows,
    plan_json,
    plan_table,
    report_data,
    tenant_notices,
)
from connector.runtime import run_tenant, setup_logging
from connector.scrub import safe_message
from connector.secrets import CredentialError, credentials_for
from connector.store import Store, StoreBusy, StoreError, open_configured_store
from providers.base import get_factory
from providers.http import ProviderError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ACTIONS = 0, 1, 2, 3
EXIT_HELD = 75  # EX_TEMPFAIL: another kravsync process holds the tenant's lease


class UsageError(Exception):
    pass


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 24 * 3600:
        raise argparse.ArgumentTypeError(f"not a number of seconds (0 to 86400): {value!r}")
    return seconds


def _ttl(value: str) -> float:
    seconds = _seconds(value)
    if seconds < 1:
        raise argparse.ArgumentTypeError(f"a lease lasts 1 second at least: {value!r}")
    return seconds


def _count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if not 1 <= count <= 256:
        raise argparse.ArgumentTypeError(f"not a whole number from 1 to 256: {value!r}")
    return count


def _wait_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--wait",
        type=_seconds,
        default=0.0,
        metavar="S",
        help="wait up to S seconds for a tenant another kravsync process is working "
        f"(default 0: say who holds it and exit {EXIT_HELD})",
    )


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
    p.add_argument(
        "--full",
        action="store_true",
        help="read every missing detail record now (no per-cycle budget; Fortnox first sync)",
    )
    p.add_argument("--today", type=_date, help="pretend today is this date (YYYY-MM-DD)")
    _wait_option(p)

    p = sub.add_parser(
        "daemon", help="a worker: claim the due tenants and cycle them until SIGTERM/SIGINT"
    )
    p.add_argument("--healthz-port", type=int, help="serve /healthz on 127.0.0.1:PORT")
    p.add_argument("--console-port", type=int, help="serve the web console on 127.0.0.1:PORT")
    p.add_argument(
        "--concurrency",
        type=_count,
        metavar="N",
        help="run up to N tenants at a time (default: [daemon] workers, 4)",
    )
    p.add_argument(
        "--lease-ttl",
        type=_ttl,
        metavar="S",
        help="a tenant's lease lasts S seconds unless renewed (default: [store] lease_seconds)",
    )
    p.add_argument(
        "--heartbeat",
        type=_seconds,
        default=5.0,
        metavar="S",
        help="write this worker's heartbeat every S seconds (default 5)",
    )

    p = sub.add_parser("status", help="per tenant: customers, open invoices, balances, last run")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--tenant", action="append", default=[])
    p.add_argument("--today", type=_date)

    p = sub.add_parser(
        "actions",
        help="the action journal; `actions retry KEY|--all-failed` re-arms failed actions",
        description="List the journal, or re-arm failed actions after a fix: the next sync "
        "looks for them at the provider, re-reads the invoice and decides again before sending.",
    )
    p.add_argument("verb", nargs="?", choices=("list", "retry"), default="list")
    p.add_argument("key", nargs="?", help="retry: the action's key (as `actions` lists it)")
    p.add_argument("--tenant", action="append", default=[])
    p.add_argument("--state", choices=("failed", "pending", "stuck", "done", "skipped"))
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--all-failed", action="store_true", help="retry: every failed action")

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
    p.add_argument(
        "--what",
        choices=("findings", "invoices"),
        default="findings",
        help="csv only: a row per finding (default) or per open invoice",
    )
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
    _wait_option(p)
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

    p = sub.add_parser("console", help="the web console: review queue, customers, data quality")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8470, help="port (default 8470)")
    p.add_argument("--tls-cert", type=Path, help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", type=Path, help="... and this private key (PEM)")
    p.add_argument("--today", type=_date, help="pretend today is this date (YYYY-MM-DD)")

    p = sub.add_parser("user", help="console users")
    users = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    u = users.add_parser("add", help="add a user or set a user's role and password")
    u.add_argument("name")
    u.add_argument("--role", choices=("viewer", "approver", "admin"), required=True)
    u.add_argument("--language", choices=("en", "nb", "sv"), default="en")
    users.add_parser("list", help="the users and their roles")

    p = sub.add_parser("auth", help="store credentials for a tenant in the keyring")
    p.add_argument("tenant")

    p = sub.add_parser(
        "rates",
        help="every dated legal figure with its source; `rates update` fetches new half-years",
    )
    p.add_argument(
        "action", nargs="?", choices=("show", "update"), default="show",
        help="show (default), or update: fetch from Norges Bank and Riksbanken into the store",
    )
    p.add_argument("--country", action="append", default=[], choices=("NO", "SE", "no", "se"))
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--today", type=_date)
    sub.add_parser(
        "migrate",
        help="bring the store's schema up to date, then exit (every command does it on start)",
    )
    p = sub.add_parser("store", help="store housekeeping: `store copy SRC DST` moves a store")
    stores = p.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    c = stores.add_parser(
        "copy",
        help="copy a whole store into a new, empty one (e.g. SQLite to PostgreSQL), then "
        "verify every table by row count and checksum",
    )
    c.add_argument("source", help="store URL to copy from (sqlite:///PATH or postgresql://...)")
    c.add_argument("target", help="store URL to copy into; must be new or empty")
    c.add_argument(
        "--password",
        help="where a PostgreSQL password comes from when a URL holds none: env:VAR or keyring",
    )
    p = sub.add_parser("tenants", help="tenant housekeeping")
    tenants = p.add_subparsers(dest="tenants_command", required=True, metavar="ACTION")
    d = tenants.add_parser(
        "discover",
        help="list the companies a tenant's login reaches (an accounting bureau's clients) "
        "as ready-to-paste [[tenants]] tables",
    )
    d.add_argument("tenant")
    _stored_tenant_parsers(tenants)
    return parser


def _stored_tenant_parsers(tenants: argparse._SubParsersAction) -> None:
    """`tenants add|list|remove|import|export`: tenants kept in the store (connector/stored_tenants.py)."""
    a = tenants.add_parser(
        "add",
        help="keep a tenant in the store (shared by every kravsync process on it); validated "
        "as a [[tenants]] table of the config file",
    )
    a.add_argument("name")
    a.add_argument("--provider")
    a.add_argument("--country", help="NO or SE")
    a.add_argument("--company", help="the provider's company (Fiken: the company slug)")
    a.add_argument(
        "--credentials",
        help="where the secret lives: keyring, keyring:ENTRY, env:VAR or file:/PATH "
        "(never the secret itself)",
    )
    a.add_argument("--base-url", dest="base_url")
    a.add_argument("--interval", type=int, metavar="MINUTES", help="interval_minutes")
    a.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other key of a [[tenants]] table, VALUE in TOML (push=true, "
        "validation.registry_check=true, 'fee_invoices.numbers=[\"9001\"]'); repeatable",
    )
    a.add_argument("--replace", action="store_true", help="overwrite a tenant already stored")
    li = tenants.add_parser(
        "list", help="every tenant: name, provider, country, interval, push and source (file/store)"
    )
    li.add_argument("--format", choices=("table", "json"), default="table")
    r = tenants.add_parser(
        "remove",
        help="forget a stored tenant's configuration (its history stays in the store)",
    )
    r.add_argument("name")
    i = tenants.add_parser(
        "import",
        help="[[tenants]] tables from a TOML file (- for standard input) into the store; all are "
        "validated before any is written",
    )
    i.add_argument("file", metavar="FILE")
    i.add_argument("--replace", action="store_true", help="overwrite tenants already stored")
    e = tenants.add_parser(
        "export", help="the store's tenants as [[tenants]] TOML that `tenants import` reads back"
    )
    e.add_argument("names", nargs="*", metavar="NAME", help="only these (default: all)")


def _accept_global_options_after_command(parser: argparse.ArgumentParser) -> None:
    """``--config``, ``-v`` and ``--log-json`` also after the command name (``kravsync sync
    --config F``), as users type them; given there, they win over the ones before it."""
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        for sub in getattr(action, "choices", {}).values():
            known = {o for a in sub._actions for o in a.option_strings}
            if "--config" not in known:
                sub.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="config file")
            if "-v" not in known and "--verbose" not in known:
                sub.add_argument(
                    "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more log output"
                )
            if "--log-json" not in known:
                sub.add_argument(
                    "--log-json", action="store_true", default=argparse.SUPPRESS, help="log as JSON"
                )


def _line(text: object) -> str:
    """One printed line: secrets scrubbed, person numbers masked, control characters escaped."""
    return safe_message(text, 2000)


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _tenants(config: Config, names: Sequence[str]) -> list[TenantConfig]:
    return [config.tenant(n) for n in names] if names else list(config.tenants)


def cmd_sync(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    tenants = _tenants(config, args.tenant)
    if not tenants:
        raise UsageError(f"{config.source}: no [[tenants]] configured")
    store = open_configured_store(config, clock)
    failed = alarming = held = 0
    for tenant in tenants:
        progress = progress_for(tenant.name)

        def planned(result: CycleResult, name: str = tenant.name) -> None:
            if result.details:  # the plan stands before the backfill: say so at once
                print(f"{name}: planned: {len(result.actions)} actions", flush=True)

        try:
            result = run_tenant(
                tenant,
                store,
                clock=clock,
                progress=progress,
                dry_run=args.dry_run,
                full=args.full,
                planned=planned,
                lease_seconds=config.store.lease_seconds,
                lease_wait=args.wait,
            )
        finally:
            progress.finish()
        if result.held:
            print(f"kravsync: {_line(result.sync.error)}", file=sys.stderr)
            held += 1
            continue
        print(_line(result.summary()))
        skipped = result.sync.skipped
        for item in skipped[:20]:
            print(f"  skipped {_line(item)}")
        if len(skipped) > 20:
            print(
                f"  ... and {len(skipped) - 20} more skipped records (see the store's run_errors)"
            )
        failed += not result.ok
        counts = action_counts(store, tenant, clock)
        if counts.alarming or args.verbose:
            print(_line(f"{tenant.name}: actions: {counts_line(counts, clock.now())}"))
        alarming += counts.alarming
    if failed:
        return EXIT_FAILED
    return EXIT_ACTIONS if alarming else EXIT_HELD if held else EXIT_OK


def cmd_daemon(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from connector.daemon import Daemon
    from connector.stored_tenants import with_store_tenants

    file_config, config = config, with_store_tenants(config, clock)
    if not config.tenants:
        raise UsageError(f"{config.source}: no [[tenants]] configured")
    if not args.verbose:  # a daemon logs a line per cycle and per phase without -v
        logging.getLogger("kravsync").setLevel(logging.INFO)
    port = args.healthz_port if args.healthz_port is not None else config.daemon.healthz_port
    daemon = Daemon(
        config,
        open_configured_store(config, clock),
        clock=clock,
        workers=config.daemon.workers,
        concurrency=args.concurrency,
        lease_ttl=args.lease_ttl,
        heartbeat=max(args.heartbeat, 0.1),
        healthz_port=port,
        file_config=file_config,
    )
    daemon.install_signal_handlers()
    stop_console = _daemon_console(args, config, clock)
    try:
        return daemon.run()
    except OSError as exc:  # the only I/O before the loop: binding /healthz
        raise UsageError(f"--healthz-port {port}: cannot listen on 127.0.0.1: {_os_reason(exc)}") from None
    finally:
        if stop_console is not None:
            stop_console()


def _daemon_console(
    args: argparse.Namespace, config: Config, clock: Clock
) -> Callable[[], None] | None:
    """`daemon --console-port P`: the console beside the daemon, on its own store connection."""
    if args.console_port is None:
        return None
    from connector.console.serve import start_in_thread

    try:
        return start_in_thread(
            config, open_configured_store(config, clock), clock, port=args.console_port
        )
    except OSError as exc:
        raise UsageError(
            f"--console-port {args.console_port}: cannot listen on 127.0.0.1: {_os_reason(exc)}"
        ) from None


def cmd_status(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    store = open_configured_store(config, clock)
    names = [t.name for t in _tenants(config, args.tenant)]
    statuses = collect(store, names, clock.today())
    notices = {t.name: tenant_notices(t, store, clock.today()) for t in _tenants(config, args.tenant)}
    actions = {t.name: action_counts(store, t, clock) for t in _tenants(config, args.tenant)}
    workers = store.workers()  # the daemons sharing the tenants (the store's shared time)
    if args.format == "json":
        document = status_json(statuses, actions, clock.now())
        for entry in document["tenants"]:
            entry["rates"] = notices.get(entry["tenant"], [])
        document["workers"] = workers_json(workers, store.shared_time())
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print(status_table(statuses, actions, clock.now()))
        if workers:
            print("\n" + workers_table(workers, store.shared_time()))
        unclaimed = [(name, line) for name, lines in notices.items() for line in lines]
        if unclaimed:
            print("\nfigures missing (not claimed):")
            for name, line in unclaimed:
                print(f"  {name}: {line}")
    return EXIT_OK


def cmd_actions(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from connector.render.actions import actions_table, entry_json, shown_state

    tenants = _tenants(config, args.tenant)
    store = open_configured_store(config, clock)
    now = clock.now()
    if args.verb == "retry":
        if bool(args.key) == bool(args.all_failed):
            raise UsageError("actions retry: give one action KEY or --all-failed")
        moved: list[str] = []
        for tenant in tenants:
            moved += store.journal_rearm(tenant.name, [args.key] if args.key else None)
        if args.key and not moved:
            raise UsageError(f"actions retry: no failed action {args.key!r} in the store")
        for key in moved:
            print(_line(f"re-armed {key}"))
        print(
            f"{len(moved)} failed action(s) re-armed: the next `kravsync sync` looks for them at "
            "the provider, re-reads each invoice and decides again before sending anything"
        )
        return EXIT_OK
    if args.key:
        raise UsageError("actions: a KEY only goes with `actions retry`")
    rows = []
    for tenant in tenants:
        stuck_after = tenant.stuck_after
        for entry in store.journal(tenant.name):
            state = shown_state(entry, now, stuck_after)
            if args.state is None or args.state == state:
                rows.append((tenant.name, entry, state))
    if args.format == "json":
        document = {"actions": [entry_json(t, e, s, now) for t, e, s in rows]}
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print(actions_table(rows, now), end="")
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
    try:
        sandbox = factory.sandbox(**kwargs).start()
    except OSError as exc:
        raise UsageError(f"--port {args.port}: cannot listen on 127.0.0.1: {_os_reason(exc)}") from None
    except TypeError as exc:  # a third-party sandbox without one of these options
        raise UsageError(f"--provider {args.provider}: its sandbox does not take {exc}") from None
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


def _sending_day_notice(tenant: TenantConfig, today: date) -> list[str]:
    """Why a plan made on a weekend or public holiday is empty (nothing is sent on one)."""
    from connector.policy.calendar import is_business_day, next_business_day

    if is_business_day(tenant.country, today):
        return []
    then = next_business_day(tenant.country, today)
    return [
        f"today ({today:%A} {today}) is not a sending day in {tenant.country}: nothing is "
        f"planned for sending until {then:%A} {then}"
    ]


def cmd_plan(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    store = open_configured_store(config, clock)
    today = clock.today()
    tenants = _tenants(config, args.tenant)
    plans = [(t, plan_tenant(t, store, today)) for t in tenants]
    notices = {t.name: [*tenant_notices(t, store, today), *_sending_day_notice(t, today)] for t in tenants}
    if args.format == "json":
        print(json.dumps(plan_json(plans, notices), indent=2, ensure_ascii=False))
    else:
        print(plan_table(plans, notices=notices), end="")
    return EXIT_OK


def cmd_report(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    store = open_configured_store(config, clock)
    tenants = _tenants(config, args.tenant)
    if args.what == "invoices":
        if args.format != "csv":
            raise UsageError("--what invoices: only with --format csv")
        rows = invoice_rows(tenants, store, clock.today())
        text, what = render_invoices_csv(rows), "invoices"
    else:
        rows, summary = report_data(tenants, store, clock.today())
        balances = None
        if args.format == "html":
            from connector.console.pages import customer_rows

            balances = {t.name: customer_rows(t, store, clock.today()) for t in tenants}
        text = render_report(
            args.format, rows, summary, generated_at=clock.now(), balances=balances
        )
        what = "findings"
    if args.output:
        write_private(args.output, text)  # 0600, temp file + rename, never through a link
        print(f"wrote {args.output} ({len(rows)} {what})")
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return EXIT_OK


def cmd_note(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    tenant = config.tenant(args.tenant)
    store = open_configured_store(config, clock)
    try:
        with TenantLease(store, tenant.name, ttl=config.store.lease_seconds, wait=args.wait):
            return _note(args, tenant, store, clock)
    except LeaseBusy as exc:
        print(f"kravsync: {_line(exc)}", file=sys.stderr)
        return EXIT_HELD


def _note(args: argparse.Namespace, tenant: TenantConfig, store: Store, clock: Clock) -> int:
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
    if tenant.credentials.startswith("env:"):
        variable = tenant.credentials[4:]
        raise UsageError(
            f"tenant {tenant.name} reads its secret from environment variable {variable} "
            f'(credentials = "{tenant.credentials}"): set that variable, or set '
            'credentials = "keyring" to store one with `kravsync auth`'
        )
    factory = get_factory(tenant.provider)
    if factory.auth is None:
        raise UsageError(f"provider {tenant.provider} has no interactive auth")
    try:
        factory.auth(tenant, credentials_for(tenant.credentials), Terminal())
    except NoTerminal:
        raise UsageError(
            f"tenant {tenant.name}: no terminal to ask for the secret (standard input is closed); "
            "run `kravsync auth` interactively, or pipe the secret to it"
        ) from None
    return EXIT_OK


def cmd_rates(args: argparse.Namespace, config: Config | None, clock: Clock) -> int:
    from connector.render.rates import (
        countries_of,
        extra_rows,
        rates_document,
        rates_table,
        run_update,
    )

    countries = countries_of(config, args.country)
    if args.action == "update":
        if config is None:
            raise UsageError("rates update keeps what it fetches in the store: give --config")
        store = open_configured_store(config, clock)
        lines, ok = run_update(
            config, store, countries, clock.today(), clock.now().isoformat(timespec="seconds")
        )
        print("\n".join(lines))
        return EXIT_OK if ok else EXIT_FAILED
    shown = open_configured_store(config, clock) if config is not None else None
    document = rates_document(countries, extra_rows(config, shown), clock.today())
    if config is None:
        document["note"] = "no config file: built-in figures only (nothing fetched or set by hand)"
    if args.format == "json":
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        if config is None:
            print(document["note"])
        print(rates_table(document), end="")
    return EXIT_OK


def cmd_console(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from connector.console.serve import serve

    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: not a port number")
    if (args.tls_cert is None) != (args.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    store = open_configured_store(config, clock)
    try:
        serve(
            config,
            store,
            clock,
            host=args.host,
            port=args.port,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
        )
    except OSError as exc:
        raise UsageError(
            f"--port {args.port}: cannot listen on {args.host}: {_os_reason(exc)}"
        ) from None
    return EXIT_OK


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")


def cmd_user(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    store = open_configured_store(config, clock)
    if args.action == "list":
        for user in store.console_users():
            print(f"{user.name}\t{user.role}\t{user.language}")
        return EXIT_OK
    from connector.console.auth import hash_password

    if not _NAME.fullmatch(args.name):
        raise UsageError(f"user name {args.name!r}: 1-64 letters, digits, '_', '.', '@' or '-'")
    password = _read_password()
    if len(password) < 10:
        raise UsageError("the password must have at least 10 characters")
    added = store.put_user(args.name, args.role, hash_password(password), args.language)
    print(f"user {args.name}: {'added' if added else 'updated'}, role {args.role}")
    return EXIT_OK


def _read_password() -> str:
    """Asked twice without echo on a terminal; the first line of standard input otherwise."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise UsageError("the passwords differ")
    return first


def cmd_tenants(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from connector import stored_tenants
    from connector.discovery import discovered_toml

    if args.tenants_command != "discover":
        try:
            return stored_tenants.run(args, config, clock)
        except stored_tenants.TenantsUsage as exc:
            raise UsageError(str(exc)) from None
    config = stored_tenants.with_store_tenants(config, clock)
    tenant = config.tenant(args.tenant)
    factory = get_factory(tenant.provider)
    if factory.discover is None:
        raise UsageError(f"provider {tenant.provider} cannot list other companies of a login")
    found = factory.discover(tenant, credentials_for(tenant.credentials), clock=clock)
    print(discovered_toml(tenant, found, config.tenants), end="")
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    store = open_configured_store(config, clock)  # opening a store migrates it
    print(f"{_line(store.path)}: schema at version {store.schema_version()}")
    return EXIT_OK


def cmd_store_copy(args: argparse.Namespace, clock: Clock) -> int:
    from connector.render.copy import copy_lines
    from connector.store import open_store
    from connector.store.copy import CopyError, copy_store

    source_url = _file_url(args.source)
    if source_url.startswith("sqlite:///") and not os.path.exists(source_url[len("sqlite:///") :]):
        raise UsageError(f"store copy: {_line(args.source)}: no such store (nothing copied)")
    source = open_store(source_url, clock, args.password)
    target = open_store(_file_url(args.target), clock, args.password)
    try:
        checks = copy_store(source, target)
    except CopyError as exc:
        raise UsageError(f"store copy: {exc}") from None
    for line in copy_lines(source.path, target.path, checks):
        print(line)
    return EXIT_OK if all(c.ok for c in checks) else EXIT_FAILED


def _file_url(url: str) -> str:
    """A relative SQLite path on the command line is relative to where the command runs."""
    if url.startswith("sqlite:///") and not os.path.isabs(url[len("sqlite:///") :]):
        return "sqlite:///" + os.path.abspath(url[len("sqlite:///") :])
    return url


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    """``clock``: the clock for the whole command (tests pass theirs); ``--today`` moves it."""
    parser = build_parser()
    _accept_global_options_after_command(parser)
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

            return run_demo(clock, to_sending_day=not getattr(args, "today", None))
        if args.command == "sandbox":
            return cmd_sandbox(args, clock)
        if args.command == "store":
            return cmd_store_copy(args, clock)
        if args.command == "rates" and args.config is None and not default_config_path().exists():
            return cmd_rates(args, None, clock)
        config = load_config(args.config)
        if args.command not in ("tenants", "user", "daemon"):  # the store's join the file's
            from connector.stored_tenants import with_store_tenants

            config = with_store_tenants(config, clock)
        handler = {
            "sync": cmd_sync,
            "daemon": cmd_daemon,
            "status": cmd_status,
            "actions": cmd_actions,
            "plan": cmd_plan,
            "report": cmd_report,
            "note": cmd_note,
            "auth": cmd_auth,
            "rates": cmd_rates,
            "tenants": cmd_tenants,
            "migrate": cmd_migrate,
            "console": cmd_console,
            "user": cmd_user,
        }[args.command]
        return handler(args, config, clock)
    except (ConfigError, UsageError, StoreError, PolicyError, ClockSettingError, FileError) as exc:
        print(f"kravsync: {_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except (CredentialError, ProviderError, StoreBusy, LeaseLost) as exc:
        print(f"kravsync: {_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except psycopg.Error as exc:  # the PostgreSQL store went away mid-command
        print(f"kravsync: state store: {_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - no traceback reaches a user; -vv logs it
        logging.getLogger("kravsync.cli").debug("internal error", exc_info=exc)
        print(f"kravsync: internal error: {_line(f'{type(exc).__name__}: {exc}')}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
