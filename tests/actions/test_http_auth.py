"""http.request with an `http` connection: each auth mode, and secret masking."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError
from werkzeug import Request, Response

from switchyard import errors
from switchyard.connections import Connection

from .conftest import RunAction, error_detail


def echo_headers(request: Request) -> Response:
    """Answer with the request's headers (an API that reflects what it got)."""
    return Response(
        json.dumps({"headers": {k.lower(): v for k, v in request.headers.items()}}),
        content_type="application/json",
    )


def http_conn(server: HTTPServer, **fields: Any) -> Connection:
    secrets = fields.pop("secrets", {})
    return Connection(
        "api", "http", fields={"base_url": server.url_for("/"), **fields}, secrets=secrets
    )


async def test_bearer(httpserver: HTTPServer, run_action: RunAction) -> None:
    httpserver.expect_request(
        "/me", headers={"Authorization": "Bearer s3cr3t-token"}
    ).respond_with_handler(echo_headers)
    conn = http_conn(httpserver, auth="bearer", secrets={"token": "s3cr3t-token"})
    result = await run_action("http.request", {"url": "/me"}, connection="api", connections=[conn])
    # The API echoed the token back: the output masks it.
    assert result.output["body"]["headers"]["authorization"] == "Bearer ***"
    assert "s3cr3t-token" not in json.dumps(result.output)


async def test_basic(httpserver: HTTPServer, run_action: RunAction) -> None:
    encoded = base64.b64encode(b"alice:pa55word").decode()
    httpserver.expect_request(
        "/me", headers={"Authorization": f"Basic {encoded}"}
    ).respond_with_handler(echo_headers)
    conn = http_conn(
        httpserver, auth="basic", secrets={"username": "alice", "password": "pa55word"}
    )
    result = await run_action("http.request", {"url": "/me"}, connection="api", connections=[conn])
    text = json.dumps(result.output)
    # The derived header value is as secret as the password.
    assert encoded not in text
    assert result.output["body"]["headers"]["authorization"] == "Basic ***"


@pytest.mark.parametrize(
    ("header", "fields"), [("X-API-Key", {}), ("X-Custom-Key", {"api_key_header": "X-Custom-Key"})]
)
async def test_api_key(
    httpserver: HTTPServer, run_action: RunAction, header: str, fields: dict[str, Any]
) -> None:
    httpserver.expect_request("/k", headers={header: "key-123456"}).respond_with_handler(
        echo_headers
    )
    conn = http_conn(httpserver, auth="api_key", secrets={"api_key": "key-123456"}, **fields)
    result = await run_action("http.request", {"url": "/k"}, connection="api", connections=[conn])
    assert result.output["body"]["headers"][header.lower()] == "***"


async def test_secret_in_error_details_is_masked(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request("/fail").respond_with_data(
        "upstream said: token s3cr3t-token is invalid", status=500
    )
    conn = http_conn(httpserver, auth="bearer", secrets={"token": "s3cr3t-token"})
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"url": "/fail"}, connection="api", connections=[conn])
    detail = error_detail(info.value)
    assert detail["details"]["body"] == "upstream said: token *** is invalid"
    assert "s3cr3t-token" not in json.dumps(detail)


async def test_credentials_stay_with_the_base_url_origin(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    conn = http_conn(httpserver, auth="bearer", secrets={"token": "s3cr3t-token"})
    with pytest.raises(ApplicationError) as info:
        await run_action(
            "http.request",
            {"url": "http://127.0.0.1:1/steal"},
            connection="api",
            connections=[conn],
        )
    assert info.value.type == errors.PERMISSION_DENIED


@pytest.fixture
def other_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="localhost", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


async def test_api_key_is_dropped_on_cross_origin_redirect(
    httpserver: HTTPServer, other_server: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request("/moved").respond_with_data(
        "", status=302, headers={"Location": other_server.url_for("/elsewhere")}
    )
    other_server.expect_request("/elsewhere").respond_with_handler(echo_headers)
    conn = http_conn(httpserver, auth="api_key", secrets={"api_key": "key-123456"})
    result = await run_action(
        "http.request", {"url": "/moved"}, connection="api", connections=[conn]
    )
    assert "x-api-key" not in result.output["body"]["headers"]
    assert result.output["body"]["headers"]["host"].startswith("localhost:")


# ---------------------------------------------------------------- oauth2


class FakeOAuth:
    """A token endpoint that checks the client-credentials request shape."""

    def __init__(self) -> None:
        self.calls = 0
        self.bad: list[str] = []

    def __call__(self, request: Request) -> Response:
        self.calls += 1
        expected_auth = "Basic " + base64.b64encode(b"cid:csecret").decode()
        checks = {
            "method": request.method == "POST",
            "content-type": request.mimetype == "application/x-www-form-urlencoded",
            "grant_type": request.form.get("grant_type") == "client_credentials",
            "scope": request.form.get("scope") == "read write",
            "client auth": request.headers.get("Authorization") == expected_auth,
        }
        self.bad += [k for k, ok in checks.items() if not ok]
        if self.bad:
            return Response(json.dumps({"error": "invalid_request"}), status=400)
        return Response(
            json.dumps(
                {"access_token": f"tok-{self.calls}", "token_type": "Bearer", "expires_in": 3600}
            ),
            content_type="application/json",
        )


def oauth_conn(server: HTTPServer) -> Connection:
    return http_conn(
        server,
        auth="oauth2",
        token_url=server.url_for("/oauth/token"),
        scopes=["read", "write"],
        secrets={"client_id": "cid", "client_secret": "csecret"},
    )


async def test_oauth2_client_credentials_token_is_fetched_and_cached(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    oauth = FakeOAuth()
    httpserver.expect_request("/oauth/token").respond_with_handler(oauth)
    httpserver.expect_request(
        "/data", headers={"Authorization": "Bearer tok-1"}
    ).respond_with_handler(echo_headers)
    conn = oauth_conn(httpserver)
    for _ in range(2):
        result = await run_action(
            "http.request", {"url": "/data"}, connection="api", connections=[conn]
        )
        # The fetched token is a secret too.
        assert result.output["body"]["headers"]["authorization"] == "Bearer ***"
    assert oauth.bad == []
    assert oauth.calls == 1


async def test_oauth2_refused_token_is_renewed_once(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    oauth = FakeOAuth()
    httpserver.expect_request("/oauth/token").respond_with_handler(oauth)

    def api(request: Request) -> Response:
        if request.headers.get("Authorization") == "Bearer tok-2":
            return Response("ok")
        return Response("expired", status=401)

    httpserver.expect_request("/data").respond_with_handler(api)
    result = await run_action(
        "http.request", {"url": "/data"}, connection="api", connections=[oauth_conn(httpserver)]
    )
    assert result.output["body"] == "ok"
    assert oauth.calls == 2


async def test_oauth2_bad_client_credentials_is_permission_denied(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request("/oauth/token").respond_with_data("{}", status=401)
    with pytest.raises(ApplicationError) as info:
        await run_action(
            "http.request",
            {"url": "/data"},
            connection="api",
            connections=[oauth_conn(httpserver)],
        )
    assert info.value.type == errors.PERMISSION_DENIED
    assert info.value.non_retryable


async def test_missing_secret_for_auth_mode_is_a_validation_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    conn = http_conn(httpserver, auth="bearer")
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"url": "/x"}, connection="api", connections=[conn])
    assert info.value.type == errors.VALIDATION_ERROR
    assert "token" in info.value.message


# ---------------------------------------------------------------- mtls

x509 = pytest.importorskip("cryptography.x509", reason="mTLS tests need `cryptography`")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402


def _cert(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    elif not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def _pem(obj: Any) -> str:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM).decode()
    return obj.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, str]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("test-ca", ca_key, None, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    client_key = ec.generate_private_key(ec.SECP256R1())
    out = {
        "ca": _pem(ca),
        "server_cert": _pem(_cert("localhost", server_key, (ca, ca_key), server=True)),
        "server_key": _pem(server_key),
        "client_cert": _pem(_cert("switchyard", client_key, (ca, ca_key))),
        "client_key": _pem(client_key),
    }
    for name, text in out.items():
        (tmp_path / f"{name}.pem").write_text(text)
    out["dir"] = str(tmp_path)
    return out


@pytest.fixture
def mtls_server(pki: dict[str, str]) -> Iterator[HTTPServer]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(f"{pki['dir']}/server_cert.pem", f"{pki['dir']}/server_key.pem")
    ctx.load_verify_locations(cadata=pki["ca"])
    ctx.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no handshake
    server = HTTPServer(host="localhost", port=0, ssl_context=ctx)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


async def test_mtls_client_certificate(
    mtls_server: HTTPServer, pki: dict[str, str], run_action: RunAction
) -> None:
    mtls_server.expect_request("/secure").respond_with_json({"ok": True})
    conn = http_conn(
        mtls_server,
        auth="mtls",
        ca_cert=pki["ca"],
        secrets={"client_cert": pki["client_cert"], "client_key": pki["client_key"]},
    )
    assert conn.fields["base_url"].startswith("https://")
    result = await run_action(
        "http.request", {"url": "/secure"}, connection="api", connections=[conn]
    )
    assert result.output["body"] == {"ok": True}


async def test_mtls_server_refuses_a_client_without_certificate(
    mtls_server: HTTPServer, pki: dict[str, str], run_action: RunAction
) -> None:
    mtls_server.expect_request("/secure").respond_with_json({"ok": True})
    conn = http_conn(mtls_server, auth="none", ca_cert=pki["ca"])
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"url": "/secure"}, connection="api", connections=[conn])
    assert info.value.type == errors.ACTION_ERROR


async def test_mtls_bad_key_is_a_validation_error(
    mtls_server: HTTPServer, pki: dict[str, str], run_action: RunAction
) -> None:
    conn = http_conn(
        mtls_server,
        auth="mtls",
        ca_cert=pki["ca"],
        secrets={"client_cert": pki["client_cert"], "client_key": pki["server_key"]},
    )
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"url": "/secure"}, connection="api", connections=[conn])
    assert info.value.type == errors.VALIDATION_ERROR
