"""Authentication of an `http` connection: headers, OAuth2 tokens, mTLS context."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import ssl
import tempfile
import time
from typing import Any

import httpx

from switchyard import errors
from switchyard.actions.sdk import ActionContext
from switchyard.errors import StepFailure

AUTH_MODES = ("none", "bearer", "basic", "api_key", "mtls", "oauth2")
#: Tokens without `expires_in` are kept this long (seconds).
DEFAULT_TOKEN_LIFETIME = 300.0
#: A cached token is renewed this long (seconds) before it expires.
TOKEN_MARGIN = 30.0

_TokenKey = tuple[str, str, str, str, str]
_tokens: dict[_TokenKey, tuple[str, float]] = {}
_locks: dict[_TokenKey, asyncio.Lock] = {}


def auth_mode(fields: dict[str, Any]) -> str:
    mode = str(fields.get("auth") or "none").lower()
    if mode not in AUTH_MODES:
        raise StepFailure(
            errors.VALIDATION_ERROR,
            f"connection auth {mode!r} is not one of {', '.join(AUTH_MODES)}",
            retryable=False,
        )
    return mode


def _secret(secrets: dict[str, Any], name: str, mode: str) -> str:
    value = secrets.get(name)
    if not value:
        raise StepFailure(
            errors.VALIDATION_ERROR,
            f"connection auth {mode!r} needs the secret {name!r}",
            retryable=False,
        )
    return str(value)


def static_auth_headers(
    ctx: ActionContext, fields: dict[str, Any], secrets: dict[str, Any]
) -> dict[str, str]:
    """Headers for bearer, basic and api_key modes (empty for the others)."""
    mode = auth_mode(fields)
    if mode == "bearer":
        return {"Authorization": f"Bearer {_secret(secrets, 'token', mode)}"}
    if mode == "basic":
        user = _secret(secrets, "username", mode)
        password = str(secrets.get("password") or "")
        encoded = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        ctx.add_secret(encoded)  # the header is as secret as the password
        return {"Authorization": f"Basic {encoded}"}
    if mode == "api_key":
        header = str(fields.get("api_key_header") or "X-API-Key")
        return {header: _secret(secrets, "api_key", mode)}
    return {}


def ssl_context(fields: dict[str, Any], secrets: dict[str, Any]) -> ssl.SSLContext | None:
    """A TLS context with the client certificate (mtls) and/or a private CA.

    None when the defaults suffice. `ssl` can only load a certificate chain
    from files, so the PEMs are written to private (0600) temporary files that
    are removed as soon as they are loaded.
    """
    mode = auth_mode(fields)
    ca = fields.get("ca_cert")
    if mode != "mtls" and not ca:
        return None
    ctx = httpx.create_ssl_context(trust_env=False)
    if ca:
        ctx.load_verify_locations(cadata=str(ca))
    if mode == "mtls":
        cert = _secret(secrets, "client_cert", mode)
        key = _secret(secrets, "client_key", mode)
        with tempfile.TemporaryDirectory(prefix="switchyard-mtls-") as tmp:
            os.chmod(tmp, 0o700)
            cert_path = os.path.join(tmp, "cert.pem")
            key_path = os.path.join(tmp, "key.pem")
            for path, text in ((cert_path, cert), (key_path, key)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(text)
            try:
                ctx.load_cert_chain(cert_path, key_path)
            except ssl.SSLError as exc:
                raise StepFailure(
                    errors.VALIDATION_ERROR,
                    f"the connection's client_cert/client_key cannot be loaded: {exc.reason}",
                    retryable=False,
                ) from None
    return ctx


def _token_key(fields: dict[str, Any], secrets: dict[str, Any]) -> _TokenKey:
    secret = str(secrets.get("client_secret") or "")
    return (
        str(fields.get("token_url") or ""),
        str(secrets.get("client_id") or ""),
        hashlib.sha256(secret.encode()).hexdigest(),
        _scopes(fields),
        str(fields.get("oauth2_client_auth") or "basic"),
    )


def _scopes(fields: dict[str, Any]) -> str:
    scopes = fields.get("scopes") or []
    if isinstance(scopes, str):
        return " ".join(scopes.split())
    return " ".join(str(s) for s in scopes)


def forget_token(fields: dict[str, Any], secrets: dict[str, Any]) -> None:
    """Drop the cached token (the API refused it)."""
    _tokens.pop(_token_key(fields, secrets), None)


async def oauth2_token(
    ctx: ActionContext,
    client: httpx.AsyncClient,
    fields: dict[str, Any],
    secrets: dict[str, Any],
) -> str:
    """An access token from the client-credentials grant, cached per process.

    The cache key includes a hash of the client secret, so rotating the secret
    fetches a new token. Concurrent attempts share one token request.
    """
    token_url = fields.get("token_url")
    if not token_url:
        raise StepFailure(
            errors.VALIDATION_ERROR,
            "connection auth 'oauth2' needs the field 'token_url'",
            retryable=False,
        )
    client_id = _secret(secrets, "client_id", "oauth2")
    client_secret = _secret(secrets, "client_secret", "oauth2")
    key = _token_key(fields, secrets)
    lock = _locks.setdefault(key, asyncio.Lock())
    async with lock:
        cached = _tokens.get(key)
        if cached is not None and cached[1] > time.monotonic() + TOKEN_MARGIN:
            ctx.add_secret(cached[0])
            return cached[0]
        form = {"grant_type": "client_credentials"}
        if _scopes(fields):
            form["scope"] = _scopes(fields)
        auth: tuple[str, str] | None = (client_id, client_secret)
        if fields.get("oauth2_client_auth") == "body":
            form.update(client_id=client_id, client_secret=client_secret)
            auth = None
        response = await client.post(
            str(token_url),
            data=form,
            auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
            headers={"Accept": "application/json"},
        )
        status = response.status_code
        if status >= 500 or status in (408, 429):
            raise StepFailure(
                errors.HTTP_SERVER_ERROR,
                f"OAuth2 token endpoint answered {status}",
                {"status": status},
                retryable=True,
            )
        if status >= 400:
            raise StepFailure(
                errors.PERMISSION_DENIED,
                f"OAuth2 token endpoint refused the client credentials ({status})",
                {"status": status, "body": response.text[:500]},
                retryable=False,
            )
        try:
            data = response.json()
            token = str(data["access_token"])
            lifetime = float(data.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
        except (ValueError, KeyError, TypeError):
            raise StepFailure(
                errors.ACTION_ERROR,
                "OAuth2 token endpoint returned no access_token",
                {"status": status},
            ) from None
        token_type = str(data.get("token_type") or "bearer").lower()
        if token_type != "bearer":
            raise StepFailure(
                errors.ACTION_ERROR,
                f"OAuth2 token type {token_type!r} is not supported (only bearer)",
                retryable=False,
            )
        _tokens[key] = (token, time.monotonic() + lifetime)
        ctx.add_secret(token)
        return token


def clear_token_cache() -> None:
    """Forget every cached token (tests)."""
    _tokens.clear()
    _locks.clear()
