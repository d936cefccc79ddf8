"""Trigger ids and the checks of `triggers:` that need no expression parser."""

from __future__ import annotations

import re
import zoneinfo
from collections import Counter
from functools import lru_cache

from switchyard.definition import problems as P
from switchyard.definition.model import ScheduleTrigger, Workflow, trigger_kind
from switchyard.definition.problems import Problem, did_you_mean, join

_CRON_MACROS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# (name, low, high, names usable instead of numbers)
_CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: n for n, m in enumerate(_MONTHS, 1)}),
    ("day of week", 0, 7, {d: n for n, d in enumerate(_DAYS)}),
)
_CRON_TERM = re.compile(r"^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/([0-9]+))?$")


def trigger_ids(wf: Workflow) -> list[str]:
    """The id of each trigger, in order.

    An explicit `id` wins; otherwise the kind's name when the trigger is the
    only one of its kind, else `<kind>-<n>`, n counting the triggers of that
    kind from 1 (explicitly named ones included, so naming one trigger does
    not rename the others).
    """
    kinds = [trigger_kind(t) for t in wf.triggers]
    totals = Counter(kinds)
    seen: Counter[str] = Counter()
    out = []
    for trigger, kind in zip(wf.triggers, kinds, strict=True):
        seen[kind] += 1
        if trigger.id:
            out.append(trigger.id)
        else:
            out.append(kind if totals[kind] == 1 else f"{kind}-{seen[kind]}")
    return out


def cron_problem(expr: str) -> str | None:
    """Why `expr` is not a 5-field cron expression (or a macro), or None."""
    text = expr.strip()
    if text in _CRON_MACROS:
        return None
    parts = text.split()
    if len(parts) != 5:
        return (
            f"a cron expression has 5 fields (minute hour day-of-month month day-of-week), "
            f"got {len(parts)}"
        )
    for part, (name, low, high, names) in zip(parts, _CRON_FIELDS, strict=True):
        for term in part.split(","):
            match = _CRON_TERM.match(term)
            if not match:
                return f"bad {name} field {part!r}"
            values = [] if match[1] == "*" else match[1].split("-")
            for value in values:
                number = names.get(value.upper()) if not value.isdigit() else int(value)
                if number is None or not low <= number <= high:
                    return f"bad {name} {value!r} in {part!r}: expected {low}-{high}"
            if match[2] is not None and int(match[2]) == 0:
                return f"bad {name} step in {part!r}: a step must be at least 1"
    return None


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_problem(name: str) -> str | None:
    """Why `name` is not a known IANA time zone, or None."""
    try:
        zoneinfo.ZoneInfo(name)
        return None
    except Exception:  # ValueError, ZoneInfoNotFoundError, and odd input (NUL, paths)
        return f"unknown time zone {name!r}{did_you_mean(name, _zones())}"


def check_triggers(wf: Workflow) -> list[Problem]:
    """Unique trigger ids, schedule shape, cron syntax, time zones, input names."""
    out: list[Problem] = []
    ids = trigger_ids(wf)
    first: dict[str, int] = {}
    for index, (trigger, tid) in enumerate(zip(wf.triggers, ids, strict=True)):
        loc = join("triggers", index)
        if tid in first:
            out.append(
                Problem(
                    join(loc, "id") if trigger.id else loc,
                    f"duplicate trigger id {tid!r} (also triggers[{first[tid]}])",
                    code=P.DUPLICATE_ID,
                )
            )
        else:
            first[tid] = index
        for name in trigger.inputs:
            if name not in wf.inputs:
                out.append(
                    Problem(
                        join(join(loc, "inputs"), str(name)),
                        f"unknown input {name!r}{did_you_mean(str(name), wf.inputs)}",
                        code=P.UNKNOWN_INPUT,
                    )
                )
        if isinstance(trigger, ScheduleTrigger):
            out += _check_schedule(trigger, join(loc, "schedule"))
            out += _check_schedule_inputs(wf, trigger, loc)
    return out


def _check_schedule_inputs(wf: Workflow, trigger: ScheduleTrigger, loc: str) -> list[Problem]:
    """A schedule's inputs are fixed values: they must fit the declaration when published.

    (Unknown names are reported above; templates are left to run time.)
    """
    from switchyard.definition.inputs import validate_inputs
    from switchyard.expressions import is_template

    given = {k: v for k, v in trigger.inputs.items() if k in wf.inputs}
    out = []
    for problem in validate_inputs(wf, given)[1]:
        name = problem.location.split(".", 1)[-1]
        value = given.get(name)
        if isinstance(value, str) and is_template(value):
            continue
        out.append(Problem(join(loc, problem.location), problem.message, code=problem.code))
    return out


def _check_schedule(trigger: ScheduleTrigger, loc: str) -> list[Problem]:
    out: list[Problem] = []
    schedule = trigger.schedule
    if (schedule.cron is None) == (schedule.every is None):
        out.append(
            Problem(loc, "a schedule needs exactly one of cron or every", code=P.BAD_SCHEDULE)
        )
    if schedule.cron is not None:
        why = cron_problem(schedule.cron)
        if why:
            out.append(Problem(join(loc, "cron"), why, code=P.BAD_CRON))
    if schedule.every is not None and schedule.every <= 0:
        out.append(Problem(join(loc, "every"), "must be longer than 0s", code=P.BAD_DURATION))
    why = timezone_problem(schedule.timezone)
    if why:
        out.append(Problem(join(loc, "timezone"), why, code=P.BAD_TIMEZONE))
    return out
