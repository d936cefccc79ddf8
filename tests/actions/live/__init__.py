"""Live cases for the conformance suite, one module per integration.

Each module here defines `CASES: dict[str, LiveCase]`: for an action type,
a function that, given the local fake server (`pytest_httpserver`), sets up
the answers a real service would give and returns the `Live` parameters
and connection to run the action with. The connection must route every
request to that server and carry `SECRET` as a secret that the action
sends (so masking is checked). The conformance suite runs each case, and
for `REST_ERRORS` actions replays it against a server answering 401, 403,
404, 429 and 503.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_httpserver import HTTPServer

from switchyard.connections import Connection

SECRET = "conformance-secret-9f8e7d"


@dataclass
class Live:
    params: dict[str, Any]
    connection: Connection | None = None


LiveCase = Callable[[HTTPServer], Live]


def collect_cases() -> dict[str, LiveCase]:
    """Every module's `CASES`, merged (a type defined twice is an error)."""
    cases: dict[str, LiveCase] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for type_, case in getattr(module, "CASES", {}).items():
            if type_ in cases:
                raise ValueError(f"two live cases for {type_} ({info.name})")
            cases[type_] = case
    return cases
