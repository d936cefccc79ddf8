"""A generated 200-step definition: splits, merges, branches, a loop, error edges."""

from __future__ import annotations

from typing import Any

import yaml


def big_definition(name: str = "ui-big", stages: int = 36, body: int = 19) -> dict[str, Any]:
    """`stages` x (split, 3 branches, merge) then a `for_each` of `body` chained steps.

    36 * 5 + 1 + 19 = 200 steps. Every 4th split is an `if` (a dead branch and
    a merge that must not wait for it); every branch `c` falls back with
    `on_error` to its merge.
    """
    steps: list[dict[str, Any]] = []
    for i in range(stages):
        split, merge = f"s{i}_split", f"s{i}_merge"
        branches = [f"s{i}_a", f"s{i}_b", f"s{i}_c"]
        if i % 4 == 3:
            steps.append(
                {
                    "id": split,
                    "if": f"Inputs.flag || {i} % 2 == 0",
                    "then": branches[:2],
                    "else": branches[2],
                }
            )
        else:
            steps.append({"id": split, "transform": str(i), "next": branches})
        for b in branches:
            step: dict[str, Any] = {
                "id": b,
                "action": "core.echo",
                "with": {"stage": i},
                "next": merge,
            }
            if b.endswith("_c"):
                step["on_error"] = merge
            steps.append(step)
        follow = f"s{i + 1}_split" if i + 1 < stages else "loop"
        steps.append({"id": merge, "transform": f"'stage {i}'", "next": follow})
    inner = [
        {
            "id": f"body_{j}",
            "transform": f"Item + {j}",
            **({"next": f"body_{j + 1}"} if j + 1 < body else {}),
        }
        for j in range(body)
    ]
    steps.append({"id": "loop", "for_each": "[1, 2, 3]", "do": inner})
    return {"name": name, "description": "200 generated steps", "steps": steps}


def big_yaml(name: str = "ui-big") -> str:
    return yaml.safe_dump(big_definition(name), sort_keys=False)
