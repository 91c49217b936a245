"""Text from providers made safe for its destination: terminals and CSV (HTML: ``html.escape``;
JSON: ``json.dumps``, which escapes control characters itself).

A customer name, an invoice number or a note is typed by a stranger; printed raw, an ANSI
escape recolours the terminal, clears it or sets its title, and a CR or LF forges a report or
plan line. :func:`printable` shows every such character as a visible escape (``\\x1b``,
``\\r``, ``\\n``, ``\\u202e``). In CSV a cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR
is a formula to a spreadsheet; :func:`csv_cell` neutralises it with a leading apostrophe
(OWASP, "CSV Injection").
"""

from __future__ import annotations

import re
from typing import Any

# C0 and C1 controls, DEL, the line/paragraph separators, bidirectional overrides and isolates
# (they reorder what a terminal shows), and lone surrogates.
_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes, safe to write to a terminal line.

    >>> printable("Acme\\x1b[2J\\rPAID")
    'Acme\\\\x1b[2J\\\\rPAID'
    """
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula: text starting with one of
    :data:`FORMULA_START` gets a leading apostrophe; control characters are escaped.

    >>> csv_cell('=HYPERLINK("http://x","click")')
    '\\'=HYPERLINK("http://x","click")'
    >>> csv_cell("Fjord AS"), csv_cell(None)
    ('Fjord AS', None)
    """
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(FORMULA_START):
        value = "'" + value
    return printable(value)


__all__ = ["FORMULA_START", "csv_cell", "printable"]
