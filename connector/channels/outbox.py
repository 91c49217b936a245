"""A channel that writes each message as an .eml file instead of sending it.

Used by `kravsync demo` (no SMTP server needed) and by tenants that print and post their
letters: the folder holds exactly what would have been sent, attachments included.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

from connector.channels.email import build_message
from connector.clock import Clock


class OutboxChannel:
    def __init__(
        self, folder: Path, *, clock: Clock, from_address: str = "kravsync@localhost"
    ) -> None:
        self.folder = folder
        self.clock = clock
        self.from_address = from_address
        self.sent: list[EmailMessage] = []
        self._lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)

    def send(
        self,
        *,
        to: str,
        subject: str,
        text: str,
        attachments: Sequence[tuple[str, bytes, str]],
        message_id: str,
    ) -> str:
        msg = build_message(
            from_address=self.from_address,
            to=to,
            subject=subject,
            text=text,
            attachments=attachments,
            message_id=message_id,
            sent_at=self.clock.now(),
        )
        with self._lock:
            self.sent.append(msg)
            path = self.folder / f"{len(self.sent):04d}.eml"
        path.write_bytes(bytes(msg))
        return str(msg["Message-ID"])
