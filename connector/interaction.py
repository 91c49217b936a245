"""The few prompts the CLI needs, behind a seam so tests can answer them."""

from __future__ import annotations

import getpass
import sys
from typing import Protocol


class Interaction(Protocol):
    def say(self, text: str) -> None: ...

    def ask(self, prompt: str) -> str: ...

    def secret(self, prompt: str) -> str: ...


class Terminal:
    def say(self, text: str) -> None:
        print(text, file=sys.stderr)

    def ask(self, prompt: str) -> str:
        return input(prompt)

    def secret(self, prompt: str) -> str:
        return getpass.getpass(prompt)
