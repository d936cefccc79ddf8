"""The audit log in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from switchyard.control import audit
from switchyard.control.db import Database
from switchyard.control.timestamps import now

from .test_auth import schema_drift


async def test_models_match_migrations(database: Database) -> None:
    assert await schema_drift(database, {"audit"}) == []


async def test_record_and_query_with_filters(database: Database) -> None:
    async with database.session() as s:
        await audit.record(s, actor="alice", action="workflow.create", resource="workflow:a")
        await audit.record(
            s,
            actor="bob",
            action="workflow.update",
            resource="workflow:a_b%",
            details={"version": 2},
            source="10.0.0.1 curl/8",
        )
        await audit.record(s, actor=None, action="run.start", resource="run:1")
    async with database.session() as s:
        everything = await audit.query(s)
        assert [e.action for e in everything] == ["run.start", "workflow.update", "workflow.create"]
        assert [e.actor for e in await audit.query(s, actor="bob")] == ["bob"]
        assert len(await audit.query(s, action="workflow.*")) == 2
        assert len(await audit.query(s, action="workflow.")) == 0  # exact without *
        # `%` and `_` are not wildcards.
        assert [e.resource for e in await audit.query(s, resource="workflow:a_*")] == [
            "workflow:a_b%"
        ]
        assert await audit.query(s, resource="workflow:a%*") == []
        bob = (await audit.query(s, actor="bob"))[0]
        assert bob.details == {"version": 2} and bob.source == "10.0.0.1 curl/8"
        assert audit.describe(bob)["at"].endswith("Z")
        # Keyset: entries before an id.
        assert [e.action for e in await audit.query(s, before_id=bob.id)] == ["workflow.create"]
        assert [e.action for e in await audit.query(s, limit=1)] == ["run.start"]


async def test_time_window(database: Database) -> None:
    async with database.session() as s:
        await audit.record(s, actor="a", action="x.old", resource="r")
        await audit.record(s, actor="a", action="x.new", resource="r")
    async with database.session() as s:
        old = (await audit.query(s, action="x.old"))[0]
        await s.execute(
            update(audit.AuditEntry)
            .where(audit.AuditEntry.id == old.id)
            .values(at=now() - timedelta(days=2))
        )
    async with database.session() as s:
        day_ago = now() - timedelta(days=1)
        assert [e.action for e in await audit.query(s, since=day_ago)] == ["x.new"]
        assert [e.action for e in await audit.query(s, until=day_ago)] == ["x.old"]
