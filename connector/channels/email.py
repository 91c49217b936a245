"""kravsync's own e-mail channel: one message through the tenant's SMTP server.

Failures come in two kinds, so the push engine can tell "never send this again as is" from
"try later": :class:`ChannelRejected` (the server refused the sender, a recipient, the login or
the message with a 5xx; TLS set up wrong) and :class:`ChannelUnavailable` (no connection, a
timeout, a 4xx such as greylisting). ``maybe_delivered`` is True when the connection broke
after the message had been handed over, where delivery is unknown and must not be retried.
``recipient`` is True when the refusal concerns the recipient (this letter), not the channel.
Messages never carry the password, and neither do errors.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, getaddresses, parseaddr

from connector.clock import Clock
from connector.config import EmailSettings
from connector.secrets import CredentialError, CredentialStore, credentials_for


class ChannelError(Exception):
    """A message that did not (certainly) go out."""

    permanent = False

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        maybe_delivered: bool = False,
        recipient: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.maybe_delivered = maybe_delivered
        self.recipient = recipient


class ChannelRejected(ChannelError):
    """Refused for good: fix the address, the sender or the settings before sending again."""

    permanent = True


class ChannelUnavailable(ChannelError):
    """A transient failure: the same message may be tried again later (unless maybe_delivered)."""


def message_id_for(key: str) -> str:
    """A Message-ID derived from ``key`` alone, so a duplicate of one letter is recognisable."""
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@kravsync>"


def recipients(to: str) -> list[str]:
    """Addresses in ``to``; accountants often separate several with ``;``."""
    found = [addr for _name, addr in getaddresses([to.replace(";", ",")]) if "@" in addr]
    if not found:
        raise ChannelRejected(f"no valid recipient address in {to!r}", recipient=True)
    return found


def password_for(
    tenant: str, settings: EmailSettings, store: CredentialStore | None = None
) -> str | None:
    """The SMTP password: keyring entry ``"<tenant>:smtp"`` (service ``kravsync``) or the
    environment variable of ``password = "env:VAR"``; None when no login is configured."""
    if settings.username is None:
        return None
    try:
        found = (store or credentials_for(settings.password)).get(f"{tenant}:smtp")
    except CredentialError as exc:
        raise ChannelRejected(f"tenant {tenant}: SMTP password: {exc.reason}") from None
    if not found:
        where = (
            f"environment variable {settings.password[4:]}"
            if settings.password.startswith("env:")
            else f"secrets file {settings.password[5:]}"
            if settings.password.startswith("file:")
            else f'keyring entry "{tenant}:smtp" (service kravsync)'
        )
        raise ChannelRejected(f"tenant {tenant}: no SMTP password in the {where}")
    return found


def build_message(
    *,
    from_address: str,
    to: str,
    subject: str,
    text: str,
    attachments: Sequence[tuple[str, bytes, str]],
    message_id: str,
    sent_at: datetime,
    reply_to: str | None = None,
) -> EmailMessage:
    """One letter as an e-mail: UTF-8 text, PDF attachments, a Message-ID derived from the
    letter's key and ``X-Kravsync-Letter`` naming the journalled actions it carries."""
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = from_address
    msg["To"] = ", ".join(recipients(to))
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(sent_at)
    msg["Message-ID"] = message_id_for(message_id)
    msg["X-Kravsync-Letter"] = message_id
    msg.set_content(text, charset="utf-8", cte="quoted-printable")
    for filename, content, mime in attachments:
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(
            content, maintype=maintype, subtype=subtype or "octet-stream", filename=filename
        )
    return msg


class SmtpChannel:
    """``MessageChannel`` over SMTP: STARTTLS (587), implicit TLS (465) or none (tests only)."""

    def __init__(
        self,
        settings: EmailSettings,
        password: str | None,
        *,
        clock: Clock,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if settings.username is not None and not password:
            raise ChannelRejected(f"smtp {settings.host}: a username is set but no password")
        self.settings = settings
        self._password = password
        self.clock = clock
        self._context = ssl_context or ssl.create_default_context()

    def __repr__(self) -> str:
        s = self.settings
        return f"SmtpChannel({s.host}:{s.port}, {s.security}, user={s.username!r})"

    def build(
        self,
        *,
        to: str,
        subject: str,
        text: str,
        attachments: Sequence[tuple[str, bytes, str]],
        message_id: str,
    ) -> EmailMessage:
        return build_message(
            from_address=self.settings.from_address,
            reply_to=self.settings.reply_to,
            to=to,
            subject=subject,
            text=text,
            attachments=attachments,
            message_id=message_id,
            sent_at=self.clock.now(),
        )

    def send(
        self,
        *,
        to: str,
        subject: str,
        text: str,
        attachments: Sequence[tuple[str, bytes, str]],
        message_id: str,
    ) -> str:
        msg = self.build(
            to=to, subject=subject, text=text, attachments=attachments, message_id=message_id
        )
        envelope = recipients(to) + ([self.settings.bcc] if self.settings.bcc else [])
        handed_over = False
        smtp: smtplib.SMTP | None = None
        try:
            smtp = self._connect()
            if self.settings.username is not None:
                smtp.login(self.settings.username, self._password or "")
            handed_over = True  # from here on the server may have taken the message
            refused = smtp.send_message(msg, parseaddr(self.settings.from_address)[1], envelope)
            handed_over = False
        except smtplib.SMTPRecipientsRefused as exc:
            raise self._refused(exc.recipients) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise self._fail(ChannelRejected, f"not supported by the server: {exc}") from None
        except smtplib.SMTPResponseException as exc:
            what = {
                smtplib.SMTPSenderRefused: "sender refused",
                smtplib.SMTPAuthenticationError: "login refused",
                smtplib.SMTPDataError: "message refused",
            }.get(type(exc), "refused")
            # The server answered: it did not take the message, whatever the phase.
            raise self._by_code(what, exc.smtp_code, exc.smtp_error) from None
        except ssl.SSLCertVerificationError as exc:
            raise self._fail(
                ChannelRejected, f"TLS certificate not trusted: {exc.verify_message}"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise self._fail(
                ChannelUnavailable, _describe(exc), maybe_delivered=handed_over
            ) from None
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
        bad = [addr for addr in refused if addr != self.settings.bcc]
        if bad:
            raise self._refused(refused)
        return str(msg["Message-ID"])

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "tls":
            return smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout_seconds, context=self._context
            )
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
        try:
            if s.security == "starttls":
                smtp.starttls(context=self._context)
        except smtplib.SMTPNotSupportedError:
            smtp.close()
            raise self._fail(ChannelRejected, "the server does not offer STARTTLS") from None
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _where(self) -> str:
        return f"smtp {self.settings.host}:{self.settings.port}"

    def _fail(
        self, cls: type[ChannelError], what: str, *, code: int | None = None, **kw: bool
    ) -> ChannelError:
        text = what.replace(self._password, "***") if self._password else what
        return cls(f"{self._where()}: {text}", code=code, **kw)

    def _by_code(self, what: str, code: int, reply: bytes | str) -> ChannelError:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        cls = ChannelUnavailable if 400 <= code < 500 else ChannelRejected
        return self._fail(cls, f"{what}: {code} {' '.join(text.split())}", code=code)

    def _refused(self, refused: dict[str, tuple[int, bytes]]) -> ChannelError:
        codes = [code for code, _ in refused.values()]
        cls = (
            ChannelUnavailable if codes and all(400 <= c < 500 for c in codes) else ChannelRejected
        )
        detail = "; ".join(
            f"{addr}: {code} {msg.decode('utf-8', 'replace').strip()}"
            for addr, (code, msg) in refused.items()
        )
        return self._fail(
            cls, f"recipient refused: {detail}", code=max(codes, default=None), recipient=True
        )


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, TimeoutError) or "timed out" in text:
        return "timed out"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "connection closed by the server"
    return f"{type(exc).__name__}: {text}"[:200]


__all__ = [
    "ChannelError",
    "ChannelRejected",
    "ChannelUnavailable",
    "SmtpChannel",
    "message_id_for",
    "password_for",
    "recipients",
]
