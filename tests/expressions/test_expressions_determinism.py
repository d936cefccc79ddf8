"""Same scope + expression => same result, in every process and time zone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from switchyard.expressions import Scope, evaluate

EXPRS = [
    "Date.now()",
    "new Date().toISOString()",
    "Date()",
    "new Date().toString()",
    "new Date().getHours()",
    "new Date().getTimezoneOffset()",
    "new Date(2024, 0, 2, 3, 4).toISOString()",
    "new Date('2024-01-02T03:04:05').toISOString()",
    "new Date('2024-01-02').getTime()",
    "Date.parse('Jan 2, 2024 10:00:00')",
    "new Date(0).toLocaleString()",
    "[Math.random(), Math.random(), Math.random()]",
    "Array.from({length: 5}, () => Math.floor(Math.random() * 1000))",
]
SCRIPT = (
    "import json, sys\n"
    "from switchyard.expressions import Scope, evaluate\n"
    "s = Scope(now_ms=1704189600000, seed=7)\n"
    "print(json.dumps([evaluate(e, s) for e in json.loads(sys.argv[1])]))\n"
)


def _in_subprocess(tz: str) -> list[object]:
    env = {**os.environ, "TZ": tz, "PYTHONHASHSEED": "random"}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(EXPRS)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout)


def test_same_results_across_processes_and_time_zones() -> None:
    here = [evaluate(e, Scope(now_ms=1704189600000, seed=7)) for e in EXPRS]
    utc = _in_subprocess("UTC")
    paris = _in_subprocess("Europe/Paris")
    new_york = _in_subprocess("America/New_York")
    assert utc == here == paris == new_york
    assert here[0] == 1704189600000
    assert here[1] == "2024-01-02T10:00:00.000Z"
    assert here[2] == "Tue Jan 02 2024 10:00:00 GMT+0000"
    assert here[4] == 10 and here[5] == 0
    assert here[6] == "2024-01-02T03:04:00.000Z"
    assert here[7] == "2024-01-02T03:04:05.000Z"
    assert here[9] == 1704189600000


def test_date_follows_the_logical_clock() -> None:
    assert evaluate("Date.now()", Scope(now_ms=1)) == 1
    assert evaluate("new Date().getTime()", Scope(now_ms=86_400_000)) == 86_400_000
    assert evaluate("new Date(5).getTime()", Scope(now_ms=1)) == 5
    assert evaluate("new Date('2020-01-01T00:00:00Z').getTime()", Scope()) == 1577836800000
    assert evaluate("new Date() instanceof Date", Scope()) is True
    assert evaluate("typeof Date()", Scope()) == "string"


def test_random_is_seeded() -> None:
    draw = "[Math.random(), Math.random()]"
    a = evaluate(draw, Scope(seed=1))
    assert a == evaluate(draw, Scope(seed=1))  # same scope, same draw
    assert a[0] != a[1]
    assert a != evaluate(draw, Scope(seed=2))  # the seed matters
    base = Scope(seed=1)
    assert evaluate(draw, base.with_(index=0)) != evaluate(draw, base.with_(index=1))
    assert all(0 <= x < 1 for x in evaluate("Array.from({length: 100}, Math.random)", base))
