"""The embedded Temporal dev server: start, search attributes, a run, restart, kill, errors."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    import pytest
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
    from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
    from temporalio.client import Client, WorkflowExecutionStatus
    from temporalio.worker import Worker

    from switchyard.config import Settings
    from switchyard.engine.devserver import (
        SEARCH_ATTRIBUTES,
        DevServer,
        DevServerError,
        find_temporal_cli,
    )


@activity.defn
async def greet(name: str) -> str:
    return f"Hello, {name}!"


@workflow.defn
class GreetWorkflow:
    """Waits for a `proceed` signal when asked to, then calls the `greet` activity."""

    def __init__(self) -> None:
        self._proceed = False

    @workflow.run
    async def run(self, name: str, wait: bool = False) -> str:
        if wait:
            await workflow.wait_condition(lambda: self._proceed)
        return await workflow.execute_activity(
            greet, name, start_to_close_timeout=timedelta(seconds=30)
        )

    @workflow.signal
    def proceed(self) -> None:
        self._proceed = True


def _worker(client: Client, task_queue: str) -> Worker:
    return Worker(client, task_queue=task_queue, workflows=[GreetWorkflow], activities=[greet])


# ------------------------------------------------------------- no server


def test_command_line_renders_flags() -> None:
    server = DevServer(
        port=7777,
        db_filename="/data/t.sqlite",
        namespace="ops",
        search_attributes={"Team": "Keyword"},
        dynamic_config={"limit.historyCount.error": 2000, "some.string": "x", "flag": True},
        executable="/bin/temporal",
    )
    argv = server.command()
    assert argv[:3] == ["/bin/temporal", "server", "start-dev"]
    joined = " ".join(argv)
    assert "--ip 127.0.0.1 --port 7777" in joined
    assert "--headless" in argv
    assert "--db-filename /data/t.sqlite" in joined
    assert "--namespace ops" in joined
    for name, kind in {**SEARCH_ATTRIBUTES, "Team": "Keyword"}.items():
        assert f"--search-attribute {name}={kind}" in joined
    # The CLI parses every value as JSON: strings need their quotes.
    assert "--dynamic-config-value limit.historyCount.error=2000" in joined
    assert '--dynamic-config-value some.string="x"' in joined
    assert "--dynamic-config-value flag=true" in joined
    assert server.address == "127.0.0.1:7777"
    # The database file gets a write-ahead log (engine/devserver.py, SQLITE_PRAGMAS).
    assert "--sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal" in joined


def test_sqlite_pragmas_can_be_overridden_and_need_a_file() -> None:
    server = DevServer(port=1, db_filename="/d/t.sqlite", sqlite_pragmas={"synchronous": "full"})
    joined = " ".join(server.command())
    assert "--sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=full" in joined
    memory = DevServer(port=1)
    assert "--sqlite-pragma" not in memory.command()  # nothing to tune in memory


def test_in_memory_server_has_no_db_flag_and_no_port_before_start() -> None:
    server = DevServer()
    with pytest.raises(DevServerError, match="start it first"):
        _ = server.address
    assert server.db_filename is None
    assert not server.running


def test_for_settings_keeps_state_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, temporal_namespace="ops")
    server = DevServer.for_settings(settings, port=7777)
    assert server.db_filename == tmp_path / "temporal.sqlite"
    assert server.log_path == tmp_path / "temporal.log"
    assert server.namespace == "ops"
    assert server.address == "127.0.0.1:7777"


def test_bad_dynamic_config_key_is_refused() -> None:
    with pytest.raises(ValueError, match="dynamic config key"):
        DevServer(dynamic_config={"a=b": 1})


def test_temporal_cli_is_found() -> None:
    assert os.access(find_temporal_cli(), os.X_OK)


async def test_bad_flag_fails_fast_with_the_cli_message(tmp_path: Path) -> None:
    server = DevServer(data_dir=tmp_path, extra_args=["--no-such-flag"])
    with pytest.raises(DevServerError) as excinfo:
        await asyncio.wait_for(server.start(), timeout=30)
    message = str(excinfo.value)
    assert "exited with code" in message
    assert "no-such-flag" in message  # the CLI's own words, from the log tail
    assert not server.running


async def test_server_that_never_answers_times_out_and_is_killed(tmp_path: Path) -> None:
    fake = tmp_path / "temporal"
    fake.write_text("#!/bin/sh\necho 'pretending to start'\nexec sleep 120\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    server = DevServer(data_dir=tmp_path, executable=fake, startup_timeout=1.5)
    with pytest.raises(DevServerError, match=r"did not answer .* within 1.5 s") as excinfo:
        await asyncio.wait_for(server.start(), timeout=30)
    assert "pretending to start" in str(excinfo.value)
    assert not server.running


# ------------------------------------------------------- session server


async def test_search_attributes_are_registered(client: Client) -> None:
    response = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    registered = {
        name: IndexedValueType.Name(kind) for name, kind in response.custom_attributes.items()
    }
    assert registered["SwitchyardWorkflow"] == "INDEXED_VALUE_TYPE_KEYWORD"
    assert registered["SwitchyardTrigger"] == "INDEXED_VALUE_TYPE_KEYWORD"
    assert registered["SwitchyardVersion"] == "INDEXED_VALUE_TYPE_INT"


async def test_workflow_and_activity_run_end_to_end(client: Client, task_queue: str) -> None:
    async with _worker(client, task_queue):
        result = await client.execute_workflow(
            GreetWorkflow.run,
            "Switchyard",
            id=f"greet-{uuid4()}",
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=60),
        )
    assert result == "Hello, Switchyard!"


def test_session_server_has_the_engine_history_limits(temporal_server: DevServer) -> None:
    assert temporal_server.dynamic_config["limit.historyCount.error"] == 2000
    assert temporal_server.dynamic_config["limit.historyCount.suggestContinueAsNew"] == 1000
    assert "limit.historyCount.error=2000" in temporal_server.log_path.read_text()


# --------------------------------------------------- own servers (durability)


async def test_run_survives_a_server_restart(tmp_path: Path) -> None:
    task_queue = f"test-{uuid4().hex[:8]}"
    async with DevServer(db_filename=tmp_path / "t.sqlite", data_dir=tmp_path) as server:
        address = server.address
        client = await server.client()
        async with _worker(client, task_queue):
            handle = await client.start_workflow(
                GreetWorkflow.run,
                args=["restart", True],
                id=f"greet-{uuid4()}",
                task_queue=task_queue,
            )
            await server.restart()
            assert server.address == address  # clients and workers keep their target
            # The same client and worker carry on against the restarted server.
            await handle.signal(GreetWorkflow.proceed)
            assert await asyncio.wait_for(handle.result(), timeout=120) == "Hello, restart!"
    assert not server.running
    assert "=== " in (tmp_path / "temporal.log").read_text()  # output went to the log file
    # The journal mode is stored in the file: the server really ran with a WAL.
    with sqlite3.connect(tmp_path / "t.sqlite") as check:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_run_survives_a_hard_kill(tmp_path: Path) -> None:
    task_queue = f"test-{uuid4().hex[:8]}"
    server = DevServer(db_filename=tmp_path / "t.sqlite", data_dir=tmp_path)
    await server.start()
    try:
        client = await server.client()
        handle = await client.start_workflow(
            GreetWorkflow.run, "kill", id=f"greet-{uuid4()}", task_queue=task_queue
        )
        pid = server.pid
        await server.kill()
        assert not server.running
        assert pid is not None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # reaped, not a zombie

        await server.start()
        client = await server.client()
        handle = client.get_workflow_handle(handle.id)
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        async with _worker(client, task_queue):
            assert await asyncio.wait_for(handle.result(), timeout=60) == "Hello, kill!"
    finally:
        await server.stop()


async def test_servers_run_side_by_side() -> None:
    servers = [DevServer(), DevServer()]
    try:
        await asyncio.gather(*(s.start() for s in servers))
        assert servers[0].address != servers[1].address
        for server in servers:
            client = await server.client()
            assert client.namespace == "default"
            await client.workflow_service.get_system_info(GetSystemInfoRequest())
    finally:
        await asyncio.gather(*(s.stop() for s in servers))
        for server in servers:
            server.cleanup()
    assert not any(s.running for s in servers)
