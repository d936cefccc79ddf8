"""`script` steps: a JavaScript function body run in a fresh, throwaway context.

A script may run for seconds and allocate, so it gets its own context (created,
used and dropped in the calling thread, e.g. a local-activity thread) with its
own limits, and mutable copies of the scope values: unlike expressions, a
script may sort or push into what it reads. The prelude is the same
(deterministic `Date`/`Math.random`, no `eval`/`Function`); the realm is not
frozen, since nothing outlives the call.
"""

from __future__ import annotations

import json
from typing import Any

from ._engine import (
    LIMITS,
    MISSING,
    NAMES,
    NOT_PRIMITIVE,
    PARAMS,
    EvalFailure,
    _int_if_integral,
    describe,
    dumps,
    primitive,
    rng_state,
)
from ._engine import stable_hash as _hash
from ._errors import ScriptError
from ._prelude import LOCKDOWN, PRELUDE
from ._scope import Scope
from ._syntax import check_script_syntax

_FIELDS = ("inputs", "steps", "vars", "trigger", "run", "item", "index", "output")


def run_script(
    body: str,
    scope: Scope,
    *,
    timeout_s: float = 5.0,
    memory_mb: int = 64,
    step: str | None = None,
) -> Any:
    """Run a `script` step body; `return` gives the output (plain Python data).

    Raises:
        ScriptError: syntax error, uncaught exception, time or memory limit.
    """
    err = check_script_syntax(body)
    if err is not None:
        raise ScriptError(err, step=step, expression=body, syntax=True)
    try:
        return _run(body, scope, timeout_s, memory_mb)
    except EvalFailure as failure:
        raise ScriptError(failure.message, step=step, expression=body) from None


def _run(body: str, scope: Scope, timeout_s: float, memory_mb: int) -> Any:
    import _quickjs

    ctx = _quickjs.Context()
    try:
        ctx.set_max_stack_size(LIMITS.stack_kb * 1024)
        ctx.set_time_limit(10.0)
        ctx.eval(PRELUDE)
        invoke = ctx.get("__sy_invoke")
        undef = ctx.get("__sy_undef")
        ctx.eval(LOCKDOWN)(False)
        fn = ctx.eval(f'(function ({PARAMS}) {{"use strict";\n{body}\n}})')
        ctx.set_memory_limit(memory_mb * 1024 * 1024)
        ctx.set_time_limit(max(timeout_s, 0.001))
        args: list[Any] = []
        for name, attr in zip(NAMES, _FIELDS, strict=True):
            v = getattr(scope, attr)
            if v is MISSING or (name == "Index" and v is None):
                args.append(undef)
            else:
                prim = primitive(v)
                args.append(ctx.parse_json(dumps(v)) if prim is NOT_PRIMITIVE else prim)
        seed = rng_state(scope.seed, scope.index, _hash(body))
        result = invoke(fn, 0, float(scope.now_ms), seed, *args)
        for _ in range(100_000):
            if not ctx.execute_pending_job():
                break
        return json.loads(result) if isinstance(result, str) else _int_if_integral(result)
    except (_quickjs.JSException, MemoryError) as exc:
        raise describe(exc, LIMITS, time_s=timeout_s, memory_mb=memory_mb) from None
    finally:
        # Drop every handle before the context, all in this thread.
        args = fn = invoke = undef = None  # type: ignore[assignment]
        del ctx
