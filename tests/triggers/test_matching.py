"""Matching events to published workflows, with reasons for those not started."""

from __future__ import annotations

import textwrap

from switchyard.definition.validate import validate_text
from switchyard.triggers.events import parse_events
from switchyard.triggers.matching import Candidate, decide

SRE = """
name: heal-{n}
inputs:
  service: {{type: string, required: true}}
  level: {{type: integer, default: 1}}
triggers:
  - monitor:
      match: "Trigger.event.status == 'alert' && Trigger.event.tags.includes('team:sre')"
      rate_limit: {{count: 2, per: 1h}}
    inputs:
      service: "{{{{ Trigger.event.attributes.service }}}}"
steps:
  - id: s
    transform: "Inputs.service"
"""

SECURITY = """
name: contain
inputs:
  host: {type: string, required: true}
triggers:
  - id: severe
    security_signal:
      match: "['high', 'critical'].includes(Trigger.event.severity)"
    inputs:
      host: "{{ Trigger.event.attributes.host }}"
steps:
  - id: s
    transform: "Inputs.host"
"""

BROKEN_INPUTS = """
name: needs-number
inputs:
  n: {type: integer, required: true}
triggers:
  - monitor: {match: "true"}
    inputs: {n: "{{ Trigger.event.title }}"}
steps:
  - id: s
    transform: "1"
"""

THROWS = """
name: throws
triggers:
  - monitor: {match: "Trigger.event.attributes.missing.deeper == 1"}
steps:
  - id: s
    transform: "1"
"""


def wf(text: str, n: int = 0):
    parsed, problems = validate_text(textwrap.dedent(text.format(n=n) if "{n}" in text else text))
    assert parsed is not None, problems
    return Candidate(parsed, 3)


def event(**fields):
    [e] = parse_events({"id": "e1", "title": "t", **fields})
    return e


def always(*_: object) -> bool:
    return True


def test_a_matching_monitor_event_templated_inputs() -> None:
    ev = event(tags=["team:sre"], attributes={"service": "checkout"})
    [d] = decide(ev, [wf(SRE)], always)
    assert d.matched and d.trigger == "monitor"
    assert d.inputs == {"service": "checkout", "level": 1}
    assert d.version == 3


def test_reasons_for_each_workflow_that_does_not_start() -> None:
    ev = event(tags=["team:web"], attributes={"service": "x"})
    decisions = decide(ev, [wf(SRE), wf(SECURITY), wf(THROWS)], always)
    by = {d.workflow: d for d in decisions}
    assert not any(d.matched for d in decisions)
    assert by["heal-0"].reason.startswith("match is false")
    assert by["contain"].reason == "event source 'monitor' is not 'security_signal'"
    assert by["throws"].reason.startswith("match expression failed")
    assert "missing" in by["throws"].reason


def test_inputs_mismatch_is_a_reason_not_a_crash() -> None:
    [d] = decide(event(title="not a number"), [wf(BROKEN_INPUTS)], always)
    assert not d.matched
    assert d.reason.startswith("inputs do not fit the workflow: inputs.n")


def test_rate_limit_is_consulted_with_the_trigger_limits() -> None:
    calls = []

    def full(workflow: str, trigger: str, count: int, per: float) -> bool:
        calls.append((workflow, trigger, count, per))
        return False

    ev = event(tags=["team:sre"], attributes={"service": "a"})
    [d] = decide(ev, [wf(SRE)], full)
    assert not d.matched and d.reason == "rate limit reached: 2 runs per 3600s"
    assert calls == [("heal-0", "monitor", 2, 3600.0)]


def test_security_signal() -> None:
    ev = event(source="security_signal", severity="Critical", attributes={"host": "i-0abc"})
    [d] = decide(ev, [wf(SECURITY)], always)
    assert d.matched and d.trigger == "severe" and d.inputs == {"host": "i-0abc"}
