"""Private action runners: activity-only workers inside a customer's network.

A step with `runner: <name>` runs its action on the task queue
`switchyard-runner-<name>` (`engine.types.runner_queue`). A runner polls that
queue and nothing else: it runs no workflow code, only the actions its
allow-list names (`fnmatch` patterns such as `http.*`), with the connections
of its own store (its data directory, never the control plane's). Any other
action fails with `PermissionDenied`, never retried. It needs to reach
Temporal only (outbound), not the API or the database.

Outputs travel back inline in the activity result: the runner's disk is not
the engine's, so no step output is put in a blob store there (Temporal's
payload limit, 2 MB by default, applies).

Liveness is what Temporal knows: the pollers of the runner's queue and when
each last polled (`runner_status`, `GET /api/v1/runners`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from switchyard.control.timestamps import iso, now
from switchyard.definition.model import RUNNER_NAME_PATTERN
from switchyard.engine.types import runner_queue

__all__ = ["NAME_RE", "ONLINE_WITHIN", "build_runner", "runner_queue", "runner_status"]

#: A runner's name (it becomes part of a task-queue name), as definitions check it.
NAME_RE = re.compile(RUNNER_NAME_PATTERN)

#: A runner is online when one of its pollers polled this recently. Idle pollers
#: long-poll for about a minute, then poll again.
ONLINE_WITHIN = timedelta(seconds=120)


def build_runner(
    client: Any,
    name: str,
    *,
    allow: Sequence[str],
    data_dir: Path,
    max_concurrent_activities: int = 50,
) -> Any:
    """An activity-only worker for runner `name` (use it as an async context manager).

    Raises:
        ValueError: the name is not a runner name, or the allow-list is empty.
    """
    from temporalio.worker import Worker

    from switchyard.actions import load_plugins
    from switchyard.connections import LocalConnectionStore, StoreConnections
    from switchyard.engine.activities import ActionActivities
    from switchyard.engine.blobs import BlobStore

    if not NAME_RE.match(name):
        raise ValueError(f"runner name {name!r} must match {NAME_RE.pattern}")
    if not allow:
        raise ValueError("a runner needs an allow-list: at least one action pattern")
    load_plugins()
    connections = StoreConnections(LocalConnectionStore(data_dir))
    # No blob store: the engine could not read a blob written on this machine.
    inline = BlobStore(data_dir / "blobs", threshold=sys.maxsize)
    actions = ActionActivities(connections, inline, allow=allow)
    return Worker(
        client,
        task_queue=runner_queue(name),
        activities=[actions.run_action],
        max_concurrent_activities=max_concurrent_activities,
    )


async def runner_status(client: Any, name: str, *, at: datetime | None = None) -> dict[str, Any]:
    """`{name, task_queue, online, last_seen, pollers: [{identity, last_seen}]}` from Temporal."""
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    queue = runner_queue(name)
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        )
    )
    pollers = []
    for poller in answer.pollers:
        seen = (
            poller.last_access_time.ToDatetime(UTC) if poller.HasField("last_access_time") else None
        )
        pollers.append({"identity": poller.identity, "last_seen": seen})
    pollers.sort(key=lambda p: p["last_seen"] or datetime.min.replace(tzinfo=UTC), reverse=True)
    last = pollers[0]["last_seen"] if pollers else None
    current = at or now()
    return {
        "name": name,
        "task_queue": queue,
        "online": last is not None and current - last <= ONLINE_WITHIN,
        "last_seen": iso(last),
        "pollers": [{"identity": p["identity"], "last_seen": iso(p["last_seen"])} for p in pollers],
    }
