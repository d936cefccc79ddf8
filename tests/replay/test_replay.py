"""Replay the committed corpus of recorded histories against the current interpreter.

A change to the interpreter that is not guarded (docs/engine.md, "Changing the
interpreter") makes a recorded history non-deterministic and fails here.
Refresh the corpus with `make replay-record` after a deliberate, guarded change.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from switchyard.engine.worker import WORKFLOWS, workflow_runner

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_corpus_covers_every_step_kind() -> None:
    kinds = set()
    for path in HISTORIES:
        text = path.read_text()
        for kind in (
            "action",
            "if",
            "switch",
            "for_each",
            "while",
            "transform",
            "script",
            "set",
            "sleep",
            "approval",
            "call",
            "fail",
        ):
            if f'"{kind}"' in text or f'\\"{kind}\\"' in text:
                kinds.add(kind)
    assert len(HISTORIES) >= 20, "record the corpus: make replay-record"
    assert kinds >= {
        "action",
        "if",
        "switch",
        "for_each",
        "while",
        "transform",
        "script",
        "set",
        "sleep",
        "approval",
        "call",
        "fail",
    }


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_replay(path: Path) -> None:
    data = json.loads(path.read_text())
    history = WorkflowHistory.from_json(path.stem, data)
    replayer = Replayer(workflows=WORKFLOWS, workflow_runner=workflow_runner())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
