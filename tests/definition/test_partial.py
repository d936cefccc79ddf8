"""One validation reports every problem, even when some steps do not fit their kind."""

from __future__ import annotations

import textwrap

from switchyard.definition.validate import validate_text

DOC = textwrap.dedent(
    """
    name: partly-broken
    steps:
      - id: a
        transform: "1"
        next: [b, broken]
      - id: b
        transform: "1"
        next: notfy
      - id: broken
        set: {x: 1}
        transform: "2"
        next: c
      - id: c
        sleep: 5x
    """
)


def test_graph_problems_are_reported_next_to_broken_steps() -> None:
    wf, problems = validate_text(DOC)
    assert wf is None
    found = {(p.location, p.code) for p in problems}
    assert ("steps[2]", "kind-multiple") in found
    assert ("steps[1].next", "unknown-step") in found  # checked despite the broken step
    assert ("steps[3].sleep", "bad-duration") in found
    # c is reached only through the broken step: its stand-in keeps the edge
    assert not [p for p in problems if p.code == "unreachable"]
    # nothing is reported about the stand-in itself
    assert [p.location for p in problems if p.location.startswith("steps[2]")] == ["steps[2]"]
