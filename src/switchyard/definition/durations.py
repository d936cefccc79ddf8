"""Durations: `500ms`, `30s`, `5m`, `1h`, `2d` and compounds like `1h30m`."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$")
#: JSON-Schema pattern of a duration string.
DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$"


def parse_duration(text: str) -> float:
    """Return the duration in seconds.

    Raises:
        ValueError: naming the text when it is not a duration.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a duration like '30s', '5m', '1h30m', got {text!r}")
    s = text.strip()
    if not _WHOLE.match(s):
        raise ValueError(
            f"bad duration {text!r}: expected e.g. '500ms', '30s', '5m', '1h30m', '2d'"
        )
    return sum(float(n) * _UNITS[u] for n, u in _PART.findall(s))


def format_duration(seconds: float) -> str:
    """Render seconds as a compact duration (`90` -> `1m30s`, `1.5` -> `1s500ms`)."""
    out, rest = [], round(seconds * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out) or "0s"
