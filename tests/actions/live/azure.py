"""Live cases of the Azure integration, and its fake Entra ID + Resource Manager.

`FakeAzure` serves both endpoints from one local server:

- `POST {prefix}/aad/{tenant}/oauth2/v2.0/token`: the client-credentials
  grant as Entra ID checks it (form body, grant type, client id and secret,
  scope `{arm_url}/.default`), answering `{token_type, expires_in,
  ext_expires_in, access_token}` or an AADSTS error;
- `{prefix}/arm/...`: Resource Manager, checking the bearer token it issued,
  the `api-version` and the path shape, and answering ARM's shapes (VM power
  actions 202 + `Azure-AsyncOperation`/`Location`, operation status
  `{"status": "InProgress"}` -> `{"status": "Succeeded"}`, resource lists
  `{"value": [...], "nextLink": ...}`, errors `{"error": {"code", "message"}}`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from switchyard.connections import Connection

from . import SECRET, Live, LiveCase

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "3f1c6b1e-5d7a-4a8e-9a55-0c2f4d6e8b11"
SUB = "0b1f6471-1bf0-4dda-aec3-111122223333"
COMPUTE_API = "2024-07-01"
RESOURCES_API = "2021-04-01"

_SUB = r"(?P<sub>[0-9a-fA-F-]{36})"
_RG = r"(?P<rg>[-\w.()]+)"
_VM_PATH = (
    rf"/subscriptions/{_SUB}/resourceGroups/{_RG}/providers/Microsoft\.Compute/"
    r"virtualMachines/(?P<vm>[-\w.]+)"
)
VM_ACTION = re.compile(_VM_PATH + r"/(?P<op>[A-Za-z]+)$")
VM = re.compile(_VM_PATH + "$")
OPERATION = re.compile(
    rf"/subscriptions/{_SUB}/providers/Microsoft\.Compute/locations/(?P<loc>[\w-]+)/"
    r"operations/(?P<opid>[\w-]+)$"
)
RESOURCES = re.compile(rf"/subscriptions/{_SUB}(/resourceGroups/{_RG})?/resources$")
COMPUTE_OPERATIONS = "/providers/Microsoft.Compute/operations"
VM_OPS = {"start", "powerOff", "deallocate", "restart"}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status, headers or {}, content_type="application/json")


def arm_error(status: int, code: str, message: str) -> Response:
    return _json({"error": {"code": code, "message": message}}, status)


def _aad_error(status: int, error: str, code: int, description: str) -> Response:
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {description}\r\nTrace ID: 0000\r\n",
        "error_codes": [code],
        "timestamp": "2026-01-01 00:00:00Z",
        "trace_id": "0000",
        "correlation_id": "1111",
    }
    return _json(body, status)


def resource(rg: str, rtype: str, name: str, tags: dict[str, str] | None = None) -> dict[str, Any]:
    """A resource as ARM lists it (untagged resources have no `tags` key)."""
    out: dict[str, Any] = {
        "id": f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/{rtype}/{name}",
        "name": name,
        "type": rtype,
        "location": "westeurope",
    }
    if tags:
        out["tags"] = tags
    return out


@dataclass
class Operation:
    statuses: list[str]
    error: dict[str, Any] | None = None
    polls: int = 0


@dataclass
class FakeAzure:
    """Entra ID token endpoint + ARM on `server`. Knobs are plain attributes.

    Attributes:
        secret: The client secret the token endpoint accepts.
        expires_in: Lifetime of issued tokens.
        refuse_tokens: Tokens issued so far that ARM now rejects (401), e.g.
            the first one after a revocation.
        vms: `(resource group, vm name)` pairs that exist.
        statuses: The operation statuses successive polls report.
        op_error: The `error` of a Failed/Canceled operation.
        monitor: `both` (Azure-AsyncOperation and Location), `location`
            (Location only) or `sync` (200, no operation).
        retry_after: The Retry-After ARM sends with 202s and polls.
        resources: What the resource list holds; `page_size` per page.
        echo: Put the bearer token ARM got into the answers (masking checks).
    """

    server: HTTPServer
    secret: str = SECRET
    expires_in: int = 3599
    vms: set[tuple[str, str]] = field(default_factory=lambda: {("prod-rg", "web-01")})
    statuses: list[str] = field(default_factory=lambda: ["InProgress", "Succeeded"])
    op_error: dict[str, Any] | None = None
    monitor: str = "both"
    retry_after: str = "0"
    resources: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2
    echo: bool = False
    deny: bool = False
    poll_failures: int = 0
    issued: list[str] = field(default_factory=list)
    refuse_tokens: set[str] = field(default_factory=set)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    arm_requests: list[Request] = field(default_factory=list)
    operations: dict[str, Operation] = field(default_factory=dict)
    _seen: str = ""

    def __post_init__(self) -> None:
        self.authority_url = self.server.url_for("/aad")
        self.arm_url = self.server.url_for("/arm")
        self.server.expect_request(re.compile(r"^/aad/")).respond_with_handler(self._token)
        self.server.expect_request(re.compile(r"^/arm/")).respond_with_handler(self._arm)

    def connection(self, **fields: Any) -> Connection:
        return Connection(
            "az",
            "azure",
            fields={
                "tenant_id": TENANT,
                "client_id": CLIENT_ID,
                "subscription_id": SUB,
                "authority_url": self.authority_url,
                "arm_url": self.arm_url,
                **fields,
            },
            secrets={"client_secret": self.secret},
        )

    # --- Entra ID -------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        m = re.fullmatch(r"/aad/(?P<tenant>[^/]+)/oauth2/v2\.0/token", request.path)
        if m is None or request.method != "POST":
            return _json({"error": "not_found"}, 404)
        if m["tenant"] != TENANT:
            return _aad_error(400, "invalid_request", 90002, f"Tenant '{m['tenant']}' not found.")
        if request.mimetype != "application/x-www-form-urlencoded":
            return _aad_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )
        form = dict(request.form.items())
        self.token_requests.append(form)
        if form.get("grant_type") != "client_credentials":
            return _aad_error(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        if form.get("client_id") != CLIENT_ID:
            return _aad_error(400, "unauthorized_client", 700016, "Application not found.")
        if form.get("client_secret") != self.secret:
            return _aad_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
        if form.get("scope") != f"{self.arm_url}/.default":
            return _aad_error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {form.get('scope')} is not valid.",
            )
        access = f"eyJ0eXAiOiJKV1QifQ.fake-arm-token-{len(self.issued) + 1}.c2ln"
        self.issued.append(access)
        return _json(
            {
                "token_type": "Bearer",
                "expires_in": self.expires_in,
                "ext_expires_in": self.expires_in,
                "access_token": access,
            }
        )

    # --- Resource Manager -------------------------------------------------------

    def _arm(self, request: Request) -> Response:
        self.arm_requests.append(request)
        auth = request.headers.get("Authorization", "")
        access = auth[7:] if auth.startswith("Bearer ") else ""
        if access not in self.issued:
            return arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.")
        if access in self.refuse_tokens:
            return arm_error(
                401,
                "ExpiredAuthenticationToken",
                "The access token expiry UTC time is earlier than current UTC time.",
            )
        path = request.path[len("/arm") :]
        version = request.args.get("api-version")
        if not version:
            return arm_error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        self._seen = access
        if self.deny:
            return arm_error(
                403,
                "AuthorizationFailed",
                f"The client '{CLIENT_ID}' does not have authorization to perform action "
                "over scope '/subscriptions/" + SUB + "' or the scope is invalid.",
            )
        if m := VM_ACTION.fullmatch(path):
            return self._vm_action(request, m, version)
        if m := OPERATION.fullmatch(path):
            return self._operation(request, m)
        if m := RESOURCES.fullmatch(path):
            return self._resources(request, m, version)
        if m := VM.fullmatch(path):
            return self._vm(request, m, version)
        if path == COMPUTE_OPERATIONS and request.method == "GET":
            return _json({"value": [{"name": "Microsoft.Compute/virtualMachines/start/action"}]})
        return arm_error(404, "InvalidResourceType", f"The resource path '{path}' is not known.")

    def _check_version(self, version: str, expected: str) -> Response | None:
        if version != expected:
            return arm_error(
                400, "InvalidApiVersionParameter", f"The api-version '{version}' is invalid."
            )
        return None

    def _vm_action(self, request: Request, m: re.Match[str], version: str) -> Response:
        if request.method != "POST":
            return arm_error(405, "MethodNotAllowed", "Only POST is allowed.")
        if bad := self._check_version(version, COMPUTE_API):
            return bad
        if "Content-Length" not in request.headers:
            return Response("Length Required", 411)
        if m["sub"] != SUB:
            return arm_error(
                404, "SubscriptionNotFound", f"The subscription '{m['sub']}' could not be found."
            )
        if m["op"] not in VM_OPS:
            return arm_error(404, "InvalidResourceType", f"No action '{m['op']}'.")
        if (m["rg"], m["vm"]) not in self.vms:
            return arm_error(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.Compute/virtualMachines/"
                f"{m['vm']}' under resource group '{m['rg']}' was not found.",
            )
        if self.monitor == "sync":
            return Response("", 200)
        opid = f"op-{len(self.operations) + 1}"
        self.operations[opid] = Operation(list(self.statuses), self.op_error)
        base = (
            f"{self.arm_url}/subscriptions/{SUB}/providers/Microsoft.Compute/locations/"
            f"westeurope/operations/{opid}"
        )
        p = {"p": self._seen} if self.echo else {}
        headers = {"Retry-After": self.retry_after}
        if self.monitor == "both":
            headers["Azure-AsyncOperation"] = (
                f"{base}?{urlencode({**p, 'api-version': COMPUTE_API})}"
            )
        headers["Location"] = (
            f"{base}?{urlencode({**p, 'monitor': 'true', 'api-version': COMPUTE_API})}"
        )
        return Response("", 202, headers)

    def _operation(self, request: Request, m: re.Match[str]) -> Response:
        op = self.operations.get(m["opid"])
        if op is None or request.method != "GET":
            return arm_error(404, "NotFound", "The operation was not found.")
        if self.poll_failures > 0:
            self.poll_failures -= 1
            return Response("upstream unavailable", 503, {"Retry-After": "0"})
        status = op.statuses[min(op.polls, len(op.statuses) - 1)]
        op.polls += 1
        done = status != "InProgress"
        headers = {} if done else {"Retry-After": self.retry_after}
        if request.args.get("monitor") == "true":  # the Location URL
            if not done:
                return Response("", 202, headers)
            if status != "Succeeded":
                return _json({"error": op.error or {"code": status, "message": ""}}, 409)
            return Response("", 200)
        body: dict[str, Any] = {
            "startTime": "2026-01-01T10:00:00.0000000+00:00",
            "status": status,
            "name": m["opid"],
        }
        if done:
            body["endTime"] = "2026-01-01T10:01:00.0000000+00:00"
        if status in ("Failed", "Canceled"):
            body["error"] = op.error or {"code": "InternalError", "message": "failed"}
        return _json(body, 200, headers)

    def _resources(self, request: Request, m: re.Match[str], version: str) -> Response:
        if request.method != "GET":
            return arm_error(405, "MethodNotAllowed", "Only GET is allowed.")
        if bad := self._check_version(version, RESOURCES_API):
            return bad
        items = [
            r for r in self.resources if m["rg"] is None or f"/resourceGroups/{m['rg']}/" in r["id"]
        ]
        flt = request.args.get("$filter")
        strip_tags = False
        if flt:
            tag = re.fullmatch(
                r"tagName eq '((?:[^']|'')*)'(?: and tagValue eq '((?:[^']|'')*)')?", flt
            )
            rtype = re.fullmatch(r"resourceType eq '([^']*)'", flt)
            if tag:
                name = tag[1].replace("''", "'")
                value = tag[2].replace("''", "'") if tag[2] is not None else None
                items = [
                    r
                    for r in items
                    if name in r.get("tags", {}) and (value is None or r["tags"][name] == value)
                ]
                strip_tags = True  # ARM omits tags from tag-filtered lists
            elif rtype:
                items = [r for r in items if r["type"].lower() == rtype[1].lower()]
            else:
                return arm_error(400, "InvalidFilterInQueryString", f"Invalid $filter '{flt}'.")
        start = int(request.args.get("$skiptoken", "0"))
        page = [dict(r) for r in items[start : start + self.page_size]]
        for r in page:
            if strip_tags:
                r.pop("tags", None)
            elif self.echo:
                r["tags"] = {**r.get("tags", {}), "seen-token": self._seen}
        body: dict[str, Any] = {"value": page}
        if start + self.page_size < len(items):
            query = {"api-version": RESOURCES_API, "$skiptoken": str(start + self.page_size)}
            if flt:
                query["$filter"] = flt
            body["nextLink"] = (
                f"{self.arm_url}{request.path[len('/arm') :]}?{urlencode(query, quote_via=quote)}"
            )
        return _json(body)

    def _vm(self, request: Request, m: re.Match[str], version: str) -> Response:
        if bad := self._check_version(version, COMPUTE_API):
            return bad
        if (m["rg"], m["vm"]) not in self.vms:
            return arm_error(404, "ResourceNotFound", f"VM '{m['vm']}' was not found.")
        vm = resource(m["rg"], "Microsoft.Compute/virtualMachines", m["vm"], {"env": "prod"})
        vm["properties"] = {"provisioningState": "Succeeded", "vmId": "5c2d"}
        if self.echo:
            vm["tags"]["seen-token"] = self._seen
        if request.method == "GET":
            if request.args.get("$expand") == "instanceView":
                vm["properties"]["instanceView"] = {"statuses": [{"code": "PowerState/running"}]}
            return _json(vm, 200, {"x-ms-request-id": "req-1", "ETag": '"1"'})
        if request.method == "PATCH":
            patch = request.get_json(silent=True)
            if not isinstance(patch, dict):
                return arm_error(400, "InvalidRequestContent", "The request content was invalid.")
            vm["tags"].update(patch.get("tags") or {})
            return _json(vm)
        if request.method == "DELETE":
            return Response("", 202, {"Location": f"{self.arm_url}/x?api-version={COMPUTE_API}"})
        return arm_error(405, "MethodNotAllowed", "Method not allowed.")


def _vm_case(op_params: dict[str, Any]) -> LiveCase:
    def case(server: HTTPServer) -> Live:
        fake = FakeAzure(server, statuses=["Succeeded"], echo=True)
        params = {"resource_group": "prod-rg", "vm_name": "web-01", **op_params}
        return Live(params, fake.connection())

    return case


def _list_case(server: HTTPServer) -> Live:
    fake = FakeAzure(
        server,
        echo=True,
        resources=[resource("prod-rg", "Microsoft.Compute/virtualMachines", "web-01")],
    )
    return Live({"resource_type": "Microsoft.Compute/virtualMachines"}, fake.connection())


def _arm_case(server: HTTPServer) -> Live:
    fake = FakeAzure(server, echo=True)
    path = "/resourceGroups/prod-rg/providers/Microsoft.Compute/virtualMachines/web-01"
    return Live({"path": path, "api_version": COMPUTE_API}, fake.connection())


CASES: dict[str, LiveCase] = {
    "azure.vm_start": _vm_case({}),
    "azure.vm_stop": _vm_case({"deallocate": True}),
    "azure.vm_restart": _vm_case({}),
    "azure.list_resources": _list_case,
    "azure.arm_request": _arm_case,
}
