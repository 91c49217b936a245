"""The few prompts the CLI needs, behind a seam so tests can answer them."""

from __future__ import annotations

import getpass
import sys
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
        """Read without echo from the terminal (getpass); with no terminal, from standard
        input, so that a secret can be piped in."""
        if sys.stdin is None or sys.stdin.closed:
            raise NoTerminal(prompt)
        try:
            return getpass.getpass(prompt)
        except EOFError:
            raise NoTerminal(prompt) from None
