"""Per-thread contexts, the public surface, and import hygiene."""

from __future__ import annotations

import concurrent.futures
import subprocess
import sys
import threading

import switchyard.expressions as ex
from switchyard.expressions import Scope, evaluate, render


def test_exports_are_pinned() -> None:
    assert sorted(ex.__all__) == sorted(
        [
            "LIMITS",
            "MISSING",
            "ExpressionError",
            "Scope",
            "ScriptError",
            "check_script_syntax",
            "check_syntax",
            "check_template",
            "configure",
            "evaluate",
            "is_template",
            "referenced_steps",
            "render",
            "run_script",
            "template_expressions",
        ]
    )


def test_many_threads_share_scopes_safely(scope: Scope) -> None:
    def work(i: int) -> tuple[object, ...]:
        s = scope.with_(item={"n": i}, index=i)
        return (
            evaluate("Item.n * 2", s),
            render("{{ Inputs.service }}-{{ Index }}", s),
            evaluate("Trigger.event.tags.includes('team:sre')", s),
        )

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(400)))
    assert results == [(i * 2, f"api-{i}", True) for i in range(400)]


def test_scope_used_by_a_thread_that_then_dies(scope: Scope) -> None:
    # The scope is evaluated in a short-lived thread, then here: nothing JavaScript-side
    # is stored on the scope, so nothing is freed from the wrong thread.
    out: list[object] = []
    t = threading.Thread(target=lambda: out.append(evaluate("Vars.team", scope)))
    t.start()
    t.join()
    assert out == ["sre"] and evaluate("Vars.team", scope) == "sre"


def test_import_has_no_side_effects() -> None:
    code = (
        "import sys, threading\n"
        "n = threading.active_count()\n"
        "import switchyard.expressions\n"
        "assert threading.active_count() == n, 'import started a thread'\n"
        "assert '_quickjs' not in sys.modules, 'import loaded QuickJS'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
