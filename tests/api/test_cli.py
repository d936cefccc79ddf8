"""`switchyard api`, `switchyard workflow ...` and `switchyard connection ... --server`:
the real CLI against a real API server process (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CLI = [sys.executable, "-c", "from switchyard.cli import main; main()"]
SECRET = "cli-secret-value-42"


@dataclass
class Server:
    url: str
    token: str
    data_dir: Path


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "SWITCHYARD_URL",
            "SWITCHYARD_TOKEN",
            "TEMPORAL_ADDRESS",
            "SWITCHYARD_ADMIN_TOKEN",
            "SWITCHYARD_MASTER_KEY",
            "SWITCHYARD_DATABASE_URL",
        )
    }
    return env | extra


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """`switchyard api --port 0` on SQLite in its data directory, until the test ends.

    (The CLI's tests run on SQLite: they test the commands; every endpoint
    runs on both backends in the other API tests, and `test_api_on_postgresql`
    starts this server on PostgreSQL.)
    """
    yield from _serve(tmp_path / "server", {})


def _serve(data: Path, env: dict[str, str]) -> Iterator[Server]:
    proc = subprocess.Popen(
        [*CLI, "api", "--port", "0", "--data-dir", str(data)],
        env=_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    url = None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("Switchyard API at "):
            url = line.split()[3].removesuffix("/api/v1")
        if line.startswith("admin token"):
            break
    assert url, f"`switchyard api` did not start: {''.join(seen)}"
    token_file = data / "admin-token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    try:
        yield Server(url, token_file.read_text().strip(), data)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert proc.returncode == 0, proc.stdout.read()


@pytest.fixture
def pg_server(
    pg_cluster: object,
    tmp_path: Path,
) -> Iterator[Server]:
    url = pg_cluster.fresh_database()  # type: ignore[attr-defined]
    with socket.socket() as s:  # a port nothing listens on: Temporal is "down"
        s.bind(("127.0.0.1", 0))
        down = f"127.0.0.1:{s.getsockname()[1]}"
    env = {"SWITCHYARD_DATABASE_URL": url, "TEMPORAL_ADDRESS": down}
    yield from _serve(tmp_path / "server", env)


def test_api_on_postgresql_with_temporal_down(pg_server: Server) -> None:
    headers = {"Authorization": f"Bearer {pg_server.token}"}
    health = httpx.get(f"{pg_server.url}/api/v1/health", timeout=30).json()
    # Temporal is connected lazily: the API is up, and health says what is missing.
    assert health["status"] == "degraded" and health["database"] == "ok"
    assert health["temporal"].startswith("error")
    r = httpx.put(
        f"{pg_server.url}/api/v1/workflows/hello",
        content=hello("pg"),
        headers=headers | {"Content-Type": "application/yaml"},
    )
    assert r.status_code == 201, r.text
    assert not (pg_server.data_dir / "switchyard.db").exists()  # PostgreSQL, not SQLite


def cli(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=_env(**env), input=stdin, capture_output=True, text=True, timeout=120
    )


def hello(text: str) -> str:
    return (
        f"name: hello\nsteps:\n  - id: say\n    action: core.echo\n    with: {{text: {text!r}}}\n"
    )


def test_workflow_commands_against_a_server(server: Server, tmp_path: Path) -> None:
    auth = ("--server", server.url, "--token", server.token)
    one, two = tmp_path / "one.yaml", tmp_path / "two.yml"
    one.write_text(hello("one"))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"name": "other", "steps": [{"id": "a", "set": {"x": 1}}]}))
    r = cli("workflow", "apply", str(one), str(other), *auth)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        f"{one}: hello version 1 (created)",
        f"{other}: other version 1 (created)",
    ]
    two.write_text(hello("two"))
    # Server and token from the environment this time.
    r = cli("workflow", "apply", str(one), SWITCHYARD_URL=server.url, SWITCHYARD_TOKEN=server.token)
    assert r.stdout.strip() == f"{one}: hello version 1 (unchanged)"
    r = cli("workflow", "apply", str(two), "--publish", "-m", "second", *auth)
    assert r.stdout.strip() == f"{two}: hello version 2 (updated), published version 2"

    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nsteps:\n  - id: a\n    action: core.echo\n    next: nowhere\n")
    r = cli("workflow", "apply", str(broken), *auth)
    validate = cli("validate", str(broken))
    assert r.returncode == 2 == validate.returncode
    assert r.stdout == validate.stdout

    r = cli("workflow", "list", *auth)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NAME", "LATEST", "PUBLISHED", "TRIGGERS", "LAST", "RUN"]
    assert lines[1].split()[:3] == ["hello", "2", "2"]
    assert lines[2].split()[:3] == ["other", "1", "-"]
    r = cli("workflow", "show", "hello", *auth)
    assert "published version: 2" in r.stdout and "with: {text: 'two'}" in r.stdout
    assert "(second)" in r.stdout

    r = cli("workflow", "rollback", "hello", *auth)
    assert r.stdout.strip() == "hello: published version 1 (was 2)"
    r = cli("workflow", "publish", "hello", "--version", "2", *auth)
    assert r.stdout.strip() == "hello: published version 2 (was 1)"
    r = cli("workflow", "rollback", "hello", "--to", "1", *auth)
    assert r.returncode == 0
    shown = json.loads(cli("workflow", "show", "hello", "--version", "1", "--json", *auth).stdout)
    assert shown["published_version"] == 1 and shown["shown"]["text"] == hello("one")

    r = cli("workflow", "show", "nope", *auth)
    assert r.returncode == 1 and "not found" in r.stderr
    r = cli("workflow", "list", "--server", server.url, "--token", "wrong")
    assert r.returncode == 1 and "invalid, expired or revoked token" in r.stderr


def test_data_dir_of_up_names_the_server(server: Server, tmp_path: Path) -> None:
    r = cli("workflow", "list", "--data-dir", str(tmp_path / "empty"))
    assert r.returncode == 2 and "no server" in r.stderr
    # What `switchyard up` writes: the server's URL next to the admin token.
    (server.data_dir / "server-url").write_text(server.url + "\n")
    r = cli("workflow", "list", "--data-dir", str(server.data_dir))
    assert (r.returncode, r.stdout.strip()) == (0, "no workflows"), r.stderr
    # The data directory's admin token never goes to another server named explicitly.
    r = cli("workflow", "list", "--data-dir", str(server.data_dir), "--server", server.url)
    assert r.returncode == 1 and "missing bearer token" in r.stderr


def test_connection_commands_in_server_mode(server: Server, tmp_path: Path) -> None:
    local = tmp_path / "local"
    auth = ("--server", server.url, "--token", server.token, "--data-dir", str(local))
    r = cli(
        "connection", "create", "gh", "--type", "http",
        "--field", "base_url=https://api.github.test", "--field", "auth=bearer",
        "--secret", "token=-", *auth, stdin=SECRET + "\n",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "created connection 'gh' (http)"
    r = cli("connection", "update", "gh", "--field", "base_url=https://ghe.test", *auth)
    assert r.returncode == 0, r.stderr
    r = cli("connection", "show", "gh", *auth)
    assert "base_url: https://ghe.test" in r.stdout and "token: ***" in r.stdout
    r = cli("connection", "list", *auth)
    assert r.stdout.splitlines()[1].split()[:2] == ["gh", "http"]
    for out in (r.stdout, cli("connection", "show", "gh", "--json", *auth).stdout):
        assert SECRET not in out
    r = cli("connection", "create", "bad", "--type", "http", "--field", "auth=magic", *auth)
    assert r.returncode == 2 and "fields.auth" in r.stderr
    r = cli("connection", "create", "gh", "--type", "http", *auth)
    assert r.returncode == 1 and "already exists" in r.stderr
    # The server holds it, encrypted, and the local store was never touched.
    got = httpx.get(
        f"{server.url}/api/v1/connections/gh",
        headers={"Authorization": f"Bearer {server.token}"},
    ).json()
    assert got["secrets"] == ["token"] and got["fields"]["base_url"] == "https://ghe.test"
    assert not (local / "connections").exists()
    assert cli("connection", "delete", "gh", *auth).returncode == 0
    r = cli("connection", "show", "gh", *auth)
    assert r.returncode == 1 and "not found" in r.stderr
