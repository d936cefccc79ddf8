"""Feature flags, resolved before a run is submitted.

The resolved flags travel in the workflow input (`RunInput.flags`): replay and
continue-as-new see the values the run started with, never a flag service.
Flags come from `SWITCHYARD_FLAG_<NAME>` environment variables (JSON values,
else strings) over the defaults below.
"""

from __future__ import annotations

import json
import os
from typing import Any

DEFAULTS: dict[str, Any] = {
    # Continue as new past this many events even when the server does not suggest it.
    "history_budget": 10_000,
    # Items a leaf `for_each` range runs itself, and child ranges per split.
    "loop_leaf_size": 100,
    "loop_fanout": 20,
    # Activities in flight per workflow execution (Temporal refuses more than 2,000).
    "max_inflight_activities": 100,
}


def resolve_flags(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The flags for a new run: defaults, then the environment, then `overrides`."""
    flags = dict(DEFAULTS)
    for key, raw in os.environ.items():
        if key.startswith("SWITCHYARD_FLAG_"):
            name = key.removeprefix("SWITCHYARD_FLAG_").lower()
            try:
                flags[name] = json.loads(raw)
            except ValueError:
                flags[name] = raw
    flags.update(overrides or {})
    return flags
