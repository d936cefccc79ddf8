"""The code that runs as workflow code reads no clock, randomness, environment or file.

Workers run workflows without the SDK's sandbox (`engine/worker.py` says why):
this scan is the static half of the determinism guard, the replay corpus
(`tests/replay/`) the dynamic half. The modules scanned are those importing
the interpreter loads, minus the few whose code runs only outside workflow
code (listed below with the reason).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import switchyard

ROOT = Path(switchyard.__file__).parent

#: Loaded with the interpreter, but their code runs outside workflow code.
OUTSIDE = {
    "switchyard.engine.activities": "activity implementations, run by the activity worker",
    "switchyard.engine.blobs": "content-addressed reads: the key is the content's hash",
    "switchyard.actions.sdk": "the action registry, filled at worker start-up",
    "switchyard.connections": "connection types, resolved inside activities",
}

#: `module.attribute` reads that differ between a run and its replay.
FORBIDDEN_ATTRS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "perf_counter"),
    ("time", "sleep"),
    ("uuid", "uuid1"),
    ("uuid", "uuid4"),
    ("os", "environ"),
    ("os", "getenv"),
    ("os", "urandom"),
}
FORBIDDEN_MODULES = {"random", "secrets", "time"}
FORBIDDEN_CALLS = {"open", "input", "hash"}


def workflow_modules() -> list[str]:
    code = (
        "import sys, switchyard.engine.workflows\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('switchyard')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return sorted(set(out.stdout.split()) - set(OUTSIDE))


def problems_in(source: str, name: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in FORBIDDEN_ATTRS:
                found.append(f"{where}: {node.value.id}.{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in FORBIDDEN_CALLS:
                found.append(f"{where}: {node.func.id}()")
        elif isinstance(node, ast.Import):
            found += [
                f"{where}: import {a.name}"
                for a in node.names
                if a.name.split(".")[0] in FORBIDDEN_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and node.module in FORBIDDEN_MODULES:
            found.append(f"{where}: from {node.module} import ...")
    return found


def source_of(module: str) -> Path:
    path = ROOT.joinpath(*module.split(".")[1:])
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def test_the_workflow_side_modules_are_found() -> None:
    modules = workflow_modules()
    for expected in (
        "switchyard.engine.workflows",
        "switchyard.engine.interpreter",
        "switchyard.engine.dag",
        "switchyard.expressions._engine",
        "switchyard.definition.model",
    ):
        assert expected in modules
    assert all(source_of(m).is_file() for m in modules)


def test_workflow_code_reads_no_clock_randomness_environment_or_file() -> None:
    found = [p for m in workflow_modules() for p in problems_in(source_of(m).read_text(), m)]
    assert found == []


def test_the_scan_catches_each_kind_of_read() -> None:
    source = (
        "import random\nfrom time import monotonic\nimport os, datetime\n"
        "def f():\n"
        "    a = datetime.now()\n    b = os.environ['X']\n    c = open('f')\n    d = hash('x')\n"
    )
    found = sorted(problems_in(source, "m"))
    assert found == [
        "m:1: import random",
        "m:2: from time import ...",
        "m:5: datetime.now",
        "m:6: os.environ",
        "m:7: open()",
        "m:8: hash()",
    ]
