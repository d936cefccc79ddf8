"""Where the table modules are: importing them registers their tables on `Base`.

Each feature keeps its tables next to its code (`control/workflows.py`,
`control/auth.py`, `control/runs.py`, ...). Alembic's env and the tests call
`load_models()` so that `Base.metadata` knows every table.
"""

from __future__ import annotations

import importlib

#: The modules defining tables, in dependency order.
MODEL_MODULES: tuple[str, ...] = (
    "switchyard.control.auth",
    "switchyard.control.workflows",
    "switchyard.control.audit",
    "switchyard.control.connections",
    "switchyard.control.runs",
    "switchyard.control.events",
)


def load_models() -> None:
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a feature not written yet
            if exc.name != name:
                raise
