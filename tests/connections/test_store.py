"""`LocalConnectionStore` and the `StoreConnections` resolver."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from switchyard import errors
from switchyard.connections import Connection, ConnectionResolver
from switchyard.connections.crypto import (
    ENV_KID,
    ENV_MASTER_KEY,
    ENV_PREVIOUS_MASTER_KEYS,
    generate_master_key,
)
from switchyard.connections.store import (
    ConnectionExists,
    ConnectionNotFound,
    ConnectionStoreError,
    CorruptConnection,
    LocalConnectionStore,
    StoreConnections,
)
from switchyard.errors import StepFailure

TOKEN = "tok-9f8e7d6c5b4a-very-secret"
PASSWORD = "pässwörd-ünïcode-secret"


def _api(store: LocalConnectionStore, name: str = "prod-api", token: str = TOKEN) -> None:
    store.create(
        name,
        "http",
        {"base_url": "https://api.example.com", "headers": {"X-Team": "sre"}, "auth": "bearer"},
        {"token": token},
    )


def _file(store: LocalConnectionStore, name: str) -> Path:
    return store.directory / f"{name}.json"


def test_create_then_get_decrypts(store: LocalConnectionStore) -> None:
    desc = store.create(
        "prod-api",
        "http",
        {"base_url": "https://api.example.com", "headers": {"X-Team": "sre"}, "auth": "basic"},
        {"username": "bot", "password": PASSWORD},
    )
    assert desc["secrets"] == ["password", "username"]
    conn = store.get("prod-api")
    assert isinstance(conn, Connection)
    assert conn.name == "prod-api" and conn.type == "http"
    assert conn.fields == {
        "base_url": "https://api.example.com",
        "headers": {"X-Team": "sre"},
        "auth": "basic",
    }
    assert conn.secrets == {"username": "bot", "password": PASSWORD}
    assert PASSWORD not in repr(conn)


def test_a_new_store_object_reads_it_back(data_dir: Path) -> None:
    _api(LocalConnectionStore(data_dir))
    assert LocalConnectionStore(data_dir).get("prod-api").secrets == {"token": TOKEN}


def test_default_data_dir_is_the_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SWITCHYARD_DATA_DIR", str(tmp_path / "d"))
    store = LocalConnectionStore()
    assert store.directory == tmp_path / "d" / "connections"


def test_connection_without_secrets(store: LocalConnectionStore) -> None:
    store.create("public", "http", {"base_url": "https://example.com"})
    conn = store.get("public")
    assert conn.secrets == {} and conn.fields == {"base_url": "https://example.com"}


def test_files_hold_no_secret_plaintext(store: LocalConnectionStore, data_dir: Path) -> None:
    store.create(
        "a", "http", {"auth": "basic"}, {"username": "bot-user-name", "password": PASSWORD}
    )
    store.create("hook", "webhook_secret", {}, {"secret": TOKEN})
    store.update("a", secrets={"password": PASSWORD + "-2"})
    needles = [s.encode() for s in (TOKEN, PASSWORD, "bot-user-name")]
    needles += [base64.b64encode(n) for n in needles]
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle!r} in {path}"
    # Fields are not secret: they are stored in clear.
    assert json.loads(_file(store, "a").read_bytes())["fields"] == {"auth": "basic"}


def test_file_modes(store: LocalConnectionStore, data_dir: Path) -> None:
    _api(store)
    store.update("prod-api", fields={"auth": "none"})
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "keys").stat().st_mode) == 0o700
    for path in [*store.directory.iterdir(), *(data_dir / "keys").iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert not list(store.directory.glob(".*.tmp"))  # atomic writes leave nothing behind


def test_create_refuses_an_existing_name(store: LocalConnectionStore) -> None:
    _api(store)
    with pytest.raises(ConnectionExists, match="prod-api"):
        _api(store, token="other")
    assert store.get("prod-api").secrets["token"] == TOKEN


@pytest.mark.parametrize(
    "name", ["", "Prod", "-x", ".x", "a/b", "../x", "a b", "x" * 64, "prod\n", "é"]
)
def test_invalid_names(store: LocalConnectionStore, name: str) -> None:
    with pytest.raises(ValueError, match="invalid connection name"):
        store.create(name, "http")


def test_longest_name(store: LocalConnectionStore) -> None:
    store.create("a" + "b" * 62, "http")
    assert store.names() == ["a" + "b" * 62]


@pytest.mark.parametrize(
    ("type_", "fields", "secrets", "message"),
    [
        (
            "nope",
            {},
            {},
            r"unknown connection type 'nope' \(known: aws, .*http, .*webhook_secret\)",
        ),
        ("http", {"bogus": 1}, {}, "unknown field 'bogus'"),
        ("http", {}, {"pin": "1"}, "unknown secret 'pin'"),
        ("http", {"token": "x"}, {}, "'token' is a secret"),
        ("http", {"auth": "magic"}, {}, "field 'auth' must be one of"),
        ("http", {"headers": "x"}, {}, "field 'headers' must be a object"),
        ("http", {"allow_private_metadata": "yes"}, {}, "'allow_private_metadata' must be a"),
        ("http", {}, {"token": 123}, "secret 'token' must be a string"),
        ("webhook_secret", {}, {}, "missing secret 'secret'"),
    ],
)
def test_validation_errors_name_the_field(
    store: LocalConnectionStore, type_: str, fields: dict, secrets: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        store.create("c", type_, fields, secrets)
    assert store.names() == []


def test_update_merges_and_removes(store: LocalConnectionStore) -> None:
    _api(store)
    created = store.show("prod-api")["created_at"]
    store.update("prod-api", {"auth": "api_key"}, {"api_key": "k-123"}, remove=["token"])
    conn = store.get("prod-api")
    assert conn.fields["auth"] == "api_key" and conn.fields["base_url"]
    assert conn.secrets == {"api_key": "k-123"}
    shown = store.show("prod-api")
    assert shown["created_at"] == created and shown["updated_at"] >= created
    with pytest.raises(ValueError, match="no field or secret 'nope'"):
        store.update("prod-api", remove=["nope"])
    with pytest.raises(ValueError, match="unknown field 'x'"):
        store.update("prod-api", {"x": 1})
    with pytest.raises(ConnectionNotFound):
        store.update("missing", {"auth": "none"})


def test_show_and_list_never_carry_secret_values(store: LocalConnectionStore) -> None:
    _api(store)
    store.create("hook", "webhook_secret", {}, {"secret": PASSWORD})
    shown = store.show("prod-api")
    assert shown == {
        "name": "prod-api",
        "type": "http",
        "fields": {
            "base_url": "https://api.example.com",
            "headers": {"X-Team": "sre"},
            "auth": "bearer",
        },
        "secrets": ["token"],
        "created_at": shown["created_at"],
        "updated_at": shown["updated_at"],
    }
    listed = store.list()
    assert [c["name"] for c in listed] == ["hook", "prod-api"]
    assert listed[0]["secrets"] == ["secret"]
    text = json.dumps([shown, listed])
    assert TOKEN not in text and PASSWORD not in text


def test_show_and_list_need_no_master_key(store: LocalConnectionStore, data_dir: Path) -> None:
    _api(store)
    for path in (data_dir / "keys").iterdir():
        path.unlink()
    fresh = LocalConnectionStore(data_dir)
    assert fresh.show("prod-api")["secrets"] == ["token"]
    assert [c["name"] for c in fresh.list()] == ["prod-api"]
    with pytest.raises(CorruptConnection, match=r"master key .* is not available"):
        fresh.get("prod-api")


def test_delete(store: LocalConnectionStore) -> None:
    _api(store)
    store.delete("prod-api")
    assert store.list() == []
    with pytest.raises(ConnectionNotFound):
        store.delete("prod-api")
    with pytest.raises(ConnectionNotFound):
        store.get("prod-api")


@pytest.mark.parametrize("name", ["missing", "../keys/CURRENT", "Bad"])
def test_get_missing_or_invalid_name_is_not_found(store: LocalConnectionStore, name: str) -> None:
    _api(store)
    with pytest.raises(ConnectionNotFound, match="not found"):
        store.get(name)
    with pytest.raises(ConnectionNotFound):
        store.show(name)


def test_tampered_ciphertext_is_an_error(store: LocalConnectionStore) -> None:
    _api(store)
    path = _file(store, "prod-api")
    record = json.loads(path.read_text())
    raw = bytearray(base64.b64decode(record["secrets"]["ciphertext"]))
    raw[3] ^= 0x40
    record["secrets"]["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    path.write_text(json.dumps(record))
    with pytest.raises(CorruptConnection, match="'prod-api': cannot decrypt"):
        store.get("prod-api")


def test_swapped_records_are_an_error(store: LocalConnectionStore) -> None:
    _api(store, "a", token="token-of-a")
    _api(store, "b", token="token-of-b")
    fa, fb = _file(store, "a"), _file(store, "b")
    da, db = fa.read_bytes(), fb.read_bytes()
    fa.write_bytes(db)
    fb.write_bytes(da)
    with pytest.raises(CorruptConnection, match="holds connection 'b'"):
        store.get("a")
    # Even with the names inside fixed up, the encryption binds each record to its name.
    for path, name in ((fa, "a"), (fb, "b")):
        record = json.loads(path.read_text())
        record["name"] = name
        path.write_text(json.dumps(record))
    for name in ("a", "b"):
        with pytest.raises(CorruptConnection, match="cannot decrypt"):
            store.get(name)


def test_swapped_secrets_between_records_are_an_error(store: LocalConnectionStore) -> None:
    _api(store, "a", token="token-of-a")
    _api(store, "b", token="token-of-b")
    ra = json.loads(_file(store, "a").read_text())
    rb = json.loads(_file(store, "b").read_text())
    ra["secrets"] = rb["secrets"]
    _file(store, "a").write_text(json.dumps(ra))
    with pytest.raises(CorruptConnection, match="cannot decrypt"):
        store.get("a")


def test_edited_fields_are_an_error(store: LocalConnectionStore) -> None:
    # Pointing base_url elsewhere by hand must not send the token there.
    _api(store)
    path = _file(store, "prod-api")
    record = json.loads(path.read_text())
    record["fields"]["base_url"] = "https://attacker.example"
    path.write_text(json.dumps(record))
    with pytest.raises(CorruptConnection, match="cannot decrypt"):
        store.get("prod-api")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b"\xff\xfe\x00",
        b"[]",
        b'{"version": 1}',
        b'{"version": 99, "name": "prod-api"}',
    ],
)
def test_corrupt_files_are_clear_errors(store: LocalConnectionStore, content: bytes) -> None:
    _api(store)
    _api(store, "other")
    _file(store, "prod-api").write_bytes(content)
    with pytest.raises(CorruptConnection, match="connection 'prod-api'"):
        store.get("prod-api")
    listed = store.list()
    assert listed[0]["name"] == "other" and "error" not in listed[0]
    assert listed[1]["name"] == "prod-api" and "prod-api" in listed[1]["error"]


def test_malformed_envelope_is_a_clear_error(store: LocalConnectionStore) -> None:
    _api(store)
    path = _file(store, "prod-api")
    record = json.loads(path.read_text())
    record["secrets"]["nonce"] = "!!"
    path.write_text(json.dumps(record))
    with pytest.raises(CorruptConnection, match="nonce is not base64"):
        store.get("prod-api")


def test_rotation_and_rewrap(store: LocalConnectionStore, data_dir: Path) -> None:
    _api(store, "one", token="token-one")
    k1 = store.keyring.current_kid
    k2 = store.rotate_key()
    assert k2 != k1
    _api(store, "two", token="token-two")
    assert store.key_ids_in_use() == {k1: ["one"], k2: ["two"]}
    assert store.get("one").secrets == {"token": "token-one"}
    assert store.get("two").secrets == {"token": "token-two"}
    assert store.rewrap() == {}
    assert store.key_ids_in_use() == {k2: ["one", "two"]}
    (data_dir / "keys" / f"{k1}.key").unlink()
    fresh = LocalConnectionStore(data_dir)
    assert fresh.get("one").secrets == {"token": "token-one"}
    assert fresh.get("two").secrets == {"token": "token-two"}


def test_a_store_sees_a_rotation_made_by_another(data_dir: Path) -> None:
    worker = LocalConnectionStore(data_dir)
    _api(worker, "one")
    assert worker.get("one").secrets == {"token": TOKEN}
    admin = LocalConnectionStore(data_dir)
    admin.rotate_key()
    assert admin.rewrap() == {}
    assert worker.get("one").secrets == {"token": TOKEN}  # reloads the keys on an unknown kid


def test_rewrap_reports_unreadable_records(store: LocalConnectionStore) -> None:
    _api(store, "good")
    _api(store, "bad")
    _file(store, "bad").write_text("{")
    store.rotate_key()
    failures = store.rewrap()
    assert list(failures) == ["bad"]
    assert store.get("good").secrets == {"token": TOKEN}


def test_env_master_key(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    key = generate_master_key()
    monkeypatch.setenv(ENV_MASTER_KEY, key)
    store = LocalConnectionStore(data_dir)
    _api(store)
    assert not (data_dir / "keys").exists()
    assert json.loads(_file(store, "prod-api").read_text())["secrets"]["kid"] == ENV_KID
    assert LocalConnectionStore(data_dir).get("prod-api").secrets == {"token": TOKEN}
    monkeypatch.setenv(ENV_MASTER_KEY, generate_master_key())
    with pytest.raises(CorruptConnection, match="cannot decrypt"):
        LocalConnectionStore(data_dir).get("prod-api")
    monkeypatch.delenv(ENV_MASTER_KEY)
    with pytest.raises(CorruptConnection, match=ENV_MASTER_KEY):
        LocalConnectionStore(data_dir).get("prod-api")


def test_migrating_file_keys_to_the_env_key(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    _api(LocalConnectionStore(data_dir))
    monkeypatch.setenv(ENV_MASTER_KEY, generate_master_key())
    store = LocalConnectionStore(data_dir)
    assert store.rewrap() == {}
    assert store.key_ids_in_use() == {ENV_KID: ["prod-api"]}
    for path in (data_dir / "keys").iterdir():
        path.unlink()
    assert LocalConnectionStore(data_dir).get("prod-api").secrets == {"token": TOKEN}


def test_rotating_the_env_key(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    old, new = generate_master_key(), generate_master_key()
    monkeypatch.setenv(ENV_MASTER_KEY, old)
    _api(LocalConnectionStore(data_dir))
    monkeypatch.setenv(ENV_MASTER_KEY, f"k2:{new}")
    monkeypatch.setenv(ENV_PREVIOUS_MASTER_KEYS, old)
    store = LocalConnectionStore(data_dir)
    _api(store, "second")
    assert store.key_ids_in_use() == {ENV_KID: ["prod-api"], "k2": ["second"]}
    assert store.rewrap() == {}
    assert store.key_ids_in_use() == {"k2": ["prod-api", "second"]}
    monkeypatch.delenv(ENV_PREVIOUS_MASTER_KEYS)
    assert LocalConnectionStore(data_dir).get("prod-api").secrets == {"token": TOKEN}


# -- the resolver ---------------------------------------------------------------


async def test_resolver_finds_a_connection(store: LocalConnectionStore) -> None:
    _api(store)
    resolver = StoreConnections(store)
    assert isinstance(resolver, ConnectionResolver)
    conn = await resolver.get("prod-api")
    assert conn.secrets == {"token": TOKEN}
    assert conn.fields["base_url"] == "https://api.example.com"


@pytest.mark.parametrize("name", ["missing", "../../etc/passwd"])
async def test_resolver_missing_is_connection_not_found(
    store: LocalConnectionStore, name: str
) -> None:
    with pytest.raises(StepFailure) as info:
        await StoreConnections(store).get(name)
    assert info.value.type == errors.CONNECTION_NOT_FOUND == "ConnectionNotFound"
    assert name in info.value.message
    assert info.value.details == {"connection": name}
    assert info.value.retryable is False


async def test_resolver_unreadable_is_a_non_retryable_failure(
    store: LocalConnectionStore,
) -> None:
    _api(store)
    path = _file(store, "prod-api")
    record = json.loads(path.read_text())
    record["fields"]["base_url"] = "https://attacker.example"
    path.write_text(json.dumps(record))
    with pytest.raises(StepFailure) as info:
        await StoreConnections(store).get("prod-api")
    assert info.value.type == errors.ACTION_ERROR
    assert info.value.retryable is False
    assert "prod-api" in info.value.message and TOKEN not in info.value.message


def test_lazy_exports() -> None:
    import switchyard.connections as connections

    assert connections.LocalConnectionStore is LocalConnectionStore
    assert connections.StoreConnections is StoreConnections
    with pytest.raises(AttributeError):
        _ = connections.Nope  # type: ignore[attr-defined]


def test_unusable_master_key_is_a_store_error(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.setenv(ENV_MASTER_KEY, "too-short")
    store = LocalConnectionStore(data_dir)
    with pytest.raises(
        ConnectionStoreError, match=f"cannot load the master keys: {ENV_MASTER_KEY}"
    ):
        _api(store)
    with pytest.raises(ConnectionStoreError, match="cannot load the master keys"):
        store.rewrap()
