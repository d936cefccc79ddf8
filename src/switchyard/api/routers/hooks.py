"""`POST /hooks/{workflow}/{trigger}`: webhook triggers (signature-checked, no bearer token).

Checks, in order: size (413 over 1 MiB), rate (429 over `WEBHOOK_RATE`
requests per `WEBHOOK_PERIOD` per trigger, with `Retry-After`), that the
workflow's published version has this webhook trigger (404 otherwise, the
same answer whatever is missing), the signature against the trigger's
`webhook_secret` connection (`secret`, and `previous_secret` while a
rotation is under way) (401). Then the delivery is stored as an event
(committed: from here it cannot be lost) and dispatched: 202 with the run
it started. Inputs that do not fit the workflow are recorded on the event
(`GET /api/v1/events/{id}`), answered 202 with the reason, never a 500.
A delivery is identified by `X-GitHub-Delivery` / `X-Switchyard-Delivery`
(else by a hash of its signature and body): a redelivery starts nothing new.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from switchyard.api.deps import StateDep
from switchyard.api.errors import ApiError
from switchyard.api.routers.events import accept
from switchyard.connections.crypto import Keyring
from switchyard.control import connections as conn_store
from switchyard.control.workflows import get_version, get_workflow
from switchyard.definition.model import WebhookTrigger, Workflow
from switchyard.definition.triggers import trigger_ids
from switchyard.triggers.events import Event
from switchyard.triggers.signatures import SignatureError, verify

router = APIRouter(tags=["webhooks"])

MAX_BODY = 1024 * 1024
WEBHOOK_RATE = 60
WEBHOOK_PERIOD = 60.0
_DELIVERY_HEADERS = ("x-github-delivery", "x-switchyard-delivery", "x-request-id")
#: Headers kept out of `Trigger.event.headers` (credentials of the request itself).
_HIDDEN = frozenset({"authorization", "cookie", "x-hub-signature", "x-hub-signature-256"})


class _Buckets:
    """Token buckets per (workflow, trigger): WEBHOOK_RATE per WEBHOOK_PERIOD."""

    def __init__(self) -> None:
        self._state: dict[tuple[str, str], tuple[float, float]] = {}

    def take(self, key: tuple[str, str]) -> float | None:
        """None when allowed, else seconds until the next request would be."""
        rate = WEBHOOK_RATE / WEBHOOK_PERIOD
        clock = time.monotonic()
        tokens, last = self._state.get(key, (float(WEBHOOK_RATE), clock))
        tokens = min(float(WEBHOOK_RATE), tokens + (clock - last) * rate)
        if tokens < 1.0:
            self._state[key] = (tokens, clock)
            return (1.0 - tokens) / rate
        self._state[key] = (tokens - 1.0, clock)
        return None


def _buckets(state: Any) -> _Buckets:
    return state.extras.setdefault("webhook_buckets", _Buckets())  # type: ignore[no-any-return]


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise ApiError(413, f"body larger than {MAX_BODY} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, f"body larger than {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _parsed(request: Request, raw: bytes) -> Any:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    text = raw.decode("utf-8", errors="replace")
    if ctype == "application/json" or ctype.endswith("+json") or not ctype:
        try:
            return json.loads(text) if text else None
        except ValueError:
            return text
    return text


@router.post("/hooks/{workflow}/{trigger}", status_code=202)
async def webhook(workflow: str, trigger: str, request: Request, state: StateDep) -> JSONResponse:
    """Start the workflow's run for one signed delivery."""
    raw = await _body(request)
    wait = _buckets(state).take((workflow, trigger))
    if wait is not None:
        raise ApiError(
            429,
            f"more than {WEBHOOK_RATE} requests per {WEBHOOK_PERIOD:g}s for this webhook",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    not_found = ApiError(
        404, f"no webhook trigger {trigger!r} on a published workflow {workflow!r}"
    )
    async with state.db.session() as session:
        record = await get_workflow(session, workflow)
        number = record.published_version if record is not None else None
        version = await get_version(session, workflow, number) if number else None
        if version is None:
            raise not_found
        wf = Workflow.model_validate(version.definition)
        found = [
            t
            for t, tid in zip(wf.triggers, trigger_ids(wf), strict=True)
            if tid == trigger and isinstance(t, WebhookTrigger)
        ]
        if not found:
            raise not_found
        connection = None
        try:
            keyring = Keyring.load(state.settings.data_dir)
            connection = await conn_store.resolve(session, keyring, found[0].webhook.connection)
        except Exception:  # unreadable keys/record: cannot verify, say so without details
            connection = None
    if connection is None or connection.type != "webhook_secret":
        raise ApiError(401, "this webhook's secret is not configured; the request is refused")
    secrets = [str(connection.secrets.get(k) or "") for k in ("secret", "previous_secret")]
    try:
        verify(request.headers, raw, secrets)
    except SignatureError as exc:
        raise ApiError(401, str(exc)) from None

    delivery = next((request.headers[h] for h in _DELIVERY_HEADERS if h in request.headers), None)
    if not delivery:
        signature = request.headers.get("x-hub-signature-256") or request.headers.get(
            "x-switchyard-signature", ""
        )
        delivery = hashlib.sha256(signature.encode() + b"\n" + raw).hexdigest()[:32]
    payload = {
        "headers": {k: v for k, v in request.headers.items() if k.lower() not in _HIDDEN},
        "query": dict(request.query_params),
        "body": _parsed(request, raw),
    }
    event = Event(
        id=f"webhook:{workflow}:{trigger}:{delivery}",
        source="webhook",
        title=f"webhook {workflow}/{trigger}",
        status="info",
        attributes={"target": {"workflow": workflow, "trigger": trigger}, "delivery": payload},
    )
    result = await accept(state, [event], "webhook")
    summary = result["events"][0]
    async with state.db.session() as session:
        from switchyard.control.events import get_event

        row = await get_event(session, event.id)
        reason = row.decisions[0]["reason"] if row is not None and row.decisions else ""
    return JSONResponse(
        {
            "event": event.id,
            "duplicate": summary["duplicate"],
            "status": summary["status"],
            "runs": summary["runs"],
            "reason": reason,
        },
        status_code=202,
    )
