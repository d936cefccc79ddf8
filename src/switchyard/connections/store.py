"""The local connection store: one encrypted JSON file per connection.

`DATA_DIR/connections/<name>.json` (mode 600, written atomically: temporary
file, fsync, rename) holds::

    {"version": 1, "name": ..., "type": ..., "fields": {...},
     "secret_names": [...], "created_at": ..., "updated_at": ...,
     "secrets": <envelope>}

Fields are not secret (base URL, headers, auth mode) and are stored in clear;
the secrets are one JSON object encrypted with `switchyard.connections.crypto`
(AES-256-GCM envelope). The associated data of that encryption is the
record's name, type, fields and secret names, so a file renamed to another
connection, or whose fields were edited by hand (say, `base_url` pointed
somewhere else), fails to load with `CorruptConnection` instead of handing
the secrets to the wrong place. Every record is encrypted, even one without
secrets, so its fields are always authenticated.

`StoreConnections(store)` is the `ConnectionResolver` the engine worker uses.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from switchyard import errors
from switchyard.connections import Connection
from switchyard.connections.crypto import CryptoError, Keyring, MasterKeyNotFound, write_private
from switchyard.connections.types import CONNECTION_TYPES, ConnectionType
from switchyard.errors import StepFailure

__all__ = [
    "NAME_PATTERN",
    "ConnectionExists",
    "ConnectionNotFound",
    "ConnectionStoreError",
    "CorruptConnection",
    "LocalConnectionStore",
    "StoreConnections",
    "validate_name",
]

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
"""A connection name: lower-case letters, digits, `_`, `.`, `-`; 1 to 63 characters."""

RECORD_VERSION = 1
_AAD_DOMAIN = "switchyard-connection/v1"


class ConnectionStoreError(Exception):
    """Base class of the store's errors (other than `ValueError` for invalid input)."""


class ConnectionExists(ConnectionStoreError):
    """`create` of a name that is already taken."""


class ConnectionNotFound(ConnectionStoreError, LookupError):
    """No connection by that name."""


class CorruptConnection(ConnectionStoreError):
    """A record cannot be read: not JSON, wrong shape, tampered with, or its key is missing."""


def validate_name(name: str) -> str:
    """`name` if it is a valid connection name, else `ValueError` saying why."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"invalid connection name {name!r}: use 1-63 characters, lower-case letters, "
            "digits, '_', '.' or '-', starting with a letter or digit"
        )
    return name


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _aad(name: str, type_: str, fields: Mapping[str, Any], secret_names: Iterable[str]) -> bytes:
    doc = [_AAD_DOMAIN, name, type_, dict(fields), sorted(secret_names)]
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


class LocalConnectionStore:
    """Connections in `DATA_DIR/connections/`, secrets encrypted.

    Args:
        data_dir: The data directory; `SWITCHYARD_DATA_DIR` (default
            `./.switchyard`) when omitted.
        keyring: The master keys; `Keyring.load(data_dir)` (loaded on first
            use) when omitted.
        types: Known connection types; the global registry when omitted.
    """

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        keyring: Keyring | None = None,
        types: Mapping[str, ConnectionType] | None = None,
    ) -> None:
        if data_dir is None:
            from switchyard.config import get_settings

            data_dir = get_settings().data_dir
        self.data_dir = Path(data_dir)
        self.directory = self.data_dir / "connections"
        self._keyring = keyring
        self._own_keyring = keyring is None
        self._types = CONNECTION_TYPES if types is None else types

    # -- keys -----------------------------------------------------------------

    @property
    def keyring(self) -> Keyring:
        """The master keys (loaded from the data directory on first use).

        Raises:
            ConnectionStoreError: a key (file or environment variable) is unusable.
        """
        if self._keyring is None:
            try:
                self._keyring = Keyring.load(self.data_dir)
            except (CryptoError, OSError) as exc:
                raise ConnectionStoreError(f"cannot load the master keys: {exc}") from None
        return self._keyring

    def reload_keys(self) -> None:
        """Forget the loaded keyring (another process may have rotated the key)."""
        if self._own_keyring:
            self._keyring = None

    # -- validation -------------------------------------------------------------

    def _check(self, type_: str, fields: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        if self._types is CONNECTION_TYPES and type_ not in CONNECTION_TYPES:
            # Integrations (built-in and packs) declare their types when their
            # module is imported: import them before calling a type unknown.
            from switchyard.actions import load_plugins

            load_plugins()
        ctype = self._types.get(type_)
        if ctype is None:
            known = ", ".join(sorted(self._types)) or "none"
            raise ValueError(f"unknown connection type {type_!r} (known: {known})")
        if not isinstance(fields, Mapping) or not all(isinstance(k, str) for k in fields):
            raise ValueError("fields must be an object with text keys")
        if not isinstance(secrets, Mapping) or not all(isinstance(k, str) for k in secrets):
            raise ValueError("secrets must be an object with text keys")
        problems = ctype.check(dict(fields), dict(secrets))
        for spec in ctype.fields:
            value = secrets.get(spec.name)
            if spec.secret and spec.type == "string" and not isinstance(value, str | None):
                problems.append(f"secret {spec.name!r} must be a string")
        try:
            json.dumps(dict(fields), allow_nan=False)
        except (TypeError, ValueError) as exc:
            problems.append(f"fields must be JSON values: {exc}")
        if problems:
            raise ValueError(f"invalid {type_!r} connection: " + "; ".join(problems))

    # -- files ------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        return self.directory / f"{name}.json"

    def _ensure_directory(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.directory.mkdir(mode=0o700, exist_ok=True)
        os.chmod(self.directory, 0o700)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise writers (create/update/delete/rewrap) across processes."""
        self._ensure_directory()
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - not POSIX
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _write(self, name: str, record: dict[str, Any], *, new: bool) -> None:
        data = (json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
        try:
            write_private(self._path(name), data, exclusive=new)
        except FileExistsError:
            raise ConnectionExists(f"connection {name!r} already exists") from None

    def _read(self, name: str) -> dict[str, Any]:
        """The record of `name`, its shape checked (secrets still encrypted)."""
        try:
            validate_name(name)
        except ValueError:
            raise ConnectionNotFound(f"connection {name!r} not found") from None
        path = self._path(name)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise ConnectionNotFound(f"connection {name!r} not found") from None
        except OSError as exc:
            raise CorruptConnection(f"connection {name!r}: cannot read {path}: {exc}") from None
        try:
            record = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorruptConnection(
                f"connection {name!r}: {path} is not valid JSON ({exc})"
            ) from None
        problem = self._shape_problem(name, record)
        if problem:
            raise CorruptConnection(f"connection {name!r}: {path} is malformed: {problem}")
        return record

    @staticmethod
    def _shape_problem(name: str, record: Any) -> str | None:
        if not isinstance(record, dict):
            return "not a JSON object"
        if record.get("version") != RECORD_VERSION:
            return f"unsupported version {record.get('version')!r}"
        if record.get("name") != name:
            return f"it holds connection {record.get('name')!r}, not {name!r}"
        if not isinstance(record.get("type"), str):
            return "'type' is missing or not text"
        if not isinstance(record.get("fields"), dict):
            return "'fields' is missing or not an object"
        names = record.get("secret_names")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return "'secret_names' is missing or not a list of text"
        if not isinstance(record.get("secrets"), dict):
            return "'secrets' is missing or not an object"
        for key in ("created_at", "updated_at"):
            if not isinstance(record.get(key), str):
                return f"{key!r} is missing or not text"
        return None

    def _decrypt(self, record: dict[str, Any]) -> dict[str, Any]:
        name = record["name"]
        aad = _aad(name, record["type"], record["fields"], record["secret_names"])
        try:
            try:
                plaintext = self.keyring.decrypt(record["secrets"], aad)
            except MasterKeyNotFound:
                self.reload_keys()  # rotated by another process since we loaded the keys?
                plaintext = self.keyring.decrypt(record["secrets"], aad)
        except CryptoError as exc:
            raise CorruptConnection(
                f"connection {name!r}: cannot decrypt its secrets: {exc}"
            ) from None
        try:
            secrets = json.loads(plaintext)
        except ValueError:
            secrets = None
        if not isinstance(secrets, dict) or sorted(secrets) != sorted(record["secret_names"]):
            raise CorruptConnection(f"connection {name!r}: decrypted secrets are malformed")
        return secrets

    def _record(
        self,
        name: str,
        type_: str,
        fields: Mapping[str, Any],
        secrets: Mapping[str, Any],
        created_at: str,
    ) -> dict[str, Any]:
        secret_names = sorted(secrets)
        plaintext = json.dumps(dict(secrets), sort_keys=True, ensure_ascii=False).encode()
        try:
            envelope = self.keyring.encrypt(plaintext, _aad(name, type_, fields, secret_names))
        except CryptoError as exc:
            raise ConnectionStoreError(f"cannot encrypt connection {name!r}: {exc}") from None
        return {
            "version": RECORD_VERSION,
            "name": name,
            "type": type_,
            "fields": dict(fields),
            "secret_names": secret_names,
            "created_at": created_at,
            "updated_at": _now(),
            "secrets": envelope,
        }

    @staticmethod
    def _describe(record: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": record["name"],
            "type": record["type"],
            "fields": record["fields"],
            "secrets": sorted(record["secret_names"]),
            "created_at": record["created_at"],
            "updated_at": record["updated_at"],
        }

    # -- API ----------------------------------------------------------------------

    def create(
        self,
        name: str,
        type: str,
        fields: Mapping[str, Any] | None = None,
        secrets: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store a new connection; returns its description (as `show`).

        Raises:
            ValueError: invalid name, unknown type, or fields/secrets that do
                not match the type (the message names each offending field).
            ConnectionExists: the name is taken.
        """
        validate_name(name)
        fields = dict(fields or {})
        secrets = dict(secrets or {})
        self._check(type, fields, secrets)
        with self._locked():
            if self._path(name).exists():
                raise ConnectionExists(f"connection {name!r} already exists")
            record = self._record(name, type, fields, secrets, created_at=_now())
            record["updated_at"] = record["created_at"]
            self._write(name, record, new=True)
        return self._describe(record)

    def update(
        self,
        name: str,
        fields: Mapping[str, Any] | None = None,
        secrets: Mapping[str, Any] | None = None,
        *,
        remove: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Change a connection: set the given fields and secrets, drop those in `remove`.

        Fields and secrets not named keep their values. Returns the new
        description (as `show`).

        Raises:
            ConnectionNotFound: no such connection.
            CorruptConnection: the stored record cannot be read.
            ValueError: the result does not match the connection's type, or
                `remove` names something the connection does not have.
        """
        with self._locked():
            record = self._read(name)
            current = self._decrypt(record)
            new_fields = dict(record["fields"])
            new_secrets = dict(current)
            for key in remove:
                if key in new_fields:
                    del new_fields[key]
                elif key in new_secrets:
                    del new_secrets[key]
                else:
                    raise ValueError(f"connection {name!r} has no field or secret {key!r}")
            new_fields.update(fields or {})
            new_secrets.update(secrets or {})
            self._check(record["type"], new_fields, new_secrets)
            updated = self._record(
                name, record["type"], new_fields, new_secrets, created_at=record["created_at"]
            )
            self._write(name, updated, new=False)
        return self._describe(updated)

    def get(self, name: str) -> Connection:
        """The connection, secrets decrypted.

        Raises:
            ConnectionNotFound: no such connection (or an invalid name).
            CorruptConnection: the record is unreadable, tampered with, or its
                master key is missing.
        """
        record = self._read(name)
        secrets = self._decrypt(record)
        return Connection(
            name=record["name"], type=record["type"], fields=record["fields"], secrets=secrets
        )

    def show(self, name: str) -> dict[str, Any]:
        """`name`, `type`, `fields`, `secrets` (names only), `created_at`, `updated_at`.

        Never decrypts: needs no master key.
        """
        return self._describe(self._read(name))

    def names(self) -> list[str]:
        """Names of the stored connections, sorted."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in self.directory.glob("*.json"):
            stem = path.name[: -len(".json")]
            if NAME_PATTERN.fullmatch(stem):
                found.append(stem)
        return sorted(found)

    def list(self) -> list[dict[str, Any]]:
        """Every connection, as `show` describes it, sorted by name.

        An unreadable record is listed as `{"name": ..., "error": "..."}`
        rather than failing the whole listing.
        """
        out: list[dict[str, Any]] = []
        for name in self.names():
            try:
                out.append(self.show(name))
            except ConnectionNotFound:
                continue  # deleted meanwhile
            except CorruptConnection as exc:
                out.append({"name": name, "error": str(exc)})
        return out

    def delete(self, name: str) -> None:
        """Remove a connection.

        Raises:
            ConnectionNotFound: no such connection.
        """
        try:
            validate_name(name)
        except ValueError:
            raise ConnectionNotFound(f"connection {name!r} not found") from None
        with self._locked():
            try:
                self._path(name).unlink()
            except FileNotFoundError:
                raise ConnectionNotFound(f"connection {name!r} not found") from None

    def rotate_key(self) -> str:
        """Make a new master key current (see `Keyring.rotate`); returns its kid.

        Existing records keep decrypting; `rewrap()` moves them to the new key.
        """
        self.reload_keys()
        try:
            return self.keyring.rotate()
        except CryptoError as exc:
            raise ConnectionStoreError(str(exc)) from None

    def rewrap(self) -> dict[str, str]:
        """Re-wrap every record's data key under the current master key.

        Returns:
            Failures by connection name (empty when every record moved). The
            secrets' ciphertext is unchanged; only the wrapped key is.
        """
        failures: dict[str, str] = {}
        self.reload_keys()
        keyring = self.keyring
        if keyring.current_kid is None:  # no key yet: nothing can have been encrypted
            return failures
        with self._locked():
            for name in self.names():
                try:
                    record = self._read(name)
                    aad = _aad(name, record["type"], record["fields"], record["secret_names"])
                    if Keyring.envelope_kid(record["secrets"]) == keyring.current_kid:
                        continue
                    record["secrets"] = keyring.rewrap(record["secrets"], aad)
                    self._write(name, record, new=False)
                except ConnectionNotFound:
                    continue
                except (CorruptConnection, CryptoError) as exc:
                    failures[name] = str(exc)
        return failures

    def key_ids_in_use(self) -> dict[str, builtins.list[str]]:
        """Connection names by the kid their data key is wrapped with (unreadable ones left out)."""
        used: dict[str, list[str]] = {}
        for name in self.names():
            try:
                kid = Keyring.envelope_kid(self._read(name)["secrets"])
            except (ConnectionStoreError, CryptoError):
                continue
            used.setdefault(kid, []).append(name)
        return used


class StoreConnections:
    """`ConnectionResolver` over a `LocalConnectionStore` (what the engine worker uses).

    A missing connection fails the step with `ConnectionNotFound`; an
    unreadable one (tampered with, master key missing) with a non-retryable
    `ActionError` naming the connection. Neither message carries a secret.
    """

    def __init__(self, store: LocalConnectionStore) -> None:
        self.store = store

    async def get(self, name: str) -> Connection:
        try:
            return await asyncio.to_thread(self.store.get, name)
        except ConnectionNotFound:
            raise StepFailure(
                errors.CONNECTION_NOT_FOUND,
                f"connection {name!r} not found",
                {"connection": name},
                retryable=False,
            ) from None
        except ConnectionStoreError as exc:
            raise StepFailure(
                errors.ACTION_ERROR,
                str(exc),
                {"connection": name, "reason": "unreadable"},
                retryable=False,
            ) from None
