"""Which workflows an event starts, and why the others do not.

For each published workflow, its `monitor` / `security_signal` triggers are
tried in order; the first that fits decides, so an event starts at most one
run per workflow. A trigger fits when the event's `source` is the trigger's
kind, its `match` expression is true, its rate limit has room, and its
`inputs` (templated from `Trigger`) satisfy the workflow's declaration.
Every workflow that does not start a run gets a reason, kept on the event
(`GET /api/v1/events/{id}`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from switchyard.definition.inputs import validate_inputs
from switchyard.definition.model import (
    MonitorTrigger,
    SecuritySignalTrigger,
    Workflow,
    trigger_kind,
)
from switchyard.definition.triggers import trigger_ids
from switchyard.expressions import ExpressionError, Scope, evaluate, render
from switchyard.triggers.events import Event

__all__ = [
    "Candidate",
    "Decision",
    "RateCheck",
    "decide",
    "decide_webhook",
    "trigger_scope",
]

#: `rate_ok(workflow, trigger_id, count, per_seconds)`: room for one more run?
RateCheck = Callable[[str, str, int, float], bool]


@dataclass
class Candidate:
    """A published workflow version that events may start."""

    workflow: Workflow
    version: int


@dataclass
class Decision:
    """What one event does to one workflow."""

    workflow: str
    version: int
    matched: bool
    trigger: str | None = None
    reason: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    #: Per trigger tried: `{trigger, result}`; shown on the event.
    tried: list[dict[str, str]] = field(default_factory=list)
    #: The workflow's definition (to start the run with).
    definition: Workflow | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "version": self.version,
            "matched": self.matched,
            "trigger": self.trigger,
            "reason": self.reason,
            "tried": self.tried,
        }


def trigger_scope(kind: str, trigger_id: str, event: dict[str, Any]) -> Scope:
    """The scope of `match` and trigger `inputs`: `Trigger = {type, id, event}`."""
    seed = int.from_bytes(hashlib.sha256(str(event.get("id", "")).encode()).digest()[:4], "big")
    return Scope(trigger={"type": kind, "id": trigger_id, "event": event}, seed=seed)


def _try(
    wf: Workflow,
    trigger: MonitorTrigger | SecuritySignalTrigger,
    kind: str,
    tid: str,
    event: Event,
    data: dict[str, Any],
    rate_ok: RateCheck,
) -> tuple[bool, str, dict[str, Any]]:
    """(fits, reason when not, inputs when it does) for one trigger."""
    spec = trigger.monitor if isinstance(trigger, MonitorTrigger) else trigger.security_signal
    if event.source != kind:
        return False, f"event source {event.source!r} is not {kind!r}", {}
    scope = trigger_scope(kind, tid, data)
    try:
        matched = evaluate(spec.match, scope, field=f"triggers.{tid}.match")
    except ExpressionError as exc:
        return False, f"match expression failed: {exc}", {}
    if not matched:
        return False, f"match is false: {spec.match}", {}
    try:
        rendered = render(trigger.inputs, scope, field=f"triggers.{tid}.inputs")
    except ExpressionError as exc:
        return False, f"inputs could not be computed: {exc}", {}
    inputs, problems = validate_inputs(wf, dict(rendered))
    if problems:
        text = "; ".join(f"{p.location}: {p.message}" for p in problems)
        return False, f"inputs do not fit the workflow: {text}", {}
    limit = spec.rate_limit
    if limit is not None and not rate_ok(wf.name, tid, limit.count, float(limit.per)):
        return False, f"rate limit reached: {limit.count} runs per {limit.per:g}s", {}
    return True, "", inputs


def decide_webhook(delivery: dict[str, Any], cand: Candidate, trigger_id: str) -> Decision:
    """A webhook delivery (`{headers, query, body}`) for one workflow's webhook trigger.

    The signature was checked already; what is left to decide is whether
    the trigger's inputs, templated from `Trigger.event`, fit the workflow.
    """
    wf = cand.workflow
    decision = Decision(
        workflow=wf.name, version=cand.version, matched=False, definition=wf, trigger=trigger_id
    )
    ids = trigger_ids(wf)
    trigger = next((t for t, tid in zip(wf.triggers, ids, strict=True) if tid == trigger_id), None)
    if trigger is None or trigger_kind(trigger) != "webhook":
        decision.reason = f"the published version has no webhook trigger {trigger_id!r}"
        return decision
    scope = trigger_scope("webhook", trigger_id, delivery)
    try:
        rendered = render(trigger.inputs, scope, field=f"triggers.{trigger_id}.inputs")
    except ExpressionError as exc:
        decision.reason = f"inputs could not be computed: {exc}"
        return decision
    inputs, problems = validate_inputs(wf, dict(rendered))
    if problems:
        text = "; ".join(f"{p.location}: {p.message}" for p in problems)
        decision.reason = f"inputs do not fit the workflow: {text}"
        return decision
    decision.matched, decision.inputs = True, inputs
    decision.tried.append({"trigger": trigger_id, "result": "matched"})
    return decision


def decide(event: Event, candidates: Iterable[Candidate], rate_ok: RateCheck) -> list[Decision]:
    """One decision per candidate workflow, in the order given."""
    data = event.to_trigger()
    out: list[Decision] = []
    for cand in candidates:
        wf = cand.workflow
        decision = Decision(workflow=wf.name, version=cand.version, matched=False, definition=wf)
        ids = trigger_ids(wf)
        event_triggers = [
            (t, tid)
            for t, tid in zip(wf.triggers, ids, strict=True)
            if isinstance(t, MonitorTrigger | SecuritySignalTrigger)
        ]
        if not event_triggers:
            decision.reason = "no monitor or security_signal trigger"
            out.append(decision)
            continue
        for trigger, tid in event_triggers:
            kind = trigger_kind(trigger)
            fits, reason, inputs = _try(wf, trigger, kind, tid, event, data, rate_ok)
            decision.tried.append({"trigger": tid, "result": "matched" if fits else reason})
            if fits:
                decision.matched, decision.trigger, decision.inputs = True, tid, inputs
                decision.reason = ""
                break
            decision.reason = reason if len(event_triggers) == 1 else "no trigger matched"
        out.append(decision)
    return out
