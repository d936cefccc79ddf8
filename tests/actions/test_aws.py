"""The AWS integration (`aws.<service>.<operation>`, one action per botocore operation).

- the committed index equals what the installed botocore describes;
- looking an action up is cheap and imports neither boto3 nor botocore;
- the options-class table;
- the conformance suite's checks, per service, over every operation
  (generated actions are left out of tests/actions/test_action_conformance.py);
- the input models built from botocore's shapes;
- `switchyard validate` on AWS steps;
- real calls through the action activity against a `moto_server` subprocess
  (EC2, SSM, S3, Lambda, CloudWatch, STS AssumeRole);
- error mapping, credentials and the endpoint guard against pytest-httpserver
  fakes answering in AWS's own error shapes.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import socket
import subprocess
import sys
import sysconfig
import textwrap
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jsonschema_rs
import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError
from typer.testing import CliRunner
from werkzeug import Request, Response

from switchyard import errors
from switchyard.actions import action_types, get_action, validate_params
from switchyard.actions.aws import (
    AWS_ERRORS,
    EXAMPLES,
    PROVIDER,
    _catalog,
    _impl,
    _model,
    aws_options_class,
    operation_of,
    services,
)
from switchyard.actions.sdk import ActionContext
from switchyard.connections import Connection
from switchyard.definition.validate import validate_text
from switchyard.engine.options import OPTIONS, READ, WRITE_IDEMPOTENT, WRITE_ONCE

from .conftest import RunAction, error_detail
from .live import SECRET
from .live.aws import ACCESS_KEY_ID, CASES

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
KEY_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture(autouse=True)
def _fresh_aws_caches() -> Iterator[None]:
    _impl.clear_caches()
    yield
    _impl.clear_caches()


# ------------------------------------------------------------------ the index


def test_index_matches_the_installed_botocore() -> None:
    built = _catalog.build_index()
    text = _catalog.INDEX_PATH.read_text(encoding="utf-8")
    assert json.loads(text) == built, "stale index: run `uv run python scripts/aws_index.py`"
    assert _catalog.dumps_index(built) == text


def test_every_operation_is_an_action() -> None:
    aws = [t for t in action_types() if t.startswith("aws.")]
    total = sum(len(ops) for _t, _n, ops in services().values())
    assert len(aws) == total == len(PROVIDER.types())
    assert len(services()) >= 400 and total >= 15_000
    assert len(action_types()) >= 300
    for type_ in (
        "aws.ec2.describe_instances",
        "aws.s3.put_object",
        "aws.ssm.send_command",
        "aws.lambda.invoke",
        "aws.cloudwatch.describe_alarms",
    ):
        assert type_ in aws
    assert operation_of("aws.ec2.describe_instances") == (
        "ec2",
        "describe_instances",
        "DescribeInstances",
    )
    for unknown in ("aws.ec2.nope", "aws.nope.describe_instances", "aws.ec2", "aws.a.b.c"):
        assert operation_of(unknown) is None
        with pytest.raises(KeyError):
            get_action(unknown)


def test_lookup_is_cheap_and_imports_no_aws_sdk() -> None:
    """What the workflow sandbox does: find the action and its options class."""
    code = textwrap.dedent(
        """
        import json, sys, time
        t0 = time.perf_counter()
        from switchyard.actions.sdk import get_action, load_builtins
        load_builtins()
        t1 = time.perf_counter()
        spec = get_action("aws.ec2.stop_instances")
        cls = spec.options_class({"InstanceIds": ["i-1"]})
        t2 = time.perf_counter()
        for t in ("aws.s3.put_object", "aws.lambda.invoke", "aws.ssm.send_command"):
            get_action(t).options_class({})
        t3 = time.perf_counter()
        print(json.dumps({
            "cls": cls,
            "sdk": sorted(m for m in ("boto3", "botocore") if m in sys.modules),
            "load": t1 - t0, "first": t2 - t1, "three": t3 - t2,
        }))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["cls"] == WRITE_IDEMPOTENT
    assert found["sdk"] == []
    print(
        f"\nload_builtins {found['load'] * 1e3:.0f} ms, first get_action "
        f"{found['first'] * 1e3:.2f} ms, three more {found['three'] * 1e3:.2f} ms"
    )
    # The first lookup parses the index (~20 ms); later ones take microseconds.
    assert found["first"] < 2.0 and found["three"] < 0.1


# ------------------------------------------------------------------ options classes


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        ("aws.ec2.describe_instances", READ),
        ("aws.s3.get_object", READ),
        ("aws.s3.head_object", READ),
        ("aws.dynamodb.batch_get_item", READ),
        ("aws.dynamodb.query", READ),
        ("aws.cloudtrail.lookup_events", READ),
        ("aws.kms.decrypt", READ),
        ("aws.ec2.stop_instances", WRITE_IDEMPOTENT),
        ("aws.ec2.start_instances", WRITE_IDEMPOTENT),
        ("aws.rds.start_db_cluster", WRITE_IDEMPOTENT),
        ("aws.ec2.reboot_instances", WRITE_IDEMPOTENT),
        ("aws.ec2.modify_instance_attribute", WRITE_IDEMPOTENT),
        ("aws.s3.put_object", WRITE_IDEMPOTENT),
        ("aws.s3.delete_object", WRITE_IDEMPOTENT),
        ("aws.cloudwatch.put_metric_alarm", WRITE_IDEMPOTENT),
        ("aws.cloudwatch.set_alarm_state", WRITE_IDEMPOTENT),
        ("aws.ec2.create_tags", WRITE_ONCE),
        ("aws.ec2.run_instances", WRITE_ONCE),
        ("aws.ssm.send_command", WRITE_ONCE),
        ("aws.lambda.invoke", WRITE_ONCE),
        ("aws.sns.publish", WRITE_ONCE),
        ("aws.s3.copy_object", WRITE_ONCE),
        ("aws.stepfunctions.start_execution", WRITE_ONCE),
        ("aws.codebuild.start_build", WRITE_ONCE),
        ("aws.kinesis.put_record", WRITE_ONCE),
        ("aws.events.put_events", WRITE_ONCE),
        ("aws.cloudwatch.put_metric_data", WRITE_ONCE),
        ("aws.sqs.receive_message", WRITE_ONCE),
        ("aws.apigateway.test_invoke_method", WRITE_ONCE),
    ],
)
def test_options_class_by_verb(type_: str, expected: str) -> None:
    assert get_action(type_).options_class({}) == expected


def test_unknown_verbs_are_write_once() -> None:
    assert aws_options_class("x", "frobnicate_widget") == WRITE_ONCE
    assert aws_options_class("x", "batch_frobnicate_widgets") == WRITE_ONCE
    assert aws_options_class("x", "start_report_job") == WRITE_ONCE


# ------------------------------------------------------------------ per-service sweep

SERVICE_NAMES = sorted(services())
SWEEP: dict[str, tuple[int, float]] = {}
#: Operations whose whole schema also goes through jsonschema's own check_schema
#: (pure Python: ~0.4 ms per subschema, too slow for all 20 000 operations).
FULL_CHECK = (
    "aws.ec2.describe_instances",
    "aws.ec2.run_instances",
    "aws.s3.put_object",
    "aws.dynamodb.put_item",
    "aws.wafv2.create_rule_group",
    "aws.lambda.invoke",
    "aws.ssm.send_command",
    "aws.cloudwatch.put_metric_alarm",
    "aws.cloudwatch.get_metric_statistics",
)


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_operation_of_the_service_conforms(service: str) -> None:
    """The conformance suite's declaration checks for each operation of `service`.

    The spec builds; the input schema is valid Draft 2020-12 (the metaschema
    check of jsonschema-rs for every operation, jsonschema's check_schema for
    the service's first operation); the options class is known for any
    params; the example made from the shapes validates against both the model
    and the schema; unknown parameters are rejected.
    """
    start = time.perf_counter()
    title, _name, ops = services()[service]
    shapes = _model.service_shapes(service)
    for i, (snake, (operation, _summary)) in enumerate(sorted(ops.items())):
        type_ = f"aws.{service}.{snake}"
        spec = PROVIDER.spec(type_)
        assert spec is not None and spec.type == type_ and spec.generated
        assert spec.title == f"AWS {title}: {operation}" and spec.group == f"AWS {title}"
        assert spec.description and f"`{operation}`" in spec.description
        assert spec.connection_type == "aws" and spec.errors == AWS_ERRORS
        for params in (*spec.examples, {}, {"InstanceIds": 3}, {"x": "{{ y }}"}):
            assert spec.options_class(params) in OPTIONS

        schema = spec.input_schema()
        assert schema["type"] == "object" and schema["title"] == f"{type_} input"
        assert schema["additionalProperties"] is False
        json.dumps(schema)
        jsonschema_rs.meta.validate(schema)
        if i == 0:
            Draft202012Validator.check_schema(schema)

        model = spec.input_model
        assert model.__aws_operation__.operation == operation
        assert list(schema["properties"]) == list(model.__aws_operation__.members)
        assert list(model.model_fields) == list(schema["properties"])
        assert {n for n, f in model.model_fields.items() if f.is_required()} == set(
            schema.get("required", ())
        )
        example = shapes.example(operation)
        assert model.model_validate(example).boto_params().keys() == example.keys()
        jsonschema_rs.validator_for(schema).validate(example)
        for given in spec.examples:
            assert validate_params(type_, given) == []
        with pytest.raises(ValidationError):
            model.model_validate({"__not_a_parameter__": 1})
    _model.forget(service)
    SWEEP[service] = (len(ops), time.perf_counter() - start)


def test_sweep_time() -> None:
    """Report the sweep's duration (it runs before this test in file order)."""
    if len(SWEEP) != len(SERVICE_NAMES):
        pytest.skip("the per-service sweep did not run in full")
    seconds = sum(t for _n, t in SWEEP.values())
    slowest = sorted(SWEEP.items(), key=lambda kv: -kv[1][1])[:3]
    print(
        f"\nsweep: {sum(n for n, _t in SWEEP.values())} operations of {len(SWEEP)} services "
        f"in {seconds:.1f} s; slowest {[(s, round(t, 2)) for s, (_n, t) in slowest]}"
    )


@pytest.mark.parametrize("type_", FULL_CHECK)
def test_whole_schema_passes_jsonschema_check_schema(type_: str) -> None:
    schema = get_action(type_).input_schema()
    Draft202012Validator.check_schema(schema)
    jsonschema_rs.meta.validate(schema)


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "strin"},
        {"type": "object", "properties": []},
        {"$defs": {"X": {"type": 3}}, "type": "object"},
        {"required": "Name"},
    ],
)
def test_the_metaschema_check_rejects_invalid_schemas(bad: dict[str, Any]) -> None:
    """The sweep's fast check is a real one: it rejects what jsonschema rejects."""
    assert not jsonschema_rs.meta.is_valid(bad)
    assert not Draft202012Validator(Draft202012Validator.META_SCHEMA).is_valid(bad)


# ------------------------------------------------------------------ input models


def test_unknown_and_missing_members_are_located() -> None:
    problems = validate_params("aws.ec2.stop_instances", {"InstanceId": ["i-1"]})
    assert ("with.InstanceId", "Extra inputs are not permitted") in problems
    assert ("with.InstanceIds", "Field required") in problems
    problems = validate_params(
        "aws.ec2.describe_instances", {"Filters": [{"Name": "tag:team", "Valuez": ["x"]}]}
    )
    assert problems == [("with.Filters[0].Valuez", "Extra inputs are not permitted")]


def test_member_types() -> None:
    type_ = "aws.ec2.describe_instances"
    assert validate_params(type_, {"MaxResults": 10, "DryRun": False}) == []
    assert validate_params(type_, {"MaxResults": "{{ Inputs.n }}"}) == []
    [(loc, message)] = validate_params(type_, {"MaxResults": "ten"})
    assert loc == "with.MaxResults" and "integer" in message
    [(loc, _)] = validate_params(type_, {"InstanceIds": "i-1"})
    assert loc == "with.InstanceIds"
    spec = get_action(type_)
    params = spec.input_model.model_validate({"MaxResults": "5", "InstanceIds": ["i-1"]})
    assert params.boto_params() == {"InstanceIds": ["i-1"], "MaxResults": 5}


def test_enums_and_their_short_message() -> None:
    type_ = "aws.ec2.run_instances"
    base = {"MinCount": 1, "MaxCount": 1}
    assert validate_params(type_, {**base, "InstanceType": "t3.micro"}) == []
    [(loc, message)] = validate_params(type_, {**base, "InstanceType": "t3.gigantic"})
    assert loc == "with.InstanceType"
    assert "values of InstanceType" in message and len(message) < 300
    schema = get_action(type_).input_schema()
    assert "t3.micro" in schema["properties"]["InstanceType"]["enum"]
    [(loc, message)] = validate_params(
        "aws.cloudwatch.set_alarm_state",
        {"AlarmName": "a", "StateValue": "BROKEN", "StateReason": "r"},
    )
    assert loc == "with.StateValue" and "'OK', 'ALARM' or 'INSUFFICIENT_DATA'" in message


def test_blobs_are_text_or_base64() -> None:
    model = get_action("aws.s3.put_object").input_model
    text = model.model_validate({"Bucket": "b", "Key": "k", "Body": "héllo"})
    assert text.boto_params()["Body"] == "héllo"
    binary = model.model_validate({"Bucket": "b", "Key": "k", "Body": {"base64": "AAH/"}})
    assert binary.boto_params()["Body"] == b"\x00\x01\xff"
    problems = validate_params("aws.s3.put_object", {"Bucket": "b", "Key": "k", "Body": {"b": 1}})
    assert [loc for loc, _ in problems] == ["with.Body"]
    problems = validate_params(
        "aws.s3.put_object", {"Bucket": "b", "Key": "k", "Body": {"base64": "%%%"}}
    )
    assert "not valid base64" in problems[0][1]
    body = get_action("aws.s3.put_object").input_schema()["properties"]["Body"]
    assert body["anyOf"][0] == {"type": "string"} and "base64" in body["description"]


def test_timestamps_are_iso_or_epoch() -> None:
    type_ = "aws.cloudwatch.get_metric_statistics"
    base = {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization", "Period": 60}
    ok = {**base, "StartTime": "2024-05-01T00:00:00Z", "EndTime": 1714525200}
    assert validate_params(type_, {**ok, "Statistics": ["Average"]}) == []
    [(loc, message)] = validate_params(type_, {**ok, "StartTime": "yesterday"})
    assert loc == "with.StartTime" and "ISO-8601" in message


def test_recursive_shapes_are_cut_once() -> None:
    """DynamoDB's AttributeValue contains itself (M, L): the inner level takes any JSON."""
    type_ = "aws.dynamodb.put_item"
    item = {"id": {"S": "1"}, "tags": {"L": [{"S": "a"}, {"N": "2"}]}, "m": {"M": {"x": 5}}}
    assert validate_params(type_, {"TableName": "t", "Item": item}) == []
    # The first level is checked.
    problems = validate_params(type_, {"TableName": "t", "Item": {"id": {"Q": "1"}}})
    assert problems == [("with.Item.id.Q", "Extra inputs are not permitted")]
    problems = validate_params(type_, {"TableName": "t", "Item": {"id": {"L": "x"}}})
    assert [loc for loc, _ in problems] == ["with.Item.id.L"]
    schema = get_action(type_).input_schema()
    value = schema["$defs"]["AttributeValue"]["properties"]
    assert value["M"]["type"] == "object" and value["L"]["type"] == "array"
    assert value["M"]["additionalProperties"] == {"description": _model.RECURSIVE_NOTE}
    assert value["L"]["items"] == {"description": _model.RECURSIVE_NOTE}
    assert value["S"]["type"] == "string"


def test_unions_take_exactly_one_member() -> None:
    type_ = "aws.verifiedpermissions.is_authorized"

    def context(value: Any) -> dict[str, Any]:
        return {"policyStoreId": "ps-1", "context": {"contextMap": {"a": value}}}

    assert validate_params(type_, context({"boolean": True})) == []
    for bad in ({"boolean": True, "long": 1}, {}):
        [(loc, message)] = validate_params(type_, context(bad))
        assert loc == "with.context.contextMap.a" and "exactly one" in message
    definition = get_action(type_).input_schema()["$defs"]["AttributeValue"]
    assert definition["minProperties"] == definition["maxProperties"] == 1


def test_models_do_not_depend_on_build_order() -> None:
    description = _model.service_description("dynamodb")
    ops = sorted(description["operations"])
    forward = _model.ServiceShapes("dynamodb", description)
    backward = _model.ServiceShapes("dynamodb", description)
    texts = {op: forward.input_model(op, op).model_json_schema() for op in ops}
    for op in reversed(ops):
        assert backward.input_model(op, op).model_json_schema() == texts[op]


def test_models_are_pydantic_models() -> None:
    model = get_action("aws.ec2.stop_instances").input_model
    made = model(InstanceIds=["i-1"], Force=True)
    assert made.boto_params() == {"InstanceIds": ["i-1"], "Force": True}
    assert made.model_dump(exclude_unset=True) == {"InstanceIds": ["i-1"], "Force": True}
    assert model.model_config["extra"] == "forbid"
    assert model.model_json_schema() is not model.model_json_schema()  # fresh copies
    with pytest.raises(ValidationError):
        model(Force=True)


def test_members_named_like_model_attributes() -> None:
    """Members are not Python attributes of the model class (`schema`, `Config`)."""
    model = get_action("aws.apigateway.create_model").input_model
    made = model.model_validate(
        {"restApiId": "a1", "name": "Pet", "contentType": "application/json", "schema": "{}"}
    )
    assert made.boto_params()["schema"] == "{}"
    assert callable(model.model_json_schema)
    model = get_action("aws.devops-guru.add_notification_channel").input_model
    config = {"Sns": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:ops"}}
    assert model.model_validate({"Config": config}).boto_params() == {"Config": config}


def test_an_operation_without_input_takes_nothing() -> None:
    assert validate_params("aws.s3.list_buckets", {}) == []
    assert validate_params("aws.sts.get_caller_identity", {"x": 1}) == [
        ("with.x", "Extra inputs are not permitted")
    ]


# ------------------------------------------------------------------ switchyard validate

WORKFLOW = """
name: stop-tagged
inputs:
  team: {type: string, default: payments}
steps:
  - id: find
    action: aws.ec2.describe_instances
    connection: aws-prod
    with:
      Filters:
        - {Name: "tag:team", Values: ["{{ Inputs.team }}"]}
        - {Name: instance-state-name, Values: [running]}
    next: stop
  - id: stop
    action: aws.ec2.stop_instances
    connection: aws-prod
    with:
      InstanceIds: %s
"""


def test_switchyard_validate_accepts_and_locates(tmp_path: Path) -> None:
    ids = '["i-0123456789abcdef0"]'
    _, problems = validate_text(WORKFLOW % ids)
    assert [p for p in problems if p.severity == "error"] == []

    templated = (
        '"{{ Steps.find.output.Reservations.flatMap(r => r.Instances.map(i => i.InstanceId)) }}"'
    )
    _, problems = validate_text(WORKFLOW % templated)
    assert [p for p in problems if p.severity == "error"] == []

    bad = (WORKFLOW % ids).replace("InstanceIds:", "InstanceId:")
    _, problems = validate_text(bad)
    assert {(p.location, p.message) for p in problems if p.severity == "error"} == {
        (
            "steps[1].with.InstanceId",
            "unknown parameter 'InstanceId' for aws.ec2.stop_instances "
            "(did you mean 'InstanceIds'?)",
        ),
        (
            "steps[1].with.InstanceIds",
            "missing required parameter 'InstanceIds' for aws.ec2.stop_instances",
        ),
    }

    from switchyard.cli import _register, app

    _register()
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}: steps[1].with.InstanceId: unknown parameter 'InstanceId'" in result.output


# ------------------------------------------------------------------ moto


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _post(url: str, body: Any) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `moto_server` on a free loopback port for this module."""
    exe = Path(sysconfig.get_path("scripts")) / "moto_server"
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"moto_server exited: {log.read_text()[-2000:]}"
            try:
                with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=2) as r:
                    r.read()
                break
            except OSError:
                assert time.monotonic() < deadline, "moto_server did not start in 60 s"
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _aws(url: str, **fields: Any) -> Connection:
    return Connection(
        "aws-test",
        "aws",
        fields={"region": "us-east-1", "endpoint_url": url, **fields},
        secrets={"access_key_id": KEY_ID, "secret_access_key": KEY_SECRET},
    )


@pytest.fixture
def moto(moto_url: str) -> Connection:
    """A clean moto (every backend reset) and an `aws` connection to it.

    moto runs Lambda functions in Docker unless told otherwise; Docker is not
    here, so its "simple" Lambda backend answers Invoke instead (it returns
    the invocation's payload): `POST /moto-api/config {"lambda": {"use_docker": false}}`.
    """
    _post(f"{moto_url}/moto-api/reset", {})
    _post(f"{moto_url}/moto-api/config", {"lambda": {"use_docker": False}})
    return _aws(moto_url)


async def _run(run_action: RunAction, type_: str, params: dict[str, Any], conn: Connection) -> Any:
    result = await run_action(type_, params, connection=conn.name, connections=[conn])
    return result.output


async def test_stop_the_instances_tagged_x(run_action: RunAction, moto: Connection) -> None:
    """The classic: find the running instances tagged team=payments, stop them."""
    tagged = await _run(
        run_action,
        "aws.ec2.run_instances",
        {
            "ImageId": "ami-12c6146b",
            "MinCount": 2,
            "MaxCount": 2,
            "InstanceType": "t3.micro",
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "payments"}]}
            ],
        },
        moto,
    )
    other = await _run(
        run_action,
        "aws.ec2.run_instances",
        {"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1},
        moto,
    )
    ids = sorted(i["InstanceId"] for i in tagged["Instances"])
    assert len(ids) == 2
    assert isinstance(tagged["Instances"][0]["LaunchTime"], str)  # datetimes are ISO text
    datetime.fromisoformat(tagged["Instances"][0]["LaunchTime"])
    assert tagged["ResponseMetadata"].keys() <= {"RequestId", "HTTPStatusCode"}

    found = await _run(
        run_action,
        "aws.ec2.describe_instances",
        {
            "Filters": [
                {"Name": "tag:team", "Values": ["payments"]},
                {"Name": "instance-state-name", "Values": ["running"]},
            ]
        },
        moto,
    )
    found_ids = sorted(i["InstanceId"] for r in found["Reservations"] for i in r["Instances"])
    assert found_ids == ids

    stopped = await _run(run_action, "aws.ec2.stop_instances", {"InstanceIds": found_ids}, moto)
    assert sorted(i["InstanceId"] for i in stopped["StoppingInstances"]) == ids
    assert {i["PreviousState"]["Name"] for i in stopped["StoppingInstances"]} == {"running"}

    after = await _run(run_action, "aws.ec2.describe_instances", {}, moto)
    states = {
        i["InstanceId"]: i["State"]["Name"] for r in after["Reservations"] for i in r["Instances"]
    }
    assert {states[i] for i in ids} <= {"stopping", "stopped"}
    assert states[other["Instances"][0]["InstanceId"]] == "running"


STOP_TAGGED = """
name: stop-tagged
inputs:
  team: {type: string, required: true}
outputs:
  stopped: "{{ Steps.stop.output.StoppingInstances.map(i => i.InstanceId) }}"
steps:
  - id: find
    action: aws.ec2.describe_instances
    connection: aws-test
    with:
      Filters:
        - {Name: "tag:team", Values: ["{{ Inputs.team }}"]}
        - {Name: instance-state-name, Values: [running]}
    next: stop
  - id: stop
    action: aws.ec2.stop_instances
    connection: aws-test
    with:
      InstanceIds: >-
        {{ Steps.find.output.Reservations.flatMap(r =>
        r.Instances.map(i => i.InstanceId)) }}
"""


async def test_stop_tagged_workflow_in_the_sandbox(
    client: Any, task_queue: str, tmp_path: Path, run_action: RunAction, moto: Connection
) -> None:
    """A real run: the interpreter (in Temporal's workflow sandbox) looks the AWS
    actions up and picks their options classes; the worker's activity calls moto."""
    from switchyard.connections import StaticConnections
    from switchyard.definition.loader import load_text, parse_workflow
    from switchyard.engine import client as engine_client
    from switchyard.engine.blobs import BlobStore
    from switchyard.engine.worker import build_worker

    launched = await _run(
        run_action,
        "aws.ec2.run_instances",
        {
            "ImageId": "ami-12c6146b",
            "MinCount": 2,
            "MaxCount": 2,
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "search"}]}
            ],
        },
        moto,
    )
    ids = sorted(i["InstanceId"] for i in launched["Instances"])
    wf, problems = parse_workflow(load_text(STOP_TAGGED))
    assert wf is not None and not [p for p in problems if p.severity == "error"], problems
    worker = build_worker(
        client,
        task_queue,
        connections=StaticConnections([moto]),
        definitions=tmp_path,
        blobs=BlobStore(tmp_path / "blobs", threshold=128 * 1024),
    )
    async with worker:
        handle = await engine_client.start_run(
            client, wf, {"team": "search"}, task_queue=task_queue
        )
        run = await asyncio.wait_for(engine_client.wait_result(handle), timeout=120)
    assert run["status"] == "succeeded", run
    assert sorted(run["outputs"]["stopped"]) == ids


async def test_ssm_send_command_and_its_invocation(run_action: RunAction, moto: Connection) -> None:
    launched = await _run(
        run_action,
        "aws.ec2.run_instances",
        {"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1},
        moto,
    )
    instance = launched["Instances"][0]["InstanceId"]
    sent = await _run(
        run_action,
        "aws.ssm.send_command",
        {
            "InstanceIds": [instance],
            "DocumentName": "AWS-RunShellScript",
            "Parameters": {"commands": ["systemctl restart nginx"]},
            "Comment": "restart nginx",
        },
        moto,
    )
    command = sent["Command"]
    assert command["DocumentName"] == "AWS-RunShellScript"
    assert command["Parameters"] == {"commands": ["systemctl restart nginx"]}
    # moto does not implement ListCommandInvocations; ListCommands and
    # GetCommandInvocation are what a workflow polls anyway.
    listed = await _run(
        run_action, "aws.ssm.list_commands", {"CommandId": command["CommandId"]}, moto
    )
    assert [c["CommandId"] for c in listed["Commands"]] == [command["CommandId"]]
    invocation = await _run(
        run_action,
        "aws.ssm.get_command_invocation",
        {"CommandId": command["CommandId"], "InstanceId": instance},
        moto,
    )
    assert invocation["Status"] == "Success"
    assert invocation["InstanceId"] == instance
    assert invocation["DocumentName"] == "AWS-RunShellScript"


async def test_s3_put_and_get_object(run_action: RunAction, moto: Connection) -> None:
    await _run(run_action, "aws.s3.create_bucket", {"Bucket": "incident-reports"}, moto)
    put = await _run(
        run_action,
        "aws.s3.put_object",
        {
            "Bucket": "incident-reports",
            "Key": "2024/05/inc-1.json",
            "Body": '{"status": "resolved"}',
            "ContentType": "application/json",
            "Metadata": {"run": "r1"},
        },
        moto,
    )
    assert put["ETag"]
    got = await _run(
        run_action,
        "aws.s3.get_object",
        {"Bucket": "incident-reports", "Key": "2024/05/inc-1.json"},
        moto,
    )
    assert got["Body"] == '{"status": "resolved"}'  # read and decoded, not parsed
    assert got["ContentType"] == "application/json"
    assert got["Metadata"] == {"run": "r1"}
    datetime.fromisoformat(got["LastModified"])

    binary = bytes(range(256))
    await _run(
        run_action,
        "aws.s3.put_object",
        {
            "Bucket": "incident-reports",
            "Key": "blob.bin",
            "Body": {"base64": base64.b64encode(binary).decode()},
        },
        moto,
    )
    got = await _run(
        run_action, "aws.s3.get_object", {"Bucket": "incident-reports", "Key": "blob.bin"}, moto
    )
    assert base64.b64decode(got["Body"]["base64"]) == binary
    listed = await _run(run_action, "aws.s3.list_objects_v2", {"Bucket": "incident-reports"}, moto)
    assert sorted(o["Key"] for o in listed["Contents"]) == ["2024/05/inc-1.json", "blob.bin"]


async def test_s3_select_event_stream(run_action: RunAction, moto: Connection) -> None:
    """An event stream (S3 Select) becomes the list of its events."""
    await _run(run_action, "aws.s3.create_bucket", {"Bucket": "select-bucket"}, moto)
    await _run(
        run_action,
        "aws.s3.put_object",
        {"Bucket": "select-bucket", "Key": "hosts.csv", "Body": "host,load\nweb-1,9\nweb-2,1\n"},
        moto,
    )
    out = await _run(
        run_action,
        "aws.s3.select_object_content",
        {
            "Bucket": "select-bucket",
            "Key": "hosts.csv",
            "Expression": "select * from s3object s",
            "ExpressionType": "SQL",
            "InputSerialization": {"CSV": {"FileHeaderInfo": "USE"}},
            "OutputSerialization": {"JSON": {}},
        },
        moto,
    )
    events = out["Payload"]
    assert isinstance(events, list) and events[-1] == {"End": {}}
    records = "".join(e["Records"]["Payload"] for e in events if "Records" in e)
    rows = [json.loads(line) for line in records.splitlines() if line.strip()]
    assert {"host": "web-1", "load": "9"} in rows and {"host": "web-2", "load": "1"} in rows


async def test_s3_body_over_the_limit_fails(
    run_action: RunAction, moto: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _run(run_action, "aws.s3.create_bucket", {"Bucket": "big-bucket"}, moto)
    await _run(
        run_action,
        "aws.s3.put_object",
        {"Bucket": "big-bucket", "Key": "k", "Body": "x" * 100},
        moto,
    )
    monkeypatch.setattr(_impl, "MAX_BODY_BYTES", 64)
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, "aws.s3.get_object", {"Bucket": "big-bucket", "Key": "k"}, moto)
    assert info.value.type == errors.ACTION_ERROR and info.value.non_retryable
    assert "larger than" in str(info.value)


def _zip(source: str) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", source)
    return base64.b64encode(buffer.getvalue()).decode()


async def test_lambda_invoke(run_action: RunAction, moto: Connection) -> None:
    role = await _run(
        run_action,
        "aws.iam.create_role",
        {
            "RoleName": "remediation-lambda",
            "AssumeRolePolicyDocument": json.dumps({"Version": "2012-10-17", "Statement": []}),
        },
        moto,
    )
    created = await _run(
        run_action,
        "aws.lambda.create_function",
        {
            "FunctionName": "remediate",
            "Runtime": "python3.12",
            "Role": role["Role"]["Arn"],
            "Handler": "handler.main",
            "Code": {"ZipFile": {"base64": _zip("def main(event, context):\n    return event\n")}},
        },
        moto,
    )
    assert created["FunctionName"] == "remediate"
    fetched = await _run(run_action, "aws.lambda.get_function", {"FunctionName": "remediate"}, moto)
    assert fetched["Configuration"]["Handler"] == "handler.main"
    listed = await _run(run_action, "aws.lambda.list_functions", {}, moto)
    assert [f["FunctionName"] for f in listed["Functions"]] == ["remediate"]

    # moto's simple (no-Docker) backend answers with the payload it was given.
    invoked = await _run(
        run_action,
        "aws.lambda.invoke",
        {"FunctionName": "remediate", "Payload": json.dumps({"host": "web-1", "n": 2})},
        moto,
    )
    assert invoked["StatusCode"] == 200
    assert invoked["Payload"] == {"host": "web-1", "n": 2}  # JSON payloads are parsed
    text = await _run(
        run_action, "aws.lambda.invoke", {"FunctionName": "remediate", "Payload": "plain"}, moto
    )
    assert text["Payload"] == "plain"


async def test_cloudwatch_alarms(run_action: RunAction, moto: Connection) -> None:
    await _run(
        run_action,
        "aws.cloudwatch.put_metric_alarm",
        {
            "AlarmName": "api-5xx",
            "MetricName": "5XXError",
            "Namespace": "AWS/ApiGateway",
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 5.0,
            "ComparisonOperator": "GreaterThanThreshold",
            "Dimensions": [{"Name": "ApiName", "Value": "orders"}],
        },
        moto,
    )
    alarms = await _run(
        run_action, "aws.cloudwatch.describe_alarms", {"AlarmNames": ["api-5xx"]}, moto
    )
    [alarm] = alarms["MetricAlarms"]
    assert alarm["Threshold"] == 5.0 and alarm["Dimensions"] == [
        {"Name": "ApiName", "Value": "orders"}
    ]
    await _run(
        run_action,
        "aws.cloudwatch.set_alarm_state",
        {"AlarmName": "api-5xx", "StateValue": "ALARM", "StateReason": "workflow test"},
        moto,
    )
    firing = await _run(run_action, "aws.cloudwatch.describe_alarms", {"StateValue": "ALARM"}, moto)
    assert [a["AlarmName"] for a in firing["MetricAlarms"]] == ["api-5xx"]
    assert firing["MetricAlarms"][0]["StateReason"] == "workflow test"


async def test_assume_role_with_moto_sts(
    run_action: RunAction, moto: Connection, moto_url: str
) -> None:
    role = await _run(
        run_action,
        "aws.iam.create_role",
        {
            "RoleName": "ops-automation",
            "AssumeRolePolicyDocument": json.dumps({"Version": "2012-10-17", "Statement": []}),
        },
        moto,
    )
    conn = _aws(
        moto_url,
        role_arn=role["Role"]["Arn"],
        external_id="ext-4242",
        session_name="incident-42",
    )
    who = await _run(run_action, "aws.sts.get_caller_identity", {}, conn)
    assert who["Arn"].endswith(":assumed-role/ops-automation/incident-42")
    # The assumed role's credentials work for other services too.
    buckets = await _run(run_action, "aws.s3.list_buckets", {}, conn)
    assert buckets["Buckets"] == []


async def test_unknown_instance_is_an_http_client_error(
    run_action: RunAction, moto: Connection
) -> None:
    with pytest.raises(ApplicationError) as info:
        await _run(
            run_action, "aws.ec2.stop_instances", {"InstanceIds": ["i-0000000000abcdef0"]}, moto
        )
    assert info.value.type == errors.HTTP_CLIENT_ERROR and info.value.non_retryable
    detail = error_detail(info.value)
    assert detail["message"].startswith(
        "aws ec2 StopInstances: InvalidInstanceID.NotFound: The instance ID"
    )
    assert detail["details"]["code"] == "InvalidInstanceID.NotFound"
    assert detail["details"]["status"] == 400


async def test_parameters_botocore_rejects_are_validation_errors(
    run_action: RunAction, moto: Connection
) -> None:
    """botocore checks what the model does not (string lengths): nothing is sent."""
    with pytest.raises(ApplicationError) as info:
        await _run(
            run_action,
            "aws.sts.assume_role",
            {"RoleArn": "arn:aws:iam::123456789012:role/x", "RoleSessionName": "s"},
            moto,
        )
    assert info.value.type == errors.VALIDATION_ERROR and info.value.non_retryable
    assert "RoleSessionName" in str(info.value)


async def test_worker_environment_is_ignored(
    run_action: RunAction, moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without use_default_credentials the worker's AWS settings play no part."""
    config = tmp_path / "config"
    config.write_text("[profile other]\nregion = eu-west-3\n")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWORKERIDENTITY00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "worker-secret")
    monkeypatch.setenv("AWS_PROFILE", "missing-profile")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    nokeys = Connection("aws-test", "aws", fields={"endpoint_url": moto_url})
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, "aws.sts.get_caller_identity", {}, nokeys)
    assert info.value.type == errors.VALIDATION_ERROR and info.value.non_retryable
    message = error_detail(info.value)["message"]
    assert "access_key_id" in message and "secret_access_key" in message
    assert "use_default_credentials" in message

    # With keys, calls work though AWS_PROFILE names no profile.
    who = await _run(run_action, "aws.sts.get_caller_identity", {}, _aws(moto_url))
    assert who["Account"]


async def test_use_default_credentials(
    run_action: RunAction, moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWORKERIDENTITY00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "worker-secret")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    conn = Connection(
        "aws-test", "aws", fields={"endpoint_url": moto_url, "use_default_credentials": True}
    )
    who = await _run(run_action, "aws.sts.get_caller_identity", {}, conn)
    assert who["Account"]


# ------------------------------------------------------------------ fakes: errors


def _fake(server: HTTPServer, **fields: Any) -> Connection:
    return Connection(
        "aws-test",
        "aws",
        fields={"region": "us-east-1", "endpoint_url": server.url_for("/"), **fields},
        secrets={"access_key_id": KEY_ID, "secret_access_key": KEY_SECRET},
    )


def _xml(body: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status, headers or {}, content_type="text/xml")


def _json_error(type_: str, message: str, status: int) -> Response:
    return Response(
        json.dumps({"__type": type_, "message": message}),
        status,
        {"x-amzn-RequestId": "req-1"},
        content_type="application/x-amz-json-1.1",
    )


EC2_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code>'
    "<Message>{message}</Message></Error></Errors><RequestID>req-ec2</RequestID></Response>"
)
S3_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}'
    "</Message><RequestId>req-s3</RequestId><HostId>h</HostId></Error>"
)


@pytest.mark.parametrize(
    ("type_", "params", "answer", "etype", "retryable"),
    [
        (
            "aws.ec2.describe_instances",
            {},
            lambda: _xml(
                EC2_ERROR.format(code="UnauthorizedOperation", message="You are not authorized"),
                403,
            ),
            errors.PERMISSION_DENIED,
            False,
        ),
        (
            "aws.s3.list_buckets",
            {},
            lambda: _xml(S3_ERROR.format(code="AccessDenied", message="Access Denied"), 403),
            errors.PERMISSION_DENIED,
            False,
        ),
        (
            "aws.ssm.describe_instance_information",
            {},
            lambda: _json_error("AccessDeniedException", "not allowed", 400),
            errors.PERMISSION_DENIED,
            False,
        ),
        (
            "aws.ssm.describe_instance_information",
            {},
            lambda: _json_error("UnrecognizedClientException", "bad token", 400),
            errors.PERMISSION_DENIED,
            False,
        ),
        (
            "aws.ec2.describe_instances",
            {},
            lambda: _xml(EC2_ERROR.format(code="AuthFailure", message="no"), 401),
            errors.PERMISSION_DENIED,
            False,
        ),
        (
            "aws.ssm.describe_instance_information",
            {},
            lambda: _json_error("ThrottlingException", "Rate exceeded", 400),
            errors.HTTP_SERVER_ERROR,
            True,
        ),
        (
            "aws.ec2.describe_instances",
            {},
            lambda: _xml(EC2_ERROR.format(code="RequestLimitExceeded", message="slow"), 503),
            errors.HTTP_SERVER_ERROR,
            True,
        ),
        (
            "aws.s3.list_buckets",
            {},
            lambda: _xml(S3_ERROR.format(code="SlowDown", message="Reduce your rate"), 503),
            errors.HTTP_SERVER_ERROR,
            True,
        ),
        (
            "aws.s3.list_buckets",
            {},
            lambda: _xml(S3_ERROR.format(code="InternalError", message="oops"), 500),
            errors.HTTP_SERVER_ERROR,
            True,
        ),
        (
            "aws.ssm.describe_instance_information",
            {},
            lambda: _json_error("ValidationException", "1 validation error", 400),
            errors.HTTP_CLIENT_ERROR,
            False,
        ),
        (
            "aws.s3.list_buckets",
            {},
            lambda: Response("upstream exploded", 502, content_type="text/plain"),
            errors.HTTP_SERVER_ERROR,
            True,
        ),
    ],
)
async def test_error_mapping(
    run_action: RunAction,
    httpserver: HTTPServer,
    type_: str,
    params: dict[str, Any],
    answer: Any,
    etype: str,
    retryable: bool,
) -> None:
    calls: list[Request] = []

    def handle(request: Request) -> Response:
        calls.append(request)
        return answer()

    httpserver.expect_request("/").respond_with_handler(handle)
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, type_, params, _fake(httpserver))
    assert info.value.type == etype, info.value
    assert info.value.non_retryable is (not retryable)
    assert len(calls) == 1  # botocore does not retry: Temporal does
    detail = error_detail(info.value)
    assert detail["message"].startswith(f"aws {type_.split('.')[1]} ")
    assert KEY_SECRET not in json.dumps(detail)


async def test_throttling_honours_retry_after(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/").respond_with_response(
        _xml(S3_ERROR.format(code="SlowDown", message="Reduce"), 503, {"Retry-After": "7"})
    )
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, "aws.s3.list_buckets", {}, _fake(httpserver))
    assert info.value.type == errors.HTTP_SERVER_ERROR
    assert info.value.next_retry_delay == timedelta(seconds=7)


async def test_slow_answers_time_out(run_action: RunAction, httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(3)
        return _xml("<ListAllMyBucketsResult/>", 200)

    httpserver.expect_request("/").respond_with_handler(slow)
    started = time.monotonic()
    with pytest.raises(ApplicationError) as info:
        await run_action(
            "aws.s3.list_buckets",
            {},
            connection="aws-test",
            connections=[_fake(httpserver)],
            timeout=1.5,
        )
    assert info.value.type == errors.TIMEOUT and not info.value.non_retryable
    assert time.monotonic() - started < 3


async def test_refused_connection_is_a_retryable_action_error(run_action: RunAction) -> None:
    conn = _aws(f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, "aws.s3.list_buckets", {}, conn)
    assert info.value.type == errors.ACTION_ERROR and not info.value.non_retryable


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254", "http://[fd00:ec2::254]:80", "http://metadata.google.internal"],
)
async def test_metadata_endpoints_are_refused(run_action: RunAction, url: str) -> None:
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, "aws.sts.get_caller_identity", {}, _aws(url))
    assert info.value.type == errors.PERMISSION_DENIED and info.value.non_retryable
    assert "allow_private_metadata" in str(info.value)


async def test_bad_connections(run_action: RunAction, httpserver: HTTPServer) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action("aws.s3.list_buckets", {})
    assert info.value.type == errors.VALIDATION_ERROR and "needs a connection" in str(info.value)

    half = Connection(
        "aws-test",
        "aws",
        fields={"endpoint_url": httpserver.url_for("/")},
        secrets={"access_key_id": KEY_ID},
    )
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, "aws.s3.list_buckets", {}, half)
    assert info.value.type == errors.VALIDATION_ERROR and "secret_access_key" in str(info.value)

    wrong = Connection("aws-test", "http", fields={"base_url": "http://127.0.0.1"})
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, "aws.s3.list_buckets", {}, wrong)
    assert info.value.type == errors.VALIDATION_ERROR

    with pytest.raises(ApplicationError) as info:
        await _run(run_action, "aws.s3.list_buckets", {}, _aws("ftp://127.0.0.1/x"))
    assert info.value.type == errors.VALIDATION_ERROR

    with pytest.raises(ApplicationError) as info:
        await _run(run_action, "aws.s3.list_buckets", {"Bucket": "x"}, _fake(httpserver))
    assert info.value.type == errors.VALIDATION_ERROR
    assert error_detail(info.value)["details"]["problems"] == [
        {"loc": "with.Bucket", "message": "Extra inputs are not permitted"}
    ]


# ------------------------------------------------------------------ fakes: STS AssumeRole

TEMP_KEY_ID = "ASIATEMPORARYKEY0001"
TEMP_SECRET = "temporary/secret/key/from/assume/role"
TEMP_TOKEN = "FwoGZXIvYXdzEXAMPLETEMPORARYSESSIONTOKEN"


def _sts_fake(server: HTTPServer) -> list[dict[str, Any]]:
    """STS (query protocol): AssumeRole, and GetCallerIdentity echoing who signed."""
    seen: list[dict[str, Any]] = []
    expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def handle(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        auth = request.headers.get("Authorization", "")
        seen.append(
            {"form": form, "auth": auth, "token": request.headers.get("X-Amz-Security-Token")}
        )
        if form.get("Action") == "AssumeRole":
            if f"Credential={KEY_ID}/" not in auth or "/sts/aws4_request" not in auth:
                return _xml(EC2_ERROR.format(code="InvalidClientTokenId", message="bad"), 403)
            return _xml(
                f"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                  <AssumeRoleResult>
                    <Credentials>
                      <AccessKeyId>{TEMP_KEY_ID}</AccessKeyId>
                      <SecretAccessKey>{TEMP_SECRET}</SecretAccessKey>
                      <SessionToken>{TEMP_TOKEN}</SessionToken>
                      <Expiration>{expires}</Expiration>
                    </Credentials>
                    <AssumedRoleUser>
                      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:{form["RoleSessionName"]}</AssumedRoleId>
                      <Arn>arn:aws:sts::123456789012:assumed-role/ops/{form["RoleSessionName"]}</Arn>
                    </AssumedRoleUser>
                  </AssumeRoleResult>
                  <ResponseMetadata><RequestId>req-assume</RequestId></ResponseMetadata>
                </AssumeRoleResponse>""",
                200,
            )
        if form.get("Action") == "GetCallerIdentity":
            # A careless service echoing what it was given: the token must come back masked.
            user = request.headers.get("X-Amz-Security-Token", "none")
            return _xml(
                f"""<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                  <GetCallerIdentityResult>
                    <Arn>arn:aws:sts::123456789012:assumed-role/ops/incident-42</Arn>
                    <UserId>{user}</UserId>
                    <Account>123456789012</Account>
                  </GetCallerIdentityResult>
                  <ResponseMetadata><RequestId>req-who</RequestId></ResponseMetadata>
                </GetCallerIdentityResponse>""",
                200,
            )
        return _xml(EC2_ERROR.format(code="InvalidAction", message="?"), 400)

    server.expect_request("/", method="POST").respond_with_handler(handle)
    return seen


async def test_assume_role_is_cached_and_its_credentials_masked(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    seen = _sts_fake(httpserver)
    conn = _fake(
        httpserver,
        role_arn="arn:aws:iam::123456789012:role/ops",
        external_id="ext-4242",
        session_name="incident-42",
    )
    for _ in range(2):
        who = await _run(run_action, "aws.sts.get_caller_identity", {}, conn)
        assert who["Account"] == "123456789012"
        assert who["UserId"] == "***"  # the temporary session token, masked
    actions = [s["form"]["Action"] for s in seen]
    assert actions == ["AssumeRole", "GetCallerIdentity", "GetCallerIdentity"]
    assume = seen[0]["form"]
    assert assume["RoleArn"] == "arn:aws:iam::123456789012:role/ops"
    assert assume["ExternalId"] == "ext-4242" and assume["RoleSessionName"] == "incident-42"
    for call in seen[1:]:
        assert f"Credential={TEMP_KEY_ID}/" in call["auth"]
        assert call["token"] == TEMP_TOKEN


async def test_assume_role_context_registers_the_derived_secrets(httpserver: HTTPServer) -> None:
    _sts_fake(httpserver)
    conn = _fake(httpserver, role_arn="arn:aws:iam::123456789012:role/ops")
    ctx = ActionContext(connection=conn, attempt_timeout=10)
    keys = await _impl._assume_role(
        ctx, (KEY_ID, KEY_SECRET, ""), "us-east-1", conn.fields["endpoint_url"].rstrip("/"), 5
    )
    assert keys == (TEMP_KEY_ID, TEMP_SECRET, TEMP_TOKEN)
    assert TEMP_SECRET in ctx.secrets and TEMP_TOKEN in ctx.secrets
    # Cached: a new attempt gets them (and masks them) without asking STS again.
    again = ActionContext(connection=conn, attempt_timeout=10)
    httpserver.clear()
    assert (
        await _impl._assume_role(
            again, (KEY_ID, KEY_SECRET, ""), "us-east-1", conn.fields["endpoint_url"].rstrip("/"), 5
        )
        == keys
    )
    assert TEMP_TOKEN in again.secrets


async def test_assume_role_refused_is_permission_denied(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/").respond_with_response(
        _xml(
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>"
            "not authorized to perform sts:AssumeRole</Message></Error>"
            "<RequestId>r</RequestId></ErrorResponse>",
            403,
        )
    )
    conn = _fake(httpserver, role_arn="arn:aws:iam::123456789012:role/ops")
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, "aws.ec2.describe_instances", {}, conn)
    assert info.value.type == errors.PERMISSION_DENIED
    assert error_detail(info.value)["message"].startswith("aws sts AssumeRole: AccessDenied")


# ------------------------------------------------------------------ output conversion


def test_to_json() -> None:
    from botocore.response import StreamingBody

    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    body = StreamingBody(io.BytesIO(b"\xff\x00binary"), 8)
    payload = StreamingBody(io.BytesIO(b'{"ok": true}'), 12)
    out = _impl.to_json(
        {
            "When": when,
            "Blob": b"text",
            "Body": body,
            "Nested": [{"At": when.date(), "Set": {"a"}}],
            "ResponseMetadata": {"RequestId": "r", "HTTPStatusCode": 200, "HTTPHeaders": {}},
        }
    )
    assert out == {
        "When": "2024-05-01T12:00:00+00:00",
        "Blob": "text",
        "Body": {"base64": base64.b64encode(b"\xff\x00binary").decode()},
        "Nested": [{"At": "2024-05-01", "Set": ["a"]}],
        "ResponseMetadata": {"RequestId": "r", "HTTPStatusCode": 200},
    }
    assert _impl.to_json({"Payload": payload}, service="lambda") == {"Payload": {"ok": True}}


# ------------------------------------------------------------------ the live case


async def test_live_case_list_buckets(run_action: RunAction, httpserver: HTTPServer) -> None:
    live = CASES["aws.s3.list_buckets"](httpserver)
    assert live.connection is not None and live.connection.secrets["secret_access_key"] == SECRET
    assert live.connection.secrets["access_key_id"] == ACCESS_KEY_ID
    result = await run_action(
        "aws.s3.list_buckets",
        live.params,
        connection=live.connection.name,
        connections=[live.connection],
    )
    assert [b["Name"] for b in result.output["Buckets"]] == ["reports", "backups"]
    assert result.output["Buckets"][0]["CreationDate"] == "2024-05-01T12:00:00+00:00"
    assert result.output["Owner"]["DisplayName"] == "ops"
    assert SECRET not in json.dumps(result.output)


def test_curated_examples_are_valid() -> None:
    for type_, examples in EXAMPLES.items():
        assert examples, type_
        for example in examples:
            assert validate_params(type_, example) == [], type_
