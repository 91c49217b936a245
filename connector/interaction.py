"""The few prompts the CLI needs, behind a seam so tests can answer them."""

from __future__ import annotations

import contextlib
import getpass
import io
import os
import sys
import warnings
from contextlib import nullcontext
from typing import Protocol


class Interaction(Protocol):
    def say(self, text: str) -> None: ...

    def ask(self, prompt: str) -> str: ...

    def secret(self, prompt: str) -> str: ...


class NoTerminal(Exception):
    """Nothing to read an answer from: standard input is closed or at its end."""


class Terminal:
    def say(self, text: str) -> None:
        print(text, file=sys.stderr)

    def ask(self, prompt: str) -> str:
        if sys.stdin is None or sys.stdin.closed:
            raise NoTerminal(prompt)
        try:
            return input(prompt)
        except (EOFError, RuntimeError):
            raise NoTerminal(prompt) from None

    def secret(self, prompt: str) -> str:
        """Read without echo from the terminal (getpass). With no terminal, getpass reads a
        line from standard input, so a secret can be piped in (``kravsync auth T < file``);
        its warning that input may be echoed is moot there and kept off the user's screen.
        Nothing to read at all is :class:`NoTerminal`."""
        if sys.stdin is None or sys.stdin.closed:
            raise NoTerminal(prompt)
        # No terminal: getpass would print its warning and the prompt on our stderr, ahead of
        # whatever kravsync says next; there is nobody to read them.
        quiet = nullcontext() if _has_terminal() else contextlib.redirect_stderr(io.StringIO())
        try:
            with quiet, warnings.catch_warnings():
                warnings.simplefilter("ignore", getpass.GetPassWarning)
                return getpass.getpass(prompt)
        except EOFError:
            raise NoTerminal(prompt) from None


def _has_terminal() -> bool:
    """Whether this process has a controlling terminal getpass can read from."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True
