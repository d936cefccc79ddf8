"""Live case of `email.send`, and the SMTP fake it (and the unit tests) use.

The fake is a real SMTP server (`aiosmtpd`) on 127.0.0.1: STARTTLS with a
self-signed certificate made here (its PEM is the connection's `ca_cert`),
AUTH only after TLS and only for the expected user and password, and a
handler that records every accepted message. An SMTP action cannot use the
HTTP fake the conformance suite passes, so the live case starts (once, lazily)
its own server and stops it at interpreter exit.
"""

from __future__ import annotations

import asyncio
import atexit
import datetime
import ipaddress
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer

from switchyard.connections import Connection

from . import SECRET, Live, LiveCase

USERNAME = "switchyard@example.com"


def make_certificate() -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 / localhost: (cert PEM, key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "switchyard test SMTP")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return cert_pem, key_pem


def server_tls_context(cert_pem: str, key_pem: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # `ssl` loads a chain from files only; these are throw-away test keys.
    with tempfile.TemporaryDirectory() as tmp:
        cert_path, key_path = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert_path.write_text(cert_pem)
        key_path.write_text(key_pem)
        context.load_cert_chain(cert_path, key_path)
    return context


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    """One message the fake accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool
    login: bytes | None

    @property
    def message(self) -> EmailMessage:
        # Parsed from the wire (CRLF) form with text line ends, as a mail client shows it.
        parsed = message_from_bytes(self.data.replace(b"\r\n", b"\n"), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SmtpFake:
    """A running aiosmtpd server and what it received."""

    port: int
    mode: str
    ca_cert: str
    username: str
    password: str
    #: RCPT replies by recipient address (e.g. `"550 5.1.1 ..."`); others get 250.
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    #: Seconds the DATA reply is held back (to exercise timeouts).
    data_delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    auth_attempts: list[tuple[str, bytes]] = field(default_factory=list)
    controller: Controller | None = None

    def connection(self, **fields: Any) -> Connection:
        return Connection(
            "mail",
            "smtp",
            fields={
                "host": "127.0.0.1",
                "port": self.port,
                "from_address": "Switchyard <switchyard@example.com>",
                "ca_cert": self.ca_cert,
                "helo_name": "worker.example.com",
                **fields,
            },
            secrets={"username": self.username, "password": self.password},
        )

    # aiosmtpd hooks ----------------------------------------------------------

    def authenticate(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.auth_attempts.append((mechanism, auth_data.login))
        ok = (
            auth_data.login == self.username.encode()
            and auth_data.password == self.password.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self.rcpt_replies.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        content = envelope.original_content or b""
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                data=content,
                tls=session.ssl is not None or self.mode == "implicit",
                login=session.auth_data.login if session.authenticated else None,
            )
        )
        return "250 2.0.0 Message accepted for delivery"

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


_CERT: tuple[str, str] | None = None


def _certificate() -> tuple[str, str]:
    global _CERT
    if _CERT is None:
        _CERT = make_certificate()
    return _CERT


def start_smtp(
    *,
    mode: str = "starttls",
    username: str = USERNAME,
    password: str = SECRET,
) -> SmtpFake:
    """Start a fake SMTP server on 127.0.0.1.

    `mode`: `starttls` (STARTTLS required before anything else), `plain` (no
    TLS offered at all) or `implicit` (TLS from the first byte, like port 465).
    """
    cert_pem, key_pem = _certificate()
    fake = SmtpFake(
        port=free_port(), mode=mode, ca_cert=cert_pem, username=username, password=password
    )
    kwargs: dict[str, Any] = {
        "hostname": "127.0.0.1",
        "port": fake.port,
        "server_hostname": "smtp.example.test",
        "authenticator": fake.authenticate,
        "auth_require_tls": mode == "starttls",
    }
    if mode == "starttls":
        kwargs["tls_context"] = server_tls_context(cert_pem, key_pem)
        kwargs["require_starttls"] = True
    elif mode == "implicit":
        kwargs["ssl_context"] = server_tls_context(cert_pem, key_pem)
    elif mode != "plain":
        raise ValueError(mode)
    fake.controller = Controller(fake, **kwargs)
    fake.controller.start()
    return fake


_LIVE: SmtpFake | None = None
_LIVE_LOCK = threading.Lock()


def _live_server() -> SmtpFake:
    """The conformance suite's server: started on first use, stopped at exit."""
    global _LIVE
    with _LIVE_LOCK:
        if _LIVE is None:
            _LIVE = start_smtp()
            atexit.register(_LIVE.stop)
        return _LIVE


def _send_case(server: HTTPServer) -> Live:
    fake = _live_server()
    params = {
        "to": [f"{SECRET}@example.com"],
        "subject": "conformance",
        "text": "hello",
    }
    return Live(params, fake.connection())


CASES: dict[str, LiveCase] = {"email.send": _send_case}
