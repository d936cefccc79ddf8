"""Webhook signatures (spec, "Triggers"): GitHub's and Switchyard's.

A request is accepted when it carries either

- `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` (GitHub), or
- `X-Switchyard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`
  with `t` within 5 minutes of now (replay window; Stripe's scheme).

Several secrets may be valid at once (rotation: the new one and the old
one until senders switch); comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

__all__ = ["REPLAY_WINDOW", "SignatureError", "sign_switchyard", "verify"]

REPLAY_WINDOW = 300.0


class SignatureError(ValueError):
    """Why a webhook request is refused (the API answers 401 with this message)."""


def _hmac(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def sign_switchyard(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The `X-Switchyard-Signature` value for `body` (what senders compute)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_hmac(secret, str(t).encode() + b'.' + body)}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Iterable[str],
    *,
    now: float | None = None,
) -> str:
    """Check the request's signature against any of `secrets`.

    Returns:
        Which scheme matched: `github` or `switchyard`.

    Raises:
        SignatureError: no signature, a malformed one, a stale timestamp, or
            no secret matches.
    """
    keys = [s for s in secrets if s]
    if not keys:
        raise SignatureError("the webhook's connection has no secret")
    github = _header(headers, "X-Hub-Signature-256")
    ours = _header(headers, "X-Switchyard-Signature")
    if github is None and ours is None:
        raise SignatureError(
            "missing signature: send X-Hub-Signature-256 or X-Switchyard-Signature"
        )
    if github is not None:
        scheme, _, digest = github.strip().partition("=")
        if scheme != "sha256" or not digest:
            raise SignatureError("X-Hub-Signature-256 must look like sha256=<hex>")
        if any(hmac.compare_digest(_hmac(k, body), digest.lower()) for k in keys):
            return "github"
        if ours is None:
            raise SignatureError("X-Hub-Signature-256 does not match the body")
    assert ours is not None
    parts = dict(p.strip().partition("=")[::2] for p in ours.split(",") if "=" in p)
    t, v1 = parts.get("t", ""), parts.get("v1", "")
    if not t.isdigit() or not v1:
        raise SignatureError("X-Switchyard-Signature must look like t=<unix seconds>,v1=<hex>")
    current = time.time() if now is None else now
    if abs(current - int(t)) > REPLAY_WINDOW:
        raise SignatureError(
            f"X-Switchyard-Signature timestamp is more than {int(REPLAY_WINDOW)} s from now"
        )
    signed = t.encode() + b"." + body
    if any(hmac.compare_digest(_hmac(k, signed), v1.lower()) for k in keys):
        return "switchyard"
    raise SignatureError("X-Switchyard-Signature does not match the body")
