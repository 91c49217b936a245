"""The provider protocol and the registry behind the ``kravsync.providers`` entry-point group.

The domain knows a provider only through :class:`Provider` (what a tenant's client can do) and
:class:`ProviderFactory` (how to build one, and its sandbox). A third-party package adds a
provider by exposing a ``ProviderFactory`` under that entry-point group; Fiken and Fortnox
register themselves the same way in kravsync's own ``pyproject.toml``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Protocol, TypeVar, runtime_checkable

from connector.models import ActionStage, Customer, Invoice, ReminderAction
from mappings.errors import MappingError
from providers.http import ProviderError

ENTRY_POINT_GROUP = "kravsync.providers"
log = logging.getLogger("kravsync.providers")


@dataclass(frozen=True)
class RecordError:
    """A provider record that could not be mapped; reported and skipped, never fatal."""

    kind: str  # "customer" | "invoice"
    record_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind} {self.record_id}: {self.message}"


M = TypeVar("M")

MESSAGE_LIMIT = 300  # characters of a skipped record's message (stored and shown)


def _record_error(kind: str, raw: Any, exc: BaseException) -> RecordError:
    from mappings.common import normalise, show

    if isinstance(exc, MappingError):
        return RecordError(kind, exc.record_id, normalise(exc.message, MESSAGE_LIMIT))
    # A failure the strict mapping did not foresee (a bug, or input beyond its rules): still
    # one skipped record, never the end of the page or of the tenant's run.
    log.debug("unexpected failure mapping a %s", kind, exc_info=exc)
    record_id = "?"
    if isinstance(raw, dict):
        for key in _ID_KEYS.get(kind, ()):
            value = raw.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool):
                record_id = normalise(str(value), 100) or "?"
                break
    detail = show(str(exc)) if str(exc) else ""
    return RecordError(kind, record_id, normalise(f"{type(exc).__name__} {detail}", MESSAGE_LIMIT))


_ID_KEYS = {"customer": ("contactId", "CustomerNumber"), "invoice": ("invoiceId", "DocumentNumber")}


def map_record(
    kind: str, mapper: Callable[[dict[str, Any]], M], raw: dict[str, Any]
) -> M | RecordError:
    """``mapper(raw)``, or the record error that reports and skips it. Never raises: whatever
    one record holds (wrong types, deep nesting, huge values) costs that record only."""
    try:
        return mapper(raw)
    except Exception as exc:  # noqa: BLE001 - one bad record never ends the page
        return _record_error(kind, raw, exc)


class MalformedRecord(ProviderError):
    """A single record read on its own (an invoice re-read before a push) did not map."""


def map_one(provider: str, kind: str, mapper: Callable[[dict[str, Any]], M], raw: Any) -> M:
    """``mapper(raw)`` for a record read on its own; a record that does not map raises
    :class:`MalformedRecord` (a ProviderError: the caller does not act on it)."""
    result = map_record(kind, mapper, raw)
    if isinstance(result, RecordError):
        raise MalformedRecord(provider, f"malformed {result}")
    return result


@dataclass(frozen=True)
class Capabilities:
    countries: tuple[str, ...]
    push_routes: tuple[str, ...] = ()
    customer_changes_since: bool = True
    invoice_changes_since: bool = True


@dataclass(frozen=True)
class PushResult:
    ok: bool
    reference: str | None = None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Letter:
    """One message to one customer for one stage and currency, covering one or more invoices.

    Rendered by ``connector.render.notices`` (text and PDF carry what the law requires: amounts, fee,
    interest, deadline, KID/OCR, and for a collection notice that the claim goes to collection
    if unpaid). ``actions[i]`` is the journalled action for ``invoices[i]``.
    """

    tenant: str
    customer: Customer | None
    stage: ActionStage
    currency: str
    actions: tuple[ReminderAction, ...]
    invoices: tuple[Invoice, ...]
    subject: str
    text: str
    pdf: bytes
    filename: str

    @property
    def key(self) -> str:
        """Stable id of this letter (Message-ID, audit comments)."""
        return "+".join(a.idempotency_key for a in self.actions)


class MessageChannel(Protocol):
    """kravsync's own delivery channel (e-mail through the tenant's SMTP server)."""

    def send(
        self,
        *,
        to: str,
        subject: str,
        text: str,
        attachments: Sequence[tuple[str, bytes, str]],  # (filename, content, MIME type)
        message_id: str,
    ) -> str:
        """Deliver one message; return the Message-ID the server accepted. Raises on failure."""
        ...


@runtime_checkable
class Provider(Protocol):
    """One tenant's connection to an accounting system."""

    name: str

    def iter_customers(self, since: datetime | None) -> Iterator[Customer | RecordError]:
        """Customers changed since ``since`` (all when None), streamed page by page."""
        ...

    def iter_invoices(
        self, since: datetime | None, open_only: bool
    ) -> Iterator[Invoice | RecordError]:
        """Open invoices (``open_only``) or every invoice changed since ``since``."""
        ...

    def get_invoice(self, provider_id: str) -> Invoice:
        """Re-read one invoice (its open balance) right before a push."""
        ...

    def capabilities(self) -> Capabilities: ...

    def push(self, letter: Letter, channel: MessageChannel | None) -> dict[str, PushResult]:
        """Deliver ``letter`` by this provider's route; one result per action idempotency key.

        Every step is idempotent (it looks for its own evidence before acting), so a push
        repeated after a crash completes what is missing and sends nothing twice. A 4xx refusal
        raises ``ClientError`` (the action fails); 5xx/timeouts raise after retries (the action
        stays pending for reconciliation)."""
        ...

    def lookup_action(self, action: ReminderAction) -> PushResult | None:
        """Whether ``action`` fully reached the customer through the provider (ok=True), was
        started but not finished (ok=False), or left no trace (None)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class DetailReads(Protocol):
    """A provider whose list endpoints lack facts the domain needs (Fortnox: a customer's type,
    country, VAT number and contact; an invoice's reminders).

    Its ``iter_customers`` / ``iter_invoices`` return the list rows as they are; the shared
    engine (``connector.cycle.backlog``) keeps the records ``needs_detail`` flags in the store's
    backlog and reads them with ``read_detail``, most urgent first, the rest within a request
    budget per cycle. A provider only says which records and how; never when."""

    def needs_detail(self, record: Customer | Invoice) -> bool:
        """Whether ``record``, as a list pull returned it, lacks facts only a detail read has."""
        ...

    def read_detail(self, kind: str, provider_id: str) -> Customer | Invoice:
        """One record in full (``kind``: "customer" | "invoice"). Raises ``ClientError`` when
        it is gone, ``MappingError`` when it cannot be mapped."""
        ...

    def confirm_complete(self, kind: str, records: Sequence[Customer | Invoice]) -> set[str]:
        """Ids of ``records`` proven complete by a cheaper way than one read each (may ask the
        provider; an empty set when there is none)."""
        ...

    @property
    def requests_per_second(self) -> float:
        """The sustained rate the provider's limiter allows (sizes the per-cycle budget)."""
        ...


class Sandbox(Protocol):
    """A local HTTP double of a provider's API (see each provider's ``sandbox`` module)."""

    base_url: str
    token: str
    # Where the customer and invoice lists live (path fragments), for fault injection in tests.
    LIST_PATHS: dict[str, str]

    def start(self) -> Sandbox: ...

    @property
    def inject(self) -> Callable[..., None]:
        """``inject(path_contains, *, status=, malformed=, times=, ...)``: the next matching
        requests fail that way."""
        ...

    def revoke(self) -> None:
        """Revoked consent: every credential the sandbox issued stops working."""
        ...

    def stop(self) -> None: ...

    def tenant_settings(self) -> dict[str, Any]:
        """Config keys (besides name/provider/country) that point a tenant at this sandbox."""
        ...

    def demo_secret(self) -> str:
        """The secret a tenant pointed at this sandbox keeps in its credential store."""
        ...

    def received_summary(self) -> list[str]:
        """What the sandbox received from pushes, one line each (for `kravsync demo`)."""
        ...


@dataclass(frozen=True)
class DiscoveredTenant:
    """A company that a tenant's login reaches and that could be a tenant of its own
    (``kravsync tenants discover``): an accounting bureau's client companies, say."""

    name: str  # a suggested tenant name (already valid as one)
    settings: dict[str, Any]  # config keys besides name/provider/country/credentials
    label: str  # what the provider calls the company (for a comment)


@dataclass(frozen=True)
class ProviderFactory:
    """What a provider package registers under the ``kravsync.providers`` entry point."""

    name: str
    countries: tuple[str, ...]
    # create(tenant: TenantConfig, credentials: CredentialStore, *, clock: Clock,
    #        lock: LockFactory | None = None):
    # ``clock`` is the command's clock (connector.clock); ``lock(name)`` is a context manager
    # shared by every process on the store (token refresh).
    create: Callable[..., Provider]
    sandbox: Callable[..., Sandbox]
    # Keys of a tenant's config that this provider requires (e.g. Fiken's company slug).
    required_settings: tuple[str, ...] = ()
    # auth(tenant: TenantConfig, credentials: CredentialStore, io: Interaction): `kravsync auth`
    auth: Callable[..., None] | None = None
    # discover(tenant, credentials, *, clock) -> list[DiscoveredTenant]: the other companies the
    # tenant's login reaches (`kravsync tenants discover`).
    discover: Callable[..., list[DiscoveredTenant]] | None = None
    # check_settings(tenant) -> ["key: message", ...]: provider-specific config rules.
    check_settings: Callable[..., list[str]] | None = None
    # delivery(tenant) -> the routes that can deliver a letter with this tenant's config (e.g.
    # ("email",)); empty: none can, and a tenant with `push = true` is refused at load, the
    # message ending in ``delivery_hint`` (which keys to set). None: the provider always can.
    delivery: Callable[..., tuple[str, ...]] | None = None
    delivery_hint: str = ""


@cache
def registry() -> dict[str, ProviderFactory]:
    """Every provider installed, by name, loaded from the entry-point group."""
    found: dict[str, ProviderFactory] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        factory = ep.load()
        if not isinstance(factory, ProviderFactory):
            raise TypeError(
                f"entry point {ep.name!r} in {ENTRY_POINT_GROUP} is not a ProviderFactory"
            )
        found[ep.name] = factory
    return found


def get_factory(name: str) -> ProviderFactory:
    try:
        return registry()[name]
    except KeyError:
        known = ", ".join(sorted(registry())) or "none installed"
        raise KeyError(f"unknown provider {name!r} (known: {known})") from None
