"""Connections in the database: encryption at rest, resolution, key rotation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text, update

from switchyard import errors
from switchyard.connections.crypto import Keyring, generate_master_key
from switchyard.control import connections as conns
from switchyard.control.db import Database
from switchyard.errors import StepFailure

from .test_auth import schema_drift

SECRET = "s3cr3t-token-value"


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SWITCHYARD_MASTER_KEY", raising=False)
    monkeypatch.delenv("SWITCHYARD_PREVIOUS_MASTER_KEYS", raising=False)
    return tmp_path / "data"


async def test_models_match_migrations(database: Database) -> None:
    assert await schema_drift(database, {"connections"}) == []


async def test_secrets_are_encrypted_at_rest_and_resolve(database: Database, keys: Path) -> None:
    keyring = Keyring.load(keys)
    async with database.session() as s:
        record = await conns.create(
            s,
            keyring,
            "gh",
            "http",
            {"base_url": "https://api.github.test", "auth": "bearer"},
            {"token": SECRET},
            actor="alice",
        )
        assert conns.describe(record)["secrets"] == ["token"]
        assert SECRET not in json.dumps(conns.describe(record))
    async with database.session() as s:
        raw = (await s.execute(text("SELECT * FROM connections"))).mappings().one()
    assert SECRET not in str(dict(raw))
    assert raw["kid"] == keyring.current_kid
    resolver = conns.DbConnections(database, keys)
    found = await resolver.get("gh")
    assert found.secrets == {"token": SECRET}
    assert found.fields["base_url"] == "https://api.github.test"
    with pytest.raises(StepFailure) as info:
        await resolver.get("missing")
    assert info.value.type == errors.CONNECTION_NOT_FOUND


async def test_tampered_fields_fail_to_decrypt(database: Database, keys: Path) -> None:
    keyring = Keyring.load(keys)
    async with database.session() as s:
        await conns.create(
            s, keyring, "gh", "http", {"base_url": "https://good.test"}, {"token": SECRET}
        )
    async with database.session() as s:
        await s.execute(
            update(conns.ConnectionRecord)
            .where(conns.ConnectionRecord.name == "gh")
            .values(fields={"base_url": "https://evil.test"})
        )
    with pytest.raises(StepFailure) as info:
        await conns.DbConnections(database, keys).get("gh")
    assert info.value.type == errors.ACTION_ERROR and SECRET not in str(info.value)


async def test_validation_against_the_type(database: Database, keys: Path) -> None:
    keyring = Keyring.load(keys)
    async with database.session() as s:
        with pytest.raises(conns.ConnectionInvalid) as info:
            await conns.create(
                s, keyring, "x", "http", {"nope": 1, "auth": "magic"}, {"token": "t", "pin": "1"}
            )
        assert {loc for loc, _ in info.value.problems} == {
            "fields.nope",
            "fields.auth",
            "secrets.pin",
        }
        with pytest.raises(conns.ConnectionInvalid) as info:
            await conns.create(s, keyring, "x", "carrier-pigeon")
        assert info.value.problems[0][0] == "type"
        with pytest.raises(conns.ConnectionInvalid) as info:
            await conns.create(s, keyring, "Bad Name", "http")
        assert info.value.problems[0][0] == "name"
        with pytest.raises(conns.ConnectionInvalid):
            await conns.create(s, keyring, "hook", "webhook_secret")  # required secret
        await conns.create(s, keyring, "dup", "http")
        with pytest.raises(conns.ConnectionExists):
            await conns.create(s, keyring, "dup", "http")


async def test_update_merges_secrets_and_replaces_fields(database: Database, keys: Path) -> None:
    keyring = Keyring.load(keys)
    async with database.session() as s:
        record = await conns.create(
            s,
            keyring,
            "api",
            "http",
            {"base_url": "https://a.test", "auth": "basic"},
            {"username": "u", "password": "p"},
        )
        await conns.update(
            s, keyring, record, fields={"base_url": "https://b.test"}, secrets={"password": "q"}
        )
        found = await conns.resolve(s, keyring, "api")
        assert found.fields == {"base_url": "https://b.test"}
        assert found.secrets == {"username": "u", "password": "q"}
        await conns.update(s, keyring, record, secrets={"username": None})
        assert (await conns.resolve(s, keyring, "api")).secrets == {"password": "q"}
        with pytest.raises(conns.ConnectionInvalid):
            await conns.update(s, keyring, record, secrets={"pin": "1"})
        assert await conns.delete(s, "api")
        assert not await conns.delete(s, "api")


async def test_rotation_rewraps_every_record(database: Database, keys: Path) -> None:
    keyring = Keyring.load(keys)
    async with database.session() as s:
        for name in ("a", "b"):
            await conns.create(s, keyring, name, "http", {}, {"token": f"{name}-{SECRET}"})
        old = keyring.current_kid
        new = keyring.rotate()
        assert await conns.rewrap_all(s, keyring) == 2
        assert await conns.rewrap_all(s, keyring) == 0  # nothing left under the old key
    (keys / "keys" / f"{old}.key").unlink()  # the old key is gone: records still decrypt
    resolver = conns.DbConnections(database, keys)
    assert (await resolver.get("a")).secrets == {"token": f"a-{SECRET}"}
    async with database.session() as s:
        kids = (await s.execute(text("SELECT DISTINCT kid FROM connections"))).scalars().all()
    assert kids == [new]


async def test_env_master_key_and_missing_key(
    database: Database, keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHYARD_MASTER_KEY", generate_master_key())
    keyring = Keyring.load(keys)
    async with database.session() as s:
        await conns.create(s, keyring, "a", "http", {}, {"token": SECRET})
    assert (await conns.DbConnections(database, keys).get("a")).secrets == {"token": SECRET}
    # A new key (kid "second") and the old one ("env") lost:
    monkeypatch.setenv("SWITCHYARD_MASTER_KEY", "second:" + generate_master_key())
    with pytest.raises(StepFailure) as info:
        await conns.DbConnections(database, keys).get("a")
    assert info.value.type == errors.ACTION_ERROR
    async with database.session() as s:
        with pytest.raises(conns.Unreadable):
            await conns.rewrap_all(s, Keyring.load(keys))


async def test_chained_resolvers_fall_through_only_when_not_found(
    database: Database, keys: Path
) -> None:
    from switchyard.connections import Connection, StaticConnections
    from switchyard.control.workflows_source import ChainedConnections

    async with database.session() as s:
        await conns.create(s, Keyring.load(keys), "both", "http", {}, {"token": "from-db"})
    local = StaticConnections(
        [
            Connection("both", "http", {}, {"token": "from-local"}),
            Connection("local-only", "http", {}, {"token": "local"}),
        ]
    )
    chain = ChainedConnections([conns.DbConnections(database, keys), local])
    assert (await chain.get("both")).secrets == {"token": "from-db"}
    assert (await chain.get("local-only")).secrets == {"token": "local"}
    with pytest.raises(StepFailure) as info:
        await chain.get("nowhere")
    assert info.value.type == errors.CONNECTION_NOT_FOUND
    # An unreadable database record is an error, not a reason to use another one.
    async with database.session() as s:
        await s.execute(
            update(conns.ConnectionRecord)
            .where(conns.ConnectionRecord.name == "both")
            .values(fields={"base_url": "https://evil.test"})
        )
    with pytest.raises(StepFailure) as info:
        await chain.get("both")
    assert info.value.type == errors.ACTION_ERROR
