"""quarantine-ec2-instance: a security signal, approval for prod, isolation on moto, Slack."""

from __future__ import annotations

from typing import Any

from switchyard.triggers.events import parse_events
from switchyard.triggers.matching import Candidate, decide

from .conftest import Blueprints, aws_client, load, summary
from .fakes import SaaS

BLUEPRINT = "quarantine-ec2-instance.yaml"


def fleet(endpoint: str, env: str, *, with_quarantine_group: bool = False) -> dict[str, Any]:
    """A VPC with two security groups and an instance with two EBS volumes, on moto."""
    ec2 = aws_client(endpoint, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ssh = ec2.create_security_group(GroupName="ssh-admin", Description="ssh", VpcId=vpc)["GroupId"]
    existing = None
    if with_quarantine_group:
        existing = ec2.create_security_group(
            GroupName="quarantine", Description="isolation", VpcId=vpc
        )["GroupId"]
    made = ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        InstanceType="m6i.large",
        SubnetId=subnet,
        SecurityGroupIds=[web, ssh],
        BlockDeviceMappings=[
            {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20}},
            {"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 100}},
        ],
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [
                    {"Key": "Name", "Value": f"payments-api-{env}"},
                    {"Key": "env", "Value": env},
                ],
            }
        ],
    )
    return {
        "ec2": ec2,
        "vpc": vpc,
        "groups": [web, ssh],
        "existing": existing,
        "instance": made["Instances"][0]["InstanceId"],
    }


def guardduty_signal(instance_id: str, severity: str = "high") -> dict[str, Any]:
    """A GuardDuty finding as an EventBridge input transformer posts it to /api/v1/events."""
    return {
        "id": f"guardduty:7ec4b9d1c2{instance_id[-8:]}",
        "source": "security_signal",
        "title": "UnauthorizedAccess:EC2/SSHBruteForce",
        "severity": severity,
        "tags": ["aws:guardduty", "account:123456789012", "region:eu-west-1"],
        "attributes": {
            "instance_id": instance_id,
            "finding_id": "7ec4b9d1c2a84f3e9b1d0c5a6e7f8a9b",
            "finding_type": "UnauthorizedAccess:EC2/SSHBruteForce",
        },
    }


def test_only_serious_signals_start_it() -> None:
    wf = load(BLUEPRINT)
    low = guardduty_signal("i-0abc123def4567890", severity="low")
    as_monitor = {**guardduty_signal("i-0abc123def4567890"), "source": "monitor"}
    no_instance = {**guardduty_signal("i-0abc123def4567890"), "attributes": {}}
    for body in (low, as_monitor, no_instance):
        [decision] = decide(parse_events(body)[0], [Candidate(wf, 1)], lambda *_: True)
        assert not decision.matched, body


async def test_production_instance_is_quarantined_after_approval(
    blueprints: Blueprints, saas: SaaS, aws_endpoint: str
) -> None:
    aws = fleet(aws_endpoint, "prod")
    ec2, iid = aws["ec2"], aws["instance"]
    [event] = parse_events(guardduty_signal(iid))
    handle = await blueprints.on_event(load(BLUEPRINT), event)
    info = await blueprints.waiting(handle.id, "approve")
    assert info["prompt"].startswith(f"Quarantine production instance payments-api-prod ({iid})?")
    # Nothing was touched while waiting.
    described = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert sorted(g["GroupId"] for g in described["SecurityGroups"]) == sorted(aws["groups"])
    await blueprints.approve(
        handle.id, "approve", "quarantine", by="sam", roles=["security-oncall"]
    )
    run = await blueprints.result(handle)

    assert run["status"] == "succeeded", summary(run)
    [group] = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [aws["vpc"]]},
            {"Name": "group-name", "Values": ["quarantine"]},
        ]
    )["SecurityGroups"]
    assert group["IpPermissions"] == [] and group["IpPermissionsEgress"] == []
    described = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert [g["GroupId"] for g in described["SecurityGroups"]] == [group["GroupId"]]
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert tags["quarantine"] == "7ec4b9d1c2a84f3e9b1d0c5a6e7f8a9b"
    assert tags["quarantine:previous-groups"] == ",".join(aws["groups"])
    assert tags["quarantine:run"] == handle.id

    snapshots = ec2.describe_snapshots(Filters=[{"Name": "tag:source-instance", "Values": [iid]}])[
        "Snapshots"
    ]
    volumes = {b["Ebs"]["VolumeId"]: b["DeviceName"] for b in described["BlockDeviceMappings"]}
    assert {s["VolumeId"] for s in snapshots} == set(volumes)
    for snap in snapshots:
        snap_tags = {t["Key"]: t["Value"] for t in snap["Tags"]}
        assert snap_tags["device"] == volumes[snap["VolumeId"]]
        assert "UnauthorizedAccess:EC2/SSHBruteForce" in snap["Description"]

    assert run["outputs"] == {
        "instance_id": iid,
        "quarantined": True,
        "quarantine_group": group["GroupId"],
        "previous_groups": aws["groups"],
        "snapshots": run["steps"]["snapshots"]["output"],
        "approved_by": "sam",
    }
    assert sorted(run["outputs"]["snapshots"]) == sorted(s["SnapshotId"] for s in snapshots)
    [message] = saas.slack.in_channel("security")
    assert f"`{iid}` (prod)" in message["all_text"]
    assert f"→ `{group['GroupId']}`" in message["all_text"]
    assert "Approved by sam" in message["all_text"]


async def test_non_production_instance_is_quarantined_at_once_with_the_existing_group(
    blueprints: Blueprints, saas: SaaS, aws_endpoint: str
) -> None:
    aws = fleet(aws_endpoint, "staging", with_quarantine_group=True)
    ec2, iid = aws["ec2"], aws["instance"]
    [event] = parse_events(guardduty_signal(iid, severity="critical"))
    run = await blueprints.result(await blueprints.on_event(load(BLUEPRINT), event))

    assert run["status"] == "succeeded", summary(run)
    assert run["steps"]["approve"]["status"] == "skipped"
    assert run["steps"]["create_group"]["status"] == "skipped"
    assert run["outputs"]["quarantine_group"] == aws["existing"]
    assert run["outputs"]["approved_by"] is None
    described = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert [g["GroupId"] for g in described["SecurityGroups"]] == [aws["existing"]]
    assert len(run["outputs"]["snapshots"]) == 2
    [message] = saas.slack.in_channel("security")
    assert "Not production: no approval needed" in message["all_text"]
