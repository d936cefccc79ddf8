"""Graph helpers over one scope of steps (the top level, or one loop's `do:`).

Edges are `step_targets(step)`: `next`, the branches of `if`/`switch`/`approval`
and the `on_error` fallback. Targets that are not ids of the scope are ignored
here (validation reports them). Everything is iterative: a definition with
thousands of chained steps must not hit the recursion limit.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence

from switchyard.definition.model import StepBase, step_targets


def successors(steps: Sequence[StepBase]) -> dict[str, list[str]]:
    """Each step id -> the ids it has an edge to, in the scope, in edge order."""
    ids = {s.id for s in steps}
    out: dict[str, list[str]] = {s.id: [] for s in steps}
    for step in steps:
        out[step.id] += [t for t in step_targets(step) if t in ids and t not in out[step.id]]
    return out


def predecessors(steps: Sequence[StepBase]) -> dict[str, list[str]]:
    """Each step id -> the ids with an edge to it, in step order (every id is a key)."""
    out: dict[str, list[str]] = {s.id: [] for s in steps}
    for source, targets in successors(steps).items():
        for target in targets:
            if source not in out[target]:
                out[target].append(source)
    return out


def _closure(edges: dict[str, list[str]], roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    stack = [r for r in roots if r in edges]
    while stack:
        node = stack.pop()
        for nxt in edges[node]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def ancestors(steps: Sequence[StepBase], step_id: str) -> set[str]:
    """Ids from which `step_id` can be reached (itself only when on a cycle)."""
    return _closure(predecessors(steps), [step_id])


def all_ancestors(steps: Sequence[StepBase]) -> dict[str, set[str]]:
    """`ancestors` of every step at once (one predecessor map)."""
    preds = predecessors(steps)
    return {s.id: _closure(preds, [s.id]) for s in steps}


def reachable(steps: Sequence[StepBase], roots: Iterable[str]) -> set[str]:
    """Ids reachable from `roots`, the roots included."""
    roots = [r for r in roots if r in {s.id for s in steps}]
    return set(roots) | _closure(successors(steps), roots)


def find_cycles(steps: Sequence[StepBase]) -> list[list[str]]:
    """One cycle per strongly connected component that has one, in step order.

    Each cycle is a list of ids `[a, b, c]` meaning `a -> b -> c -> a`.
    """
    succ = successors(steps)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    counter = 0
    for root in succ:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:  # iterative Tarjan
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for j in range(i, len(succ[node])):
                nxt = succ[node][j]
                if nxt not in index:
                    work.append((node, j + 1))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in succ[node]:
                    components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    order = {s.id: n for n, s in enumerate(steps)}
    cycles = [_cycle_in(succ, comp, min(comp, key=order.__getitem__)) for comp in components]
    return sorted(cycles, key=lambda c: order[c[0]])


def _cycle_in(succ: dict[str, list[str]], component: set[str], start: str) -> list[str]:
    """A shortest cycle through `start` inside one strongly connected component (BFS)."""
    parent: dict[str, str] = {}
    queue = [start]
    for node in queue:
        for nxt in succ[node]:
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return path[::-1]
            if nxt in component and nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return [start]  # pragma: no cover - a component always has a cycle through each member


def find_cycle(steps: Sequence[StepBase]) -> list[str] | None:
    """The first cycle (`[a, b, c]` for `a -> b -> c -> a`), or None when acyclic."""
    cycles = find_cycles(steps)
    return cycles[0] if cycles else None


def topological_order(steps: Sequence[StepBase]) -> list[str]:
    """Ids so that every step comes after its predecessors; ties keep list order.

    Raises:
        ValueError: naming a cycle when the scope has one.
    """
    preds = predecessors(steps)
    succ = successors(steps)
    waiting = {sid: len(p) for sid, p in preds.items()}
    position = {s.id: n for n, s in enumerate(steps)}
    ready = [(position[sid], sid) for sid, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    out: list[str] = []
    while ready:
        _, sid = heapq.heappop(ready)
        out.append(sid)
        for nxt in succ[sid]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                heapq.heappush(ready, (position[nxt], nxt))
    if len(out) != len(waiting):
        cycle = find_cycle(steps) or []
        raise ValueError(f"cycle: {' -> '.join([*cycle, cycle[0]]) if cycle else '?'}")
    return out
