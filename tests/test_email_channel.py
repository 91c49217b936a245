"""The SMTP channel against local SMTP servers (aiosmtpd, and a raw socket for broken ones)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.channels.email import (
    ChannelRejected,
    ChannelUnavailable,
    SmtpChannel,
    message_id_for,
    password_for,
)
from connector.clock import Clock
from connector.config import EmailSettings
from connector.secrets import MemoryCredentials

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
from aiosmtpd.smtp import AuthResult, Envelope, Session  # noqa: E402

CLOCK = Clock.starting_at(dt.date(2026, 11, 23))

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SUBJECT = "Påminnelse: faktura 12 – Åkerlund & Öhman Bygg AB (æøå)"
TEXT = "Hej Märta Öhman,\n\nfaktura 12 på 4 375,50 kr är obetald.\nVennlig hilsen, Bjørn Ærø\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Recorder:
    """Keeps every accepted message; refuses recipients by their local part."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("grey@"):
            return "450 4.2.0 greylisted, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: Any, session: Session, envelope: Envelope
    ) -> str:
        self.envelopes.append(envelope)
        return "250 2.0.0 queued"

    def message(self, i: int = -1) -> email.message.EmailMessage:
        raw = self.envelopes[i].original_content or self.envelopes[i].content
        assert isinstance(raw, bytes)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        return msg


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = data.login == b"kravsync" and data.password == b"s3cret-pw"
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., tuple[Recorder, int]]]:
    started: list[Any] = []

    def start(**kwargs: Any) -> tuple[Recorder, int]:
        rec, port = Recorder(), free_port()
        ctl = aiosmtpd_controller.Controller(rec, hostname="127.0.0.1", port=port, **kwargs)
        ctl.start()
        started.append(ctl)
        return rec, port

    yield start
    for ctl in started:
        ctl.stop()


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    crypto = pytest.importorskip("cryptography")
    del crypto
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Valid whatever the date: OpenSSL checks it against the host's clock, which a
        # time-shifted test run (time-machine) does not move.
        .not_valid_before(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2099, 12, 31, tzinfo=dt.UTC))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def server_tls(cert: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert)
    return ctx


def settings(port: int, **over: Any) -> EmailSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from_address": "Åkerlund Ekonomi <ekonomi@akerlund.example>",
        "timeout_seconds": 5,
    }
    values.update(over)
    return EmailSettings(**values)


def send(channel: SmtpChannel, to: str = "kund@example.se", key: str = "t:12:reminder:1") -> str:
    return channel.send(
        to=to,
        subject=SUBJECT,
        text=TEXT,
        attachments=[
            ("påminnelse-12.pdf", PDF, "application/pdf"),
            ("faktura-12.pdf", PDF + b"%copy", "application/pdf"),
        ],
        message_id=key,
    )


def test_message_content_survives_the_trip(smtp_server) -> None:
    rec, port = smtp_server()
    channel = SmtpChannel(
        settings(port, reply_to="svar@akerlund.example", bcc="bokforing@akerlund.example"), None, clock=CLOCK
    )
    accepted = send(channel)
    msg = rec.message()
    assert msg["Subject"] == SUBJECT
    assert msg["From"] == "Åkerlund Ekonomi <ekonomi@akerlund.example>"
    assert msg["Reply-To"] == "svar@akerlund.example"
    assert msg["Bcc"] is None  # the copy goes by envelope only
    assert rec.envelopes[-1].rcpt_tos == ["kund@example.se", "bokforing@akerlund.example"]
    body = msg.get_body(("plain",))
    assert body is not None and body.get_content().replace("\r\n", "\n") == TEXT
    files = [
        (p.get_filename(), p.get_content_type(), p.get_content()) for p in msg.iter_attachments()
    ]
    assert files == [
        ("påminnelse-12.pdf", "application/pdf", PDF),
        ("faktura-12.pdf", "application/pdf", PDF + b"%copy"),
    ]
    assert accepted == msg["Message-ID"] == message_id_for("t:12:reminder:1")


def test_message_id_is_derived_from_the_key_only(smtp_server) -> None:
    rec, port = smtp_server()
    channel = SmtpChannel(settings(port), None, clock=CLOCK)
    first, again = send(channel), send(channel)
    other = send(channel, key="t:13:reminder:1")
    assert first == again == rec.message(0)["Message-ID"] == rec.message(1)["Message-ID"]
    assert other != first
    assert first.startswith("<") and first.endswith("@kravsync>") and len(first) == 32 + 11


def test_several_addresses_in_one_field(smtp_server) -> None:
    rec, port = smtp_server()
    send(SmtpChannel(settings(port), None, clock=CLOCK), to="a@kund.se; Åsa Ö <b@kund.se>")
    assert rec.envelopes[-1].rcpt_tos == ["a@kund.se", "b@kund.se"]


def test_login_and_refused_login(smtp_server) -> None:
    rec, port = smtp_server(authenticator=_auth, auth_require_tls=False)
    send(SmtpChannel(settings(port, username="kravsync"), "s3cret-pw", clock=CLOCK))
    assert len(rec.envelopes) == 1
    with pytest.raises(ChannelRejected) as info:
        send(SmtpChannel(settings(port, username="kravsync"), "wrong-pw-123", clock=CLOCK))
    assert info.value.code == 535 and "login refused" in str(info.value)
    assert "wrong-pw-123" not in str(info.value) and "\n" not in str(info.value)
    assert len(rec.envelopes) == 1


def test_refused_recipient_is_permanent_greylisting_is_not(smtp_server) -> None:
    rec, port = smtp_server()
    channel = SmtpChannel(settings(port), None, clock=CLOCK)
    with pytest.raises(ChannelRejected) as refused:
        send(channel, to="nobody@kund.se")
    assert refused.value.code == 550 and "nobody@kund.se" in str(refused.value)
    assert not refused.value.maybe_delivered
    with pytest.raises(ChannelUnavailable) as grey:
        send(channel, to="grey@kund.se")
    assert grey.value.code == 450 and not grey.value.maybe_delivered
    assert rec.envelopes == []


def test_bcc_refused_alone_still_delivers(smtp_server) -> None:
    rec, port = smtp_server()
    send(SmtpChannel(settings(port, bcc="nobody@akerlund.example"), None, clock=CLOCK))
    assert rec.envelopes[-1].rcpt_tos == ["kund@example.se"]


def test_nothing_listening_is_transient_and_not_delivered() -> None:
    with pytest.raises(ChannelUnavailable) as info:
        send(SmtpChannel(settings(free_port()), None, clock=CLOCK))
    assert not info.value.maybe_delivered and "127.0.0.1" in str(info.value)


def test_starttls_with_a_trusted_certificate(smtp_server, cert) -> None:
    rec, port = smtp_server(tls_context=server_tls(cert), require_starttls=True)
    trusting = ssl.create_default_context(cafile=str(cert[0]))
    send(SmtpChannel(settings(port, security="starttls"), None, ssl_context=trusting, clock=CLOCK))
    assert rec.message()["Subject"] == SUBJECT
    with pytest.raises(ChannelRejected, match="not trusted"):
        send(SmtpChannel(settings(port, security="starttls"), None, clock=CLOCK))  # system CAs only
    with pytest.raises(ChannelRejected):  # the server insists on TLS first
        send(SmtpChannel(settings(port, security="none"), None, ssl_context=trusting, clock=CLOCK))
    assert len(rec.envelopes) == 1


def test_starttls_not_offered_is_refused(smtp_server) -> None:
    rec, port = smtp_server()
    with pytest.raises(ChannelRejected, match="does not offer STARTTLS"):
        send(SmtpChannel(settings(port, security="starttls"), None, clock=CLOCK))
    assert rec.envelopes == []


def test_implicit_tls(smtp_server, cert) -> None:
    rec, port = smtp_server(ssl_context=server_tls(cert))
    trusting = ssl.create_default_context(cafile=str(cert[0]))
    send(SmtpChannel(settings(port, security="tls"), None, ssl_context=trusting, clock=CLOCK))
    assert rec.message()["Subject"] == SUBJECT


class BrokenServer:
    """Speaks just enough SMTP, then hangs up after the message data (or never answers)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.got_data = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn, conn.makefile("rb") as rfile:
            if self.mode == "silent":
                rfile.readline()  # hold the connection, never greet
                return
            conn.sendall(b"220 broken ESMTP\r\n")
            while line := rfile.readline():
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    conn.sendall(b"250 broken\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    while rfile.readline() not in (b".\r\n", b""):
                        pass
                    self.got_data.set()
                    return  # hang up instead of confirming
                else:
                    conn.sendall(b"250 OK\r\n")


def test_hang_up_after_data_is_maybe_delivered() -> None:
    server = BrokenServer("hangup")
    with pytest.raises(ChannelUnavailable) as info:
        send(SmtpChannel(settings(server.port), None, clock=CLOCK))
    assert server.got_data.is_set()
    assert info.value.maybe_delivered  # the push must not send it again


def test_timeout_is_transient() -> None:
    server = BrokenServer("silent")
    with pytest.raises(ChannelUnavailable, match="timed out") as info:
        send(SmtpChannel(settings(server.port, timeout_seconds=0.2), None, clock=CLOCK))
    assert not info.value.maybe_delivered


def test_password_for_keyring_entry_and_env(monkeypatch) -> None:
    store = MemoryCredentials({"acme-se:smtp": "pw-from-keyring"})
    s = settings(25, username="kravsync")
    assert password_for("acme-se", s, store) == "pw-from-keyring"
    assert password_for("acme-se", settings(25), store) is None  # no login configured
    monkeypatch.setenv("ACME_SMTP", "pw-from-env")
    assert password_for("acme-se", settings(25, username="u", password="env:ACME_SMTP")) == (
        "pw-from-env"
    )
    monkeypatch.delenv("ACME_SMTP")
    with pytest.raises(ChannelRejected, match="environment variable ACME_SMTP"):
        password_for("acme-se", settings(25, username="u", password="env:ACME_SMTP"))
    with pytest.raises(ChannelRejected, match='keyring entry "other:smtp"'):
        password_for("other", s, store)
    with pytest.raises(ChannelRejected, match="no password"):
        SmtpChannel(s, None, clock=CLOCK)
