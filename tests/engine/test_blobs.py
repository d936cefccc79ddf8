"""The content-addressed blob store for large step outputs."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from switchyard.engine.blobs import BlobNotFound, BlobStore, canonical_json, default_store


def test_small_values_pass_through(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, threshold=100)
    value = {"a": 1}
    assert store.put_if_large(value) is value
    assert not any(tmp_path.iterdir())


def test_large_values_become_references(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "b", threshold=100)
    value = {"rows": [{"n": i, "text": "x" * 10} for i in range(20)]}
    ref = store.put_if_large(value)
    data = canonical_json(value)
    assert ref["$blob"] == hashlib.sha256(data).hexdigest()
    assert ref["size"] == len(data)
    assert ref["preview"] == data.decode()[:200]
    assert BlobStore.is_ref(ref)
    assert store.get(ref) == value
    assert store.resolve(ref) == value
    assert store.resolve(value) is value
    # References are small JSON themselves.
    assert len(json.dumps(ref)) < 400


def test_threshold_is_inclusive(tmp_path: Path) -> None:
    value = "x" * 8
    n = len(canonical_json(value))
    assert BlobStore(tmp_path, threshold=n + 1).put_if_large(value) == value
    assert BlobStore.is_ref(BlobStore(tmp_path, threshold=n).put_if_large(value))


def test_content_addressed_same_value_same_key(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, threshold=0)
    a = store.put({"b": 1, "a": [1, 2]})
    b = store.put({"b": 1, "a": [1, 2]})
    assert a == b
    assert list(store.get(a)) == ["b", "a"]  # the value's own key order is kept
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert files[0].name == f"{a['$blob']}.json"
    assert not [p for p in tmp_path.rglob("*.tmp")]  # no leftovers from tmp+rename
    assert store.put({"a": [1, 2], "b": 1}) != a  # key order is part of the content


def test_missing_and_corrupt_blobs(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, threshold=0)
    with pytest.raises(BlobNotFound):
        store.get("0" * 64)
    ref = store.put([1, 2, 3])
    path = tmp_path / ref["$blob"][:2] / f"{ref['$blob']}.json"
    path.write_bytes(b"[1,2,4]")
    with pytest.raises(BlobNotFound, match="corrupt"):
        store.get(ref)


@pytest.mark.parametrize("key", ["../../etc/passwd", "ab", "G" * 64, 5])
def test_bad_keys_are_refused(tmp_path: Path, key: object) -> None:
    with pytest.raises(ValueError):
        BlobStore(tmp_path, threshold=0).get({"$blob": key} if key != 5 else 5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "is_ref"),
    [
        ({"$blob": "a" * 64, "size": 3, "preview": "x"}, True),
        ({"$blob": "a" * 64}, True),
        ({"$blob": "a" * 64, "size": 3, "other": 1}, False),  # user data, not a ref
        ({"$blob": "short"}, False),
        ({"blob": "a" * 64}, False),
        ("a" * 64, False),
        (None, False),
    ],
)
def test_is_ref(value: object, is_ref: bool) -> None:
    assert BlobStore.is_ref(value) is is_ref


def test_resolve_all_nested(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, threshold=0)
    items = [store.put({"i": i}) for i in range(3)]
    assert store.resolve_all({"items": items, "n": 3}) == {
        "items": [{"i": 0}, {"i": 1}, {"i": 2}],
        "n": 3,
    }


def test_non_json_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        BlobStore(tmp_path, threshold=0).put(float("nan"))


def test_default_store_reads_env_lazily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHYARD_BLOB_DIR", raising=False)
    monkeypatch.delenv("SWITCHYARD_BLOB_THRESHOLD", raising=False)
    monkeypatch.setenv("SWITCHYARD_DATA_DIR", str(tmp_path / "data"))
    store = default_store()
    assert store.root == tmp_path / "data" / "blobs"
    assert store.threshold == 128 * 1024
    monkeypatch.setenv("SWITCHYARD_BLOB_THRESHOLD", "10")
    assert default_store().threshold == 10


def test_written_blob_is_complete_even_if_interrupted(tmp_path: Path) -> None:
    # The final name only ever appears via rename of a fully written file.
    store = BlobStore(tmp_path, threshold=0)
    ref = store.put({"x": "y" * 1000})
    path = tmp_path / ref["$blob"][:2] / f"{ref['$blob']}.json"
    assert os.path.getsize(path) == ref["size"]
