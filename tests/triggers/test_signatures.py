"""Webhook signatures: GitHub's X-Hub-Signature-256 and X-Switchyard-Signature."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from switchyard.triggers.signatures import SignatureError, sign_switchyard, verify

BODY = b'{"action":"opened","issue":{"number":7}}'
SECRET = "whsec-4c1f"


def github_header(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_github_signature() -> None:
    headers = {"X-Hub-Signature-256": github_header(SECRET, BODY)}
    assert verify(headers, BODY, [SECRET]) == "github"
    with pytest.raises(SignatureError, match="does not match"):
        verify(headers, BODY + b" ", [SECRET])
    with pytest.raises(SignatureError, match="does not match"):
        verify(headers, BODY, ["other"])


def test_switchyard_signature_and_replay_window() -> None:
    now = 1_800_000_000
    headers = {"x-switchyard-signature": sign_switchyard(SECRET, BODY, now)}
    assert verify(headers, BODY, [SECRET], now=now + 299) == "switchyard"
    with pytest.raises(SignatureError, match="more than 300 s"):
        verify(headers, BODY, [SECRET], now=now + 301)
    with pytest.raises(SignatureError, match="more than 300 s"):
        verify(headers, BODY, [SECRET], now=now - 301)
    with pytest.raises(SignatureError, match="does not match"):
        verify(headers, b"{}", [SECRET], now=now)


def test_rotation_accepts_either_secret() -> None:
    headers = {"X-Hub-Signature-256": github_header("old", BODY)}
    assert verify(headers, BODY, ["new", "old"]) == "github"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": "sha1=abc"},
        {"X-Hub-Signature-256": "sha256="},
        {"X-Switchyard-Signature": "v1=abc"},
        {"X-Switchyard-Signature": "t=abc,v1=def"},
        {"X-Switchyard-Signature": "garbage"},
    ],
)
def test_malformed_or_missing_signatures(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        verify(headers, BODY, [SECRET])


def test_no_secret_configured() -> None:
    with pytest.raises(SignatureError, match="no secret"):
        verify({"X-Hub-Signature-256": github_header(SECRET, BODY)}, BODY, [""])
