"""Envelope encryption of connection secrets (DESIGN.md, "Security model").

Each record gets its own random 256-bit *data key*. The record's plaintext is
encrypted with the data key (AES-256-GCM); the data key is encrypted
("wrapped") with a *master key* (AES-256-GCM too), named by its key id
(`kid`). The envelope stores the kid, the wrapped data key and the
ciphertext, never a key in clear:

    {"v": 1, "alg": "AES-256-GCM", "kid": "...",
     "key_nonce": b64, "wrapped_key": b64, "nonce": b64, "ciphertext": b64}

Both encryptions authenticate the caller's *associated data* (`aad`: for a
connection, its name, type and fields), so a record moved to another name or
edited by hand fails to decrypt instead of yielding wrong data. The wrap also
authenticates the kid.

Master keys (the `Keyring`):

- `DATA_DIR/keys/<kid>.key`: base64 of 32 random bytes, mode 600, in a
  directory of mode 700; `DATA_DIR/keys/CURRENT` names the key new records
  use. The first key is generated when something is first encrypted.
- or `SWITCHYARD_MASTER_KEY` (base64 of 32 bytes, kid `env`; or
  `KID:BASE64`), which then is the current key. Older keys are read from
  `SWITCHYARD_PREVIOUS_MASTER_KEYS` (comma-separated, same forms) and from key
  files, if any, so older records decrypt (and can be re-wrapped under the
  env key).

`rotate()` adds a new key file and makes it current; records encrypted under
older keys still decrypt, and `rewrap()` re-encrypts a record's data key under
the current key without touching its ciphertext. Once every record is
re-wrapped, the old key files can be deleted.

`cryptography` is imported inside the functions that use it, so importing
this module (and `switchyard --help`) stays cheap.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "ALGORITHM",
    "ENV_KID",
    "ENV_MASTER_KEY",
    "ENV_PREVIOUS_MASTER_KEYS",
    "CryptoError",
    "Keyring",
    "MasterKeyNotFound",
    "generate_master_key",
]

ALGORITHM = "AES-256-GCM"
ENVELOPE_VERSION = 1
ENV_MASTER_KEY = "SWITCHYARD_MASTER_KEY"
"""The current master key: `BASE64` (kid `ENV_KID`) or `KID:BASE64`."""
ENV_PREVIOUS_MASTER_KEYS = "SWITCHYARD_PREVIOUS_MASTER_KEYS"
"""Comma-separated older master keys (same forms), read only to decrypt and re-wrap."""
ENV_KID = "env"
KEY_BYTES = 32
NONCE_BYTES = 12
CURRENT_FILE = "CURRENT"

_KID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_WRAP_DOMAIN = b"switchyard/connections/dek/v1\x00"
_DATA_DOMAIN = b"switchyard/connections/data/v1\x00"


class CryptoError(Exception):
    """An envelope cannot be decrypted (tampered, wrong key, malformed) or a key is unusable."""


class MasterKeyNotFound(CryptoError):
    """The envelope names a master key the keyring does not hold."""

    def __init__(self, kid: str, message: str) -> None:
        super().__init__(message)
        self.kid = kid


def generate_master_key() -> str:
    """A new random master key, base64-encoded (a value for `SWITCHYARD_MASTER_KEY`)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def _b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64d(value: Any, what: str, size: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise CryptoError(f"malformed envelope: {what} is missing or not text")
    try:
        data = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise CryptoError(f"malformed envelope: {what} is not base64") from None
    if size is not None and len(data) != size:
        raise CryptoError(f"malformed envelope: {what} must be {size} bytes, got {len(data)}")
    return data


def _decode_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise CryptoError(f"{source}: not a base64 master key") from None
    if len(key) != KEY_BYTES:
        raise CryptoError(f"{source}: a master key is {KEY_BYTES} bytes, got {len(key)}")
    return key


def _parse_env_key(value: str, source: str) -> tuple[str, bytes]:
    """`BASE64` (kid `env`) or `KID:BASE64` (base64 has no `:`)."""
    kid, sep, text = value.strip().rpartition(":")
    kid = kid.strip() if sep else ENV_KID
    if not _KID_RE.fullmatch(kid):
        raise CryptoError(f"{source}: invalid key id {kid!r} (letters, digits, '_', '.', '-')")
    return kid, _decode_key(text, source)


def write_private(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write `data` to `path` (mode 600) via a temporary file and a rename.

    With `exclusive`, the file is linked into place and `FileExistsError` is
    raised when `path` exists: it never replaces one.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if exclusive:
            os.link(tmp, path)  # fails if `path` exists: never clobber a key
            tmp.unlink()
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Keyring:
    """Master keys by kid, and which one encrypts new records.

    Build one with `Keyring.load(data_dir)`; construct it directly (in memory,
    `directory=None`) in tests.

    Args:
        keys: Master keys (32 bytes each) by kid.
        current: Kid of the key new envelopes use; None when there is no key
            yet (one is generated in `directory` on first encryption).
        directory: Where key files live (`DATA_DIR/keys`); None for a keyring
            that never touches the disk (it cannot `rotate`).
        source: `"file"` or `"env"`: where the current key comes from.
    """

    def __init__(
        self,
        keys: Mapping[str, bytes],
        current: str | None,
        *,
        directory: Path | None = None,
        source: str = "file",
    ) -> None:
        for kid, key in keys.items():
            if len(key) != KEY_BYTES:
                raise CryptoError(f"master key {kid!r} must be {KEY_BYTES} bytes")
        if current is not None and current not in keys:
            raise CryptoError(f"current master key {current!r} is not in the keyring")
        self._keys = dict(keys)
        self._current = current
        self.directory = directory
        self.source = source

    # -- loading ------------------------------------------------------------

    @classmethod
    def load(cls, data_dir: Path, environ: Mapping[str, str] | None = None) -> Keyring:
        """The keyring of a data directory (and `SWITCHYARD_MASTER_KEY`).

        Reads every `DATA_DIR/keys/<kid>.key`; creates nothing (the first key
        is generated by the first `encrypt`).

        Raises:
            CryptoError: `SWITCHYARD_MASTER_KEY` or a key file is not a 32-byte
                base64 key.
        """
        env = os.environ if environ is None else environ
        directory = Path(data_dir) / "keys"
        keys: dict[str, bytes] = {}
        if directory.is_dir():
            for path in sorted(directory.glob("*.key")):
                kid = path.name[: -len(".key")]
                if not _KID_RE.fullmatch(kid):
                    continue
                keys[kid] = _decode_key(path.read_text("ascii", "replace"), str(path))
        env_value = env.get(ENV_MASTER_KEY, "").strip()
        previous = [v.strip() for v in env.get(ENV_PREVIOUS_MASTER_KEYS, "").split(",")]
        for value, source in [(v, ENV_PREVIOUS_MASTER_KEYS) for v in previous if v] + [
            (env_value, ENV_MASTER_KEY)
        ]:
            if not value:
                continue
            kid, key = _parse_env_key(value, source)
            if kid in keys and keys[kid] != key:
                raise CryptoError(f"{source}: key id {kid!r} names two different keys")
            keys[kid] = key
        if env_value:
            current_env, _ = _parse_env_key(env_value, ENV_MASTER_KEY)
            return cls(keys, current_env, directory=directory, source="env")
        current: str | None = None
        pointer = directory / CURRENT_FILE
        if pointer.is_file():
            named = pointer.read_text("ascii", "replace").strip()
            if named in keys:
                current = named
        file_kids = [kid for kid in keys if (directory / f"{kid}.key").is_file()]
        if current is None and file_kids:
            current = max(file_kids)  # kids of key files sort by creation time
        return cls(keys, current, directory=directory, source="file")

    # -- introspection --------------------------------------------------------

    @property
    def current_kid(self) -> str | None:
        """Kid of the key new envelopes use (None before the first key exists)."""
        return self._current

    @property
    def kids(self) -> list[str]:
        """Every kid the keyring holds, sorted."""
        return sorted(self._keys)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __repr__(self) -> str:  # never the keys themselves
        return f"Keyring(kids={self.kids!r}, current={self._current!r}, source={self.source!r})"

    # -- key management -----------------------------------------------------

    def rotate(self) -> str:
        """Generate a new master key file and make it current; returns its kid.

        Raises:
            CryptoError: the keyring has no key directory, or the current key
                comes from `SWITCHYARD_MASTER_KEY` (rotate by changing the
                variable: see docs/connections.md).
        """
        if self.source == "env":
            raise CryptoError(
                f"the master key comes from {ENV_MASTER_KEY}: it cannot be rotated to a key "
                "file while that variable is set (set a new one, with the old one in "
                f"{ENV_PREVIOUS_MASTER_KEYS}, then re-wrap)"
            )
        return self._new_file_key()

    def _ensure_current(self) -> str:
        if self._current is None:
            self._new_file_key()
        assert self._current is not None
        return self._current

    def _new_file_key(self) -> str:
        if self.directory is None:
            raise CryptoError("this keyring has no key directory: it cannot create keys")
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        kid = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(4)
        key = os.urandom(KEY_BYTES)
        write_private(self.directory / f"{kid}.key", (_b64e(key) + "\n").encode(), exclusive=True)
        write_private(self.directory / CURRENT_FILE, (kid + "\n").encode())
        self._keys[kid] = key
        self._current = kid
        return kid

    def _key(self, kid: str) -> bytes:
        try:
            return self._keys[kid]
        except KeyError:
            where = f"{self.directory or '<keys>'}/{kid}.key, {ENV_MASTER_KEY}"
            where += f" or {ENV_PREVIOUS_MASTER_KEYS}"
            raise MasterKeyNotFound(
                kid, f"master key {kid!r} is not available (expected in {where})"
            ) from None

    # -- envelopes ------------------------------------------------------------

    def encrypt(self, plaintext: bytes, aad: bytes) -> dict[str, Any]:
        """Encrypt `plaintext` under a fresh data key wrapped by the current master key.

        Returns:
            The envelope (JSON-compatible: text and base64 only).
        """
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        kid = self._ensure_current()
        data_key = os.urandom(KEY_BYTES)
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, _DATA_DOMAIN + aad)
        key_nonce, wrapped = self._wrap(kid, data_key, aad)
        return {
            "v": ENVELOPE_VERSION,
            "alg": ALGORITHM,
            "kid": kid,
            "key_nonce": _b64e(key_nonce),
            "wrapped_key": _b64e(wrapped),
            "nonce": _b64e(nonce),
            "ciphertext": _b64e(ciphertext),
        }

    def decrypt(self, envelope: Mapping[str, Any], aad: bytes) -> bytes:
        """The plaintext of an envelope made by `encrypt` with the same `aad`.

        Raises:
            MasterKeyNotFound: the envelope's master key is not in the keyring.
            CryptoError: the envelope is malformed, was tampered with, belongs
                to other associated data, or the master key is wrong.
        """
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        data_key = self._unwrap(envelope, aad)
        nonce = _b64d(envelope.get("nonce"), "nonce", NONCE_BYTES)
        ciphertext = _b64d(envelope.get("ciphertext"), "ciphertext")
        try:
            return AESGCM(data_key).decrypt(nonce, ciphertext, _DATA_DOMAIN + aad)
        except InvalidTag:
            raise CryptoError(
                "ciphertext does not authenticate (tampered with, or not this record's)"
            ) from None

    def rewrap(self, envelope: Mapping[str, Any], aad: bytes) -> dict[str, Any]:
        """The envelope with its data key re-wrapped under the current master key.

        The ciphertext is unchanged; an envelope already under the current
        key is returned as a copy. Raises like `decrypt`.
        """
        kid = self._ensure_current()
        data_key = self._unwrap(envelope, aad)
        if envelope.get("kid") == kid:
            return dict(envelope)
        key_nonce, wrapped = self._wrap(kid, data_key, aad)
        return {
            **envelope,
            "kid": kid,
            "key_nonce": _b64e(key_nonce),
            "wrapped_key": _b64e(wrapped),
        }

    @staticmethod
    def envelope_kid(envelope: Mapping[str, Any]) -> str:
        """The kid an envelope's data key is wrapped with (checks the envelope's shape)."""
        if not isinstance(envelope, Mapping):
            raise CryptoError("malformed envelope: not an object")
        if envelope.get("v") != ENVELOPE_VERSION or envelope.get("alg") != ALGORITHM:
            raise CryptoError(
                f"malformed envelope: unsupported version/algorithm "
                f"{envelope.get('v')!r}/{envelope.get('alg')!r}"
            )
        kid = envelope.get("kid")
        if not isinstance(kid, str) or not _KID_RE.fullmatch(kid):
            raise CryptoError("malformed envelope: bad or missing kid")
        return kid

    def _wrap(self, kid: str, data_key: bytes, aad: bytes) -> tuple[bytes, bytes]:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(NONCE_BYTES)
        wrapped = AESGCM(self._key(kid)).encrypt(nonce, data_key, self._wrap_aad(kid, aad))
        return nonce, wrapped

    def _unwrap(self, envelope: Mapping[str, Any], aad: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        kid = self.envelope_kid(envelope)
        master = self._key(kid)
        key_nonce = _b64d(envelope.get("key_nonce"), "key_nonce", NONCE_BYTES)
        wrapped = _b64d(envelope.get("wrapped_key"), "wrapped_key", KEY_BYTES + 16)
        try:
            return AESGCM(master).decrypt(key_nonce, wrapped, self._wrap_aad(kid, aad))
        except InvalidTag:
            raise CryptoError(
                f"data key does not unwrap with master key {kid!r} (wrong key, tampered "
                "with, or not this record's)"
            ) from None

    @staticmethod
    def _wrap_aad(kid: str, aad: bytes) -> bytes:
        return _WRAP_DOMAIN + kid.encode("ascii") + b"\x00" + aad
