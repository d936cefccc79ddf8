"""`email.send` implementation: `smtplib` in a worker thread (imported on first call).

The blocking SMTP session runs in `asyncio.to_thread`. Its sockets time out
within the attempt's budget (`client_timeout`), and when the whole session
overruns the budget the socket is shut down from the event loop so the
thread stops promptly; the step then fails with `Timeout`.

The server's address is resolved and checked (link-local and metadata
addresses refused, `switchyard.actions.http._guard`) before any packet is
sent, and the session connects to a checked address only (no second
resolution), while TLS still verifies the certificate against the host name.
"""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from typing import Any

import httpcore

from switchyard import errors
from switchyard.actions.email import RefusedRecipient, SendInput, SendOutput, check_address
from switchyard.actions.http._guard import resolve_checked
from switchyard.actions.http._request import client_timeout
from switchyard.actions.rest import conn_secret
from switchyard.actions.sdk import ActionContext
from switchyard.errors import StepFailure

#: Replies that mean "authenticate (properly) first": never fixed by a retry.
AUTH_CODES = frozenset({530, 534, 535, 538})
DEFAULT_PORT = 587
DEFAULT_SSL_PORT = 465


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _invalid(message: str) -> StepFailure:
    return StepFailure(errors.VALIDATION_ERROR, message, retryable=False)


def _denied(message: str, details: dict[str, Any]) -> StepFailure:
    return StepFailure(errors.PERMISSION_DENIED, message, details, retryable=False)


def _port(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise _invalid(f"the connection's port {value!r} is not a port number")
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise _invalid(f"the connection's port {value!r} is not a port number") from None
    if not 0 < port < 65536:
        raise _invalid(f"the connection's port {port} is not a port number (1-65535)")
    return port


def _tls_context(fields: dict[str, Any]) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca = fields.get("ca_cert")
    if ca:
        try:
            context.load_verify_locations(cadata=str(ca))
        except (ssl.SSLError, ValueError) as exc:
            raise _invalid(f"the connection's ca_cert cannot be loaded: {exc}") from None
    return context


def _bare(addresses: list[str]) -> list[str]:
    return [addr for _, addr in getaddresses(addresses)]


def compose(params: SendInput, sender: str) -> tuple[EmailMessage, str, list[str]]:
    """The message, the envelope sender and the envelope recipients (bcc included)."""
    envelope_from = _bare([sender])[0]
    recipients = list(dict.fromkeys(_bare([*params.to, *params.cc, *params.bcc])))
    msg = EmailMessage()
    try:
        msg["From"] = sender
        msg["To"] = ", ".join(params.to)
        if params.cc:
            msg["Cc"] = ", ".join(params.cc)
        if params.reply_to:
            msg["Reply-To"] = ", ".join(params.reply_to)
        msg["Subject"] = params.subject
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = make_msgid(domain=envelope_from.rpartition("@")[2])
        for name, value in params.headers.items():
            msg[name] = value
    except (ValueError, TypeError) as exc:
        raise _invalid(f"cannot build the message headers: {exc}") from None
    if params.text is not None and params.html is not None:
        msg.set_content(params.text)
        msg.add_alternative(params.html, subtype="html")
    elif params.html is not None:
        msg.set_content(params.html, subtype="html")
    else:
        msg.set_content(params.text or "")
    return msg, envelope_from, recipients


class _Client(smtplib.SMTP):
    """An SMTP client that connects to pre-checked addresses (and may start in TLS).

    `host` stays the name the certificate is checked against (`_host`, also
    used by `starttls`); the TCP connection goes to `addresses`.
    """

    def __init__(
        self,
        addresses: list[str] | None,
        implicit_tls: ssl.SSLContext | None,
        *,
        local_hostname: str,
        timeout: float,
    ) -> None:
        self._addresses = addresses
        self._implicit_tls = implicit_tls
        super().__init__(local_hostname=local_hostname, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        # `starttls` checks the certificate against `_host`, which only the
        # constructor sets (we connect after constructing).
        self._host = host
        last: OSError | None = None
        for address in self._addresses or [host]:
            try:
                sock = socket.create_connection((address, port), timeout, self.source_address)
                break
            except OSError as exc:
                last = exc
        else:
            assert last is not None
            raise last
        if self._implicit_tls is not None:
            try:
                sock = self._implicit_tls.wrap_socket(sock, server_hostname=host)
            except BaseException:
                sock.close()
                raise
        return sock


class _Session:
    """One blocking SMTP session (run in a worker thread); `abort` stops it."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        addresses: list[str] | None,
        implicit_tls: bool,
        starttls: bool,
        tls: ssl.SSLContext,
        username: str,
        password: str,
        helo: str,
        timeout: float,
    ) -> None:
        self.host = host
        self.port = port
        self.addresses = addresses
        self.implicit_tls = implicit_tls
        self.starttls = starttls
        self.tls = tls
        self.username = username
        self.password = password
        self.helo = helo
        self.timeout = timeout
        self.client: _Client | None = None

    def abort(self) -> None:
        client = self.client
        sock = client.sock if client is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def run(
        self, msg: EmailMessage, envelope_from: str, recipients: list[str]
    ) -> dict[str, tuple[int, bytes]]:
        where = {"host": self.host, "port": self.port}
        client = _Client(
            self.addresses,
            self.tls if self.implicit_tls else None,
            local_hostname=self.helo,
            timeout=self.timeout,
        )
        self.client = client
        try:
            code, reply = client.connect(self.host, self.port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, reply)
            client.ehlo_or_helo_if_needed()
            if not self.implicit_tls:
                if self.starttls:
                    if not client.has_extn("starttls"):
                        # Going on in plain text would expose the credentials
                        # and the message (a STARTTLS-stripping attacker's goal).
                        raise _denied(
                            f"SMTP server {self.host}:{self.port} does not offer STARTTLS, "
                            "which the connection requires (`starttls: true`); nothing was "
                            "sent. Use a server with TLS, or `ssl: true` for implicit TLS "
                            "(port 465).",
                            where,
                        )
                    client.starttls(context=self.tls)
                    client.ehlo_or_helo_if_needed()
                elif self.username:
                    raise _denied(
                        f"refused to send SMTP credentials to {self.host}:{self.port} over an "
                        "unencrypted connection; set `starttls: true` or `ssl: true`",
                        where,
                    )
            if self.username:
                if not client.has_extn("auth"):
                    raise _denied(
                        f"SMTP server {self.host}:{self.port} does not offer AUTH, but the "
                        "connection has credentials",
                        where,
                    )
                client.login(self.username, self.password)
            refused = client.send_message(msg, envelope_from, recipients)
            # The message was accepted: a messy goodbye changes nothing.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                client.quit()
            return refused
        finally:
            client.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _reply_failure(code: int, reply: str, what: str, details: dict[str, Any]) -> StepFailure:
    details = {**details, "smtp_code": code, "smtp_error": reply}
    message = f"{what}: SMTP {code} {reply}".rstrip()
    if code in AUTH_CODES:
        return StepFailure(errors.PERMISSION_DENIED, message, details, retryable=False)
    if 500 <= code < 600:
        # A permanent reply: the same message would be refused again.
        return StepFailure(errors.ACTION_ERROR, message, details, retryable=False)
    # 4xx (transient) and anything unexpected: worth another attempt.
    return StepFailure(errors.ACTION_ERROR, message, details, retryable=True)


def failure(exc: BaseException, host: str, port: int) -> StepFailure:
    """The typed failure for an exception of the SMTP session."""
    where: dict[str, Any] = {"host": host, "port": port}
    label = f"SMTP {host}:{port}"
    if isinstance(exc, StepFailure):
        return exc
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = {
            addr: {"code": code, "message": _text(reply)}
            for addr, (code, reply) in exc.recipients.items()
        }
        codes = {int(item["code"]) for item in refused.values()}
        details = {**where, "refused": refused}
        text = "; ".join(f"{a}: {r['code']} {r['message']}" for a, r in refused.items())
        message = f"{label} refused every recipient ({text})"
        if codes & AUTH_CODES:
            return StepFailure(errors.PERMISSION_DENIED, message, details, retryable=False)
        transient = all(400 <= c < 500 for c in codes)
        return StepFailure(errors.ACTION_ERROR, message, details, retryable=transient)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _reply_failure(
            exc.smtp_code, _text(exc.smtp_error), f"{label} refused the login", where
        )
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _reply_failure(
            exc.smtp_code, _text(exc.smtp_error), f"{label} refused the sender {exc.sender}", where
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply_failure(exc.smtp_code, _text(exc.smtp_error), label, where)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return StepFailure(errors.ACTION_ERROR, f"{label}: {exc}", where, retryable=False)
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        # smtplib turns a read timeout into SMTPServerDisconnected.
        return StepFailure(errors.TIMEOUT, f"{label} timed out: {exc}", where, retryable=True)
    if isinstance(exc, ssl.SSLError):
        return StepFailure(
            errors.ACTION_ERROR, f"{label}: TLS failure: {exc}", where, retryable=True
        )
    if isinstance(exc, OSError):  # SMTPServerDisconnected, refused, reset, DNS
        return StepFailure(
            errors.ACTION_ERROR,
            f"{label} failed: {type(exc).__name__}: {exc}",
            where,
            retryable=True,
        )
    return StepFailure(errors.ACTION_ERROR, f"{label}: {type(exc).__name__}: {exc}", where)


def _abandon(session: _Session, work: asyncio.Future[Any]) -> None:
    """Stop a session that overran: the thread cannot be cancelled, so close its
    socket (it then fails at once) and drop the failure it ends with."""
    session.abort()
    work.add_done_callback(lambda f: f.cancelled() or f.exception())


async def send_mail(ctx: ActionContext, params: SendInput) -> SendOutput:
    conn = ctx.connection
    fields: dict[str, Any] = dict(conn.fields) if conn is not None else {}
    host = str(fields.get("host") or "").strip().strip("[]")
    if not host:
        raise _invalid("email.send needs an `smtp` connection with a `host` field")
    implicit_tls = _truthy(fields.get("ssl", False))
    starttls = _truthy(fields.get("starttls", True))
    port = _port(fields.get("port"), DEFAULT_SSL_PORT if implicit_tls else DEFAULT_PORT)
    username = conn_secret(ctx, "username", required=False)
    password = conn_secret(ctx, "password", required=False)
    if bool(username) != bool(password):
        raise _invalid(
            "the connection needs both secrets `username` and `password` for SMTP AUTH "
            "(or neither, for a server that relays without it)"
        )
    sender = params.from_address or fields.get("from_address")
    if not sender:
        raise _invalid(
            "no sender: set the `from_address` parameter or the connection's `from_address`"
        )
    try:
        sender = check_address(str(sender))
    except ValueError as exc:
        raise _invalid(f"the connection's from_address: {exc}") from None
    msg, envelope_from, recipients = compose(params, sender)
    tls = _tls_context(fields)
    helo = str(fields.get("helo_name") or socket.gethostname() or "localhost")

    timeout = client_timeout(ctx)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    addresses: list[str] | None = None
    if not _truthy(fields.get("allow_private_metadata", False)):
        try:
            addresses = await resolve_checked(host, port, timeout)
        except httpcore.ConnectTimeout:
            raise StepFailure(
                errors.TIMEOUT, f"resolving {host} timed out", {"host": host}, retryable=True
            ) from None
        except httpcore.ConnectError as exc:
            raise StepFailure(
                errors.ACTION_ERROR, str(exc), {"host": host, "port": port}, retryable=True
            ) from None

    session = _Session(
        host=host,
        port=port,
        addresses=addresses,
        implicit_tls=implicit_tls,
        starttls=starttls,
        tls=tls,
        username=username,
        password=password,
        helo=helo,
        timeout=max(deadline - loop.time(), 0.1),
    )
    work = asyncio.ensure_future(asyncio.to_thread(session.run, msg, envelope_from, recipients))
    try:
        done, _ = await asyncio.wait({work}, timeout=max(deadline - loop.time(), 0.0))
    except asyncio.CancelledError:
        _abandon(session, work)
        raise
    if not done:
        _abandon(session, work)
        raise StepFailure(
            errors.TIMEOUT,
            f"SMTP {host}:{port} did not finish within {timeout:g}s",
            {"host": host, "port": port},
            retryable=True,
        )
    try:
        refused = work.result()
    except Exception as exc:
        raise failure(exc, host, port) from None
    refused_out = {
        addr: RefusedRecipient(code=int(code), message=_text(reply))
        for addr, (code, reply) in refused.items()
    }
    return SendOutput(
        accepted=[r for r in recipients if r not in refused],
        refused=refused_out,
        message_id=str(msg["Message-ID"]),
    )
