"""Live cases of the core actions."""

from __future__ import annotations

import json

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from switchyard.connections import Connection

from . import SECRET, Live, LiveCase


def _reflect(request: Request) -> Response:
    return Response(
        json.dumps({"headers": {k.lower(): v for k, v in request.headers.items()}}),
        content_type="application/json",
    )


def _echo_case(server: HTTPServer) -> Live:
    return Live({"message": "hi"})


def _http_case(server: HTTPServer) -> Live:
    server.expect_request("/reflect").respond_with_handler(_reflect)
    conn = Connection(
        "c",
        "http",
        fields={"base_url": server.url_for("/"), "auth": "bearer"},
        secrets={"token": SECRET},
    )
    return Live({"url": "/reflect"}, conn)


CASES: dict[str, LiveCase] = {"core.echo": _echo_case, "http.request": _http_case}
