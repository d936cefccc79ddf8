"""`switchyard.connections.crypto`: AES-256-GCM envelopes, keyrings, rotation."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from switchyard.connections.crypto import (
    ENV_KID,
    ENV_MASTER_KEY,
    ENV_PREVIOUS_MASTER_KEYS,
    CryptoError,
    Keyring,
    MasterKeyNotFound,
    generate_master_key,
)

AAD = b"conn-a|http"


def _flip(b64: str, index: int = 0) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_round_trip_and_envelope_shape(tmp_path: Path) -> None:
    ring = Keyring.load(tmp_path)
    env = ring.encrypt(b"hunter2", AAD)
    assert set(env) == {"v", "alg", "kid", "key_nonce", "wrapped_key", "nonce", "ciphertext"}
    assert env["alg"] == "AES-256-GCM"
    assert env["kid"] == ring.current_kid
    assert b"hunter2" not in repr(env).encode()
    assert ring.decrypt(env, AAD) == b"hunter2"
    # A fresh data key and nonce per record: same plaintext, different envelopes.
    other = ring.encrypt(b"hunter2", AAD)
    assert other["ciphertext"] != env["ciphertext"]
    assert other["wrapped_key"] != env["wrapped_key"]


def test_load_creates_nothing_until_first_encryption(tmp_path: Path) -> None:
    ring = Keyring.load(tmp_path)
    assert ring.current_kid is None and ring.kids == []
    assert not (tmp_path / "keys").exists()
    ring.encrypt(b"x", AAD)
    assert len(ring.kids) == 1


def test_key_files_are_private(tmp_path: Path) -> None:
    ring = Keyring.load(tmp_path)
    ring.encrypt(b"x", AAD)
    keys = tmp_path / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    key_file = keys / f"{ring.current_kid}.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(base64.b64decode(key_file.read_text().strip())) == 32
    assert (keys / "CURRENT").read_text().strip() == ring.current_kid
    assert "Keyring(" in repr(ring) and key_file.read_text().strip() not in repr(ring)


def test_a_second_load_uses_the_same_key(tmp_path: Path) -> None:
    env = Keyring.load(tmp_path).encrypt(b"x", AAD)
    assert Keyring.load(tmp_path).decrypt(env, AAD) == b"x"


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "wrapped_key", "key_nonce"])
def test_tampering_any_part_fails(tmp_path: Path, field: str) -> None:
    ring = Keyring.load(tmp_path)
    env = ring.encrypt(b"secret", AAD)
    bad = {**env, field: _flip(env[field])}
    with pytest.raises(CryptoError):
        ring.decrypt(bad, AAD)


def test_other_aad_fails(tmp_path: Path) -> None:
    ring = Keyring.load(tmp_path)
    env = ring.encrypt(b"secret", AAD)
    with pytest.raises(CryptoError, match="not this record"):
        ring.decrypt(env, b"conn-b|http")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: {**e, "v": 2},
        lambda e: {**e, "alg": "ROT13"},
        lambda e: {k: v for k, v in e.items() if k != "ciphertext"},
        lambda e: {**e, "nonce": "***not base64***"},
        lambda e: {**e, "nonce": base64.b64encode(b"short").decode()},
        lambda e: {**e, "kid": "../../etc/passwd"},
        lambda e: {**e, "kid": 7},
    ],
)
def test_malformed_envelopes_are_crypto_errors(tmp_path: Path, mutate) -> None:
    ring = Keyring.load(tmp_path)
    env = ring.encrypt(b"secret", AAD)
    with pytest.raises(CryptoError):
        ring.decrypt(mutate(env), AAD)


def test_unknown_kid_is_master_key_not_found(tmp_path: Path) -> None:
    ring = Keyring.load(tmp_path)
    env = ring.encrypt(b"secret", AAD)
    with pytest.raises(MasterKeyNotFound, match="not available") as info:
        Keyring.load(tmp_path / "elsewhere").decrypt(env, AAD)
    assert info.value.kid == env["kid"]


def test_a_different_key_with_the_same_kid_fails(tmp_path: Path) -> None:
    ring = Keyring({"k1": os.urandom(32)}, "k1")
    env = ring.encrypt(b"secret", AAD)
    with pytest.raises(CryptoError, match="wrong key"):
        Keyring({"k1": os.urandom(32)}, "k1").decrypt(env, AAD)


def test_rotate_then_rewrap(tmp_path: Path) -> None:
    ring = Keyring.load(tmp_path)
    old = ring.encrypt(b"one", AAD)
    k1 = old["kid"]
    k2 = ring.rotate()
    assert k2 != k1 and ring.current_kid == k2
    assert Keyring.load(tmp_path).current_kid == k2
    new = ring.encrypt(b"two", AAD)
    assert new["kid"] == k2
    assert ring.decrypt(old, AAD) == b"one"  # old records still decrypt
    moved = ring.rewrap(old, AAD)
    assert moved["kid"] == k2
    assert moved["ciphertext"] == old["ciphertext"]  # only the data key is re-wrapped
    (tmp_path / "keys" / f"{k1}.key").unlink()
    fresh = Keyring.load(tmp_path)
    assert fresh.kids == [k2]
    assert fresh.decrypt(moved, AAD) == b"one"
    with pytest.raises(MasterKeyNotFound):
        fresh.decrypt(old, AAD)


def test_rewrap_checks_the_aad(tmp_path: Path) -> None:
    ring = Keyring.load(tmp_path)
    env = ring.encrypt(b"one", AAD)
    ring.rotate()
    with pytest.raises(CryptoError):
        ring.rewrap(env, b"other")


def test_env_master_key(tmp_path: Path) -> None:
    key = generate_master_key()
    ring = Keyring.load(tmp_path, {ENV_MASTER_KEY: key})
    assert ring.current_kid == ENV_KID and ring.source == "env"
    env = ring.encrypt(b"x", AAD)
    assert env["kid"] == "env"
    assert not (tmp_path / "keys").exists()  # no key file with an env key
    assert Keyring.load(tmp_path, {ENV_MASTER_KEY: key}).decrypt(env, AAD) == b"x"
    with pytest.raises(MasterKeyNotFound, match=ENV_MASTER_KEY):
        Keyring.load(tmp_path, {}).decrypt(env, AAD)
    with pytest.raises(CryptoError):
        Keyring.load(tmp_path, {ENV_MASTER_KEY: generate_master_key()}).decrypt(env, AAD)
    with pytest.raises(CryptoError, match="cannot be rotated"):
        ring.rotate()


def test_env_key_reads_file_keys_and_rewraps_onto_env(tmp_path: Path) -> None:
    file_env = Keyring.load(tmp_path, {}).encrypt(b"x", AAD)
    ring = Keyring.load(tmp_path, {ENV_MASTER_KEY: generate_master_key()})
    assert ring.decrypt(file_env, AAD) == b"x"
    assert ring.rewrap(file_env, AAD)["kid"] == ENV_KID


@pytest.mark.parametrize(
    "value",
    ["not base64!", base64.b64encode(b"short").decode(), base64.b64encode(b"x" * 64).decode()],
)
def test_bad_env_master_key_is_a_clear_error(tmp_path: Path, value: str) -> None:
    with pytest.raises(CryptoError, match=ENV_MASTER_KEY):
        Keyring.load(tmp_path, {ENV_MASTER_KEY: value})


def test_bad_key_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "k1.key").write_text("garbage\n")
    with pytest.raises(CryptoError, match=r"k1\.key"):
        Keyring.load(tmp_path)


def test_env_key_with_a_kid_and_previous_keys(tmp_path: Path) -> None:
    old, new = generate_master_key(), generate_master_key()
    ring = Keyring.load(tmp_path, {ENV_MASTER_KEY: old})
    env = ring.encrypt(b"x", AAD)
    assert env["kid"] == ENV_KID
    # Rotate a deployment key: the new one current, the old one kept for decryption.
    rotated = Keyring.load(
        tmp_path, {ENV_MASTER_KEY: f"2025-06:{new}", ENV_PREVIOUS_MASTER_KEYS: f" {old} ,"}
    )
    assert rotated.current_kid == "2025-06" and rotated.kids == ["2025-06", ENV_KID]
    assert rotated.decrypt(env, AAD) == b"x"
    moved = rotated.rewrap(env, AAD)
    assert moved["kid"] == "2025-06"
    assert Keyring.load(tmp_path, {ENV_MASTER_KEY: f"2025-06:{new}"}).decrypt(moved, AAD) == b"x"


@pytest.mark.parametrize(
    "environ",
    [
        {ENV_MASTER_KEY: "bad kid!:" + generate_master_key()},
        {ENV_MASTER_KEY: generate_master_key(), ENV_PREVIOUS_MASTER_KEYS: generate_master_key()},
    ],
)
def test_bad_env_key_ids(tmp_path: Path, environ: dict[str, str]) -> None:
    # An invalid kid, or one kid ("env") naming two different keys.
    with pytest.raises(CryptoError, match="key id"):
        Keyring.load(tmp_path, environ)
