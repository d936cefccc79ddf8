"""`email.send` against a real local SMTP server (aiosmtpd), through the real activity."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from switchyard import errors
from switchyard.actions import get_action
from switchyard.connections import Connection
from switchyard.engine.options import WRITE_ONCE

from .conftest import RunAction, error_detail
from .live import SECRET
from .live.email import USERNAME, SmtpFake, free_port, start_smtp

StartSmtp = Callable[..., SmtpFake]


@pytest.fixture
def smtp_server() -> Iterator[StartSmtp]:
    started: list[SmtpFake] = []

    def start(**kwargs: Any) -> SmtpFake:
        fake = start_smtp(**kwargs)
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def smtp(smtp_server: StartSmtp) -> SmtpFake:
    return smtp_server()


async def _send(
    run_action: RunAction, params: dict[str, Any], conn: Connection, *, timeout: float = 10.0
) -> dict[str, Any]:
    result = await run_action(
        "email.send", params, connection=conn.name, connections=[conn], timeout=timeout
    )
    return result.output


async def _failure(
    run_action: RunAction, params: dict[str, Any], conn: Connection, **kwargs: Any
) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        await _send(run_action, params, conn, **kwargs)
    detail = error_detail(info.value)
    assert SECRET not in json.dumps(detail)
    assert SECRET not in str(info.value)
    return info.value


async def test_sends_multipart_over_starttls_with_auth(
    smtp: SmtpFake, run_action: RunAction
) -> None:
    out = await _send(
        run_action,
        {
            "to": ["Ann Lee <ann@example.com>"],
            "cc": ["bob@example.com"],
            "bcc": ["audit@example.com"],
            "subject": "Deploy 1.2.3 finished ✓",
            "text": "All green.\n",
            "html": "<p>All <b>green</b>.</p>\n",
            "reply_to": "noc@example.com",
            "headers": {"X-Switchyard-Run": "r1", "In-Reply-To": "<abc@example.com>"},
        },
        smtp.connection(),
    )
    assert out["accepted"] == ["ann@example.com", "bob@example.com", "audit@example.com"]
    assert out["refused"] == {}
    assert re.fullmatch(r"<[^<>@\s]+@example\.com>", out["message_id"])

    [got] = smtp.received
    assert got.tls  # upgraded with STARTTLS before AUTH and DATA
    assert got.login == USERNAME.encode()
    assert got.mail_from == "switchyard@example.com"
    assert got.rcpt_tos == ["ann@example.com", "bob@example.com", "audit@example.com"]
    msg = got.message
    assert msg["From"] == "Switchyard <switchyard@example.com>"
    assert msg["To"] == "Ann Lee <ann@example.com>"
    assert msg["Cc"] == "bob@example.com"
    assert msg["Bcc"] is None
    assert "audit@example.com" not in got.data.decode()
    assert msg["Reply-To"] == "noc@example.com"
    assert msg["Subject"] == "Deploy 1.2.3 finished ✓"
    assert msg["Message-ID"] == out["message_id"]
    assert msg["Date"]
    assert msg["X-Switchyard-Run"] == "r1"
    assert msg["In-Reply-To"] == "<abc@example.com>"
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content() == "All green.\n"
    assert parts[1].get_content() == "<p>All <b>green</b>.</p>\n"


@pytest.mark.parametrize(
    ("body", "ctype", "content"),
    [
        ({"text": "plain only"}, "text/plain", "plain only\n"),
        ({"html": "<i>html only</i>"}, "text/html", "<i>html only</i>\n"),
    ],
)
async def test_single_part_bodies(
    smtp: SmtpFake, run_action: RunAction, body: dict, ctype: str, content: str
) -> None:
    await _send(run_action, {"to": "ann@example.com", "subject": "s", **body}, smtp.connection())
    [got] = smtp.received
    assert got.message.get_content_type() == ctype
    assert got.message.get_content() == content


async def test_from_address_parameter_wins(smtp: SmtpFake, run_action: RunAction) -> None:
    await _send(
        run_action,
        {"to": ["ann@example.com"], "text": "x", "from_address": "Alerts <alerts@example.org>"},
        smtp.connection(),
    )
    [got] = smtp.received
    assert got.mail_from == "alerts@example.org"
    assert got.message["From"] == "Alerts <alerts@example.org>"


async def test_wrong_password_is_permission_denied(smtp: SmtpFake, run_action: RunAction) -> None:
    conn = smtp.connection()
    conn.secrets["password"] = "not-the-password"
    exc = await _failure(run_action, {"to": ["ann@example.com"], "text": "x"}, conn)
    assert exc.type == errors.PERMISSION_DENIED
    assert exc.non_retryable
    assert error_detail(exc)["details"]["smtp_code"] == 535
    assert smtp.auth_attempts  # it did try, over TLS
    assert smtp.received == []


async def test_server_without_starttls_is_refused_before_auth(
    smtp_server: StartSmtp, run_action: RunAction
) -> None:
    plain = smtp_server(mode="plain")
    exc = await _failure(run_action, {"to": ["ann@example.com"], "text": "x"}, plain.connection())
    assert exc.type == errors.PERMISSION_DENIED
    assert exc.non_retryable
    assert "STARTTLS" in str(exc)
    assert plain.auth_attempts == []
    assert plain.received == []
    # Without credentials too: `starttls: true` means the message itself needs TLS.
    conn = plain.connection()
    conn.secrets.clear()
    exc = await _failure(run_action, {"to": ["ann@example.com"], "text": "x"}, conn)
    assert exc.type == errors.PERMISSION_DENIED
    assert plain.received == []


async def test_plain_relay_without_credentials(
    smtp_server: StartSmtp, run_action: RunAction
) -> None:
    plain = smtp_server(mode="plain")
    conn = plain.connection(starttls=False)
    conn.secrets.clear()
    out = await _send(run_action, {"to": ["ann@example.com"], "text": "x"}, conn)
    assert out["accepted"] == ["ann@example.com"]
    [got] = plain.received
    assert not got.tls
    assert got.login is None


async def test_credentials_are_never_sent_in_plain_text(
    smtp_server: StartSmtp, run_action: RunAction
) -> None:
    plain = smtp_server(mode="plain")
    exc = await _failure(
        run_action, {"to": ["ann@example.com"], "text": "x"}, plain.connection(starttls=False)
    )
    assert exc.type == errors.PERMISSION_DENIED
    assert "unencrypted" in str(exc)
    assert plain.auth_attempts == []
    assert plain.received == []


async def test_implicit_tls(smtp_server: StartSmtp, run_action: RunAction) -> None:
    tls = smtp_server(mode="implicit")
    out = await _send(
        run_action, {"to": ["ann@example.com"], "text": "x"}, tls.connection(ssl=True)
    )
    assert out["accepted"] == ["ann@example.com"]
    [got] = tls.received
    assert got.login == USERNAME.encode()


async def test_untrusted_certificate_fails_before_auth(
    smtp: SmtpFake, run_action: RunAction
) -> None:
    conn = smtp.connection(ca_cert=None)
    exc = await _failure(run_action, {"to": ["ann@example.com"], "text": "x"}, conn)
    assert exc.type == errors.ACTION_ERROR
    assert "TLS" in str(exc)
    assert not exc.non_retryable
    assert smtp.auth_attempts == []
    assert smtp.received == []


async def test_refused_recipient_among_accepted_ones(smtp: SmtpFake, run_action: RunAction) -> None:
    smtp.rcpt_replies["nobody@example.com"] = "550 5.1.1 <nobody@example.com>: mailbox unavailable"
    out = await _send(
        run_action,
        {"to": ["ann@example.com", "nobody@example.com"], "text": "x"},
        smtp.connection(),
    )
    assert out["accepted"] == ["ann@example.com"]
    assert out["refused"] == {
        "nobody@example.com": {
            "code": 550,
            "message": "5.1.1 <nobody@example.com>: mailbox unavailable",
        }
    }
    [got] = smtp.received
    assert got.rcpt_tos == ["ann@example.com"]


async def test_every_recipient_refused_permanently_is_not_retried(
    smtp: SmtpFake, run_action: RunAction
) -> None:
    smtp.rcpt_replies["nobody@example.com"] = "550 5.1.1 mailbox unavailable"
    exc = await _failure(run_action, {"to": ["nobody@example.com"], "text": "x"}, smtp.connection())
    assert exc.type == errors.ACTION_ERROR
    assert exc.non_retryable
    details = error_detail(exc)["details"]
    assert details["refused"] == {
        "nobody@example.com": {"code": 550, "message": "5.1.1 mailbox unavailable"}
    }
    assert smtp.received == []


async def test_every_recipient_refused_temporarily_is_retried(
    smtp: SmtpFake, run_action: RunAction
) -> None:
    smtp.rcpt_replies["busy@example.com"] = "451 4.3.0 try again later"
    exc = await _failure(run_action, {"to": ["busy@example.com"], "text": "x"}, smtp.connection())
    assert exc.type == errors.ACTION_ERROR
    assert not exc.non_retryable


async def test_slow_server_is_a_timeout(smtp: SmtpFake, run_action: RunAction) -> None:
    smtp.data_delay = 4.0
    exc = await _failure(
        run_action, {"to": ["ann@example.com"], "text": "x"}, smtp.connection(), timeout=2.0
    )
    assert exc.type == errors.TIMEOUT
    assert not exc.non_retryable


async def test_connection_refused_is_retryable(run_action: RunAction) -> None:
    conn = Connection(
        "mail",
        "smtp",
        fields={
            "host": "127.0.0.1",
            "port": free_port(),
            "starttls": False,
            "from_address": "a@example.com",
        },
    )
    exc = await _failure(run_action, {"to": ["ann@example.com"], "text": "x"}, conn)
    assert exc.type == errors.ACTION_ERROR
    assert not exc.non_retryable


@pytest.mark.parametrize("host", ["169.254.169.254", "metadata.google.internal", "[fe80::1]"])
async def test_metadata_hosts_are_refused(run_action: RunAction, host: str) -> None:
    conn = Connection(
        "mail",
        "smtp",
        fields={"host": host, "from_address": "a@example.com"},
        secrets={"username": "u", "password": SECRET},
    )
    exc = await _failure(run_action, {"to": ["ann@example.com"], "text": "x"}, conn)
    assert exc.type == errors.PERMISSION_DENIED
    assert exc.non_retryable


@pytest.mark.parametrize(
    "params",
    [
        {"to": [], "text": "x"},
        {"to": ["not an address"], "text": "x"},
        {"to": ["a@example.com, b@example.com"], "text": "x"},
        {"to": ["a@example.com"], "cc": ["@example.com"], "text": "x"},
        {"to": ["a@example.com\r\nBcc: evil@example.com"], "text": "x"},
        {"to": ["a@example.com"], "subject": "hi\r\nBcc: evil@example.com", "text": "x"},
        {"to": ["a@example.com"], "headers": {"Bcc": "evil@example.com"}, "text": "x"},
        {"to": ["a@example.com"], "headers": {"X-A": "1\nBcc: evil@example.com"}, "text": "x"},
        {"to": ["a@example.com"], "headers": {"Bad Name": "1"}, "text": "x"},
        {"to": ["a@example.com"], "subject": "no body"},
        {"to": ["a@example.com"], "text": "x", "from_address": "nobody"},
    ],
)
async def test_bad_parameters(smtp: SmtpFake, run_action: RunAction, params: dict) -> None:
    exc = await _failure(run_action, params, smtp.connection())
    assert exc.type == errors.VALIDATION_ERROR
    assert smtp.received == []


@pytest.mark.parametrize(
    ("fields", "secrets", "needle"),
    [
        ({"from_address": None}, None, "sender"),
        ({"from_address": "not-an-address"}, None, "from_address"),
        ({"host": ""}, None, "host"),
        ({"port": "smtp"}, None, "port"),
        ({"ca_cert": "not a PEM"}, None, "ca_cert"),
        ({}, {"username": USERNAME}, "password"),
    ],
)
async def test_bad_connection(
    smtp: SmtpFake,
    run_action: RunAction,
    fields: dict[str, Any],
    secrets: dict[str, str] | None,
    needle: str,
) -> None:
    conn = smtp.connection(**fields)
    if secrets is not None:
        conn.secrets.clear()
        conn.secrets.update(secrets)
    exc = await _failure(run_action, {"to": ["ann@example.com"], "text": "x"}, conn)
    assert exc.type == errors.VALIDATION_ERROR
    assert needle in str(exc)
    assert smtp.received == []


def test_declaration() -> None:
    spec = get_action("email.send")
    assert spec.options_class({}) == WRITE_ONCE
    assert spec.connection_type == "smtp"
    assert {r.type for r in spec.errors} == {
        errors.PERMISSION_DENIED,
        errors.ACTION_ERROR,
        errors.TIMEOUT,
    }
