"""The calls behind the generated AWS actions (imported on first call: imports boto3).

- Credentials come from the step's `aws` connection only: its keys, or, when
  it says `use_default_credentials: true`, the worker's own chain
  (environment, ~/.aws, container or instance metadata). Without either the
  step fails with `ValidationError`; a workflow never silently acts as the
  worker. With `role_arn`, STS AssumeRole (through `endpoint_url` when set)
  turns those into temporary credentials, cached per worker process until 5
  minutes before they expire and masked in the step's output and errors.
- Clients are cached per (credentials, region, endpoint, service, timeouts).
  Their botocore session ignores the worker's AWS environment variables and
  config files (profiles, `AWS_ENDPOINT_URL`, retry settings), except with
  `use_default_credentials`, where the standard chain needs them.
- botocore makes exactly one attempt (`total_max_attempts: 1`): Temporal
  retries, per the action's options class. Connect and read timeouts stay
  under the attempt's start-to-close timeout, and the blocking call runs in
  a thread under the same bound.
- `endpoint_url` on a link-local or cloud metadata address is refused
  (`allow_private_metadata` lifts it); the host is resolved and checked
  before each call, with the `http.request` guard.
- Outputs are made JSON: see `to_json`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.session
import httpcore
from botocore import exceptions as bx
from botocore.config import Config
from botocore.configprovider import (
    BOTOCORE_DEFAUT_SESSION_VARIABLES,
    ConfigChainFactory,
    ConfigValueStore,
)
from botocore.eventstream import EventStream
from botocore.response import StreamingBody

from switchyard import errors
from switchyard.actions.aws import _model
from switchyard.actions.http._guard import resolve_checked
from switchyard.actions.http._request import client_timeout
from switchyard.actions.rest import conn_field, conn_secret
from switchyard.actions.sdk import ActionContext
from switchyard.errors import StepFailure

__all__ = ["MAX_BODY_BYTES", "call", "clear_caches", "failure", "to_json"]

#: Streamed bodies (S3 objects, Lambda payloads) larger than this fail the step.
MAX_BODY_BYTES = 10 * 1024 * 1024
#: Events read from an event stream (S3 Select, Bedrock streams) at most.
MAX_EVENTS = 10_000
CONNECT_TIMEOUT = 10.0
#: Assumed-role credentials are renewed this long before they expire (seconds).
CREDENTIAL_MARGIN = 300.0
MAX_CLIENTS = 64

#: Error codes that mean "who you are may not do this" (matched as prefixes too
#: for AccessDenied* and ExpiredToken*).
PERMISSION_CODES = frozenset(
    {
        "UnauthorizedOperation", "UnrecognizedClientException", "InvalidClientTokenId",
        "AuthFailure", "SignatureDoesNotMatch", "InvalidAccessKeyId",
        "MissingAuthenticationToken", "IncompleteSignature", "InvalidSignatureException",
        "NotAuthorized", "NotAuthorizedException", "UnauthorizedException",
        "Unauthorized", "Forbidden", "ForbiddenException", "InvalidToken",
        "OptInRequired", "AccountProblem",
    }
)  # fmt: skip
PERMISSION_PREFIXES = ("AccessDenied", "ExpiredToken")
#: Error codes of transient conditions (besides every `Throttl*` code).
RETRYABLE_CODES = frozenset(
    {
        "TooManyRequestsException", "RequestLimitExceeded", "SlowDown",
        "ServiceUnavailable", "ServiceUnavailableException", "Unavailable",
        "InternalError", "InternalFailure", "InternalServerError", "InternalServiceError",
        "InternalServerException", "InternalServiceException", "ServiceException",
        "RequestThrottled", "RequestThrottledException", "PriorRequestNotComplete",
        "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "EC2ThrottledException", "BandwidthLimitExceeded", "RequestTimeout",
        "RequestTimeoutException", "IDPCommunicationError", "EC2UnexpectedException",
    }
)  # fmt: skip

# ------------------------------------------------------------------ sessions


def _isolated_botocore_session() -> botocore.session.Session:
    """A botocore session that reads no environment variable and no config file."""
    session = botocore.session.Session()
    factory = ConfigChainFactory(session=session, environ={})
    mapping = {
        name: factory.create_config_chain(
            instance_name=name, default=default, conversion_func=convert
        )
        for name, (_config, _env, default, convert) in BOTOCORE_DEFAUT_SESSION_VARIABLES.items()
    }
    session.register_component("config_store", ConfigValueStore(mapping=mapping))
    session.set_config_variable("config_file", os.devnull)
    session.set_config_variable("credentials_file", os.devnull)
    session.register_component("data_loader", _model.data_loader())
    return session


def _default_botocore_session() -> botocore.session.Session:
    """The standard session (environment, ~/.aws, metadata): `use_default_credentials`."""
    session = botocore.session.Session()
    session.register_component("data_loader", _model.data_loader())
    return session


_lock = threading.Lock()
_sessions: dict[bool, boto3.session.Session] = {}
_clients: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_roles: dict[tuple[Any, ...], tuple[tuple[str, str, str], float]] = {}


def clear_caches() -> None:
    """Forget clients, sessions and assumed-role credentials (tests)."""
    with _lock:
        _sessions.clear()
        _clients.clear()
        _roles.clear()


def _session(default_chain: bool) -> boto3.session.Session:
    found = _sessions.get(default_chain)
    if found is None:
        core = _default_botocore_session() if default_chain else _isolated_botocore_session()
        found = _sessions[default_chain] = boto3.session.Session(botocore_session=core)
    return found


Keys = tuple[str, str, str] | None  # (access key id, secret, session token); None = default chain


def _digest(keys: Keys) -> str:
    if keys is None:
        return "default-chain"
    return hashlib.sha256("\0".join(keys).encode()).hexdigest()


def _client(service: str, region: str, endpoint: str | None, keys: Keys, timeout: float) -> Any:
    """A cached boto3 client (blocking: call it in a thread)."""
    connect = min(CONNECT_TIMEOUT, timeout)
    key = (service, region, endpoint, _digest(keys), round(connect, 1), round(timeout, 1))
    with _lock:
        found = _clients.get(key)
        if found is not None:
            _clients.move_to_end(key)
            return found
        config = Config(
            region_name=region,
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=connect,
            read_timeout=timeout,
            proxies={},
            ignore_configured_endpoint_urls=True,
            user_agent_extra="switchyard",
        )
        kwargs: dict[str, Any] = {"region_name": region, "endpoint_url": endpoint, "config": config}
        if keys is not None:
            kwargs.update(
                aws_access_key_id=keys[0],
                aws_secret_access_key=keys[1],
                aws_session_token=keys[2] or None,
            )
        client = _session(keys is None).client(service, **kwargs)
        _clients[key] = client
        while len(_clients) > MAX_CLIENTS:
            _clients.popitem(last=False)
        return client


# ------------------------------------------------------------------ credentials


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _base_keys(ctx: ActionContext) -> Keys:
    conn = ctx.connection
    assert conn is not None
    access = conn_secret(ctx, "access_key_id", required=False)
    secret = conn_secret(ctx, "secret_access_key", required=False)
    token = conn_secret(ctx, "session_token", required=False)
    if access and secret:
        return (access, secret, token)
    if access or secret:
        missing = "secret_access_key" if access else "access_key_id"
        raise StepFailure(
            errors.VALIDATION_ERROR,
            f"connection {conn.name!r} has no secret {missing!r}: AWS keys need both "
            "access_key_id and secret_access_key",
            retryable=False,
        )
    if _flag(conn_field(ctx, "use_default_credentials", False)):
        return None
    raise StepFailure(
        errors.VALIDATION_ERROR,
        f"connection {conn.name!r} has no AWS credentials: set its secrets access_key_id "
        "and secret_access_key (and session_token for temporary keys), or the field "
        "use_default_credentials: true to use the worker's own AWS identity",
        retryable=False,
    )


async def _assume_role(
    ctx: ActionContext, keys: Keys, region: str, endpoint: str | None, timeout: float
) -> Keys:
    role_arn = str(conn_field(ctx, "role_arn"))
    external_id = conn_field(ctx, "external_id")
    session_name = str(conn_field(ctx, "session_name", "switchyard"))
    cache_key = (_digest(keys), role_arn, external_id, session_name, region, endpoint)
    now = time.time()
    with _lock:
        cached = _roles.get(cache_key)
    if cached is not None and cached[1] - CREDENTIAL_MARGIN > now:
        creds = cached[0]
    else:
        kwargs: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name}
        if external_id:
            kwargs["ExternalId"] = str(external_id)

        def assume() -> dict[str, Any]:
            sts = _client("sts", region, endpoint, keys, timeout)
            return sts.assume_role(**kwargs)  # type: ignore[no-any-return]

        response = await _blocking(assume, "sts", "AssumeRole", timeout)
        raw = response["Credentials"]
        creds = (raw["AccessKeyId"], raw["SecretAccessKey"], raw["SessionToken"])
        expiration = raw["Expiration"]
        expires = expiration.timestamp() if isinstance(expiration, datetime) else now + 900
        with _lock:
            _roles[cache_key] = (creds, expires)
    ctx.add_secret(creds[1])
    ctx.add_secret(creds[2])
    return creds


# ------------------------------------------------------------------ the call


async def _check_endpoint(ctx: ActionContext, endpoint: str, timeout: float) -> None:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StepFailure(
            errors.VALIDATION_ERROR,
            f"endpoint_url {endpoint!r} must be an http:// or https:// URL with a host",
            retryable=False,
        )
    if _flag(conn_field(ctx, "allow_private_metadata", False)):
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise StepFailure(
            errors.VALIDATION_ERROR, f"endpoint_url {endpoint!r} has a bad port", retryable=False
        ) from None
    try:
        await resolve_checked(parts.hostname, port, timeout)
    except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
        raise StepFailure(
            errors.ACTION_ERROR,
            f"endpoint_url {endpoint!r}: {exc}",
            {"endpoint_url": endpoint},
            retryable=True,
        ) from None


async def call(ctx: ActionContext, service: str, snake: str, operation: str, params: Any) -> Any:
    """Run `aws.<service>.<snake>` with the validated `params`; the JSON output."""
    if ctx.connection is None:
        raise StepFailure(
            errors.VALIDATION_ERROR,
            f"aws.{service}.{snake} needs a connection of type 'aws' (the step has none)",
            retryable=False,
        )
    region = str(conn_field(ctx, "region", "us-east-1"))
    endpoint = conn_field(ctx, "endpoint_url")
    endpoint = str(endpoint).rstrip("/") if endpoint else None
    timeout = client_timeout(ctx)
    if endpoint is not None:
        await _check_endpoint(ctx, endpoint, timeout)
    keys = _base_keys(ctx)
    if conn_field(ctx, "role_arn"):
        keys = await _assume_role(ctx, keys, region, endpoint, timeout)
    kwargs = params.boto_params()

    def invoke() -> Any:
        client = _client(service, region, endpoint, keys, timeout)
        response = getattr(client, snake)(**kwargs)
        return to_json(response, service=service, operation=operation)

    return await _blocking(invoke, service, operation, timeout)


async def _blocking(func: Any, service: str, operation: str, timeout: float) -> Any:
    """Run a blocking botocore call in a thread, bounded by `timeout`; map its failures."""
    try:
        async with asyncio.timeout(timeout):
            return await asyncio.to_thread(func)
    except StepFailure:
        raise
    except TimeoutError:
        raise StepFailure(
            errors.TIMEOUT,
            f"aws {service} {operation}: no answer within {timeout:g}s",
            {"service": service, "operation": operation},
            retryable=True,
        ) from None
    except Exception as exc:
        raise failure(exc, service, operation) from None


def failure(exc: BaseException, service: str, operation: str) -> StepFailure:
    """The typed failure for a botocore exception (see `AWS_ERRORS`)."""
    where = f"aws {service} {operation}"
    details: dict[str, Any] = {"service": service, "operation": operation}
    if isinstance(exc, bx.ClientError):
        return _client_error(exc, where, details)
    if isinstance(exc, bx.ReadTimeoutError | bx.ConnectTimeoutError):
        return StepFailure(errors.TIMEOUT, f"{where}: {exc}", details, retryable=True)
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return StepFailure(
            errors.VALIDATION_ERROR,
            f"{where}: {exc}: the connection's use_default_credentials found no AWS "
            "identity on the worker; set the connection's secrets access_key_id and "
            "secret_access_key",
            details,
            retryable=False,
        )
    if isinstance(exc, bx.ParamValidationError | bx.ValidationError | bx.NoRegionError):
        return StepFailure(errors.VALIDATION_ERROR, f"{where}: {exc}", details, retryable=False)
    if isinstance(
        exc,
        bx.ConnectionError | bx.HTTPClientError | bx.IncompleteReadError,
    ):
        return StepFailure(errors.ACTION_ERROR, f"{where}: {exc}", details, retryable=True)
    if isinstance(exc, bx.BotoCoreError):
        # A client-side problem (configuration, an unsupported ARN, ...): the
        # same call would fail the same way.
        return StepFailure(
            errors.ACTION_ERROR, f"{where}: {type(exc).__name__}: {exc}", details, retryable=False
        )
    return StepFailure(errors.ACTION_ERROR, f"{where}: {type(exc).__name__}: {exc}", details)


def _client_error(exc: bx.ClientError, where: str, details: dict[str, Any]) -> StepFailure:
    response: dict[str, Any] = exc.response or {}
    error = response.get("Error") or {}
    meta = response.get("ResponseMetadata") or {}
    code = str(error.get("Code") or "")
    text = str(error.get("Message") or "")
    status = meta.get("HTTPStatusCode")
    headers = {str(k).lower(): v for k, v in (meta.get("HTTPHeaders") or {}).items()}
    details.update(code=code, status=status, request_id=meta.get("RequestId"))
    message = f"{where}: {code or f'HTTP {status}'}: {text}".rstrip(": ")
    if code in PERMISSION_CODES or code.startswith(PERMISSION_PREFIXES) or status in (401, 403):
        return StepFailure(errors.PERMISSION_DENIED, message, details, retryable=False)
    if (
        code.startswith("Throttl")
        or code in RETRYABLE_CODES
        or status == 429
        or (isinstance(status, int) and status >= 500)
    ):
        return StepFailure(
            errors.HTTP_SERVER_ERROR,
            message,
            details,
            retryable=True,
            retry_after=_retry_after(headers.get("retry-after")),
        )
    return StepFailure(errors.HTTP_CLIENT_ERROR, message, details, retryable=False)


def _retry_after(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


# ------------------------------------------------------------------ output


def to_json(value: Any, *, service: str = "", operation: str = "", top: bool = True) -> Any:
    """A boto3 response as JSON data.

    - `ResponseMetadata` keeps only `RequestId` and `HTTPStatusCode`;
    - datetimes and dates become ISO-8601 strings;
    - bytes become text when they are UTF-8, else `{"base64": "..."}`;
    - streamed bodies (`StreamingBody`: S3 GetObject `Body`, Lambda Invoke
      `Payload`) are read in full, up to `MAX_BODY_BYTES` (more fails the
      step: ask for a byte range); a Lambda payload that is JSON is parsed;
    - event streams become the list of their events (at most `MAX_EVENTS`);
    - `Decimal` becomes an int or a float, sets become lists.
    """
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if top and key == "ResponseMetadata" and isinstance(item, dict):
                kept = {k: item[k] for k in ("RequestId", "HTTPStatusCode") if k in item}
                if kept:
                    out[key] = kept
                continue
            if top and service == "lambda" and key == "Payload":
                out[key] = _payload(item, service, operation)
                continue
            out[str(key)] = to_json(item, service=service, operation=operation, top=False)
        return out
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v, service=service, operation=operation, top=False) for v in value]
    if isinstance(value, StreamingBody):
        return _bytes(_read_body(value, service, operation))
    if isinstance(value, EventStream):
        return _events(value, service, operation)
    if isinstance(value, bytes | bytearray):
        return _bytes(bytes(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _bytes(data: bytes) -> Any:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}


def _payload(value: Any, service: str, operation: str) -> Any:
    if isinstance(value, StreamingBody):
        data = _read_body(value, service, operation)
    elif isinstance(value, bytes | bytearray):
        data = bytes(value)
    else:
        return to_json(value, service=service, operation=operation, top=False)
    try:
        return json.loads(data)
    except ValueError:
        return _bytes(data)


def _read_body(body: StreamingBody, service: str, operation: str) -> bytes:
    try:
        data = body.read(MAX_BODY_BYTES + 1)
    finally:
        body.close()
    if len(data) > MAX_BODY_BYTES:
        raise StepFailure(
            errors.ACTION_ERROR,
            f"aws {service} {operation}: the response body is larger than "
            f"{MAX_BODY_BYTES // (1024 * 1024)} MiB; ask for less (e.g. S3 `Range`)",
            {"service": service, "operation": operation, "limit": MAX_BODY_BYTES},
            retryable=False,
        )
    return bytes(data)


def _events(stream: EventStream, service: str, operation: str) -> list[Any]:
    events: list[Any] = []
    try:
        for event in stream:
            if len(events) >= MAX_EVENTS:
                raise StepFailure(
                    errors.ACTION_ERROR,
                    f"aws {service} {operation}: more than {MAX_EVENTS} events in the stream",
                    {"service": service, "operation": operation, "limit": MAX_EVENTS},
                    retryable=False,
                )
            events.append(to_json(event, service=service, operation=operation, top=False))
    finally:
        stream.close()
    return events
