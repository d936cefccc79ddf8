"""The email integration (declarations; the implementation is imported on first call).

`email.send` submits one message to an SMTP server (the `smtp` connection
type) with the standard library's `smtplib`, run in a worker thread.
"""

from __future__ import annotations

import re
from email.utils import getaddresses
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from switchyard.actions.sdk import ActionContext, ErrorRule, action
from switchyard.connections.types import ConnectionType, FieldSpec, register_connection_type
from switchyard.engine.options import WRITE_ONCE

__all__ = [
    "SMTP",
    "SMTP_ERRORS",
    "RefusedRecipient",
    "SendInput",
    "SendOutput",
    "check_address",
]

GROUP = "Email"

SMTP = register_connection_type(
    ConnectionType(
        name="smtp",
        description="An SMTP server that accepts mail for delivery (submission).",
        fields=(
            FieldSpec("host", "SMTP server host name or address", required=True),
            FieldSpec(
                "port",
                "SMTP port; when absent 587 (submission), or 465 with `ssl: true`",
                type="integer",
                default=587,
            ),
            FieldSpec("from_address", "default sender (`Ops <ops@example.com>`)"),
            FieldSpec(
                "starttls",
                "require STARTTLS before anything else is sent (refuse servers without it)",
                type="boolean",
                default=True,
            ),
            FieldSpec(
                "ssl", "implicit TLS from the first byte (port 465)", type="boolean", default=False
            ),
            FieldSpec("ca_cert", "PEM CA bundle trusted for this server (private PKI)"),
            FieldSpec(
                "allow_private_metadata",
                "allow link-local and cloud metadata addresses",
                type="boolean",
                default=False,
            ),
            FieldSpec(
                "helo_name",
                "name sent in EHLO (default: this machine's host name)",
            ),
            FieldSpec("username", "SMTP AUTH user", secret=True),
            FieldSpec("password", "SMTP AUTH password", secret=True),
        ),
    )
)

#: How SMTP failures map (the implementation applies it; see docs in `email.send`).
SMTP_ERRORS: tuple[ErrorRule, ...] = (
    ErrorRule(
        "SMTP 530, 534, 535, 538 (authentication refused or required)", "PermissionDenied", False
    ),
    ErrorRule(
        "STARTTLS required but not offered; credentials without TLS; AUTH not offered",
        "PermissionDenied",
        False,
    ),
    ErrorRule("link-local / metadata address", "PermissionDenied", False),
    ErrorRule("SMTP 4xx reply (e.g. 421, 450, 451, 452)", "ActionError", True),
    ErrorRule(
        "SMTP 5xx reply (e.g. 550 mailbox unavailable, 552, 554; all recipients refused)",
        "ActionError",
        False,
    ),
    ErrorRule("connection refused/reset/closed, DNS or TLS failure", "ActionError", True),
    ErrorRule("timeout", "Timeout", True),
)

# A deliberately plain check of an addr-spec: something@domain, no spaces,
# brackets, quotes or separators. Exotic quoted local parts are refused.
_ADDR_SPEC = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+$")
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 field name: printable, no colon
#: Headers that the action sets from its own parameters.
_RESERVED_HEADERS = frozenset(
    {
        "from",
        "sender",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)


def check_address(value: str) -> str:
    """One address (`a@b.org` or `Name <a@b.org>`); ValueError when invalid."""
    if not isinstance(value, str):
        raise ValueError("an email address is text")
    if "\r" in value or "\n" in value:
        raise ValueError("an email address cannot contain line breaks")
    parsed = getaddresses([value])
    if len(parsed) != 1 or not _ADDR_SPEC.match(parsed[0][1]):
        raise ValueError(f"{value!r} is not an email address (one `a@b.org` or `Name <a@b.org>`)")
    return value.strip()


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Address = Annotated[str, Field(description="`a@b.org` or `Name <a@b.org>`")]
Addresses = Annotated[list[Address], BeforeValidator(_one_or_many)]


class SendInput(BaseModel):
    """Parameters of `email.send`."""

    model_config = ConfigDict(extra="forbid", title="email.send input")

    to: Addresses = Field(min_length=1, description="recipients (a list, or one address)")
    cc: Addresses = Field(default_factory=list, description="copy recipients")
    bcc: Addresses = Field(
        default_factory=list, description="blind-copy recipients (not shown in the headers)"
    )
    subject: str = Field(default="", description="subject line")
    text: str | None = Field(default=None, description="plain-text body")
    html: str | None = Field(
        default=None, description="HTML body (with `text`: a multipart/alternative message)"
    )
    from_address: Address | None = Field(
        default=None, description="sender (default: the connection's `from_address`)"
    )
    reply_to: Addresses = Field(default_factory=list, description="Reply-To addresses")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="extra headers (`X-...`, `In-Reply-To`, `References`, ...)",
    )

    @field_validator("to", "cc", "bcc", "reply_to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [check_address(v) for v in value]

    @field_validator("from_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else check_address(value)

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("the subject cannot contain line breaks")
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a header name")
            if name.lower() in _RESERVED_HEADERS:
                raise ValueError(f"{name!r} is set by the action's own parameters")
            if "\r" in text or "\n" in text:
                raise ValueError(f"header {name!r} cannot contain line breaks")
        return value

    @model_validator(mode="after")
    def _body(self) -> SendInput:
        if self.text is None and self.html is None:
            raise ValueError("give `text`, `html` or both")
        return self


class RefusedRecipient(BaseModel):
    model_config = ConfigDict(title="email refused recipient")

    code: int = Field(description="the server's SMTP reply code")
    message: str = Field(description="the server's reply text")


class SendOutput(BaseModel):
    """What the server accepted."""

    model_config = ConfigDict(title="email.send output")

    accepted: list[str] = Field(description="envelope recipients the server accepted")
    refused: dict[str, RefusedRecipient] = Field(
        description="recipients the server refused (others still got the message)"
    )
    message_id: str = Field(description="the Message-ID header of the sent message")


@action(
    "email.send",
    input=SendInput,
    output=SendOutput,
    # Mail cannot be unsent, and SMTP has no idempotency key: a retry after a
    # lost answer would deliver a second copy.
    options=WRITE_ONCE,
    connection_type="smtp",
    title="Send an email",
    group=GROUP,
    errors=SMTP_ERRORS,
    description=(
        "Sends one email through the connection's SMTP server (standard library "
        "`smtplib`): `text` and/or `html` (both: multipart/alternative), `to`/`cc`/"
        "`bcc` (bcc only in the envelope), `reply_to`, extra `headers`.\n\n"
        "Security: with `starttls` (default) the session is upgraded with STARTTLS "
        "before AUTH or any mail data is sent; a server that "
        "does not offer it is refused (`PermissionDenied`), as is AUTH over a plain "
        "connection. `ssl` uses implicit TLS (port 465). `ca_cert` trusts a private "
        "CA. Link-local and cloud metadata addresses are refused unless "
        "`allow_private_metadata`.\n\n"
        "Errors: SMTP 530/534/535/538 are `PermissionDenied`; other 4xx replies and "
        "connection failures `ActionError` (retryable); 5xx replies (550 mailbox "
        "unavailable, all recipients refused, ...) `ActionError` not retried, with "
        "`details.smtp_code`; no answer in time: `Timeout`.\n\n"
        "Output: `{accepted, refused: {address: {code, message}}, message_id}`."
    ),
    examples=(
        {
            "to": ["oncall@example.com"],
            "subject": "Deploy {{ Trigger.event.version }} finished",
            "text": "All green.",
        },
        {
            "to": ["Ops <ops@example.com>"],
            "cc": ["lead@example.com"],
            "bcc": ["audit@example.com"],
            "subject": "Incident report",
            "text": "See the HTML part.",
            "html": "<h1>Incident report</h1><p>Resolved.</p>",
            "reply_to": "noc@example.com",
            "headers": {"X-Switchyard-Run": "{{ Run.id }}"},
        },
    ),
)
async def send(ctx: ActionContext, params: SendInput) -> SendOutput:
    from switchyard.actions.email._impl import send_mail

    return await send_mail(ctx, params)
