"""Adapters on the payloads Alertmanager, Grafana and Datadog document for their webhooks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from switchyard.triggers.adapters import ADAPTERS, adapt
from switchyard.triggers.events import EventError, parse_events

PAYLOADS = Path(__file__).parent / "payloads"


def load(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def test_alertmanager_one_event_per_alert() -> None:
    firing, resolved = adapt("alertmanager", load("alertmanager"))
    assert firing.source == "monitor"
    assert firing.status == "alert" and resolved.status == "ok"
    assert firing.title == "checkout p99 latency above 2s"
    assert firing.severity == "critical"
    assert "team:sre" in firing.tags and "service:checkout" in firing.tags
    assert firing.attributes["labels"]["instance"] == "10.0.3.17:8080"
    assert firing.attributes["annotations"]["runbook_url"].startswith("https://runbooks")
    assert firing.attributes["ends_at"] is None
    assert resolved.occurred_at.isoformat() == "2026-11-27T09:49:30+00:00"
    assert firing.id != resolved.id


def test_alertmanager_repeat_notifications_have_the_same_id() -> None:
    first = adapt("alertmanager", load("alertmanager"))
    again = adapt("alertmanager", load("alertmanager"))
    assert [e.id for e in first] == [e.id for e in again]
    # Resolution of the same alert is a new event.
    body = load("alertmanager")
    body["alerts"][0]["status"] = "resolved"
    assert adapt("alertmanager", body)[0].id != first[0].id


def test_grafana() -> None:
    [event] = adapt("grafana", load("grafana"))
    assert event.title == "High memory in eu-1"
    assert event.status == "alert"
    assert event.tags == ["alertname:High memory usage", "team:sre", "zone:eu-1"]
    assert event.attributes["values"] == {"B": 93.5, "C": 1}
    assert event.attributes["dashboard_url"] == "https://grafana.example.com/d/xyz"
    assert event.occurred_at.isoformat() == "2026-11-27T10:02:03.157076+02:00"


def test_datadog_monitor() -> None:
    [event] = adapt("datadog", load("datadog"))
    assert event.source == "monitor"
    assert event.status == "alert"
    assert event.severity == "critical"  # P1
    assert event.tags == ["env:prod", "team:sre", "service:web"]
    assert event.title == "[Triggered] High CPU on web-3"
    assert event.attributes["hostname"] == "web-3"
    assert event.occurred_at.isoformat() == "2025-11-27T10:00:00+00:00"  # epoch ms
    recovered = {**load("datadog"), "alert_transition": "Recovered", "alert_type": "success"}
    [ok] = adapt("datadog", recovered)
    assert ok.status == "ok" and ok.id != event.id


def test_datadog_security_signal_source() -> None:
    body = {**load("datadog"), "event_type": "security_signal", "priority": "P2"}
    [event] = adapt("datadog", body)
    assert event.source == "security_signal"
    assert event.severity == "high"


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
@pytest.mark.parametrize("body", [None, [], "text", 3, {}, {"alerts": "x"}, {"alerts": [1]}])
def test_bad_bodies_are_located_errors(adapter: str, body: object) -> None:
    with pytest.raises(EventError) as info:
        adapt(adapter, body)
    assert info.value.problems and all("location" in p for p in info.value.problems)


def test_normalized_events_validation() -> None:
    [event] = parse_events({"source": "security_signal", "title": "x", "severity": "HIGH"})
    assert event.id.startswith("security_signal:") and event.severity == "high"
    assert event.occurred_at is not None
    with pytest.raises(EventError) as info:
        parse_events([{"title": "ok"}, {"tags": 5}, "nope"])
    locations = [p["location"] for p in info.value.problems]
    assert locations == ["[1].tags", "[2]"]
    with pytest.raises(EventError):
        parse_events([])
