"""Large step outputs, stored outside Temporal payloads (DESIGN.md, "Storage").

Temporal caps a payload (2 MB) and a whole history (50 MB), so an output over
the threshold is written to the blob store and only a small reference travels
through Temporal:

    {"$blob": "<sha256 of the canonical JSON>", "size": <bytes>, "preview": "<first 200 chars>"}

Why reading a blob from workflow code is deterministic: blobs are
content-addressed and immutable. A key is the SHA-256 of the bytes stored under
it, a blob is never rewritten or changed, and `get` verifies the hash; so a
given reference yields the same value on every read, in the first execution
and in every replay, on any worker. The one requirement is that every worker
sees the same store (a shared directory or, later, an S3 bucket) and that
blobs outlive the histories that reference them. A missing blob raises
`BlobNotFound` (the workflow task fails and is retried) rather than yielding a
different value.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["PREVIEW_CHARS", "BlobNotFound", "BlobStore", "canonical_json", "default_store"]

PREVIEW_CHARS = 200
_KEY = re.compile(r"^[0-9a-f]{64}$")
_REF_KEYS = frozenset({"$blob", "size", "preview"})


class BlobNotFound(LookupError):
    """No blob under this key in the store (or its content does not match)."""


def canonical_json(value: Any) -> bytes:
    """The bytes a value is measured, hashed and stored as.

    No whitespace, keys in the value's own order (users' JSON keeps its key
    order through Switchyard, engine/converter.py), so a value written and read
    back is the same value, order included.
    """
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


class BlobStore:
    """A content-addressed file-system store of JSON values.

    Args:
        root: Directory of the store (created on first write).
        threshold: Values whose canonical JSON has at least this many bytes
            are stored; smaller ones pass through unchanged.
    """

    def __init__(self, root: Path, threshold: int) -> None:
        self.root = Path(root)
        self.threshold = threshold

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a blob key: {key!r}")
        return self.root / key[:2] / f"{key}.json"

    def put(self, value: Any) -> dict[str, Any]:
        """Store `value` whatever its size; return its reference."""
        data = canonical_json(value)
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename: a reader never sees a partial blob, and two
            # writers of the same key write the same bytes.
            fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return {
            "$blob": key,
            "size": len(data),
            "preview": data[: PREVIEW_CHARS * 4].decode("utf-8", errors="ignore")[:PREVIEW_CHARS],
        }

    def put_if_large(self, value: Any) -> Any:
        """`value` itself when its JSON is under the threshold, else a reference."""
        if len(canonical_json(value)) < self.threshold:
            return value
        return self.put(value)

    def get(self, ref: dict[str, Any] | str) -> Any:
        """The value a reference (or a bare key) points to.

        Raises:
            BlobNotFound: the blob is missing, or its bytes do not hash to the key.
            ValueError: `ref` is not a reference.
        """
        key = ref if isinstance(ref, str) else ref.get("$blob") if isinstance(ref, dict) else None
        if not isinstance(key, str):
            raise ValueError(f"not a blob reference: {ref!r}")
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(f"blob {key} not found in {self.root}") from None
        if hashlib.sha256(data).hexdigest() != key:
            raise BlobNotFound(f"blob {key} in {self.root} is corrupt (hash mismatch)")
        return json.loads(data)

    @staticmethod
    def is_ref(value: Any) -> bool:
        """True for a `{"$blob": key, ...}` reference."""
        return (
            isinstance(value, dict)
            and isinstance(value.get("$blob"), str)
            and _KEY.match(value["$blob"]) is not None
            and set(value) <= _REF_KEYS
        )

    def resolve(self, value: Any) -> Any:
        """`value`, loaded from the store when it is a reference."""
        return self.get(value) if self.is_ref(value) else value

    def resolve_all(self, value: Any) -> Any:
        """Like `resolve`, also for references nested in lists and dicts
        (e.g. the per-item outputs of a loop)."""
        if self.is_ref(value):
            return self.get(value)
        if isinstance(value, list):
            return [self.resolve_all(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve_all(v) for k, v in value.items()}
        return value


def default_store() -> BlobStore:
    """The store configured by the environment, read now (not at import).

    `SWITCHYARD_BLOB_DIR` (default `$SWITCHYARD_DATA_DIR/blobs`, data dir
    default `./.switchyard`) and `SWITCHYARD_BLOB_THRESHOLD` (default 128 KiB);
    see `switchyard.config`.
    """
    from switchyard.config import get_settings

    settings = get_settings()
    return BlobStore(settings.blob_dir, settings.blob_threshold)
