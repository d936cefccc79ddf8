"""Datadog actions against the fake Datadog API of live/datadog.py, through the activity."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError

from switchyard import errors
from switchyard.actions import ActionContext, get_action
from switchyard.actions.datadog import DATADOG
from switchyard.actions.datadog._impl import base_url
from switchyard.connections import Connection
from switchyard.engine.options import WRITE_IDEMPOTENT, WRITE_ONCE

from .conftest import RunAction, error_detail
from .live import SECRET
from .live.datadog import APP_KEY, EVENT_ID, DatadogFake, datadog_connection


async def run(
    run_action: RunAction, server: HTTPServer, action: str, params: dict[str, Any], **kw: Any
) -> Any:
    conn = kw.pop("connection", None) or datadog_connection(server)
    result = await run_action(action, params, connection=conn.name, connections=[conn], **kw)
    return result.output


async def fail(
    run_action: RunAction, server: HTTPServer, action: str, params: dict[str, Any], **kw: Any
) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        await run(run_action, server, action, params, **kw)
    return info.value


def test_connection_type_and_options() -> None:
    fields = {f.name: f for f in DATADOG.fields}
    assert fields["api_key"].secret and fields["api_key"].required
    assert fields["app_key"].secret and not fields["app_key"].required
    assert fields["site"].default == "datadoghq.com"
    assert fields["allow_private_metadata"].default is False and "ca_cert" in fields
    assert get_action("datadog.mute_monitor").options_class({}) == WRITE_ONCE
    assert get_action("datadog.unmute_monitor").options_class({}) == WRITE_IDEMPOTENT
    assert get_action("datadog.post_event").options_class({}) == WRITE_ONCE


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "https://api.datadoghq.com"),
        ({"site": "datadoghq.eu"}, "https://api.datadoghq.eu"),
        ({"site": "app.datadoghq.eu"}, "https://api.datadoghq.eu"),
        ({"site": "us5.datadoghq.com"}, "https://api.us5.datadoghq.com"),
        ({"site": "https://api.ddog-gov.com/"}, "https://api.ddog-gov.com"),
        ({"site": "datadoghq.eu", "base_url": "http://proxy:8080"}, "http://proxy:8080"),
    ],
)
def test_base_url_from_site(fields: dict[str, str], expected: str) -> None:
    ctx = ActionContext(connection=Connection("dd", "datadog", fields=fields))
    assert base_url(ctx) == expected


# -- mute ------------------------------------------------------------------------------


async def test_mute_monitor_for_a_duration(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = DatadogFake(httpserver)
    before = datetime.now(UTC)
    out = await run(
        run_action,
        httpserver,
        "datadog.mute_monitor",
        {"monitor_id": 1234, "duration": "1h30m", "message": "deploy @team-api"},
    )
    method, path, _, body, headers = fake.requests[-1]
    assert (method, path) == ("POST", "/api/v2/downtime")
    assert headers["dd-api-key"] == SECRET and headers["dd-application-key"] == APP_KEY
    attrs = body["data"]["attributes"]
    assert body["data"]["type"] == "downtime"
    assert attrs["monitor_identifier"] == {"monitor_id": 1234}
    assert attrs["scope"] == "*" and attrs["message"] == "deploy @team-api"
    assert set(attrs["schedule"]) == {"end"}
    end = datetime.fromisoformat(attrs["schedule"]["end"])
    assert end.utcoffset() == timedelta(0)
    assert timedelta(minutes=89) < end - before < timedelta(minutes=91)
    (stored,) = fake.downtimes.values()
    assert out["downtime_id"] == stored["id"]
    assert out["monitor_id"] == 1234 and out["scope"] == "*"
    assert out["status"] == "active" and out["end"] == attrs["schedule"]["end"]
    assert out["message"] == "deploy @team-api"


async def test_mute_until_a_time_with_an_offset_is_sent_in_utc(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = DatadogFake(httpserver)
    await run(
        run_action,
        httpserver,
        "datadog.mute_monitor",
        {"monitor_id": 7, "scope": "env:prod", "end": "2099-01-01T08:00:00+02:00"},
    )
    attrs = fake.requests[-1][3]["data"]["attributes"]
    assert attrs["schedule"] == {"end": "2099-01-01T06:00:00+00:00"}
    assert attrs["scope"] == "env:prod"
    assert "message" not in attrs  # unset options are not sent


async def test_mute_later_for_a_duration(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = DatadogFake(httpserver)
    out = await run(
        run_action,
        httpserver,
        "datadog.mute_monitor",
        {
            "monitor_id": 7,
            "start": "2099-01-01T00:00:00",  # no offset: UTC
            "duration": "2h",
            "mute_first_recovery_notification": True,
        },
    )
    attrs = fake.requests[-1][3]["data"]["attributes"]
    assert attrs["schedule"] == {
        "start": "2099-01-01T00:00:00+00:00",
        "end": "2099-01-01T02:00:00+00:00",
    }
    assert attrs["mute_first_recovery_notification"] is True
    assert out["status"] == "scheduled"


async def test_mute_until_unmuted(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = DatadogFake(httpserver)
    out = await run(run_action, httpserver, "datadog.mute_monitor", {"monitor_id": 7})
    assert "schedule" not in fake.requests[-1][3]["data"]["attributes"]
    assert out["end"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"monitor_id": 7, "duration": "1h", "end": "2099-01-01T00:00:00Z"},
        {"monitor_id": 7, "start": "2099-01-02T00:00:00Z", "end": "2099-01-01T00:00:00Z"},
        {"monitor_id": 7, "duration": "0s"},
        {"monitor_id": 7, "duration": "soon"},
        {"monitor_id": 0},
        {"monitor_id": "abc"},
        {"duration": "1h"},
    ],
)
async def test_mute_bad_parameters(
    httpserver: HTTPServer, run_action: RunAction, params: dict[str, Any]
) -> None:
    fake = DatadogFake(httpserver)
    exc = await fail(run_action, httpserver, "datadog.mute_monitor", params)
    assert exc.type == errors.VALIDATION_ERROR and exc.non_retryable
    assert fake.requests == []


async def test_mute_refused_by_datadog_shows_its_reason(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    DatadogFake(httpserver)
    exc = await fail(
        run_action,
        httpserver,
        "datadog.mute_monitor",
        {"monitor_id": 7, "end": "2001-01-01T00:00:00Z"},  # in the past
    )
    assert exc.type == errors.HTTP_CLIENT_ERROR and exc.non_retryable
    assert "schedule.end must be after the start" in error_detail(exc)["message"]


async def test_downtimes_need_the_application_key(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = DatadogFake(httpserver)
    conn = datadog_connection(httpserver, app_key=None)
    exc = await fail(
        run_action, httpserver, "datadog.mute_monitor", {"monitor_id": 7}, connection=conn
    )
    assert exc.type == errors.VALIDATION_ERROR and exc.non_retryable
    assert "app_key" in str(exc)
    assert fake.requests == []


async def test_wrong_key_is_permission_denied_and_masked(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    DatadogFake(httpserver, api_key="the-right-key")
    exc = await fail(run_action, httpserver, "datadog.mute_monitor", {"monitor_id": 7})
    assert exc.type == errors.PERMISSION_DENIED and exc.non_retryable
    detail = error_detail(exc)
    assert "Forbidden" in detail["message"]
    assert SECRET not in json.dumps(detail) and APP_KEY not in json.dumps(detail)


# -- unmute ----------------------------------------------------------------------------


async def test_unmute_by_downtime_id(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = DatadogFake(httpserver)
    downtime = fake.add_downtime(monitor_id=7)
    out = await run(run_action, httpserver, "datadog.unmute_monitor", {"downtime_id": downtime})
    method, path, _, _, headers = fake.requests[-1]
    assert (method, path) == ("DELETE", f"/api/v2/downtime/{downtime}")
    assert headers["dd-api-key"] == SECRET and headers["dd-application-key"] == APP_KEY
    assert fake.downtimes[downtime]["attributes"]["status"] == "canceled"
    assert out == {"cancelled": [downtime], "already_cancelled": [], "monitor_id": None}


async def test_unmute_of_a_gone_downtime_succeeds(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    DatadogFake(httpserver)
    out = await run(
        run_action,
        httpserver,
        "datadog.unmute_monitor",
        {"downtime_id": "00000000-0000-1234-0000-000000000000"},
    )
    assert out["cancelled"] == []
    assert out["already_cancelled"] == ["00000000-0000-1234-0000-000000000000"]


async def test_unmute_every_downtime_of_a_monitor_across_pages(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = DatadogFake(httpserver)
    for i in range(120):  # other monitors' downtimes push ours onto later pages
        fake.add_downtime(monitor_id=1000 + i)
    mine = [fake.add_downtime(monitor_id=7), fake.add_downtime(monitor_id=7, scope="env:prod")]
    for i in range(100):
        fake.add_downtime(monitor_id=2000 + i)
    mine.append(fake.add_downtime(monitor_id=7, scope="env:staging"))
    tagged = fake.add_downtime(monitor_tags=["service:api"])  # matches through tags: kept
    old = fake.add_downtime(monitor_id=7, canceled=True)
    out = await run(run_action, httpserver, "datadog.unmute_monitor", {"monitor_id": 7})
    assert out == {"cancelled": mine, "already_cancelled": [], "monitor_id": 7}
    lists = [r for r in fake.requests if r[0] == "GET"]
    assert [r[2]["page[offset]"] for r in lists] == ["0", "100", "200"]
    assert all(r[2]["current_only"] == "true" and r[2]["page[limit]"] == "100" for r in lists)
    deletes = [r[1] for r in fake.requests if r[0] == "DELETE"]
    assert deletes == [f"/api/v2/downtime/{d}" for d in mine]
    assert fake.downtimes[tagged]["attributes"]["status"] == "active"
    assert fake.downtimes[old]["attributes"]["status"] == "canceled"
    # Idempotent: a second run finds nothing left to cancel.
    again = await run(run_action, httpserver, "datadog.unmute_monitor", {"monitor_id": 7})
    assert again["cancelled"] == [] and again["already_cancelled"] == []


async def test_unmute_only_one_scope(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = DatadogFake(httpserver)
    keep = fake.add_downtime(monitor_id=7, scope="env:staging")
    drop = fake.add_downtime(monitor_id=7, scope="env:prod")
    out = await run(
        run_action, httpserver, "datadog.unmute_monitor", {"monitor_id": 7, "scope": "env:prod"}
    )
    assert out["cancelled"] == [drop]
    assert fake.downtimes[keep]["attributes"]["status"] == "active"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"downtime_id": "x", "monitor_id": 7},
        {"downtime_id": "x", "scope": "env:prod"},
        {"monitor_id": -1},
    ],
)
async def test_unmute_bad_parameters(
    httpserver: HTTPServer, run_action: RunAction, params: dict[str, Any]
) -> None:
    fake = DatadogFake(httpserver)
    exc = await fail(run_action, httpserver, "datadog.unmute_monitor", params)
    assert exc.type == errors.VALIDATION_ERROR and exc.non_retryable
    assert fake.requests == []


# -- events ----------------------------------------------------------------------------


async def test_post_event(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = DatadogFake(httpserver)
    # Events need only the API key.
    conn = datadog_connection(httpserver, app_key=None)
    out = await run(
        run_action,
        httpserver,
        "datadog.post_event",
        {
            "title": "Deployed api v2",
            "text": "by alice",
            "tags": ["env:prod", "service:api"],
            "alert_type": "success",
            "priority": "low",
            "aggregation_key": "deploy-api",
            "source_type_name": "my_apps",
        },
        connection=conn,
    )
    method, path, _, body, headers = fake.requests[-1]
    assert (method, path) == ("POST", "/api/v1/events")
    assert headers["dd-api-key"] == SECRET and "dd-application-key" not in headers
    assert body == {
        "title": "Deployed api v2",
        "text": "by alice",
        "tags": ["env:prod", "service:api"],
        "alert_type": "success",
        "priority": "low",
        "aggregation_key": "deploy-api",
        "source_type_name": "my_apps",
    }
    # The id is exact text: it is beyond what a JSON number holds exactly.
    assert out["id"] == str(EVENT_ID) == "5934719801181587474"
    assert out["url"] == f"https://app.datadoghq.com/event/event?id={EVENT_ID}"
    assert out["status"] == "ok" and out["title"] == "Deployed api v2"
    assert out["tags"] == ["env:prod", "service:api"]


@pytest.mark.parametrize(
    "params",
    [
        {"title": "x" * 101, "text": "t"},
        {"title": "t"},
        {"title": "t", "text": "t", "alert_type": "critical"},
        {"title": "t", "text": "t", "priority": "high"},
        {"title": "t", "text": "t", "tags": "env:prod"},
    ],
)
async def test_post_event_bad_parameters(
    httpserver: HTTPServer, run_action: RunAction, params: dict[str, Any]
) -> None:
    fake = DatadogFake(httpserver)
    exc = await fail(run_action, httpserver, "datadog.post_event", params)
    assert exc.type == errors.VALIDATION_ERROR and exc.non_retryable
    assert fake.requests == []


async def test_missing_api_key_is_a_validation_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = DatadogFake(httpserver)
    conn = Connection("dd", "datadog", fields={"base_url": httpserver.url_for("/")})
    exc = await fail(
        run_action, httpserver, "datadog.post_event", {"title": "t", "text": "x"}, connection=conn
    )
    assert exc.type == errors.VALIDATION_ERROR and exc.non_retryable
    assert "api_key" in str(exc)
    assert fake.requests == []
