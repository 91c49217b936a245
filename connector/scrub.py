"""Secrets scrubbed by exact value, and messages made safe to print, log and store.

Every secret kravsync reads or receives (tokens, refresh tokens, client secrets, SMTP
passwords) is registered here by the credential stores and the OAuth client; :func:`scrub`
replaces each registered value — and its URL-encoded, base64 Basic-auth and JSON-escaped forms —
with ``***`` wherever it appears. A provider that echoes our ``Authorization`` header in an
error body therefore cannot put the token into a printed line, a log line or ``runs.error``.

:func:`safe_message` is what every stored or printed error goes through: secrets scrubbed,
national ids masked (anything that validates as a person number), one line, capped.

The registry is process-wide and bounded (:data:`MAX_SECRETS`, oldest forgotten first: an
access token older than that many rotations has long expired). Values shorter than
:data:`MIN_LENGTH` are not registered: scrubbing them would garble ordinary text.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections import OrderedDict
from urllib.parse import quote, quote_plus

MIN_LENGTH = 4
MAX_SECRETS = 10_000
MESSAGE_LIMIT = 500
MASK = "***"

_secrets: OrderedDict[str, None] = OrderedDict()
_lock = threading.Lock()
_SECRET_KEYS = ("access_token", "refresh_token", "id_token", "client_secret", "password", "token")


def _add(value: str) -> None:
    if len(value) >= MIN_LENGTH:
        _secrets[value] = None
        _secrets.move_to_end(value)


def register_secret(value: str | None, *, user: str | None = None) -> None:
    """Remember ``value`` as a secret (with its encoded forms; with ``user``, also the Basic
    auth header ``base64(user:value)`` a server might echo)."""
    if not value:
        return
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    if user:
        forms.add(base64.b64encode(f"{user}:{value}".encode()).decode())
    with _lock:
        for form in forms:
            _add(form)
        while len(_secrets) > MAX_SECRETS:
            _secrets.popitem(last=False)


def register_credential(secret: str | None) -> None:
    """Register a stored credential: the string itself and, for a JSON credential (OAuth
    tokens), every secret value in it (the client secret also in its Basic-auth form)."""
    if not secret:
        return
    register_secret(secret)
    text = secret.strip()
    if not text.startswith("{"):
        return
    try:
        data = json.loads(text)
    except ValueError:
        return
    if not isinstance(data, dict):
        return
    client_id = data.get("client_id") if isinstance(data.get("client_id"), str) else None
    for key in _SECRET_KEYS:
        value = data.get(key)
        if isinstance(value, str):
            register_secret(value, user=client_id if key == "client_secret" else None)


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by ``***`` (longest first)."""
    if not text:
        return text
    with _lock:
        found = [s for s in _secrets if s in text]
    for secret in sorted(found, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


_SPACES = re.compile(r"\s+")


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Whitespace (line breaks included) folded to single spaces, capped at ``limit``."""
    line = _SPACES.sub(" ", text).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def safe_message(text: object, limit: int = MESSAGE_LIMIT) -> str:
    """What a stored or printed error says: secrets scrubbed, person numbers masked, control
    characters escaped, one line, at most ``limit`` characters."""
    from connector.render.textsafe import printable
    from connector.validation.identifiers import mask_person_numbers

    return one_line(printable(mask_person_numbers(scrub(str(text)))), limit)


class ScrubFilter(logging.Filter):
    """A logging filter: the formatted message (and any traceback) with secrets scrubbed and
    person numbers masked, before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        from connector.validation.identifiers import mask_person_numbers

        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the line
            message = str(record.msg)
        from connector.render.textsafe import printable

        record.msg = printable(mask_person_numbers(scrub(message)))
        record.args = None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = mask_person_numbers(scrub(text))
            record.exc_info = None
        return True


__all__ = [
    "ScrubFilter",
    "one_line",
    "register_credential",
    "register_secret",
    "safe_message",
    "scrub",
]
