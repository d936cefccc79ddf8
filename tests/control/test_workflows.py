"""Workflows and versions in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from switchyard.control import workflows as wfs
from switchyard.control.db import Database
from switchyard.definition.model import Workflow

from .test_auth import schema_drift


def text(name: str, value: str = "x") -> str:
    return f"name: {name}\nsteps:\n  - id: a\n    set: {{v: {value!r}}}\n"


async def test_models_match_migrations(database: Database) -> None:
    assert await schema_drift(database, {"workflows", "workflow_versions"}) == []


async def test_save_versions_and_resolve(database: Database) -> None:
    async with database.session() as s:
        first = await wfs.save(s, "w", text("w", "1"), "yaml", author="alice")
        again = await wfs.save(s, "w", text("w", "1") + "# same\n", "yaml", author="bob")
        second = await wfs.save(s, "w", text("w", "2"), "yaml", author="bob", message="m")
    assert (first.version, first.created, first.changed) == (1, True, True)
    assert (again.version, again.created, again.changed) == (1, False, False)
    assert (second.version, second.created, second.changed) == (2, False, True)
    async with database.session() as s:
        # No published version: the latest.
        latest = await wfs.resolve_version(s, "w")
        assert (latest.workflow, latest.number, latest.author) == ("w", 2, "bob")
        assert latest.definition["steps"][0]["set"] == {"v": "2"}
        assert latest.text == text("w", "2")
        assert (await wfs.resolve_version(s, "w", 1)).definition["steps"][0]["set"] == {"v": "1"}
        assert await wfs.published_definitions(s) == []
        await wfs.publish(s, "w", 1)
        assert (await wfs.resolve_version(s, "w")).number == 1  # published wins
        assert (await wfs.resolve_version(s, "w", 2)).number == 2
        assert [(v.workflow, v.number) for v in await wfs.published_definitions(s)] == [("w", 1)]
        with pytest.raises(LookupError, match="no version 5"):
            await wfs.resolve_version(s, "w", 5)
        with pytest.raises(LookupError, match="'nope' not found"):
            await wfs.resolve_version(s, "nope")
        with pytest.raises(LookupError):
            await wfs.publish(s, "w", 9)


async def test_definitions_are_what_the_engine_reads(database: Database) -> None:
    async with database.session() as s:
        await wfs.save(s, "a", text("a"), "yaml", author=None)
        await wfs.save(s, "b", text("b", "1"), "yaml", author=None, publish_it=True)
        await wfs.save(s, "b", text("b", "2"), "yaml", author=None)
        await wfs.save(s, "gone", text("gone"), "yaml", author=None)
        await wfs.delete_workflow(s, "gone")
    async with database.session() as s:
        calls = await wfs.definitions_for_calls(s)
    assert sorted(calls) == ["a", "b"]
    assert calls["b"]["steps"][0]["set"] == {"v": "1"}  # published beats latest
    for definition in calls.values():
        wf = Workflow.model_validate(definition)
        assert wf.model_dump(mode="json", by_alias=True, exclude_none=True) == definition


async def test_delete_hooks_run_and_resolve_refuses_deleted(database: Database) -> None:
    seen: list[str] = []

    async def hook(session: object, name: str) -> None:
        seen.append(name)

    wfs.ON_DELETE.append(hook)
    try:
        async with database.session() as s:
            await wfs.save(s, "w", text("w"), "yaml", author=None)
            assert await wfs.delete_workflow(s, "w")
            assert not await wfs.delete_workflow(s, "w")
            with pytest.raises(LookupError):
                await wfs.resolve_version(s, "w")
    finally:
        wfs.ON_DELETE.remove(hook)
    assert seen == ["w"]


async def test_invalid_and_misnamed_definitions_are_refused(database: Database) -> None:
    async with database.session() as s:
        with pytest.raises(wfs.DefinitionInvalid) as info:
            await wfs.save(s, "w", "name: w\nsteps: []\n", "yaml", author=None)
        assert info.value.problems[0].location == "steps"
        with pytest.raises(wfs.DefinitionInvalid) as info:
            await wfs.save(s, "w", text("v"), "yaml", author=None)
        assert info.value.problems[0].location == "name"


async def test_db_definitions_source_for_call_targets(database: Database) -> None:
    import asyncio

    from switchyard.control.workflows_source import DbDefinitions, FirstFound

    async with database.session() as s:
        await wfs.save(s, "child", text("child", "1"), "yaml", author=None, publish_it=True)
        await wfs.save(s, "child", text("child", "2"), "yaml", author=None)
    source = DbDefinitions(database.url)
    try:
        # The engine calls `get` synchronously from an activity: off this loop here.
        definition, number = await asyncio.to_thread(source.get, "child", None)
        assert number == 1 and definition["steps"][0]["set"] == {"v": "1"}  # the published one
        definition, number = await asyncio.to_thread(source.get, "child", 2)
        assert number == 2 and definition["steps"][0]["set"] == {"v": "2"}
        assert await asyncio.to_thread(source.get, "child", 7) is None
        assert await asyncio.to_thread(source.get, "missing", None) is None

        class Fallback:
            def get(self, name: str, version: int | None) -> tuple[dict, None] | None:
                return ({"name": name}, None) if name == "local" else None

        chain = FirstFound([source, Fallback()])
        assert (await asyncio.to_thread(chain.get, "child", None))[1] == 1
        assert await asyncio.to_thread(chain.get, "local", None) == ({"name": "local"}, None)
        assert await asyncio.to_thread(chain.get, "nowhere", None) is None
    finally:
        source.close()
        source.close()  # idempotent
