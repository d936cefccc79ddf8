"""The conformance suite every action must pass (STYLE.md: one parametrized suite).

For each registered action: its schemas are valid JSON Schema, its options
class is a known name for every example, its examples validate, it maps
errors through the activity (bad parameters, wrong connection), and, when it
takes a connection, a secret that reaches its output is masked. Adding an
action without a live case below fails `test_every_action_has_a_live_case`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError
from werkzeug import Request, Response

from switchyard import errors
from switchyard.actions import ActionSpec, all_actions, validate_params
from switchyard.connections import Connection
from switchyard.connections.types import CONNECTION_TYPES
from switchyard.engine.options import OPTIONS

from .conftest import RunAction

ACTIONS = all_actions()
IDS = [a.type for a in ACTIONS]

SECRET = "conformance-secret-9f8e7d"


def _reflect(request: Request) -> Response:
    return Response(
        json.dumps({"headers": {k.lower(): v for k, v in request.headers.items()}}),
        content_type="application/json",
    )


# A live case: given the local server, the params to run and (for actions that
# take a connection) a connection whose secret the action will echo back.
LiveCase = Callable[[HTTPServer], tuple[dict[str, Any], Connection | None]]


def _echo_case(server: HTTPServer) -> tuple[dict[str, Any], Connection | None]:
    return {"message": "hi"}, None


def _http_case(server: HTTPServer) -> tuple[dict[str, Any], Connection | None]:
    server.expect_request("/reflect").respond_with_handler(_reflect)
    conn = Connection(
        "c",
        "http",
        fields={"base_url": server.url_for("/"), "auth": "bearer"},
        secrets={"token": SECRET},
    )
    return {"url": "/reflect"}, conn


LIVE_CASES: dict[str, LiveCase] = {"core.echo": _echo_case, "http.request": _http_case}


def test_every_action_has_a_live_case() -> None:
    assert set(IDS) <= set(LIVE_CASES), f"add a live case for {set(IDS) - set(LIVE_CASES)}"


@pytest.mark.parametrize("spec", ACTIONS, ids=IDS)
def test_declaration(spec: ActionSpec) -> None:
    assert "." in spec.type and spec.type == spec.type.lower()
    assert spec.title and spec.description
    if spec.connection_type is not None:
        assert spec.connection_type in CONNECTION_TYPES


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
    params, _ = LIVE_CASES[spec.type](httpserver)
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
    params, conn = LIVE_CASES[spec.type](httpserver)
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
