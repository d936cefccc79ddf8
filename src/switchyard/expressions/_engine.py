"""The long-lived, hardened, per-thread QuickJS context that evaluates expressions.

Why this shape (measured on the dev box: a fresh context costs ~250 us, a call
into an existing one ~1 us):
- One context per thread (`threading.local`), created lazily: QuickJS contexts
  must never be touched from two threads. Nothing JavaScript-side is stored on
  a Scope or anywhere else a foreign thread could drop it: converted values live
  in this thread's engine, keyed by the Scope's integer cache tokens.
- Isolation without a fresh context: the prelude makes `Date`/`Math.random`
  deterministic and disables code generation, then every intrinsic reachable
  from `globalThis` (and the hidden iterator/generator/async prototypes) is
  frozen, and so is every value passed in. An evaluation runs a strict-mode
  function with the scope names as parameters; it can create objects but has
  nowhere to keep them: no writable global, prototype or scope value exists.
  Pending promise jobs are drained at the end of each evaluation, inside it.
- Each expression is validated (`check_syntax`, which proves it is a single
  expression), then compiled once into
  `function (Inputs, Steps, Vars, Trigger, Run, Item, Index, Output) {"use strict"; return (EXPR);}`
  and cached (LRU).
- A time-limit, memory-limit, stack-overflow or internal error discards the
  context; the next evaluation builds a new one. An out-of-memory failure in a
  context holding cached values is retried once in a fresh context, so whether
  an expression fits does not depend on what the thread evaluated before.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ._prelude import LOCKDOWN, PRELUDE
from ._scope import MISSING, Scope

NAMES = ("Inputs", "Steps", "Vars", "Trigger", "Run", "Item", "Index", "Output")
PARAMS = ", ".join(NAMES)
_NAME_RE = re.compile(r"\b(Inputs|Steps|Vars|Trigger|Run|Item|Index|Output|arguments)\b")
_FIELD_OF = {
    "Inputs": "inputs",
    "Vars": "vars",
    "Trigger": "trigger",
    "Run": "run",
    "Item": "item",
    "Output": "output",
}
_M64 = (1 << 64) - 1
_SMALL_INT = 1 << 31


@dataclass
class Limits:
    """Per-evaluation limits for expressions (module-level, see `configure`)."""

    time_s: float = 1.0
    memory_mb: int = 128  # the whole per-thread context, cached scope values included
    stack_kb: int = 1024
    cache_mb: int = 8  # JSON size of converted scope values kept per thread
    compiled_max: int = 2048
    generation: int = 0


LIMITS = Limits()
_config_lock = threading.Lock()


def configure(
    *, time_s: float | None = None, memory_mb: int | None = None, stack_kb: int | None = None
) -> None:
    """Change the expression limits; contexts are rebuilt lazily with the new values."""
    with _config_lock:
        if time_s is not None:
            LIMITS.time_s = time_s
        if memory_mb is not None:
            LIMITS.memory_mb = memory_mb
        if stack_kb is not None:
            LIMITS.stack_kb = stack_kb
        LIMITS.generation += 1


class EvalFailure(Exception):
    """A JavaScript-side failure, already described for humans."""

    def __init__(self, message: str, *, fatal: bool, oom: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.fatal = fatal
        self.oom = oom


@dataclass(frozen=True, slots=True)
class Compiled:
    fn: Any
    uses: tuple[bool, ...]  # which of NAMES the source mentions
    hash: int


def stable_hash(text: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big"
    )


def _splitmix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def rng_state(seed: int, index: int | None, expr_hash: int) -> int:
    """The 32-bit `Math.random` state for one evaluation: f(seed, Index, expression)."""
    x = _splitmix(_splitmix(seed & _M64) ^ ((-1 if index is None else index) & _M64) ^ expr_hash)
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >= (1 << 31) else x  # the binding passes ints as int32


def dumps(value: Any) -> str:
    """JSON text for a value; non-JSON leaves (datetimes...) become strings, NaN null."""
    try:
        text = json.dumps(
            value, ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False
        )
    except ValueError:
        text = json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"), default=str)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: the binding cannot pass them as UTF-8
            text = json.dumps(json.loads(text), separators=(",", ":"))
    return text


NOT_PRIMITIVE: Any = object()


def primitive(value: Any) -> Any:
    """`value` as the binding can pass it directly, or NOT_PRIMITIVE (goes through JSON)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):  # the binding truncates ints to 32 bits
        return value if -_SMALL_INT < value < _SMALL_INT else float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):  # passed as is (NUL-safe); lone surrogates cannot cross
        return value if value.isascii() else _utf8_safe(value)
    return NOT_PRIMITIVE


def _int_if_integral(v: Any) -> Any:
    """JavaScript has one number type: integral values come back as int (JSON does the same)."""
    if isinstance(v, float) and v.is_integer() and abs(v) <= 2**53:
        return int(v)
    return v


def _utf8_safe(s: str) -> str:
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "replace").decode("utf-8")


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_finite(x) for x in v]
    return v


def describe(
    exc: BaseException, limits: Limits, *, time_s: float | None = None, memory_mb: int | None = None
) -> EvalFailure:
    """Turn a QuickJS exception into a message and say whether the context is spoiled."""
    if isinstance(exc, MemoryError):
        return EvalFailure(
            f"memory limit of {memory_mb or limits.memory_mb} MB exceeded", fatal=True, oom=True
        )
    text = str(exc)
    first = text.split("\n", 1)[0].strip()
    if first.startswith("InternalError: interrupted"):
        return EvalFailure(f"time limit of {time_s or limits.time_s:g}s exceeded", fatal=True)
    if first.startswith("InternalError: out of memory"):
        return EvalFailure(
            f"memory limit of {memory_mb or limits.memory_mb} MB exceeded", fatal=True, oom=True
        )
    if first == "null" and text.strip() == "null":
        # QuickJS throws a bare null when it cannot even allocate the error object.
        return EvalFailure(
            f"memory limit of {memory_mb or limits.memory_mb} MB exceeded (or `null` was thrown)",
            fatal=True,
            oom=True,
        )
    if "Maximum call stack size exceeded" in first or first.startswith("InternalError: stack"):
        return EvalFailure(
            "RangeError: maximum call stack size exceeded (recursion too deep)", fatal=True
        )
    if first.startswith("InternalError"):
        return EvalFailure(first, fatal=True)
    if first.startswith("TypeError") and ("read-only" in first or "not extensible" in first):
        first += (
            " (values in scope are read-only: copy before changing, "
            "e.g. [...x].sort(), x.toSorted() or {...o, k: v})"
        )
    return EvalFailure(first or "uncaught exception", fatal=False)


class Engine:
    """One hardened context and its caches; used by exactly one thread."""

    def __init__(self) -> None:
        import _quickjs  # the C module: importing `quickjs` would start an executor thread

        self.generation = LIMITS.generation
        ctx = _quickjs.Context()
        ctx.set_memory_limit(LIMITS.memory_mb * 1024 * 1024)
        ctx.set_max_stack_size(LIMITS.stack_kb * 1024)
        ctx.set_time_limit(30.0)  # the lockdown walk itself, once
        ctx.eval(PRELUDE)
        self.invoke = ctx.get("__sy_invoke")
        self.data = ctx.get("__sy_data")
        self.assemble = ctx.get("__sy_steps")
        self.freeze = ctx.get("__sy_freeze")
        self.undef = ctx.get("__sy_undef")
        ctx.eval(LOCKDOWN)(True)
        ctx.set_time_limit(LIMITS.time_s)
        self.ctx = ctx
        self.JSException = _quickjs.JSException
        self.compiled: OrderedDict[str, Compiled] = OrderedDict()
        self.values: OrderedDict[int, tuple[Any, int]] = OrderedDict()
        self.value_bytes = 0

    # -- compiling ---------------------------------------------------------
    def compile(self, expr: str) -> Compiled:
        """Compile an expression that `check_syntax` accepted."""
        hit = self.compiled.get(expr)
        if hit is not None:
            self.compiled.move_to_end(expr)
            return hit
        fn = self.ctx.eval(f'(function ({PARAMS}) {{"use strict"; return ({expr}\n);}})')
        self.freeze(fn)
        used = set(_NAME_RE.findall(expr))
        uses = tuple(("arguments" in used) or (n in used) for n in NAMES)
        comp = Compiled(fn, uses, stable_hash(expr))
        self.compiled[expr] = comp
        if len(self.compiled) > LIMITS.compiled_max:
            self.compiled.popitem(last=False)
            if len(self.compiled) % 256 == 0:
                self.ctx.gc()  # function objects hold cycles that refcounting misses
        return comp

    # -- values --------------------------------------------------------------
    def value(self, token: int, value: Any) -> Any:
        """The JavaScript form of a scope value (deep-frozen), cached by token."""
        prim = primitive(value)
        if prim is not NOT_PRIMITIVE:
            return prim
        hit = self.values.get(token)
        if hit is not None:
            self.values.move_to_end(token)
            return hit[0]
        text = dumps(value)
        handle = self.data(text)
        self._remember(token, handle, len(text))
        return handle

    def _remember(self, token: int, handle: Any, size: int) -> None:
        self.values[token] = (handle, size)
        self.value_bytes += size
        budget = LIMITS.cache_mb * 1024 * 1024
        while self.value_bytes > budget and len(self.values) > 1:
            _, (_, old) = self.values.popitem(last=False)
            self.value_bytes -= old

    def steps(self, scope: Scope) -> Any:
        token = scope._tokens["steps"]
        hit = self.values.get(token)
        if hit is not None:
            self.values.move_to_end(token)
            return hit[0]
        ids = list(scope.steps)
        handles = [self.value(scope._step_tokens[sid], scope.steps[sid]) for sid in ids]
        obj = self.assemble(json.dumps(ids), *handles)
        self._remember(token, obj, 16 * len(ids) + 16)
        return obj

    def args(self, comp: Compiled, scope: Scope, undef: Any) -> list[Any]:
        out: list[Any] = []
        for name, used in zip(NAMES, comp.uses, strict=True):
            if not used:
                out.append(undef)
            elif name == "Steps":
                out.append(self.steps(scope))
            elif name == "Index":
                idx = scope.index
                out.append(undef if idx is None else (idx if abs(idx) < _SMALL_INT else float(idx)))
            else:
                attr = _FIELD_OF[name]
                v = getattr(scope, attr)
                out.append(undef if v is MISSING else self.value(scope._tokens[attr], v))
        return out

    # -- running -------------------------------------------------------------
    def run(self, comp: Compiled, scope: Scope, mode: int) -> Any:
        """Evaluate; mode 0 returns the value, mode 1 its text for interpolation."""
        try:
            args = self.args(comp, scope, self.undef)
            seed = rng_state(scope.seed, scope.index, comp.hash)
            result = self.invoke(comp.fn, mode, float(scope.now_ms), seed, *args)
            self.drain()
        except (self.JSException, MemoryError) as exc:
            raise describe(exc, LIMITS) from None
        if isinstance(result, str):
            return json.loads(result)
        return _int_if_integral(result)

    def drain(self) -> None:
        for _ in range(100_000):
            if not self.ctx.execute_pending_job():
                return
        raise EvalFailure("too many pending promise jobs", fatal=True)


_local = threading.local()


def engine() -> Engine:
    eng: Engine | None = getattr(_local, "engine", None)
    if eng is None or eng.generation != LIMITS.generation:
        eng = Engine()
        _local.engine = eng
    return eng


def discard(eng: Engine) -> None:
    """Forget a context after a limit breach or an internal error."""
    if getattr(_local, "engine", None) is eng:
        _local.engine = None
