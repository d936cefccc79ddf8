"""The action catalogue: `GET /api/v1/actions` and `GET /api/v1/actions/{type}` (actions_read).

The catalogue holds thousands of generated actions (AWS), so a listing never
builds every spec: it pages over `action_types()` (sorted names, cheap) and
builds specs only for the page returned. `?q=` matches the type (or, for
the page's candidates, the title) case-insensitively; `?group=` needs each
candidate's spec, which providers build cheaply (input models are lazy), and
the small index of titles and groups is kept per process.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from switchyard.api.auth import Principal, require
from switchyard.api.errors import ApiError
from switchyard.api.inputs import reject_nul
from switchyard.api.pagination import Cursor, Limit, decode_cursor, page
from switchyard.control.permissions import Permission as P

router = APIRouter(tags=["actions"], dependencies=[Depends(reject_nul)])


def _summary(spec: Any) -> dict[str, Any]:
    options = spec.options if isinstance(spec.options, str) else "by parameters"
    return {
        "type": spec.type,
        "title": spec.title,
        "group": spec.group,
        "connection_type": spec.connection_type,
        "options": options,
    }


@lru_cache(maxsize=1)
def _catalogue() -> tuple[str, ...]:
    from switchyard.actions.sdk import action_types, load_plugins

    load_plugins()
    return tuple(action_types())


@lru_cache(maxsize=65536)
def _title_group(type_: str) -> tuple[str, str]:
    from switchyard.actions.sdk import get_action

    spec = get_action(type_)
    return spec.title.lower(), spec.group


def _matches(type_: str, q: str | None, group: str | None) -> bool:
    if q is None and group is None:
        return True
    if q is not None and q in type_.lower():
        return group is None or _title_group(type_)[1] == group
    title, spec_group = _title_group(type_)
    if group is not None and spec_group != group:
        return False
    return q is None or q in title


@router.get("/api/v1/actions")
async def list_actions(
    _: Annotated[Principal, Depends(require(P.ACTIONS_READ))],
    q: Annotated[
        str | None, Query(max_length=200, description="substring of type or title")
    ] = None,
    group: Annotated[str | None, Query(max_length=200, description="catalogue section")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Actions by type: `{type, title, group, connection_type, options}` (no schemas)."""
    from switchyard.actions.sdk import get_action

    after = decode_cursor(cursor, (str,))
    needle = q.lower() if q else None
    types = _catalogue()
    chosen: list[str] = []
    for type_ in types[bisect_right(types, after[0]) if after else 0 :]:
        if _matches(type_, needle, group):
            chosen.append(type_)
            if len(chosen) > limit:
                break
    return page(chosen, limit, lambda t: [t], lambda t: _summary(get_action(t)))


@router.get("/api/v1/actions/{type}")
async def get_action(
    type: Annotated[str, Path(max_length=200, examples=["core.echo"])],
    _: Annotated[Principal, Depends(require(P.ACTIONS_READ))],
) -> dict[str, Any]:
    """One action: description, examples, error mapping, input and output JSON schemas."""
    from switchyard.actions.sdk import get_action as find

    try:
        spec = find(type)
    except KeyError:
        raise ApiError(404, f"unknown action {type!r}") from None
    return spec.describe()
