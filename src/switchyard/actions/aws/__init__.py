"""The AWS integration: one action per operation of every service botocore describes.

`aws.<service>.<operation>` calls `boto3.client("<service>").<operation>(**with)`:
`<service>` is botocore's service name (`ec2`, `s3`, `ssm`, `lambda`,
`cloudwatch`, ...), `<operation>` boto3's snake_case method name
(`describe_instances`, i.e. `botocore.xform_name("DescribeInstances")`). For
example `aws.ec2.describe_instances`, `aws.s3.put_object`,
`aws.ssm.send_command`, `aws.lambda.invoke`, `aws.cloudwatch.describe_alarms`.

This module only declares: the `aws` connection type, the options-class
table, and an `ActionProvider` that makes each action's spec on demand from
the committed index (`index.json`, generated from the installed botocore by
`scripts/aws_index.py`; read at import, parsed on first use: ~20 ms). Looking
an action up (in the workflow sandbox, in `switchyard validate`) never
imports boto3 or loads a botocore service model; the input model
(`_model.py`, built from botocore's shapes) and the call (`_impl.py`:
credentials, clients, error mapping, output) are imported on first use.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from switchyard.actions.sdk import ActionContext, ActionSpec, ErrorRule, register_provider
from switchyard.connections.types import ConnectionType, FieldSpec, register_connection_type
from switchyard.engine.options import READ, WRITE_IDEMPOTENT, WRITE_ONCE

__all__ = [
    "AWS",
    "AWS_ERRORS",
    "EXAMPLES",
    "IDEMPOTENT_VERBS",
    "OPTION_OVERRIDES",
    "PROVIDER",
    "READ_VERBS",
    "START_RESOURCES",
    "WRITE_ONCE_VERBS",
    "AwsProvider",
    "aws_options_class",
    "botocore_version",
    "operation_of",
    "services",
]

DEFAULT_REGION = "us-east-1"

AWS = register_connection_type(
    ConnectionType(
        name="aws",
        description=(
            "An AWS account: access keys (or the worker's own identity when "
            "use_default_credentials is set), a region, optionally a role to assume "
            "and an endpoint URL (VPC endpoints, LocalStack, moto)."
        ),
        fields=(
            FieldSpec("region", "AWS region the calls go to", default=DEFAULT_REGION),
            FieldSpec(
                "endpoint_url",
                "send every call (and STS AssumeRole) to this URL instead of AWS's "
                "public endpoints: a VPC/private endpoint, LocalStack, moto",
            ),
            FieldSpec(
                "role_arn",
                "IAM role to assume (STS AssumeRole) with the keys below; the "
                "temporary credentials are used for the calls",
            ),
            FieldSpec("external_id", "ExternalId passed to AssumeRole (third-party roles)"),
            FieldSpec(
                "session_name",
                "RoleSessionName for AssumeRole (shows in CloudTrail)",
                default="switchyard",
            ),
            FieldSpec(
                "use_default_credentials",
                "with no keys, use the worker's own AWS identity (environment, "
                "~/.aws, container or instance metadata); off by default so that a "
                "workflow never acts as the worker without saying so",
                type="boolean",
                default=False,
            ),
            FieldSpec(
                "allow_private_metadata",
                "allow an endpoint_url on a link-local or cloud metadata address",
                type="boolean",
                default=False,
            ),
            FieldSpec("access_key_id", "AWS access key id", secret=True),
            FieldSpec("secret_access_key", "AWS secret access key", secret=True),
            FieldSpec("session_token", "session token of temporary credentials", secret=True),
        ),
    )
)

#: How AWS failures map (the same for every aws.* action; see `_impl.failure`).
AWS_ERRORS: tuple[ErrorRule, ...] = (
    ErrorRule(
        "AWS error code AccessDenied*, UnauthorizedOperation, UnrecognizedClientException, "
        "InvalidClientTokenId, ExpiredToken*, AuthFailure, SignatureDoesNotMatch, "
        "InvalidAccessKeyId, ...; or HTTP 401, 403",
        "PermissionDenied",
        False,
    ),
    ErrorRule(
        "AWS error code Throttling*, TooManyRequestsException, RequestLimitExceeded, "
        "SlowDown, ServiceUnavailable, InternalError, ...; or HTTP 429, 5xx",
        "HttpServerError",
        True,
    ),
    ErrorRule("any other AWS error code (HTTP 4xx)", "HttpClientError", False),
    ErrorRule(
        "parameters botocore rejects; missing credentials or connection",
        "ValidationError",
        False,
    ),
    ErrorRule("endpoint_url on a link-local / metadata address", "PermissionDenied", False),
    ErrorRule("connect or read timeout", "Timeout", True),
    ErrorRule("connection failure (refused, reset, DNS)", "ActionError", True),
    ErrorRule("streamed response body over the size limit", "ActionError", False),
)

# ------------------------------------------------------------------ options classes
#
# The class comes from the operation's name: its verb (the first word of the
# snake_case name; `batch_<verb>` for batch operations). The service model
# says nothing about idempotency, and AWS names operations consistently, so
# the verb is the best signal available without loading the model. When in
# doubt the operation is `write_once`: a write that is never retried
# automatically can only fail a step, while a retried non-idempotent write
# can launch two instances or send two messages.
#
# - read: no side effect, safe to repeat (Describe, Get, List, ...; also
#   stateless computations such as KMS Encrypt/Decrypt or Comprehend Detect*).
# - write_idempotent: a repeat leaves the same state as one call (Put, Delete,
#   Update, Tag, Stop, Enable, Attach, Associate, Register, Cancel, ...). A
#   repeat after a success may answer an error (NotFound for a second Delete),
#   never a second effect.
# - write_once: everything else, notably Create, Run, Send, Invoke, Publish,
#   Copy, Import, Execute, Add.
#
# Two refinements of the name-only table (both towards write_once):
# - `start_*`: StartInstances or StartDBCluster set a resource's state
#   (idempotent), but most Start operations (StartExecution, StartBuild,
#   StartJobRun, StartQueryExecution, StartSession...) create a new run on
#   every call. Start is write_idempotent only when its object is a resource
#   with a running/stopped state (`START_RESOURCES`), else write_once.
# - Put operations that append rather than set (Kinesis PutRecord, EventBridge
#   PutEvents, CloudWatch PutMetricData, Logs PutLogEvents) are write_once.

READ_VERBS = frozenset(
    {
        "describe", "get", "list", "head", "search", "query", "scan", "lookup", "check",
        "validate", "estimate", "preview", "test", "batch_get", "batch_describe",
        "batch_check", "batch_detect", "batch_read", "batch_lookup", "batch_is",
        "batch_evaluate", "select", "detect", "simulate", "verify", "decrypt", "encrypt",
        "re",  # ReEncrypt
        "decode", "download", "filter", "retrieve", "count", "view", "compare", "is",
        "contains", "classify", "infer", "analyze", "translate", "synthesize", "predict",
        "evaluate", "calculate", "geocode", "autocomplete", "suggest", "snap", "rerank",
        "rescore", "render", "probe", "discover", "forecast", "introspect",
    }
)  # fmt: skip
IDEMPOTENT_VERBS = frozenset(
    {
        "put", "delete", "update", "tag", "untag", "start", "stop", "enable", "disable",
        "modify", "set", "attach", "detach", "associate", "disassociate", "reboot",
        "register", "deregister", "cancel", "remove", "reset", "restart", "resume",
        "suspend", "pause", "revoke", "replace", "batch_delete", "batch_associate",
        "batch_disassociate", "batch_update", "batch_stop", "batch_enable", "batch_disable",
        "unassign", "unlabel", "label", "deactivate", "activate",
    }
)  # fmt: skip
#: Documented for completeness: anything not above is write_once anyway.
WRITE_ONCE_VERBS = frozenset(
    {
        "create", "run", "send", "invoke", "publish", "copy", "import", "execute", "add",
        "batch_create", "batch_put", "batch_write", "batch_execute", "batch_start",
        "generate", "export", "receive", "poll", "request", "submit", "purchase",
        "allocate", "assign", "initiate", "respond", "converse", "chat", "upload",
    }
)  # fmt: skip
#: Last word of a `start_*` operation whose object has a running/stopped state.
START_RESOURCES = frozenset(
    {
        "instance", "instances", "cluster", "application", "fleet", "channel", "multiplex",
        "server", "gateway", "database", "canary", "pipe", "recorder", "logging",
        "workspaces", "node", "monitor", "trigger", "crawler", "discoverer", "scheduler",
        "processor", "pool", "input", "output", "environment", "stream", "streaming",
        "recording", "encryption", "delivery", "notebook", "schedule",
    }
)  # fmt: skip
#: Operations whose name misleads the table.
OPTION_OVERRIDES: dict[str, str] = {
    # Runs the integration (Lambda, HTTP backend) for real.
    "apigateway.test_invoke_method": WRITE_ONCE,
    # Appends a record/event/datapoint on every call.
    "kinesis.put_record": WRITE_ONCE,
    "kinesis.put_records": WRITE_ONCE,
    "firehose.put_record": WRITE_ONCE,
    "firehose.put_record_batch": WRITE_ONCE,
    "events.put_events": WRITE_ONCE,
    "logs.put_log_events": WRITE_ONCE,
    "cloudwatch.put_metric_data": WRITE_ONCE,
    "personalize-events.put_events": WRITE_ONCE,
    "xray.put_trace_segments": WRITE_ONCE,
    # Reads despite the verb.
    "dynamodb.transact_get_items": READ,
}


def aws_options_class(service: str, operation: str) -> str:
    """The options class of `aws.<service>.<operation>` (snake_case operation)."""
    found = OPTION_OVERRIDES.get(f"{service}.{operation}")
    if found is not None:
        return found
    words = operation.split("_")
    verb = words[0]
    if verb == "batch" and len(words) > 1:
        verb = f"batch_{words[1]}"
    if verb in READ_VERBS:
        return READ
    if verb == "start":
        return WRITE_IDEMPOTENT if words[-1] in START_RESOURCES else WRITE_ONCE
    if verb in IDEMPOTENT_VERBS:
        return WRITE_IDEMPOTENT
    return WRITE_ONCE


_OPTION_REASONS = {
    READ: "it reads without side effects, so transient failures are retried",
    WRITE_IDEMPOTENT: (
        "repeating it leaves the same state as one call, so transient failures are retried"
    ),
    WRITE_ONCE: (
        "a repeat could act twice (or its verb is not known to be safe to repeat), so it is "
        "never retried automatically; a step opts in with its own `retry`"
    ),
}

# ------------------------------------------------------------------ curated examples

#: `with` examples of the best-known operations (others have none in the catalogue;
#: their input schema lists the parameters).
EXAMPLES: dict[str, tuple[dict[str, Any], ...]] = {
    "aws.ec2.describe_instances": (
        {
            "Filters": [
                {"Name": "tag:team", "Values": ["{{ Trigger.event.team }}"]},
                {"Name": "instance-state-name", "Values": ["running"]},
            ]
        },
    ),
    "aws.ec2.stop_instances": ({"InstanceIds": ["i-0123456789abcdef0"]},),
    "aws.ec2.start_instances": ({"InstanceIds": ["i-0123456789abcdef0"]},),
    "aws.ec2.reboot_instances": ({"InstanceIds": ["i-0123456789abcdef0"]},),
    "aws.ec2.run_instances": (
        {
            "ImageId": "ami-0123456789abcdef0",
            "InstanceType": "t3.micro",
            "MinCount": 1,
            "MaxCount": 1,
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "sre"}]}
            ],
        },
    ),
    "aws.s3.put_object": (
        {
            "Bucket": "reports",
            "Key": "incidents/{{ Run.id }}.json",
            "Body": "{{ Steps.report.output }}",
        },
    ),
    "aws.s3.get_object": ({"Bucket": "reports", "Key": "incidents/latest.json"},),
    "aws.s3.list_objects_v2": ({"Bucket": "reports", "Prefix": "incidents/"},),
    "aws.s3.list_buckets": ({},),
    "aws.ssm.send_command": (
        {
            "InstanceIds": ["i-0123456789abcdef0"],
            "DocumentName": "AWS-RunShellScript",
            "Parameters": {"commands": ["systemctl restart nginx"]},
        },
    ),
    "aws.ssm.get_command_invocation": (
        {
            "CommandId": "{{ Steps.run.output.Command.CommandId }}",
            "InstanceId": "i-0123456789abcdef0",
        },
    ),
    "aws.lambda.invoke": ({"FunctionName": "remediate", "Payload": '{"host": "web-1"}'},),
    "aws.cloudwatch.describe_alarms": ({"StateValue": "ALARM"},),
    "aws.cloudwatch.set_alarm_state": (
        {"AlarmName": "api-5xx", "StateValue": "OK", "StateReason": "mitigated by workflow"},
    ),
    "aws.sts.get_caller_identity": ({},),
    "aws.sns.publish": (
        {"TopicArn": "arn:aws:sns:us-east-1:123456789012:oncall", "Message": "disk full on web-1"},
    ),
}  # fmt: skip

# ------------------------------------------------------------------ the index

_INDEX_FILE = Path(__file__).with_name("index.json")
# Read at import (the worker imports the catalogue before any workflow runs:
# the workflow sandbox forbids opening files at run time), parsed on first use
# (~20 ms), so that a process that never looks an AWS action up never pays it.
_INDEX_BYTES = _INDEX_FILE.read_bytes()

#: service -> (title, full name, {snake_case operation: (PascalCase name, summary)})
Services = dict[str, tuple[str, str, dict[str, tuple[str, str]]]]


@functools.cache
def _index() -> tuple[str, Services]:
    raw = json.loads(_INDEX_BYTES)
    services = {
        name: (
            entry["title"],
            entry["name"],
            {snake: (op, summary) for snake, op, summary in entry["operations"]},
        )
        for name, entry in raw["services"].items()
    }
    return raw["botocore"], services


def services() -> Services:
    """Every service of the index: `{service: (title, full name, {operation: (name, summary)})}`."""
    return _index()[1]


def botocore_version() -> str:
    """The botocore version the index was generated from."""
    return _index()[0]


def operation_of(type: str) -> tuple[str, str, str] | None:
    """`aws.ec2.describe_instances` -> `("ec2", "describe_instances", "DescribeInstances")`."""
    parts = type.split(".")
    if len(parts) != 3 or parts[0] != "aws":
        return None
    service = services().get(parts[1])
    if service is None:
        return None
    found = service[2].get(parts[2])
    if found is None:
        return None
    return parts[1], parts[2], found[0]


def _description(service: str, snake: str, operation: str, cls: str) -> str:
    _title, full_name, ops = services()[service]
    summary = ops[snake][1] or f"{full_name}: {operation}."
    return (
        f"{summary}\n\n"
        f"Calls the {full_name} API operation `{operation}`, as boto3's "
        f'`boto3.client("{service}").{snake}(**with)` does: `with` takes the '
        "operation's parameters under their AWS names (see the input schema). Blobs "
        'are strings (sent as UTF-8) or `{"base64": "..."}`; timestamps are ISO-8601 '
        "strings or epoch seconds.\n\n"
        "Output: the response as boto3 returns it, as JSON: date-times as ISO-8601 "
        'strings, binary values as text when they are UTF-8, else `{"base64": ...}`, '
        "streamed bodies (S3 object bodies, Lambda payloads) read in full up to 10 MiB "
        "(a Lambda payload that is JSON is parsed); `ResponseMetadata` keeps only "
        "`RequestId` and `HTTPStatusCode`. Results are not paginated: pass the "
        "response's `NextToken` (or `Marker`) to the next step.\n\n"
        f"Options class `{cls}`: {_OPTION_REASONS[cls]}."
    )


async def _call(service: str, snake: str, operation: str, ctx: ActionContext, params: Any) -> Any:
    from switchyard.actions.aws import _impl

    return await _impl.call(ctx, service, snake, operation, params)


def _input_model(service: str, operation: str, type: str) -> Any:
    from switchyard.actions.aws import _model

    return _model.input_model(service, operation, type)


class AwsProvider:
    """Makes `aws.<service>.<operation>` specs from the index (cheap: no botocore)."""

    prefix = "aws"

    def __init__(self) -> None:
        self._types: list[str] | None = None

    def types(self) -> list[str]:
        if self._types is None:
            self._types = [
                f"aws.{service}.{snake}"
                for service, (_t, _n, ops) in services().items()
                for snake in ops
            ]
        return list(self._types)

    def spec(self, type: str) -> ActionSpec | None:
        found = operation_of(type)
        if found is None:
            return None
        service, snake, operation = found
        title = services()[service][0]
        cls = aws_options_class(service, snake)
        return ActionSpec(
            type=type,
            title=f"AWS {title}: {operation}",
            description=_description(service, snake, operation, cls),
            options=cls,
            func=functools.partial(_call, service, snake, operation),
            input_factory=functools.partial(_input_model, service, operation, type),
            connection_type="aws",
            examples=EXAMPLES.get(type, ()),
            errors=AWS_ERRORS,
            group=f"AWS {title}",
            generated=True,
        )


PROVIDER = AwsProvider()
register_provider(PROVIDER)
