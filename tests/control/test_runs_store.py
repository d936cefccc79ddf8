"""The event store of runs (control/runs.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from switchyard.control import runs
from switchyard.control.db import Base, Database
from switchyard.control.timestamps import iso

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def snap(run_id: str, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": run_id,
        "workflow": "wf-a",
        "version": 1,
        "status": "running",
        "inputs": {"n": 1},
        "outputs": None,
        "error": None,
        "trigger": {"type": "manual"},
        "started_at": iso(T0),
        "finished_at": None,
        "steps": {"a": {"status": "pending"}},
    }
    base.update(kw)
    return base


async def test_models_match_migrations(database: Database) -> None:
    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with database.engine.connect() as conn:
        diffs = await conn.run_sync(compare)
    mine = {"runs", "run_recorder"}
    assert [d for d in diffs if mine & set(map(str, _tables(d)))] == []


def _tables(diff: Any) -> list[str]:
    item = diff[0] if isinstance(diff, list) else diff
    out = []
    for part in item[1:] if isinstance(item, tuple) else ():
        table = getattr(part, "table", None)
        out.append(getattr(table, "name", None) or getattr(part, "name", None) or part)
    return [str(x) for x in out]


async def test_upsert_inserts_updates_and_never_regresses_a_final_run(database: Database) -> None:
    async with database.session() as s:
        await runs.upsert_snapshot(s, snap("r1"), identity="u1")
    async with database.session() as s:
        row = await runs.get_run(s, "r1")
        assert row is not None
        assert (row.status, row.identity, row.trigger_type, row.started_at) == (
            "running",
            "u1",
            "manual",
            T0,
        )
        assert row.snapshot["steps"] == {"a": {"status": "pending"}}
    done = snap(
        "r1",
        status="succeeded",
        outputs={"x": 2},
        finished_at=iso(T0 + timedelta(seconds=3)),
        steps={"a": {"status": "succeeded", "output": 2}},
    )
    async with database.session() as s:
        await runs.upsert_snapshot(s, done)  # no identity given: the stored one stays
    async with database.session() as s:
        await runs.upsert_snapshot(s, snap("r1", status="waiting"))  # a stale live read
    async with database.session() as s:
        row = await runs.get_run(s, "r1")
        assert row is not None
        assert (row.status, row.identity, row.outputs) == ("succeeded", "u1", {"x": 2})
        assert row.finished_at == T0 + timedelta(seconds=3)
        view = runs.run_json(row)
        assert view["steps"]["a"]["output"] == 2
        assert view["identity"] == "u1" and view["rerun_of"] is None


async def test_idempotency_key_is_unique_per_workflow(database: Database) -> None:
    async with database.session() as s:
        await runs.create_run(s, snap("k1"), idempotency_key="key", identity="u")
        await runs.create_run(s, snap("k2", workflow="wf-b"), idempotency_key="key")
        await runs.create_run(s, snap("k3"))  # no key: never a conflict
        await runs.create_run(s, snap("k4"))
    with pytest.raises(IntegrityError):
        async with database.session() as s:
            await runs.create_run(s, snap("k5"), idempotency_key="key")
    async with database.session() as s:
        found = await runs.find_by_key(s, "wf-a", "key")
        assert found is not None and found.id == "k1"
        assert await runs.find_by_key(s, "wf-a", "other") is None
        # The recorder's upsert keeps the key the API claimed.
        await runs.upsert_snapshot(s, snap("k1", status="failed"))
    async with database.session() as s:
        row = await runs.get_run(s, "k1")
        assert row is not None and (row.idempotency_key, row.status) == ("key", "failed")


async def _seed(database: Database) -> list[str]:
    """30 runs over two workflows, statuses and triggers; several share a start time."""
    ids = []
    async with database.session() as s:
        for i in range(30):
            run_id = f"run-{i:02d}"
            ids.append(run_id)
            await runs.upsert_snapshot(
                s,
                snap(
                    run_id,
                    workflow="wf-a" if i % 2 else "wf-b",
                    status=["succeeded", "failed", "running"][i % 3],
                    trigger={"type": "schedule" if i % 5 == 0 else "manual"},
                    started_at=iso(T0 + timedelta(minutes=i // 3)),  # ties of three
                ),
            )
    return ids


async def _all_pages(database: Database, limit: int, **filters: Any) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        async with database.session() as s:
            rows = await runs.list_runs(s, after=after, limit=limit + 1, **filters)
        seen += [r.id for r in rows[:limit]]
        if len(rows) <= limit:
            return seen
        last = rows[limit - 1]
        after = (last.started_at, last.id)


async def test_list_is_newest_first_with_stable_keyset_pages(database: Database) -> None:
    await _seed(database)
    everything = await _all_pages(database, 100)
    assert len(everything) == 30
    expected = sorted(
        everything, key=lambda rid: (int(rid[4:]) // 3, rid), reverse=True
    )  # started_at desc, then id desc
    assert everything == expected
    assert await _all_pages(database, 4) == everything  # pages cut inside ties
    assert await _all_pages(database, 1) == everything


@pytest.mark.parametrize(
    ("filters", "check"),
    [
        ({"workflow": "wf-a"}, lambda i: i % 2 == 1),
        ({"status": ["failed"]}, lambda i: i % 3 == 1),
        ({"status": ["failed", "running"]}, lambda i: i % 3 != 0),
        ({"trigger": "schedule"}, lambda i: i % 5 == 0),
        ({"workflow": "wf-b", "status": ["succeeded"]}, lambda i: i % 2 == 0 and i % 3 == 0),
        (
            {"since": T0 + timedelta(minutes=2), "until": T0 + timedelta(minutes=5)},
            lambda i: 2 <= i // 3 < 5,
        ),
    ],
)
async def test_list_filters(database: Database, filters: dict[str, Any], check: Any) -> None:
    await _seed(database)
    got = await _all_pages(database, 3, **filters)
    assert sorted(got) == sorted(f"run-{i:02d}" for i in range(30) if check(i))


async def test_last_runs_per_workflow(database: Database) -> None:
    await _seed(database)
    async with database.session() as s:
        last = await runs.last_runs(s, ["wf-a", "wf-b", "wf-none"])
    assert set(last) == {"wf-a", "wf-b"}
    assert last["wf-a"]["id"] == "run-29" and last["wf-b"]["id"] == "run-28"
    assert last["wf-a"]["status"] == "running"
    assert last["wf-a"]["started_at"] == iso(T0 + timedelta(minutes=9))
    async with database.session() as s:
        assert await runs.last_runs(s, []) == {}
        many = await runs.last_runs(s, [f"w{i}" for i in range(250)] + ["wf-a"])
    assert list(many) == ["wf-a"]


def test_statuses_parse_and_refuse_unknown() -> None:
    assert runs.statuses("failed, timed_out") == ["failed", "timed_out"]
    assert runs.statuses(None) == []
    with pytest.raises(ValueError, match="unknown status 'bogus'"):
        runs.statuses("bogus")
