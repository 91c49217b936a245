"""kravsync's audit lines in a Fortnox invoice's ``Comments``: one line per action, pure text.

    kravsync:<key> sending <date> letter=<digest>                      before the e-mail goes
    kravsync:<key> <stage> sent <date> fee=… interest=… letter=<digest>  after the server took it
    kravsync:<key> handover noted <date> fee=… interest=…              handover (no message)
    kravsync:<key> failed <date> letter=<digest>                       the server refused it

``<key>`` is the action's idempotency key and ``<digest>`` names the letter (its set of
actions), so a marker left by a crash can be told apart from one of another letter. The line of
a key is replaced in place, never duplicated; the user's own comments are left untouched.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date

from connector.models import ReminderAction

PREFIX = "kravsync:"
MAX_LENGTH = 1024  # fortnox_InvoicePayload.Comments maxLength
SENDING, SENT, NOTED, FAILED = "sending", "sent", "noted", "failed"


@dataclass(frozen=True)
class Mark:
    key: str
    state: str  # sending | sent | noted | failed
    on: date | None
    letter: str | None
    line: str


def letter_digest(keys: list[str] | tuple[str, ...]) -> str:
    return hashlib.sha256("+".join(keys).encode("utf-8")).hexdigest()[:10]


def find(comments: str | None, key: str, legacy: str | None = None) -> Mark | None:
    """The line ``key`` left in ``comments``, if any; ``legacy``: a pattern of the same
    action's key in the form kravsync wrote before issue 10 (any tenant name), also evidence."""
    head = f"{PREFIX}{key} "
    old = re.compile(re.escape(PREFIX) + legacy + " ") if legacy else None
    for line in (comments or "").splitlines():
        if line.startswith(head):
            rest = line[len(head) :]
        elif old is not None and (found := old.match(line)):
            rest = line[found.end() :]
        else:
            continue
        words = rest.split()
        state = words[0] if words and words[0] in (SENDING, FAILED) else None
        if state is None and len(words) > 1 and words[1] in (SENT, NOTED):
            state = words[1]
        if state is None:
            continue  # not a line of ours after all
        on = next((_date(w) for w in words if _date(w)), None)
        letter = next((w[len("letter=") :] for w in words if w.startswith("letter=")), None)
        return Mark(key, state, on, letter, line)
    return None


def put(comments: str | None, key: str, line: str) -> str:
    """``comments`` with ``key``'s line replaced by ``line`` (appended if it had none)."""
    head = f"{PREFIX}{key} "
    lines = [x for x in (comments or "").splitlines() if not x.startswith(head)]
    while lines and not lines[-1].strip():
        lines.pop()
    text = "\n".join([*lines, line])
    if len(text) > MAX_LENGTH:
        raise ValueError(f"Comments would exceed Fortnox's {MAX_LENGTH} characters")
    return text


def remove(comments: str | None, key: str) -> str:
    head = f"{PREFIX}{key} "
    return "\n".join(x for x in (comments or "").splitlines() if not x.startswith(head))


def sending(key: str, on: date, letter: str) -> str:
    return f"{PREFIX}{key} {SENDING} {on.isoformat()} letter={letter}"


def failed(key: str, on: date, letter: str) -> str:
    return f"{PREFIX}{key} {FAILED} {on.isoformat()} letter={letter}"


def _amounts(action: ReminderAction) -> str:
    text = f"fee={action.fee:.2f} interest={action.interest:.2f}"
    if action.compensation:
        text += f" compensation={action.compensation:.2f}"
    return text


def sent(action: ReminderAction, on: date, letter: str) -> str:
    key, stage = action.idempotency_key, action.stage.value
    return f"{PREFIX}{key} {stage} {SENT} {on.isoformat()} {_amounts(action)} letter={letter}"


def noted(action: ReminderAction, on: date) -> str:
    key, stage = action.idempotency_key, action.stage.value
    return f"{PREFIX}{key} {stage} {NOTED} {on.isoformat()} {_amounts(action)}"


def _date(word: str) -> date | None:
    try:
        return date.fromisoformat(word) if len(word) == 10 else None
    except ValueError:
        return None
