"""restart-service-on-alert: Datadog alert, health check, SSM restart on moto, verify, page."""

from __future__ import annotations

import copy
from typing import Any

from switchyard.triggers.adapters import adapt
from switchyard.triggers.matching import Candidate, decide

from .conftest import Blueprints, aws_client, load, summary
from .fakes import SaaS

BLUEPRINT = "restart-service-on-alert.yaml"
DOWN = (503, {"status": "down", "checks": {"db": "ok", "http": "failing"}})
STARTING = (503, {"status": "starting"})
UP = (200, {"status": "ok", "version": "2.15.0"})


def instance(endpoint: str) -> str:
    """A running EC2 instance on the moto server."""
    ec2 = aws_client(endpoint, "ec2")
    made = ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.small"
    )
    return str(made["Instances"][0]["InstanceId"])


def alert(instance_id: str) -> dict[str, Any]:
    """A Datadog monitor webhook for the checkout service on that instance."""
    return {
        "id": f"7421593880016{instance_id[-6:]}",
        "title": "[Triggered on {service:checkout}] checkout health check failing",
        "alert_transition": "Triggered",
        "alert_type": "error",
        "alert_id": "150377",
        "priority": "P2",
        "event_type": "service_check",
        "hostname": "ip-10-20-1-17",
        "tags": f"service:checkout,env:prod,remediation:restart,instance_id:{instance_id}",
        "url": "https://app.datadoghq.eu/monitors/150377",
        "last_updated": 1718010000000,
    }


def ssm_commands(endpoint: str, instance_id: str) -> list[dict[str, Any]]:
    return aws_client(endpoint, "ssm").list_commands(InstanceId=instance_id)["Commands"]


def test_only_alerts_naming_an_instance_start_it() -> None:
    wf = load(BLUEPRINT)
    body = alert("i-0abc123def4567890")
    without_instance = {**body, "tags": "service:checkout,remediation:restart"}
    recovered = {**body, "alert_transition": "Recovered"}
    for payload in (without_instance, recovered):
        [decision] = decide(adapt("datadog", payload)[0], [Candidate(wf, 1)], lambda *_: True)
        assert not decision.matched
    [decision] = decide(adapt("datadog", body)[0], [Candidate(wf, 1)], lambda *_: True)
    assert decision.inputs["instance_id"] == "i-0abc123def4567890"
    assert decision.inputs["service"] == "checkout"


async def test_restart_brings_the_service_back(
    blueprints: Blueprints, saas: SaaS, aws_endpoint: str
) -> None:
    iid = instance(aws_endpoint)
    saas.internal.script("checkout", [DOWN, STARTING, UP])
    [event] = adapt("datadog", copy.deepcopy(alert(iid)))
    handle = await blueprints.on_event(load(BLUEPRINT), event)
    run = await blueprints.result(handle)

    assert run["status"] == "succeeded", summary(run)
    [command] = ssm_commands(aws_endpoint, iid)
    assert run["outputs"] == {
        "action": "restarted",
        "command_id": command["CommandId"],
        "health_checks": 2,
    }
    assert command["DocumentName"] == "AWS-RunShellScript"
    assert command["Parameters"]["commands"] == [
        "systemctl restart checkout",
        "systemctl is-active checkout",
    ]
    assert command["Comment"] == f"Switchyard {handle.id}: restart checkout"
    assert run["steps"]["command"]["output"]["Status"] == "Success"
    assert saas.internal.hits["checkout"] == 3  # confirm, then two checks after the restart

    [message] = saas.slack.in_channel("sre-alerts")
    assert f"restarted on `{iid}` and healthy again" in message["all_text"]
    assert "<https://app.datadoghq.eu/monitors/150377|[Triggered on" in message["all_text"]
    assert saas.pagerduty.events == []


async def test_still_down_after_the_restart_pages_and_fails(
    blueprints: Blueprints, saas: SaaS, aws_endpoint: str
) -> None:
    iid = instance(aws_endpoint)
    saas.internal.script("checkout", [DOWN, STARTING, DOWN])
    run = await blueprints.run(load(BLUEPRINT), {"service": "checkout", "instance_id": iid})

    assert run["status"] == "failed", summary(run)
    assert run["error"] == {
        "type": "Fail",
        "step": "give_up",
        "message": f"checkout on {iid} is still unhealthy after a restart",
    }
    assert len(ssm_commands(aws_endpoint, iid)) == 1
    [page] = saas.pagerduty.events
    assert page["dedup_key"] == f"restart/checkout/{iid}"
    assert page["payload"]["severity"] == "critical"
    details = page["payload"]["custom_details"]
    assert details["command_status"] == "Success"
    assert details["health"].startswith('503 {"status":"down"')
    [message] = saas.slack.in_channel("sre-alerts")
    assert "did not help; the on-call is paged" in message["text"]


async def test_a_service_already_back_is_not_restarted(
    blueprints: Blueprints, saas: SaaS, aws_endpoint: str
) -> None:
    iid = instance(aws_endpoint)
    saas.internal.script("checkout", [UP])
    run = await blueprints.run(load(BLUEPRINT), {"service": "checkout", "instance_id": iid})

    assert run["status"] == "succeeded", summary(run)
    assert run["outputs"] == {"action": "none needed", "command_id": None, "health_checks": 0}
    assert ssm_commands(aws_endpoint, iid) == []
    [message] = saas.slack.in_channel("sre-alerts")
    assert "answers its health check again; no restart" in message["text"]
