"""Connection types: which fields and secrets each type declares.

Integrations declare their own types the same way (StackStorm-style
parameter declarations with `secret: true`). The store (a later issue) and
the CLI validate a connection against its type with `ConnectionType.check`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "CONNECTION_TYPES",
    "HTTP",
    "WEBHOOK_SECRET",
    "ConnectionType",
    "FieldSpec",
    "get_connection_type",
    "register_connection_type",
]

FieldType = Literal["string", "boolean", "integer", "object", "array"]


@dataclass(frozen=True)
class FieldSpec:
    """One declared field or secret of a connection type."""

    name: str
    description: str = ""
    secret: bool = False
    type: FieldType = "string"
    required: bool = False
    default: Any = None
    enum: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ConnectionType:
    """A connection type: its name and declared fields/secrets."""

    name: str
    description: str
    fields: tuple[FieldSpec, ...]

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields if not f.secret]

    @property
    def secret_names(self) -> list[str]:
        return [f.name for f in self.fields if f.secret]

    def check(self, fields: dict[str, Any], secrets: dict[str, Any]) -> list[str]:
        """Problems with a connection's fields and secrets (empty when fine)."""
        problems: list[str] = []
        plain = {f.name: f for f in self.fields if not f.secret}
        hidden = {f.name: f for f in self.fields if f.secret}
        for key in fields:
            if key in hidden:
                problems.append(f"{key!r} is a secret of type {self.name!r}, not a field")
            elif key not in plain:
                problems.append(f"unknown field {key!r} for connection type {self.name!r}")
        for key in secrets:
            if key not in hidden:
                problems.append(f"unknown secret {key!r} for connection type {self.name!r}")
        for spec in plain.values():
            value = fields.get(spec.name)
            if value is None:
                if spec.required:
                    problems.append(f"missing field {spec.name!r}")
                continue
            if spec.enum is not None and value not in spec.enum:
                problems.append(f"field {spec.name!r} must be one of {', '.join(spec.enum)}")
            expected = {
                "string": str,
                "boolean": bool,
                "integer": int,
                "object": dict,
                "array": list,
            }[spec.type]
            if not isinstance(value, expected) or (
                spec.type == "integer" and isinstance(value, bool)
            ):
                problems.append(f"field {spec.name!r} must be a {spec.type}")
        for spec in hidden.values():
            if spec.required and not secrets.get(spec.name):
                problems.append(f"missing secret {spec.name!r}")
        return problems


HTTP = ConnectionType(
    name="http",
    description="An HTTP API: base URL, default headers and authentication.",
    fields=(
        FieldSpec("base_url", "URL that relative `url`s are joined to"),
        FieldSpec("headers", "headers sent with every request", type="object"),
        FieldSpec(
            "auth",
            "authentication mode",
            default="none",
            enum=("none", "bearer", "basic", "api_key", "mtls", "oauth2"),
        ),
        FieldSpec("api_key_header", "header carrying the API key", default="X-API-Key"),
        FieldSpec("token_url", "OAuth2 token endpoint (client credentials)"),
        FieldSpec("scopes", "OAuth2 scopes (list, or space-separated text)", type="array"),
        FieldSpec(
            "allow_private_metadata",
            "allow link-local and cloud metadata addresses",
            type="boolean",
            default=False,
        ),
        # Extensions beyond the spec's list (docs/actions.md):
        FieldSpec("ca_cert", "PEM CA bundle trusted for this API (private PKI)"),
        FieldSpec(
            "oauth2_client_auth",
            "how the OAuth2 client authenticates: HTTP basic (default) or form body",
            default="basic",
            enum=("basic", "body"),
        ),
        FieldSpec("token", "bearer token", secret=True),
        FieldSpec("username", "basic-auth user", secret=True),
        FieldSpec("password", "basic-auth password", secret=True),
        FieldSpec("api_key", "API key", secret=True),
        FieldSpec("client_cert", "mTLS client certificate (PEM)", secret=True),
        FieldSpec("client_key", "mTLS client private key (PEM)", secret=True),
        FieldSpec("client_id", "OAuth2 client id", secret=True),
        FieldSpec("client_secret", "OAuth2 client secret", secret=True),
    ),
)

WEBHOOK_SECRET = ConnectionType(
    name="webhook_secret",
    description="The shared secret that signs a webhook trigger's requests.",
    fields=(
        FieldSpec("secret", "HMAC-SHA256 key", secret=True, required=True),
        # Rotation: set the new key as `secret` and keep the old one here until
        # every sender has switched; both verify meanwhile.
        FieldSpec("previous_secret", "the key being rotated out", secret=True),
    ),
)

CONNECTION_TYPES: dict[str, ConnectionType] = {t.name: t for t in (HTTP, WEBHOOK_SECRET)}


def register_connection_type(ctype: ConnectionType) -> ConnectionType:
    """Add an integration's connection type (a name can be registered once)."""
    existing = CONNECTION_TYPES.get(ctype.name)
    if existing is not None and existing != ctype:
        raise ValueError(f"connection type {ctype.name!r} is already registered")
    CONNECTION_TYPES[ctype.name] = ctype
    return ctype


def get_connection_type(name: str) -> ConnectionType:
    """The connection type called `name`; KeyError when unknown."""
    return CONNECTION_TYPES[name]
