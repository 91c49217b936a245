"""A channel that writes each message as an .eml file instead of sending it.

Used by `kravsync demo` (no SMTP server needed) and by tenants that print and post their
letters: the folder holds exactly what would have been sent, attachments included.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

from connector.channels.email import message_id_for


class OutboxChannel:
    def __init__(self, folder: Path, from_address: str = "kravsync@localhost") -> None:
        self.folder = folder
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
        msg = EmailMessage()
        msg["From"] = self.from_address
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = message_id_for(message_id)
        msg["X-Kravsync-Letter"] = message_id
        msg.set_content(text)
        for filename, content, mime in attachments:
            maintype, _, subtype = mime.partition("/")
            msg.add_attachment(
                content, maintype=maintype, subtype=subtype or "octet-stream", filename=filename
            )
        with self._lock:
            self.sent.append(msg)
            path = self.folder / f"{len(self.sent):04d}.eml"
        path.write_bytes(bytes(msg))
        return str(msg["Message-ID"])
