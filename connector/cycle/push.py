"""Deliver planned actions exactly once: journal first, provider second, done only when confirmed.

For every cycle of a tenant that may push:

1. **Reconcile.** Every action still ``pending`` in the journal (a crash, a timeout, a 5xx) is
   looked up at the provider first. Confirmed → ``done``. Otherwise it is pushed again: each
   step of a provider's route looks for its own evidence before acting, so a repeated push only
   completes what is missing and sends nothing twice. A route step whose outcome cannot be
   looked up (an e-mail) is marked before it is taken and never repeated.
2. **Re-read.** Right before a push the invoice's open balance is read from the provider; a paid
   or credited invoice is skipped (journalled ``skipped``), a changed balance is planned again.
3. **Journal, then push.** Each action is written ``pending`` (its idempotency key is the
   primary key, so a second writer cannot take it) before the provider is called, one letter per
   customer × stage × currency, and ``done`` only after the provider confirmed it. A 4xx refusal
   marks it ``failed`` with the provider's message (tried again on later cycles, a bounded number
   of times); 5xx and timeouts leave it ``pending`` for the next cycle's reconciliation. An
   action out of attempts stays ``failed`` and is reported as failed on every cycle until
   ``kravsync actions retry`` re-arms it: it is then reconciled like a pending one and decided
   again on the re-read invoice, and goes out on the fresh decision's terms (on its first terms
   when the provider holds part of it), or is skipped. An
   e-mail channel that is down or refuses kravsync (not the recipient) leaves it ``pending`` too:
   it is tried again when the channel works.

Keys are on the provider account (``provider.account_id``), never on the tenant's name; the
tenant's journal is re-keyed onto it on the first push after migration 8. The provider's route
records each confirmed step in the store's step journal (``connector.store.steps``): a later
failure never repeats one. Reminders those steps registered at the provider (Fortnox
``printreminder``, Tripletex's reminder) are kravsync's own, not a second sender's
(``connector.cycle.own``, applied by the plan).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from connector.channels.email import ChannelError
from connector.config import TenantConfig
from connector.cycle.approval import ApprovalGate
from connector.models import ActionState, Invoice, ReminderAction
from connector.policy import Decision, group_actions
from connector.render.notices import Creditor, render_letter
from connector.store import LeaseLost, Store
from connector.store.records import REARMED
from connector.store.steps import StoreSteps
from providers.base import Letter, MessageChannel, Provider, PushResult
from providers.http import ClientError, ProviderError

log = logging.getLogger("kravsync.push")

MAX_ATTEMPTS = 3


@dataclass
class PushReport:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)
    stopped: bool = False

    def summary(self) -> str:
        return (
            f"{len(self.done)} done, {len(self.reconciled)} reconciled, {len(self.failed)} failed, "
            f"{len(self.skipped)} skipped, {len(self.pending)} left pending"
        )


# The policy asked again for one invoice with fresh facts, the action about to go out excluded
# from its history.
Replan = Callable[[Invoice, ReminderAction], Decision]


@dataclass
class Pusher:
    tenant: TenantConfig
    provider: Provider
    store: Store
    today: date
    replan: Replan
    channel: MessageChannel | None = None
    creditor: Creditor | None = None
    stop: threading.Event | None = None
    # push = "approve": only approved letters go, and only while their facts are unchanged
    gate: ApprovalGate | None = None
    report: PushReport = field(default_factory=PushReport)
    _steps: StoreSteps | None = field(default=None, init=False, repr=False)
    _rearmed: set[str] = field(default_factory=set)

    # -- entry point ----------------------------------------------------------------------------

    def run(self, decisions: Sequence[Decision]) -> PushReport:
        account = self._account()
        if account is None:
            self.report.stopped = True
            return self.report
        self._steps = StoreSteps(self.store, self.tenant.name)
        resend = self._reconcile()
        planned = [
            d.action.model_copy(update={"account": account})
            for d in decisions
            if d.action is not None
        ]
        pending_keys = {a.idempotency_key for a in resend}
        fresh = [a for a in planned if a.idempotency_key not in pending_keys]
        if self.gate is not None:
            fresh = [a for a in fresh if self.gate.considered(a)]
        self._deliver(resend, journalled=True)
        self._deliver(fresh, journalled=False)
        return self.report

    def _account(self) -> str | None:
        """``<provider>:<account id>``, the first part of every key; the tenant's journal moved
        onto it. None (nothing pushed this cycle) when the provider cannot say."""
        try:
            account = f"{self.provider.name}:{self.provider.account_id}"
        except ProviderError as exc:
            log.warning("%s: provider account unknown, nothing pushed: %s", self.tenant.name, exc)
            return None
        moved = self.store.rekey_journal(self.tenant.name, account)
        if moved:
            log.info("%s: %d journalled actions re-keyed onto %s", self.tenant.name, moved, account)
        return account

    # -- 1. reconciliation ----------------------------------------------------------------------
    def _reconcile(self) -> list[ReminderAction]:
        again: list[ReminderAction] = []
        for entry in self.store.journal(self.tenant.name, states=(ActionState.PENDING,)):
            if self._stopping():
                break
            key = entry.action.idempotency_key
            try:
                found = self.provider.lookup_action(entry.action)
            except ProviderError as exc:
                log.warning("%s: %s: lookup failed, stays pending: %s", self.tenant.name, key, exc)
                self.report.pending.append(key)
                continue
            if entry.message == REARMED and found is None:
                # Re-armed by hand and no trace of it at the provider: it goes out on the fresh
                # decision's terms. With a partial trace it completes on the terms it began with
                # (each step finds its own evidence by them).
                self._rearmed.add(key)
            if found is not None and found.ok:
                self.store.journal_finish(
                    key,
                    ActionState.DONE,
                    sent_on=self.today,
                    reference=found.reference,
                    message=f"reconciled: {found.message}".rstrip(": "),
                )
                self.report.reconciled.append(key)
                log.info("%s: %s confirmed by the provider (reconciled)", self.tenant.name, key)
            else:
                again.append(entry.action)
        return again

    # -- 2. + 3. re-read, journal, push ---------------------------------------------------------
    def _deliver(self, actions: Sequence[ReminderAction], *, journalled: bool) -> None:
        ready: list[tuple[ReminderAction, Invoice]] = []
        for action in actions:
            if self._stopping():
                return
            checked = self._recheck(action, journalled=journalled)
            if checked is not None:
                ready.append(checked)
        invoices = {a.idempotency_key: inv for a, inv in ready}
        for message in group_actions(a for a, _ in ready):
            if self._stopping():
                return
            members = list(message.actions)
            if not journalled:
                members = [a for a in members if self._journal(a)]
            if not members:
                continue
            self._push(members, [invoices[a.idempotency_key] for a in members])

    def _recheck(
        self, action: ReminderAction, *, journalled: bool
    ) -> tuple[ReminderAction, Invoice] | None:
        key = action.idempotency_key
        try:
            invoice = self.provider.get_invoice(action.invoice_id)
        except ProviderError as exc:
            log.warning(
                "%s: %s: could not re-read invoice, not pushed now: %s", self.tenant.name, key, exc
            )
            if journalled:
                self.report.pending.append(key)
            return None
        self.store.upsert_invoices(self.tenant.name, [invoice])
        if not invoice.is_open:
            reason = f"invoice {invoice.number} is {invoice.status.value} (outstanding {invoice.outstanding})"
            self._skip(action, reason, journalled=journalled)
            return None
        # Decide again on the fresh facts: a changed balance, Fortnox's own reminder, a
        # hand-over to Fortnox Finans... anything the provider changed since the pull. (The
        # replan tells the reminders kravsync's own steps registered from a second sender's.)
        decision = self.replan(invoice, action)
        again = decision.action
        if again is not None:
            again = again.model_copy(update={"account": action.account})
        if again is None or again.stage is not action.stage or again.sequence != action.sequence:
            reason = f"fresh facts: {decision.reason}"
            self._skip(action, reason, journalled=journalled)
            return None
        if journalled and key not in self._rearmed:
            # A pending action keeps the terms it was journalled (and maybe partly sent) with.
            return action, invoice
        if journalled:  # re-armed by hand after a failure: today's terms, not the failed ones
            self.store.journal_replace(again)
        elif self.gate is not None and not self.gate.allows(again, invoice.due_date):
            log.info("%s: %s: facts changed since it was approved; waits", self.tenant.name, key)
            return None  # the approval is void: the letter waits in the review queue
        return again, invoice

    def _skip(self, action: ReminderAction, reason: str, *, journalled: bool) -> None:
        key = action.idempotency_key
        if journalled or self.store.journal_begin(action):
            self.store.journal_finish(key, ActionState.SKIPPED, message=reason)
        self.report.skipped.append(key)
        log.info("%s: %s skipped: %s", self.tenant.name, key, reason)

    def _journal(self, action: ReminderAction) -> bool:
        if self.store.journal_begin(action):
            return True
        key = action.idempotency_key
        if self.store.journal_retry(key, MAX_ATTEMPTS):
            log.info("%s: %s failed before; trying again", self.tenant.name, key)
            return True
        entry = self.store.journal_entry(key)
        if entry is not None and entry.state is ActionState.FAILED:
            # Out of attempts: never silent. It stays failed until `kravsync actions retry`.
            self.report.failed.append(key)
            log.warning(
                "%s: %s failed %d times, not tried again until `kravsync actions retry %s`: %s",
                self.tenant.name,
                key,
                entry.attempts,
                key,
                entry.message,
            )
        return False  # already done, skipped, pending elsewhere, or out of attempts

    def _letter(self, actions: list[ReminderAction], invoices: list[Invoice]) -> Letter:
        first = actions[0]
        customer = (
            self.store.customer(self.tenant.name, first.customer_id) if first.customer_id else None
        )
        return render_letter(
            tenant=self.tenant.name,
            country=self.tenant.country,
            creditor=self.creditor
            or Creditor(
                name=self.tenant.creditor_name or self.tenant.name,
                org_number=self.tenant.creditor_org_number,
                account=self.tenant.creditor_account,
            ),
            customer=customer,
            stage=first.stage,
            currency=first.currency,
            actions=actions,
            invoices=invoices,
            today=self.today,
        )

    def _push(self, actions: list[ReminderAction], invoices: list[Invoice]) -> None:
        keys = [a.idempotency_key for a in actions]
        self.store.check_lease(self.tenant.name)  # paused past the lease: LeaseLost, not a send
        try:
            letter = self._letter(actions, invoices)
            results = self.provider.push(letter, self.channel, self._steps)
        except (ClientError, ChannelError) as exc:
            # A channel that is down or refuses kravsync itself (login, sender, TLS) is fixed
            # by fixing the channel: pending, tried again. A refused recipient is this letter's.
            permanent = isinstance(exc, ClientError) or getattr(exc, "recipient", False)
            if not permanent:
                self._leave_pending(keys, exc)
                return
            # A refusal part-way through a letter: earlier actions may have gone out. Ask the
            # provider about each before calling any of them failed.
            for a in actions:
                self._finish(a.idempotency_key, self._after_refusal(a, exc))
            return
        except ProviderError as exc:
            self._leave_pending(keys, exc)
            return
        except LeaseLost:  # a step found the lease gone: nothing more is sent or written
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must not stop the tenant's other letters
            log.exception("%s: push of %s crashed; left pending", self.tenant.name, ", ".join(keys))
            self._leave_pending(keys, exc)
            return
        for key in keys:
            self._finish(
                key, results.get(key) or PushResult(ok=False, message="provider gave no result")
            )

    def _after_refusal(self, action: ReminderAction, exc: BaseException) -> PushResult:
        try:
            found = self.provider.lookup_action(action)
        except ProviderError:
            found = None
        if found is not None and found.ok:
            return found
        return PushResult(ok=False, message=str(exc))

    def _finish(self, key: str, result: PushResult) -> None:
        if result.ok:
            self.store.journal_finish(
                key,
                ActionState.DONE,
                sent_on=self.today,
                reference=result.reference,
                message=result.message or None,
            )
            self.report.done.append(key)
            log.info(
                "%s: %s done%s",
                self.tenant.name,
                key,
                f" ({result.reference})" if result.reference else "",
            )
        else:
            self.store.journal_finish(key, ActionState.FAILED, message=result.message)
            self.report.failed.append(key)
            log.warning("%s: %s failed: %s", self.tenant.name, key, result.message)

    def _leave_pending(self, keys: list[str], exc: BaseException) -> None:
        for key in keys:
            self.report.pending.append(key)
            log.warning("%s: %s left pending for reconciliation: %s", self.tenant.name, key, exc)

    def _stopping(self) -> bool:
        if self.stop is not None and self.stop.is_set():
            self.report.stopped = True
            return True
        return False
