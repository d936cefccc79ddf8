"""Benchmark of the expression engine against a no-isolation baseline.

Run: uv run python bench/expressions.py

Engine as used: per run, a base Scope (inputs, a ~50 KB monitor event as
Trigger.event, run); per step, a Scope derived with the previous step's state
(`with_step`, the rest shared), then a handful of render/evaluate calls.
Baseline: `ctx.eval(expr)` in one long-lived context where the same data was
set once as globals (no isolation, no conversion of the result).
"""

from __future__ import annotations

import json
import random
import statistics
import string
import time
from typing import Any

import _quickjs

from switchyard.expressions import Scope, evaluate, render

RNG = random.Random(7)
N_EVALS = 10_000
STEPS = 20


def _word(n: int = 8) -> str:
    return "".join(RNG.choices(string.ascii_lowercase, k=n))


def monitor_event() -> dict[str, Any]:
    event = {
        "id": "evt-42",
        "source": "monitor",
        "title": "p99 latency above 800ms on api",
        "status": "alert",
        "severity": "critical",
        "tags": [f"{_word(5)}:{_word(6)}" for _ in range(60)] + ["team:sre", "env:prod"],
        "attributes": {
            f"attr_{i}": {
                "value": RNG.random() * 1000,
                "unit": "ms",
                "labels": [_word(), _word()],
                "host": {"name": f"host-{i}", "zone": _word(4), "ip": f"10.0.0.{i}"},
            }
            for i in range(120)
        },
        "occurred_at": "2024-01-02T10:00:00Z",
        "text": " ".join(_word(RNG.randint(3, 10)) for _ in range(4000)),
    }
    event["raw"] = {"alerts": [{"labels": {"alertname": "HighLatency", "i": i}} for i in range(20)]}
    return event


def step_state(i: int) -> dict[str, Any]:
    size = [1, 5, 50, 400][i % 4]
    items = [
        {"name": f"api-{k}", "status": "Running" if k % 3 else "CrashLoopBackOff", "node": _word()}
        for k in range(size)
    ]
    return {
        "status": "succeeded",
        "attempts": 1,
        "error": None,
        "started_at": "2024-01-02T10:00:00Z",
        "finished_at": "2024-01-02T10:00:01Z",
        "output": {"status": 200, "body": {"items": items, "count": size}},
    }


TEMPLATES = [
    ("render", "{{ Trigger.event.title }}"),
    ("render", "Alert {{ Trigger.event.title }} on {{ Inputs.service }}"),
    ("evaluate", "Trigger.event.tags.includes('team:sre')"),
    (
        "evaluate",
        "Steps.get_pods.output.body.items.filter(p => p.status != 'Running').map(p => p.name)",
    ),
    ("evaluate", "Inputs.limit > 5 && Steps.check.status == 'succeeded'"),
    ("render", "{{ Steps.s3.output }}"),
    ("evaluate", "Trigger.event.severity == 'critical' ? 'P1' : 'P3'"),
    (
        "render",
        "{{ Steps.s7.output.body.count }} pods in {{ Trigger.event.attributes.attr_3.host.zone }}",
    ),
    ("evaluate", "Steps.s1.output.body.items.length"),
    ("evaluate", "Object.keys(Trigger.event.attributes).length > 100"),
]


def engine_as_used() -> list[float]:
    times: list[float] = []
    event = monitor_event()
    steps_states = {"get_pods": step_state(3), "check": step_state(0)}
    steps_states.update({f"s{i}": step_state(i) for i in range(STEPS - 2)})
    ids = list(steps_states)
    k = 0
    while len(times) < N_EVALS:
        # a new run: fresh base scope (the event is converted again, as in production)
        scope = Scope(
            inputs={"service": "api", "limit": 10},
            trigger={"type": "monitor", "event": event},
            run={"id": f"run-{k}", "workflow": "heal", "version": 1},
            now_ms=1704189600000,
            seed=k,
            steps=steps_states,
        )
        for sid in ids:
            # the step just finished: a new state object for it, every other part shared
            scope = scope.with_step(sid, {**steps_states[sid], "attempts": 2})
            for _ in range(5):
                kind, src = TEMPLATES[k % len(TEMPLATES)]
                k += 1
                t = time.perf_counter()
                if kind == "render":
                    render(src, scope, step=sid, field="with.text")
                else:
                    evaluate(src, scope, step=sid, field="if")
                times.append(time.perf_counter() - t)
    return times[:N_EVALS]


def baseline() -> list[float]:
    ctx = _quickjs.Context()
    event = monitor_event()
    steps = {"get_pods": step_state(3), "check": step_state(0)}
    steps.update({f"s{i}": step_state(i) for i in range(STEPS - 2)})
    ctx.set("Trigger", ctx.parse_json(json.dumps({"type": "monitor", "event": event})))
    ctx.set("Steps", ctx.parse_json(json.dumps(steps)))
    ctx.set("Inputs", ctx.parse_json(json.dumps({"service": "api", "limit": 10})))
    srcs = []
    for kind, src in TEMPLATES:
        if kind == "render" and src.startswith("{{") and src.count("{{") == 1:
            srcs.append(src[2:-2])
        elif kind == "render":
            srcs.append("`" + src.replace("{{", "${").replace("}}", "}") + "`")
        else:
            srcs.append(src)
    times = []
    for k in range(N_EVALS):
        src = srcs[k % len(srcs)]
        t = time.perf_counter()
        r = ctx.eval(src)
        if isinstance(r, _quickjs.Object):
            json.loads(r.json())
        times.append(time.perf_counter() - t)
    return times


def fresh_context(n: int = 300) -> list[float]:
    event = monitor_event()
    trig = json.dumps({"type": "monitor", "event": event})
    times = []
    for _ in range(n):
        t = time.perf_counter()
        ctx = _quickjs.Context()
        ctx.set("Trigger", ctx.parse_json(trig))
        ctx.eval("Trigger.event.tags.includes('team:sre')")
        del ctx
        times.append(time.perf_counter() - t)
    return times


def stats(name: str, times: list[float]) -> float:
    us = sorted(x * 1e6 for x in times)
    med = statistics.median(us)
    p99 = us[int(len(us) * 0.99) - 1]
    print(
        f"{name:<34} median {med:8.1f} us   p99 {p99:9.1f} us   mean {statistics.fmean(us):8.1f} us"
    )
    return med


def main() -> None:
    print(
        f"Trigger.event: {len(json.dumps(monitor_event())) / 1024:.0f} KB of JSON; "
        f"{STEPS} steps; {N_EVALS} evaluations (5 per step, a new run every {STEPS} steps)"
    )
    engine_as_used()  # warm-up (per-thread context, compile cache)
    e = stats("engine as used (isolated)", engine_as_used())
    b = stats("baseline ctx.eval, shared globals", baseline())
    f = stats("fresh context per evaluation", fresh_context())
    print(f"ratio engine/baseline: {e / b:.2f}x   fresh-context/engine: {f / e:.1f}x")


if __name__ == "__main__":
    main()
