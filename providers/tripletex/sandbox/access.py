"""The sandbox's gate: session tokens, Basic auth with a company id, and the rate limit.

* ``PUT /token/session/:create`` takes a consumer token and an employee token (query
  parameters, no auth) and an ``expirationDate``; the session token it returns is valid until
  that day begins.
* Every other call authenticates as Basic ``<company id>:<session token>``: ``0`` (or blank)
  is the employee's own company, any other id must be a client company the employee reaches.
* The limit is per employee (and consumer): a fixed period of ``period`` seconds allows
  ``limit`` requests; each answer says ``X-Rate-Limit-Limit``, ``-Remaining`` and ``-Reset``
  (seconds left); past the limit every request is answered 429 until the period ends, without
  ``X-Rate-Limit-Reset`` (as Tripletex does: tripletex-api2#103).
"""

from __future__ import annotations

import base64
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from connector.clock import NORDIC, host_time


def host_today() -> date:
    """The host's date in Norway: session tokens expire by the server's own calendar, never
    moved by ``--today`` or a test's business clock (as the client's renewal uses)."""
    return datetime.fromtimestamp(host_time(), UTC).astimezone(NORDIC).date()


@dataclass
class Session:
    token: str
    consumer: str
    employee: str
    expires: date  # valid while the sandbox's day is before this one


class Denied(Exception):
    """Authentication failed: ``status`` 401 (no or bad session) or 403 (company not reachable)."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Gate:
    def __init__(
        self,
        *,
        consumer_tokens: set[str],
        employee_tokens: set[str],
        limit: int,
        period: float,
        enabled: bool,
        today: Callable[[], date] = host_today,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.consumer_tokens = set(consumer_tokens)
        self.employee_tokens = set(employee_tokens)
        self.today = today
        self.limit, self.period, self.enabled = limit, period, enabled
        self._now = monotonic
        self._lock = threading.Lock()
        self.sessions: dict[str, Session] = {}
        self._windows: dict[str, tuple[float, int]] = {}
        self.sessions_created = 0

    # -- sessions ------------------------------------------------------------------------------
    def create_session(self, consumer: str, employee: str, expires: date) -> Session:
        with self._lock:
            if consumer not in self.consumer_tokens or employee not in self.employee_tokens:
                raise Denied(401, 3000, "Ugyldig konsument- eller ansattnøkkel (token).")
            session = Session(
                "eyJ0b2tlbklkIjo" + secrets.token_urlsafe(24), consumer, employee, expires
            )
            self.sessions[session.token] = session
            self.sessions_created += 1
            return session

    def issue(self, consumer: str, employee: str, expires: date, token: str) -> Session:
        """A session with a chosen token (the one `kravsync sandbox` prints for curl)."""
        session = Session(token, consumer, employee, expires)
        with self._lock:
            self.sessions[token] = session
        return session

    def revoke(self) -> None:
        """The employee token is deleted in Tripletex: its sessions and new ones stop working."""
        with self._lock:
            self.sessions.clear()
            self.employee_tokens.clear()

    def expire_sessions(self) -> None:
        with self._lock:
            for s in self.sessions.values():
                s.expires = date.min

    def authenticate(self, header: str | None) -> tuple[Session, str]:
        """(session, company id as given) from ``Authorization: Basic …``."""
        if not header or not header.startswith("Basic "):
            raise Denied(401, 3000, "Autentisering kreves (Basic: firma-id og sesjonsnøkkel).")
        try:
            user, _, token = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise Denied(401, 3000, "Ugyldig Authorization-header.") from None
        with self._lock:
            session = self.sessions.get(token)
            if session is None or self.today() >= session.expires:
                raise Denied(401, 3000, "Sesjonsnøkkelen er ugyldig eller utløpt.")
        return session, user.strip() or "0"

    # -- rate limit ------------------------------------------------------------------------------
    def admit(self, key: str) -> dict[str, str] | None:
        """Count one request for ``key``: the rate headers, or None when it is over the limit."""
        if not self.enabled:
            return {}
        now = self._now()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now >= start + self.period:
                start, count = now, 0
            count += 1
            self._windows[key] = (start, count)
            if count > self.limit:
                return None
            left = start + self.period - now
            return {
                "X-Rate-Limit-Limit": str(self.limit),
                "X-Rate-Limit-Remaining": str(self.limit - count),
                "X-Rate-Limit-Reset": str(max(0, math.ceil(left))),
            }


__all__ = ["Denied", "Gate", "Session"]
