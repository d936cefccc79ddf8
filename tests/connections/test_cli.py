"""`switchyard connection ...`, run as a real process (stdin, exit codes, output)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from switchyard.connections.crypto import ENV_MASTER_KEY, ENV_PREVIOUS_MASTER_KEYS
from switchyard.connections.store import LocalConnectionStore

TOKEN = "cli-token-5a4b3c2d1e-secret"


def cli(
    data_dir: Path,
    *args: str,
    stdin: str | None = None,
    env_dir: bool = True,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SWITCHYARD_DATA_DIR", ENV_MASTER_KEY, ENV_PREVIOUS_MASTER_KEYS)
    }
    if env_dir:
        env["SWITCHYARD_DATA_DIR"] = str(data_dir)
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-c", "from switchyard.cli import main; main()", "connection", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_create_from_stdin_then_show_list_delete(data_dir: Path) -> None:
    done = cli(
        data_dir,
        "create",
        "prod-api",
        "--type",
        "http",
        "--field",
        "base_url=https://api.example.com",
        "--field",
        'headers={"X-Team":"sre"}',
        "--field",
        "auth=bearer",
        "--secret",
        "token=-",
        stdin=TOKEN + "\n",
    )
    assert done.returncode == 0, done.stderr
    assert "prod-api" in done.stdout

    conn = LocalConnectionStore(data_dir).get("prod-api")
    assert conn.secrets == {"token": TOKEN}  # one trailing newline from stdin is dropped
    assert conn.fields["headers"] == {"X-Team": "sre"}  # JSON values parse

    shown = cli(data_dir, "show", "prod-api")
    assert shown.returncode == 0, shown.stderr
    assert "  token: ***" in shown.stdout.splitlines()
    assert "base_url: https://api.example.com" in shown.stdout
    assert 'headers: {"X-Team": "sre"}' in shown.stdout

    shown_json = cli(data_dir, "show", "prod-api", "--json")
    assert json.loads(shown_json.stdout)["secrets"] == ["token"]

    listed = cli(data_dir, "list")
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split() == ["NAME", "TYPE", "FIELDS", "SECRETS", "UPDATED"]
    assert row.split()[:4] == ["prod-api", "http", "auth,base_url,headers", "token"]

    listed_json = json.loads(cli(data_dir, "list", "--json").stdout)
    assert [(c["name"], c["secrets"]) for c in listed_json] == [("prod-api", ["token"])]

    for done in (shown, shown_json, listed):
        assert TOKEN not in done.stdout + done.stderr

    deleted = cli(data_dir, "delete", "prod-api")
    assert deleted.returncode == 0, deleted.stderr
    assert cli(data_dir, "list").stdout.strip() == "no connections"
    assert cli(data_dir, "delete", "prod-api").returncode == 1


def test_data_dir_option_and_secret_values_stay_text(tmp_path: Path) -> None:
    where = tmp_path / "elsewhere"
    done = cli(
        tmp_path / "unused",
        "create",
        "hook",
        "--type",
        "webhook_secret",
        "--secret",
        "secret=0123",  # not parsed as JSON: a secret is always text
        "--data-dir",
        str(where),
        env_dir=False,
    )
    assert done.returncode == 0, done.stderr
    assert LocalConnectionStore(where).get("hook").secrets == {"secret": "0123"}
    assert not (tmp_path / "unused").exists()


def test_exit_codes(data_dir: Path) -> None:
    assert cli(data_dir, "create", "a", "--type", "http").returncode == 0
    exists = cli(data_dir, "create", "a", "--type", "http")
    assert exists.returncode == 1 and "already exists" in exists.stderr
    missing = cli(data_dir, "show", "nope")
    assert missing.returncode == 1 and "'nope' not found" in missing.stderr

    cases = {
        ("create", "b", "--type", "http", "--field", "bogus=1"): "unknown field 'bogus'",
        ("create", "b", "--type", "http", "--field", "auth=magic"): "field 'auth' must be one",
        ("create", "b", "--type", "nope"): "unknown connection type 'nope'",
        ("create", "B", "--type", "http"): "invalid connection name 'B'",
        ("create", "b", "--type", "webhook_secret"): "missing secret 'secret'",
        ("create", "b", "--type", "http", "--field", "noequals"): "expected KEY=VALUE",
        (
            "create",
            "b",
            "--type",
            "http",
            "--secret",
            "username=-",
            "--secret",
            "password=-",
        ): "only one --secret",
    }
    for args, message in cases.items():
        done = cli(data_dir, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr, (args, done.stderr)
    assert LocalConnectionStore(data_dir).names() == ["a"]


def test_update(data_dir: Path) -> None:
    cli(data_dir, "create", "a", "--type", "http", "--secret", "token=old-token")
    done = cli(
        data_dir,
        "update",
        "a",
        "--field",
        "auth=api_key",
        "--secret",
        "api_key=-",
        "--unset",
        "token",
        stdin="new-key",
    )
    assert done.returncode == 0, done.stderr
    conn = LocalConnectionStore(data_dir).get("a")
    assert conn.fields == {"auth": "api_key"} and conn.secrets == {"api_key": "new-key"}
    assert cli(data_dir, "update", "nope", "--field", "auth=none").returncode == 1


def test_rotate_key_command(data_dir: Path) -> None:
    cli(data_dir, "create", "a", "--type", "http", "--secret", f"token={TOKEN}")
    store = LocalConnectionStore(data_dir)
    [old] = store.keyring.kids
    done = cli(data_dir, "rotate-key")
    assert done.returncode == 0, done.stderr
    assert old in done.stdout and "can be removed" in done.stdout
    (data_dir / "keys" / f"{old}.key").unlink()
    assert LocalConnectionStore(data_dir).get("a").secrets == {"token": TOKEN}


def test_unreadable_record_in_cli(data_dir: Path) -> None:
    cli(data_dir, "create", "a", "--type", "http")
    (data_dir / "connections" / "a.json").write_text("{ broken")
    shown = cli(data_dir, "show", "a")
    assert shown.returncode == 1 and "not valid JSON" in shown.stderr
    assert "Traceback" not in shown.stderr
    listed = cli(data_dir, "list")
    assert listed.returncode == 0 and "unreadable" in listed.stdout


@pytest.mark.parametrize("args", [("--help",), ("create", "--help")])
def test_help(data_dir: Path, args: tuple[str, ...]) -> None:
    done = cli(data_dir, *args)
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout


def test_unusable_master_key_exits_1_without_a_traceback(data_dir: Path) -> None:
    done = cli(
        data_dir,
        "create",
        "a",
        "--type",
        "http",
        "--secret",
        "token=x",
        extra_env={ENV_MASTER_KEY: "bad"},
    )
    assert done.returncode == 1, done.stderr
    assert "cannot load the master keys" in done.stderr and "Traceback" not in done.stderr
