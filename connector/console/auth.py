"""Console users and sessions: argon2 hashes, server-side sessions, CSRF tokens, a login limit."""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from connector.clock import host_time
from connector.store import Store
from connector.store.console import ConsoleUser

_HASHER = PasswordHasher()
# A hash to verify against when the user does not exist: the answer takes as long either way.
_DUMMY = _HASHER.hash("kravsync: no such user")

SESSION_COOKIE = "kravsync_session"
SESSION_SECONDS = 8 * 3600
LOGIN_TRIES = 5  # failed logins per name and per address ...
LOGIN_WINDOW = 300.0  # ... within this many seconds


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(store: Store, name: str, password: str) -> ConsoleUser | None:
    user = store.console_user(name)
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


@dataclass
class Session:
    user: str
    csrf: str
    expires: float


@dataclass
class Sessions:
    """Sessions kept in the console's process: a restart logs everyone out."""

    _by_token: dict[str, Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, user: str) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        session = Session(user, secrets.token_urlsafe(32), host_time() + SESSION_SECONDS)
        with self._lock:
            self._by_token[token] = session
        return token, session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self._lock:
            session = self._by_token.get(token)
            if session is not None and session.expires < host_time():
                del self._by_token[token]
                return None
            return session

    def end(self, token: str | None) -> None:
        with self._lock:
            self._by_token.pop(token or "", None)


def csrf_ok(session: Session, sent: object) -> bool:
    return isinstance(sent, str) and hmac.compare_digest(session.csrf, sent)


@dataclass
class LoginLimiter:
    """At most LOGIN_TRIES failed logins per user name and per client address in LOGIN_WINDOW."""

    tries: int = LOGIN_TRIES
    window: float = LOGIN_WINDOW
    _failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> deque[float]:
        seen = self._failures[key]
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        return seen

    def blocked(self, name: str, address: str) -> bool:
        now = host_time()
        with self._lock:
            return any(
                len(self._recent(k, now)) >= self.tries for k in (f"u:{name}", f"a:{address}")
            )

    def failed(self, name: str, address: str) -> None:
        now = host_time()
        with self._lock:
            for k in (f"u:{name}", f"a:{address}"):
                self._recent(k, now).append(now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{name}", None)
