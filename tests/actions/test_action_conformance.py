"""The conformance suite every action must pass (STYLE.md: one parametrized suite).

For each registered action: its schemas are valid JSON Schema, its options
class is a known name for every example, its examples validate, it maps
errors through the activity (bad parameters, wrong connection), and, when it
takes a connection, a secret that reaches its output is masked. Adding an
action without a live case below fails `test_every_action_has_a_live_case`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from jsonschema import Draft202012Validator
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError
from werkzeug import Request, Response

from switchyard import errors
from switchyard.actions import REST_ERRORS, ActionSpec, all_actions, validate_params
from switchyard.connections import Connection
from switchyard.connections.types import CONNECTION_TYPES
from switchyard.engine.options import OPTIONS

from .conftest import RunAction, error_detail
from .live import SECRET, collect_cases

# Generated actions (one per AWS operation) have their own per-service suite.
ACTIONS = all_actions(generated=False)
IDS = [a.type for a in ACTIONS]

LIVE_CASES = collect_cases()
ERROR_STATUSES = [
    (401, errors.PERMISSION_DENIED, False),
    (403, errors.PERMISSION_DENIED, False),
    (404, errors.HTTP_CLIENT_ERROR, False),
    (429, errors.HTTP_SERVER_ERROR, True),
    (503, errors.HTTP_SERVER_ERROR, True),
]
# REST integrations may add rules after the common ones (Slack ok:false codes, ...).
REST_ACTIONS = [a for a in ACTIONS if a.errors[: len(REST_ERRORS)] == REST_ERRORS]


def test_every_action_has_a_live_case() -> None:
    assert set(IDS) <= set(LIVE_CASES), f"add a live case for {set(IDS) - set(LIVE_CASES)}"


@pytest.mark.parametrize("spec", ACTIONS, ids=IDS)
def test_declaration(spec: ActionSpec) -> None:
    assert "." in spec.type and spec.type == spec.type.lower()
    assert spec.title and spec.description
    if spec.connection_type is not None:
        assert spec.connection_type in CONNECTION_TYPES
        assert spec.errors, "declare how the integration's failures map (errors=...)"


@pytest.mark.parametrize("spec", ACTIONS, ids=IDS)
def test_schemas_are_valid_json_schema(spec: ActionSpec) -> None:
    schema = spec.input_schema()
    Draft202012Validator.check_schema(schema)
    assert schema.get("type") == "object"
    json.dumps(schema)
    out = spec.output_schema()
    if out is not None:
        Draft202012Validator.check_schema(out)


@pytest.mark.parametrize("spec", ACTIONS, ids=IDS)
def test_examples_validate_against_the_schema(spec: ActionSpec) -> None:
    assert spec.examples, "document at least one example"
    for example in spec.examples:
        assert validate_params(spec.type, example) == []


@pytest.mark.parametrize("spec", ACTIONS, ids=IDS)
def test_options_class_is_declared_and_known(spec: ActionSpec) -> None:
    # The idempotency class is a declaration, resolvable for any params
    # (including unexpected ones: the workflow calls it before validation).
    for params in [*spec.examples, {}, {"method": 3}, {"x": "{{ y }}"}]:
        assert spec.options_class(params) in OPTIONS


@pytest.mark.parametrize("spec", ACTIONS, ids=IDS)
async def test_error_mapping_bad_parameters(spec: ActionSpec, run_action: RunAction) -> None:
    required = spec.input_schema().get("required", [])
    forbids_extra = spec.input_model.model_config.get("extra") == "forbid"
    if not required and not forbids_extra:
        pytest.skip("accepts any parameters")
    with pytest.raises(ApplicationError) as info:
        await run_action(spec.type, {"__not_a_parameter__": 1})
    assert info.value.type == errors.VALIDATION_ERROR
    assert info.value.non_retryable


@pytest.mark.parametrize("spec", ACTIONS, ids=IDS)
async def test_error_mapping_wrong_connection(
    spec: ActionSpec, run_action: RunAction, httpserver: HTTPServer
) -> None:
    params = LIVE_CASES[spec.type](httpserver).params
    wrong = "webhook_secret" if spec.connection_type != "webhook_secret" else "http"
    conn = Connection("wrong", wrong, secrets={"secret": "x"})
    with pytest.raises(ApplicationError) as info:
        await run_action(spec.type, params, connection="wrong", connections=[conn])
    assert info.value.type == errors.VALIDATION_ERROR
    assert info.value.non_retryable


@pytest.mark.parametrize("spec", ACTIONS, ids=IDS)
async def test_runs_and_masks_secrets(
    spec: ActionSpec, run_action: RunAction, httpserver: HTTPServer
) -> None:
    live = LIVE_CASES[spec.type](httpserver)
    params, conn = live.params, live.connection
    result = await run_action(
        spec.type,
        params,
        connection=conn.name if conn else None,
        connections=[conn] if conn else [],
    )
    text = json.dumps(result.output)  # outputs are JSON data
    if spec.output_model is not None:
        spec.output_model.model_validate(result.output)
    if conn is not None:
        assert SECRET not in text
        assert "***" in text


def _status_handler(status: int) -> Callable[[Request], Response]:
    def handle(request: Request) -> Response:
        headers = {"Retry-After": "7"} if status == 429 else {}
        body = {"message": f"refused with {status}", "ok": False, "error": "refused"}
        return Response(json.dumps(body), status, headers, content_type="application/json")

    return handle


@pytest.mark.parametrize(("status", "etype", "retryable"), ERROR_STATUSES)
@pytest.mark.parametrize("spec", REST_ACTIONS, ids=[a.type for a in REST_ACTIONS])
async def test_rest_error_mapping(
    spec: ActionSpec,
    status: int,
    etype: str,
    retryable: bool,
    run_action: RunAction,
    httpserver: HTTPServer,
) -> None:
    """Every REST integration maps statuses as REST_ERRORS declares (the server
    answers every request, token endpoints included, with `status`)."""
    live = LIVE_CASES[spec.type](httpserver)
    httpserver.clear()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(_status_handler(status))
    conn = live.connection
    with pytest.raises(ApplicationError) as info:
        await run_action(
            spec.type,
            live.params,
            connection=conn.name if conn else None,
            connections=[conn] if conn else [],
        )
    assert info.value.type == etype, info.value
    assert info.value.non_retryable is (not retryable)
    if status == 429:
        assert info.value.next_retry_delay is not None
        assert info.value.next_retry_delay.total_seconds() == 7
    if conn is not None:
        assert SECRET not in json.dumps(error_detail(info.value))
