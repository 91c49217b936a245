"""Tripletex credentials: consumer token + employee token → session token → Basic auth.

The stored secret (keyring or ``env:``) is a JSON object ``{"consumer_token": …,
"employee_token": …}``. ``PUT /token/session/:create`` turns it into a session token valid until
its ``expirationDate``; every request then authenticates as Basic ``<company id>:<session
token>`` (company id ``0`` = the employee's own company, another id = a client company the
employee reaches as its accountant).

The session token lives in memory only, is never logged and is renewed before it expires. One
session serves every company behind the same tokens, so it is shared (per process) by every
tenant that uses them. The tokens travel as query parameters of the session call, so that call
is made here, outside the generic client, and nothing about it (URL, exception text) reaches a
message unscrubbed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests

from connector.clock import NORDIC, host_time
from connector.secrets import CredentialStore
from providers.http import AuthError, ServerError, TransportError, json_body
from providers.tripletex.client import SESSION_PATH, error_message

if TYPE_CHECKING:
    from connector.config import TenantConfig
    from connector.interaction import Interaction

PROVIDER = "tripletex"
SESSION_DAYS = 2  # ask for a session that lasts until the day after tomorrow
RENEW_LEEWAY = 3600.0  # renew an hour before the session's day ends


def _hint(tenant: str) -> str:
    return f"run `kravsync auth {tenant}`"


@dataclass(frozen=True)
class Tokens:
    consumer: str
    employee: str

    def to_json(self) -> str:
        return json.dumps({"consumer_token": self.consumer, "employee_token": self.employee})

    def scrub(self, text: str) -> str:
        for secret in (self.consumer, self.employee):
            if secret:
                text = text.replace(secret, "***")
        return text


def parse_tokens(tenant: str, secret: str | None) -> Tokens:
    """The two tokens of a stored secret; AuthError naming what to run otherwise."""
    if not secret:
        raise AuthError(PROVIDER, f"tenant {tenant}: no credentials stored; {_hint(tenant)}")
    try:
        data = json.loads(secret)
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise AuthError(
            PROVIDER,
            f"tenant {tenant}: the stored credential is not the JSON object "
            '{"consumer_token": …, "employee_token": …}; ' + _hint(tenant),
        )
    consumer, employee = data.get("consumer_token"), data.get("employee_token")
    if (
        not isinstance(consumer, str)
        or not isinstance(employee, str)
        or not consumer
        or not employee
    ):
        raise AuthError(
            PROVIDER,
            f"tenant {tenant}: the stored credential lacks consumer_token or employee_token; "
            + _hint(tenant),
        )
    return Tokens(consumer.strip(), employee.strip())


def company_id(tenant: TenantConfig) -> str:
    """The Basic-auth user name: the tenant's Tripletex company id, ``0`` for the own company."""
    return str(tenant.company or "0").strip()


@dataclass
class _Session:
    token: str
    expires_at: float  # host epoch seconds


# One session per (base URL, tokens), shared by every tenant in this process that uses them.
_sessions: dict[str, _Session] = {}
_sessions_lock = threading.Lock()


def _key(base_url: str, tokens: Tokens) -> str:
    raw = f"{base_url}\0{tokens.consumer}\0{tokens.employee}".encode()
    return hashlib.sha256(raw).hexdigest()


def forget_sessions() -> None:
    """Drop every cached session (tests; a revoked login)."""
    with _sessions_lock:
        _sessions.clear()


class SessionAuth:
    """Basic auth with a session token, created on first use and renewed before it expires."""

    def __init__(
        self,
        *,
        tenant: str,
        base_url: str,
        tokens: Tokens,
        company: str = "0",
        session: requests.Session | None = None,
        clock: Callable[[], float] = host_time,
        timeout: tuple[float, float] = (5.0, 30.0),
    ) -> None:
        if not company.isdigit():
            raise AuthError(
                PROVIDER, f"tenant {tenant}: company must be a Tripletex company id (digits)"
            )
        self.tenant = tenant
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.company = company
        self._http = session or requests.Session()
        self._clock = clock
        self._timeout = timeout
        self._key = _key(self.base_url, tokens)
        self._lock = threading.Lock()
        self.sessions_created = 0

    def headers(self) -> dict[str, str]:
        raw = f"{self.company}:{self._token()}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def refresh(self) -> bool:
        """After a 401: the session may have been revoked; create a new one."""
        with _sessions_lock:
            _sessions.pop(self._key, None)
        self._token()
        return True

    def _token(self) -> str:
        with self._lock:
            with _sessions_lock:
                current = _sessions.get(self._key)
            if current is not None and current.expires_at - RENEW_LEEWAY > self._clock():
                return current.token
            fresh = self._create()
            with _sessions_lock:
                _sessions[self._key] = fresh
            return fresh.token

    def _expiration_date(self) -> date:
        today = datetime.fromtimestamp(self._clock(), UTC).astimezone(NORDIC).date()
        return today + timedelta(days=SESSION_DAYS)

    def _create(self) -> _Session:
        expiration = self._expiration_date()
        params = {
            "consumerToken": self.tokens.consumer,
            "employeeToken": self.tokens.employee,
            "expirationDate": expiration.isoformat(),
        }
        try:
            response = self._http.put(
                self.base_url + SESSION_PATH,
                params=params,
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:  # its text holds the URL, tokens and all
            raise TransportError(
                PROVIDER,
                f"session token request failed: {type(exc).__name__}",
                method="PUT",
                path=SESSION_PATH,
            ) from None
        status = response.status_code
        request_id = response.headers.get("x-tlx-request-id")
        if status >= 500 or status == 429:
            raise ServerError(
                PROVIDER,
                f"session token request failed (HTTP {status})",
                status=status,
                method="PUT",
                path=SESSION_PATH,
                request_id=request_id,
            )
        if status >= 400:
            detail = self.tokens.scrub(error_message(response) or "")
            raise AuthError(
                PROVIDER,
                f"tenant {self.tenant}: Tripletex refused the consumer/employee tokens "
                f"(HTTP {status}{': ' + detail if detail else ''}); {_hint(self.tenant)}",
                status=status,
                method="PUT",
                path=SESSION_PATH,
                request_id=request_id,
            )
        try:
            value = json_body(response)["value"]
            token = str(value["token"])
            expires = date.fromisoformat(str(value.get("expirationDate") or expiration)[:10])
        except (ValueError, KeyError, TypeError):
            raise ServerError(
                PROVIDER, "session token answer is malformed", method="PUT", path=SESSION_PATH
            ) from None
        self.sessions_created += 1
        # Valid until the session's expiration day begins (Nordic time): the cautious reading.
        start = datetime(expires.year, expires.month, expires.day, tzinfo=NORDIC)
        return _Session(token=token, expires_at=start.timestamp())


def auth(tenant: TenantConfig, credentials: CredentialStore, io: Interaction) -> None:
    """`kravsync auth TENANT`: ask for both tokens, check them (a session, then
    ``GET /token/session/>whoAmI`` as the tenant's company) and store them."""
    from providers.tripletex import connect  # the same wiring a sync uses

    consumer = io.secret("Tripletex consumer token: ").strip()
    employee = io.secret("Tripletex employee token: ").strip()
    if not consumer or not employee:
        raise AuthError(PROVIDER, f"tenant {tenant.name}: both tokens are needed")
    tokens = Tokens(consumer, employee)
    client = connect(tenant, tokens)
    try:
        who = client.who_am_i()
    except AuthError as exc:
        raise AuthError(PROVIDER, tokens.scrub(exc.message), status=exc.status) from None
    finally:
        client.http.close()
    io.say(describe(who, company_id(tenant)))
    credentials.set(tenant.name, tokens.to_json())
    if tenant.credentials.startswith("env:"):
        io.say(
            f"Tokens accepted. With credentials = {tenant.credentials!r} kravsync reads them from "
            'that variable: set it to {"consumer_token": "…", "employee_token": "…"}.'
        )
    else:
        io.say(f"Stored the Tripletex tokens for tenant {tenant.name} in the keyring.")


def describe(who: dict[str, Any], company: str) -> str:
    """One line: who the tokens log in as, and which company the tenant reaches."""
    employee: dict[str, Any] = who["employee"] if isinstance(who.get("employee"), dict) else {}
    firm: dict[str, Any] = who["company"] if isinstance(who.get("company"), dict) else {}
    name = " ".join(str(employee.get(k) or "") for k in ("firstName", "lastName")).strip()
    reach = "its own company" if company == "0" else f"client company {company}"
    return (
        f"Tokens accepted: employee {name or '?'} (id {who.get('employeeId')}) reaches {reach}: "
        f"{firm.get('name') or '?'} (id {who.get('companyId')}, org {firm.get('organizationNumber') or '-'})."
    )


__all__ = ["SessionAuth", "Tokens", "auth", "forget_sessions", "parse_tokens"]
