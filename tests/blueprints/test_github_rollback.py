"""github-rollback-dispatch: an Alertmanager alert, an approval, a dispatched GitHub workflow."""

from __future__ import annotations

import copy

from switchyard.triggers.adapters import adapt

from .conftest import Blueprints, load, summary
from .fakes import SaaS

BLUEPRINT = "github-rollback-dispatch.yaml"
REPO = "acme/checkout"

# Prometheus Alertmanager's webhook (version 4), one firing alert.
ALERTMANAGER = {
    "version": "4",
    "groupKey": '{}:{alertname="HighErrorRate"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "switchyard",
    "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate", "severity": "critical"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager.monitoring:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighErrorRate",
                "service": "checkout",
                "env": "production",
                "version": "v2.15.0",
                "rollback": "auto",
                "severity": "critical",
            },
            "annotations": {"summary": "5xx ratio at 12% on checkout since v2.15.0"},
            "startsAt": "2024-06-10T14:02:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.monitoring:9090/graph?g0.expr=job%3Acheckout_5xx",
            "fingerprint": "c6a3a7c9e1f1a0b2",
        }
    ],
}


async def _start(blueprints: Blueprints, saas: SaaS) -> str:
    saas.github.workflows[(REPO, "rollback.yml")] = {
        "service",
        "environment",
        "bad_version",
        "reason",
    }
    [event] = adapt("alertmanager", copy.deepcopy(ALERTMANAGER))
    handle = await blueprints.on_event(load(BLUEPRINT), event)
    info = await blueprints.waiting(handle.id, "decide")
    assert info["prompt"] == (
        "Roll checkout back from v2.15.0 in production? "
        "(5xx ratio at 12% on checkout since v2.15.0)"
    )
    await blueprints.approve(handle.id, "decide", "rollback", by="alice", roles=["sre-oncall"])
    return handle.id


async def test_approved_rollback_runs_the_workflow_and_follows_it(
    blueprints: Blueprints, saas: SaaS
) -> None:
    saas.github.run_script = [("in_progress", None), ("completed", "success")]
    run_id = await _start(blueprints, saas)
    run = await blueprints.result(blueprints.client.get_workflow_handle(run_id, result_type=dict))

    assert run["status"] == "succeeded", summary(run)
    [dispatch] = saas.github.dispatches
    assert run["outputs"] == {
        "decision": "rollback",
        "rolled_back": True,
        "workflow_run": f"https://github.com/{REPO}/actions/runs/{dispatch['run_id']}",
    }
    assert dispatch["ref"] == "main"
    assert dispatch["return_run_details"] is True
    assert dispatch["inputs"] == {
        "service": "checkout",
        "environment": "production",
        "bad_version": "v2.15.0",
        "reason": f"5xx ratio at 12% on checkout since v2.15.0 (Switchyard run {run_id}, "
        "approved by alice)",
    }
    polls = saas.of("github", "GET")
    assert len(polls) == 2 and run["steps"]["watch"]["attempts"] == 2
    assert polls[0].headers["x-github-api-version"] == "2022-11-28"

    announce, started, done = saas.slack.in_channel("deploys")
    assert (
        "<http://prometheus.monitoring:9090/graph?g0.expr=job%3Acheckout_5xx|5xx ratio"
        in (announce["all_text"])
    )
    assert f"switchyard approve {run_id} decide rollback" in announce["all_text"]
    assert started["thread_ts"] == done["thread_ts"] == announce["ts"]
    assert "(approved by alice)" in started["text"]
    assert "rolled back from v2.15.0" in done["text"]
    assert saas.pagerduty.events == []


async def test_failed_rollback_pages_and_fails_the_run(blueprints: Blueprints, saas: SaaS) -> None:
    saas.github.run_script = [("completed", "failure")]
    run_id = await _start(blueprints, saas)
    run = await blueprints.result(blueprints.client.get_workflow_handle(run_id, result_type=dict))

    assert run["status"] == "failed", summary(run)
    assert run["error"]["step"] == "stop"
    assert run["error"]["message"] == "rollback of checkout v2.15.0 failed"
    [page] = saas.pagerduty.events
    assert page["dedup_key"] == "rollback/checkout/v2.15.0"
    assert page["payload"]["custom_details"]["conclusion"] == "failure"
    assert page["links"][0]["text"] == "Workflow run"
    *_, failure = saas.slack.in_channel("deploys")
    assert "the on-call is paged" in failure["text"]
