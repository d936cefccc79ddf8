"""Replay the committed corpus of recorded histories against the current interpreter.

A change to the interpreter that is not guarded (docs/engine.md, "Changing the
interpreter") makes a recorded history non-deterministic and fails here.
Refresh the corpus with `make replay-record` after a deliberate, guarded change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from switchyard.definition.model import KIND_KEYS
from switchyard.engine.converter import DATA_CONVERTER
from switchyard.engine.worker import WORKFLOWS, workflow_runner

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def _load(path: Path) -> WorkflowHistory:
    data = json.loads(path.read_text())
    return WorkflowHistory.from_json(data.pop("workflow_id"), data)


def _kinds(steps: list[dict[str, Any]]) -> set[str]:
    found = set()
    for step in steps:
        found |= {k for k in KIND_KEYS if k in step}
        found |= _kinds(step.get("do", []))
    return found


def test_corpus_covers_every_step_kind() -> None:
    assert len(HISTORIES) >= 20, "record the corpus: make replay-record"
    kinds: set[str] = set()
    for path in HISTORIES:
        started = _load(path).events[0].workflow_execution_started_event_attributes
        arg = json.loads(started.input.payloads[0].data)
        if "definition" in arg:
            kinds |= _kinds(arg["definition"]["steps"])
        else:
            kinds |= _kinds([arg["step"]])
    assert kinds == set(KIND_KEYS), set(KIND_KEYS) - kinds


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_replay(path: Path) -> None:
    replayer = Replayer(
        workflows=WORKFLOWS, workflow_runner=workflow_runner(), data_converter=DATA_CONVERTER
    )
    result = await replayer.replay_workflow(_load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
