"""Native webhook bodies of monitoring products, turned into normalized events.

`POST /api/v1/events/{adapter}` calls `ADAPTERS[adapter](body)`. Each
adapter accepts the body the product documents for its webhook
notifications and returns one event per alert:

- `alertmanager`: Prometheus Alertmanager's webhook (`version: "4"`), one
  event per entry of `alerts`;
- `grafana`: Grafana alerting's webhook contact point (the same alert list,
  plus Grafana's `title`/`message`/`values`);
- `datadog`: a Datadog monitor webhook. Its body is a template the user
  writes; the adapter reads Datadog's default payload and the variables
  commonly added to it (`alert_transition`, `alert_type`, `alert_id`,
  `tags`, `priority`, `hostname`, `aggregate`, `alert_status`, `url`).

Ids are stable per notification (alert fingerprint + start + status), so
the repeats Alertmanager sends every `repeat_interval` start nothing new,
while the resolution of an alert is a new event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from switchyard.triggers.events import Event, EventError, content_id

__all__ = ["ADAPTERS", "adapt"]

_ALERTMANAGER_STATUS = {"firing": "alert", "resolved": "ok"}
# Datadog's $ALERT_TRANSITION values and $ALERT_TYPE values.
_DATADOG_TRANSITION = {
    "triggered": "alert",
    "re-triggered": "alert",
    "renotify": "alert",
    "warn": "warn",
    "re-warn": "warn",
    "recovered": "ok",
    "no data": "no_data",
    "re-no data": "no_data",
}
_DATADOG_TYPE = {"error": "alert", "warning": "warn", "success": "ok", "info": "info"}
_DATADOG_PRIORITY = {"p1": "critical", "p2": "high", "p3": "medium", "p4": "low", "p5": "info"}


def _fail(location: str, message: str) -> EventError:
    return EventError([{"location": location, "message": message}])


def _time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Datadog's $LAST_UPDATED / $DATE are epoch milliseconds.
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str) and value:
        if value.isdigit():
            return _time(int(value))
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        # Alertmanager's zero time means "not set".
        if parsed.year <= 1:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _labels_tags(labels: dict[str, Any]) -> list[str]:
    return [f"{k}:{v}" for k, v in labels.items()]


def _alert_list(body: Any, product: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if not isinstance(body, dict):
        raise _fail("body", f"a {product} webhook body is a JSON object")
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise _fail("alerts", f"a {product} webhook body has a non-empty `alerts` list")
    for index, alert in enumerate(alerts):
        if not isinstance(alert, dict):
            raise _fail(f"alerts[{index}]", "an alert is a JSON object")
        for key in ("labels", "annotations"):
            if not isinstance(alert.get(key, {}), dict):
                raise _fail(f"alerts[{index}].{key}", "must be an object of strings")
    return body, alerts


def _from_alert(
    product: str, body: dict[str, Any], alert: dict[str, Any], extra: dict[str, Any]
) -> Event:
    labels: dict[str, Any] = {**(body.get("commonLabels") or {}), **(alert.get("labels") or {})}
    annotations: dict[str, Any] = {
        **(body.get("commonAnnotations") or {}),
        **(alert.get("annotations") or {}),
    }
    status = str(alert.get("status") or body.get("status") or "firing").lower()
    fingerprint = alert.get("fingerprint") or content_id(product, labels).split(":", 1)[1]
    started = alert.get("startsAt") or ""
    ended = alert.get("endsAt") if status == "resolved" else None
    title = (
        annotations.get("summary")
        or annotations.get("title")
        or labels.get("alertname")
        or body.get("title")
        or f"{product} alert"
    )
    return Event(
        id=f"{product}:{fingerprint}:{started}:{status}",
        source="monitor",
        title=str(title),
        status=_ALERTMANAGER_STATUS.get(status, status),
        severity=str(labels.get("severity") or ""),
        tags=_labels_tags(labels),
        attributes={
            "labels": labels,
            "annotations": annotations,
            "generator_url": alert.get("generatorURL"),
            "starts_at": started or None,
            "ends_at": ended,
            "receiver": body.get("receiver"),
            "external_url": body.get("externalURL"),
            **{k: v for k, v in extra.items() if v is not None},
        },
        occurred_at=_time(ended) or _time(started) or datetime.now(UTC),
        raw=alert,
    )


def alertmanager(body: Any) -> list[Event]:
    """Prometheus Alertmanager webhook (`version: "4"`): one event per alert."""
    body, alerts = _alert_list(body, "alertmanager")
    return [_from_alert("alertmanager", body, a, {}) for a in alerts]


def grafana(body: Any) -> list[Event]:
    """Grafana alerting webhook contact point: one event per alert."""
    body, alerts = _alert_list(body, "grafana")
    return [
        _from_alert(
            "grafana",
            body,
            a,
            {
                "values": a.get("values"),
                "value_string": a.get("valueString"),
                "dashboard_url": a.get("dashboardURL"),
                "panel_url": a.get("panelURL"),
                "silence_url": a.get("silenceURL"),
                "org_id": body.get("orgId"),
            },
        )
        for a in alerts
    ]


def datadog(body: Any) -> list[Event]:
    """A Datadog monitor (or Cloud SIEM signal) webhook: one event."""
    if not isinstance(body, dict):
        raise _fail("body", "a Datadog webhook body is a JSON object")
    if not any(k in body for k in ("title", "id", "alert_id", "event_type")):
        raise _fail("body", "not a Datadog webhook payload: expected at least `title` and `id`")
    transition = str(body.get("alert_transition") or "").strip().lower()
    alert_type = str(body.get("alert_type") or "").strip().lower()
    status = _DATADOG_TRANSITION.get(transition) or _DATADOG_TYPE.get(alert_type) or "alert"
    priority = str(body.get("priority") or "").strip().lower()
    severity = str(body.get("severity") or _DATADOG_PRIORITY.get(priority, "")).lower()
    event_type = str(body.get("event_type") or "")
    source = "security_signal" if "security" in event_type or "signal" in event_type else "monitor"
    when = _time(body.get("last_updated")) or _time(body.get("date")) or datetime.now(UTC)
    ident = body.get("id") or body.get("alert_id")
    event_id = (
        f"datadog:{ident}:{transition or alert_type}"
        if ident not in (None, "")
        else content_id("datadog", body)
    )
    return [
        Event(
            id=event_id,
            source=source,
            title=str(body.get("title") or ""),
            status=status,
            severity=severity,
            tags=body.get("tags") or [],
            attributes={
                k: body.get(k)
                for k in (
                    "alert_id",
                    "alert_status",
                    "alert_transition",
                    "alert_type",
                    "event_type",
                    "hostname",
                    "aggregate",
                    "url",
                    "body",
                    "org",
                    "priority",
                )
                if body.get(k) not in (None, "")
            },
            occurred_at=when,
            raw=body,
        )
    ]


ADAPTERS: dict[str, Callable[[Any], list[Event]]] = {
    "alertmanager": alertmanager,
    "grafana": grafana,
    "datadog": datadog,
}


def adapt(adapter: str, body: Any) -> list[Event]:
    """Events from a native body; KeyError for an unknown adapter, EventError for a bad body."""
    return ADAPTERS[adapter](body)
