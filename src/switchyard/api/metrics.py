"""Prometheus metrics: `GET /metrics` (text format), one registry per app.

- `switchyard_runs_started_total{workflow, trigger}` and
  `switchyard_runs_finished_total{workflow, status}`;
- `switchyard_step_duration_seconds{type, status}`: steps of finished runs,
  from the recorder's final snapshots (`type` is the action type of an
  action step, else the step kind), loop iterations included;
- `switchyard_events_ingested_total{source}` and
  `switchyard_events_matched_total{workflow}` (the trigger dispatcher calls
  `count_event_ingested` / `count_event_matched`);
- the recorder's lag: `switchyard_recorder_lag_seconds` (close of a run to
  its final snapshot), `switchyard_recorder_sweep_seconds`,
  `switchyard_recorder_backlog`, `switchyard_runs_live`;
- Temporal's task-queue backlog (`switchyard_task_queue_backlog{type}`,
  `switchyard_task_queue_backlog_age_seconds{type}`), read at scrape time.

`/metrics` takes no token (like `/api/v1/health`): scrapers rarely carry
one; it shows workflow names and counts, never inputs or outputs.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from switchyard.api.app import AppState
from switchyard.api.deps import StateDep

__all__ = [
    "Metrics",
    "count_event_ingested",
    "count_event_matched",
    "count_run_started",
    "metrics_of",
    "router",
]

router = APIRouter(tags=["metrics"])

_DURATIONS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 86400)
#: Step observations per run (a loop over many items must not stall the recorder).
MAX_STEP_SAMPLES = 10_000


class Metrics:
    """The app's metrics, in their own registry."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.runs_started = Counter(
            "switchyard_runs_started", "Runs started", ["workflow", "trigger"], registry=r
        )
        self.runs_finished = Counter(
            "switchyard_runs_finished", "Runs finished", ["workflow", "status"], registry=r
        )
        self.step_duration = Histogram(
            "switchyard_step_duration_seconds",
            "Durations of the steps of finished runs",
            ["type", "status"],
            buckets=_DURATIONS,
            registry=r,
        )
        self.events_ingested = Counter(
            "switchyard_events_ingested", "Events ingested", ["source"], registry=r
        )
        self.events_matched = Counter(
            "switchyard_events_matched", "Events that matched a workflow", ["workflow"], registry=r
        )
        self.recorder_lag = Histogram(
            "switchyard_recorder_lag_seconds",
            "Delay from a run's close to its final snapshot in the event store",
            buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
            registry=r,
        )
        self.recorder_sweep = Histogram(
            "switchyard_recorder_sweep_seconds",
            "Duration of the run recorder's sweeps",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.recorder_backlog = Gauge(
            "switchyard_recorder_backlog",
            "Runs the last sweep left for later (closed not yet recorded, live not read)",
            registry=r,
        )
        self.runs_live = Gauge("switchyard_runs_live", "Runs running (last sweep)", registry=r)
        self.queue_backlog = Gauge(
            "switchyard_task_queue_backlog",
            "Tasks waiting in the engine's task queue",
            ["type"],
            registry=r,
        )
        self.queue_backlog_age = Gauge(
            "switchyard_task_queue_backlog_age_seconds",
            "Age of the oldest task waiting in the engine's task queue",
            ["type"],
            registry=r,
        )

    # ------------------------------------------------------------ the recorder's hooks

    def run_started(self, run: dict[str, Any]) -> None:
        trigger = (run.get("trigger") or {}).get("type") or "manual"
        self.runs_started.labels(str(run.get("workflow")), str(trigger)).inc()

    def run_finished(self, run: dict[str, Any], kinds: dict[str, Any]) -> None:
        self.runs_finished.labels(str(run.get("workflow")), str(run.get("status"))).inc()
        budget = [MAX_STEP_SAMPLES]
        self._steps(run.get("steps") or {}, kinds, budget)

    def _steps(self, steps: dict[str, Any], kinds: dict[str, Any], budget: list[int]) -> None:
        for sid, st in steps.items():
            if budget[0] <= 0:
                return
            kind = kinds.get(sid) or {}
            seconds = _seconds(st.get("started_at"), st.get("finished_at"))
            if seconds is not None and not st.get("reused") and st.get("status"):
                budget[0] -= 1
                label = kind.get("action") or "unknown"
                self.step_duration.labels(label, st["status"]).observe(seconds)
            for it in st.get("iterations") or []:
                self._steps(it.get("steps") or {}, kind.get("do") or {}, budget)

    def swept(self, stats: Any) -> None:
        if not stats.leader:
            return
        for lag in stats.lags:
            self.recorder_lag.observe(lag)
        self.recorder_sweep.observe(stats.duration)
        self.recorder_backlog.set(stats.backlog)
        self.runs_live.set(stats.live)

    # ------------------------------------------------------------ Temporal's backlog

    async def refresh_queue(self, client: Any, namespace: str, task_queue: str) -> None:
        """Read the task queue's backlog from Temporal (quietly nothing when it can't)."""
        from temporalio.api.enums.v1 import DescribeTaskQueueMode, TaskQueueType
        from temporalio.api.taskqueue.v1 import TaskQueue
        from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

        request = DescribeTaskQueueRequest(
            namespace=namespace,
            task_queue=TaskQueue(name=task_queue),
            api_mode=DescribeTaskQueueMode.DESCRIBE_TASK_QUEUE_MODE_ENHANCED,
            report_stats=True,
        )
        names = {
            TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW: "workflow",
            TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY: "activity",
        }
        with contextlib.suppress(Exception):
            reply = await asyncio.wait_for(client.workflow_service.describe_task_queue(request), 2)
            counts = dict.fromkeys(names.values(), 0)
            ages = dict.fromkeys(names.values(), 0.0)
            for info in reply.versions_info.values():
                for kind, typed in info.types_info.items():
                    name = names.get(kind)  # type: ignore[call-overload]
                    if name is None:
                        continue
                    stats = typed.stats
                    counts[name] += int(stats.approximate_backlog_count)
                    age = stats.approximate_backlog_age.ToTimedelta().total_seconds()
                    ages[name] = max(ages[name], age)
            for name in names.values():
                self.queue_backlog.labels(name).set(counts[name])
                self.queue_backlog_age.labels(name).set(ages[name])


def _seconds(start: Any, end: Any) -> float | None:
    if not start or not end:
        return None
    try:
        a = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        b = datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    except ValueError:
        return None
    return max((b - a).total_seconds(), 0.0)


def metrics_of(state: AppState) -> Metrics:
    """The app's metrics (created on first use)."""
    found = state.extras.get("metrics")
    if found is None:
        found = state.extras["metrics"] = Metrics()
    return found  # type: ignore[no-any-return]


def count_run_started(state: AppState, workflow: str, trigger: str) -> None:
    """Count a run started by the API or a trigger (the recorder counts the ones it discovers)."""
    metrics_of(state).runs_started.labels(workflow, trigger).inc()


def count_event_ingested(state: AppState, source: str, count: int = 1) -> None:
    """Count events taken in (by their `source`: `monitor`, `security_signal`, ...)."""
    metrics_of(state).events_ingested.labels(source).inc(count)


def count_event_matched(state: AppState, workflow: str, count: int = 1) -> None:
    """Count events that matched a workflow's trigger."""
    metrics_of(state).events_matched.labels(workflow).inc(count)


@router.get("/metrics", include_in_schema=False)
async def metrics(state: StateDep) -> Response:
    """The metrics in Prometheus' text format."""
    found = metrics_of(state)
    if state.temporal is not None:
        await found.refresh_queue(
            state.temporal, state.temporal.namespace, state.settings.task_queue
        )
    return Response(generate_latest(found.registry), media_type=CONTENT_TYPE_LATEST)
