"""SMTP outages during a Fortnox e-mail push: every e-mail action delivered exactly once after.

    python benchmarks/smtp_outage.py [--trials 20] [--seed 1]

Each trial starts a fresh Fortnox sandbox (no Fortnox Finans: every reminder goes by kravsync's
own e-mail), a fresh store and a local SMTP server (aiosmtpd), and runs push cycles
(``run_tenant``, as `kravsync sync` does). During the first cycle the SMTP server is down for a
random part of the push: from a random letter on, for a random number of letters (to the end of
the cycle in some trials), either stopped (connection refused) or refusing kravsync's sender
(554). Then it is back and two more cycles run. Counted from what the SMTP server received (the
``X-Kravsync-Letter`` header names the actions of each message): every action the first plan
could deliver (a customer with an e-mail address) must have reached the server exactly once, be
``done`` in the journal, none may be skipped as "the accounting system sent its own reminder",
and Fortnox's ``printreminder`` (which registers a reminder) is asked once per reminder, never
again on a retry. Exit status 1 when any trial fails.
"""

from __future__ import annotations

import argparse
import email
import random
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from connector.channels.email import SmtpChannel
from connector.config import EmailSettings, TenantConfig
from connector.models import ActionStage, ActionState
from connector.runtime import run_tenant
from connector.secrets import MemoryCredentials
from connector.store import SqliteStore
from connector.validation import fixture_register
from providers.fortnox.sandbox import FortnoxSandbox

TODAY = date(2026, 3, 2)
TENANT = "acme-se"


class Inbox:
    """Keeps every message; refuses the sender while ``refuse`` is set."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.refuse = False

    async def handle_MAIL(  # noqa: N802 - aiosmtpd hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.refuse:
            return "554 5.7.1 sender refused"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.original_content or envelope.content)
        return "250 queued"

    def letters(self) -> Counter[str]:
        """Messages received per action key."""
        counts: Counter[str] = Counter()
        for raw in self.messages:
            header = email.message_from_bytes(raw).get("X-Kravsync-Letter", "")
            counts.update(k for k in str(header).split("+") if k)
        return counts


class SmtpServer:
    """A local SMTP server that can be stopped (connection refused) and started again."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self._ctl: Controller | None = None

    def up(self) -> None:
        if self._ctl is None:
            self._ctl = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
            self._ctl.start()

    def down(self) -> None:
        if self._ctl is not None:
            self._ctl.stop()
            self._ctl = None


class Outage:
    """kravsync's SMTP channel, with the server going away for letters ``start``..``end``-1."""

    def __init__(self, channel: SmtpChannel, server: SmtpServer, mode: str, start: int, end: int):
        self.channel, self.server, self.mode = channel, server, mode
        self.start, self.end, self.calls = start, end, 0

    def send(self, **kwargs: Any) -> str:
        if self.calls == self.start:
            self.server.inbox.refuse = self.mode == "refusing"
            if self.mode == "stopped":
                self.server.down()
        if self.calls == self.end:
            self.back()
        self.calls += 1
        return self.channel.send(**kwargs)

    def back(self) -> None:
        self.server.inbox.refuse = False
        self.server.up()


@dataclass
class Result:
    mode: str
    window: tuple[int, int]
    planned: int = 0
    deliverable: int = 0
    left_pending: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def tenant(sb: FortnoxSandbox) -> TenantConfig:
    settings = dict(sb.tenant_settings(), name=TENANT, provider="fortnox", country="SE")
    settings.update(push=True, auth="client_credentials", requests_per_window=1000)
    # The channel that can deliver (push needs one); the cycle is handed its SmtpChannel.
    settings["email"] = {"host": "127.0.0.1", "security": "none", "from_address": "ekonomi@acme.se"}
    return TenantConfig.model_validate(settings)


def cycle(sb: FortnoxSandbox, store: SqliteStore, channel: Any) -> Any:
    return run_tenant(
        tenant(sb),
        store,
        clock=sb.clock,
        credentials=MemoryCredentials({TENANT: sb.demo_secret()}),
        postcodes=lambda _t: fixture_register(),
        channel=channel,
    )


def trial(rng: random.Random, folder: Path) -> Result:
    inbox = Inbox()
    server = SmtpServer(inbox)
    smtp = EmailSettings(
        host="127.0.0.1", port=server.port, security="none", from_address="ekonomi@acme.se",
        timeout_seconds=5,
    )  # fmt: skip
    mode = rng.choice(("stopped", "refusing"))
    letters = 13  # the seed's deliverable reminder letters on TODAY (more are tolerated)
    start = rng.randrange(0, letters)
    end = rng.choice((letters + 99, rng.randrange(start + 1, letters + 1)))  # or to the end
    result = Result(mode, (start, end))
    t0 = time.perf_counter()
    with FortnoxSandbox(today=TODAY, rate_limit=False, finans=False) as sb:
        store = SqliteStore(str(folder / "s.db"), sb.clock)
        server.up()
        outage = Outage(SmtpChannel(smtp, None, clock=sb.clock), server, mode, start, end)
        try:
            first = cycle(sb, store, outage)
            outage.back()
            later = [cycle(sb, store, SmtpChannel(smtp, None, clock=sb.clock)) for _ in range(2)]
        finally:
            server.down()
        planned = {d.action.invoice_id for d in first.decisions if d.action is not None}
        journal = {e.action.idempotency_key: e for e in store.journal(TENANT)}
        prints = len(sb.received("GET", "/printreminder"))
    result.seconds = time.perf_counter() - t0
    result.planned = len(planned)
    result.left_pending = len(first.pushed.pending)
    undeliverable = {k for k, e in journal.items() if e.state is ActionState.FAILED and
                     "no invoice e-mail address" in (e.message or "")}  # fmt: skip
    deliverable = set(journal) - undeliverable
    result.deliverable = len(deliverable)
    counts = inbox.letters()
    for key in sorted(deliverable):
        if counts[key] != 1:
            result.problems.append(f"{key}: delivered {counts[key]} times")
        if journal[key].state is not ActionState.DONE:
            result.problems.append(f"{key}: {journal[key].state.value}: {journal[key].message}")
    reminders = sum(1 for k in deliverable if journal[k].action.stage is ActionStage.REMINDER)
    if prints != reminders:
        result.problems.append(f"{prints} printreminder calls for {reminders} reminders")
    if {journal[k].action.invoice_id for k in journal} != planned:
        result.problems.append("journal does not cover the first plan")
    for run in (first, *later):
        for key in run.pushed.skipped:
            result.problems.append(f"{key}: skipped: {journal[key].message}")
    if later[-1].pushed.done:
        result.problems.append(f"the last cycle still pushed {later[-1].pushed.done}")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    failed = 0
    totals: Counter[str] = Counter()
    for n in range(1, args.trials + 1):
        with tempfile.TemporaryDirectory() as folder:
            r = trial(rng, Path(folder))
        failed += bool(r.problems)
        totals.update(deliverable=r.deliverable, pending=r.left_pending, problems=len(r.problems))
        window = f"letters {r.window[0]}..{'end' if r.window[1] > 13 else r.window[1] - 1}"
        print(
            f"trial {n:2}: SMTP {r.mode:8} for {window:16} planned {r.planned}, "
            f"deliverable {r.deliverable}, left pending by the outage {r.left_pending}, "
            f"{'ok' if not r.problems else 'FAILED'} ({r.seconds:.1f} s)"
        )
        for p in r.problems:
            print(f"    {p}")
    print(
        f"{args.trials} trials: {args.trials - failed} ok, {failed} failed; "
        f"{totals['deliverable']} e-mail actions, {totals['pending']} left pending by an outage, "
        f"{totals['problems']} problems (duplicates, lost, skipped)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
