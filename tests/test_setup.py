"""The project set-up: CI entry point, task runner, README, a fast CLI, settings."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from switchyard.config import DEFAULT_BLOB_THRESHOLD, Settings, SettingsError, get_settings

ROOT = Path(__file__).resolve().parent.parent


def test_ci_run_is_executable_and_runs_make_test() -> None:
    ci = ROOT / ".ci" / "run"
    assert os.access(ci, os.X_OK)
    text = ci.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert re.search(r"^make test$", text, re.MULTILINE)


def test_makefile_has_the_documented_targets() -> None:
    targets = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    assert {"install", "up", "test", "lint", "bench", "replay-record"} <= targets


def test_readme_names_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make up" in readme
    assert "make test" in readme


def test_cli_help_does_not_import_heavy_modules() -> None:
    # Timing `--help` is flaky on a loaded CI machine; what makes it slow is
    # importing the SDK or the JS engine, so assert on that instead.
    probe = (
        "import json, sys\n"
        "import switchyard.cli as cli\n"
        "sys.argv = ['switchyard', '--help']\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "except RuntimeError:\n"
        "    # typer refuses an app with no command: no command module is written yet.\n"
        "    assert not cli.app.registered_commands\n"
        "    print('Usage: (no commands yet)')\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('temporalio', 'quickjs'))\n"
        "print(json.dumps(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout
    heavy = json.loads(done.stdout.strip().splitlines()[-1])
    assert heavy == [], f"`switchyard --help` imports {heavy[:5]}: import them inside the command"


def test_settings_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.data_dir == Path(".switchyard")
    assert settings.temporal_address is None
    assert settings.embedded
    assert settings.temporal_namespace == "default"
    assert settings.task_queue == "switchyard"
    assert settings.blob_threshold == DEFAULT_BLOB_THRESHOLD == 128 * 1024
    assert settings.blob_dir == Path(".switchyard/blobs")
    assert settings.temporal_db_file == Path(".switchyard/temporal.sqlite")


def test_settings_from_env() -> None:
    settings = Settings.from_env(
        {
            "SWITCHYARD_DATA_DIR": "/var/lib/sy",
            "TEMPORAL_ADDRESS": "temporal:7233",
            "TEMPORAL_NAMESPACE": "ops",
            "SWITCHYARD_TASK_QUEUE": "q",
            "SWITCHYARD_BLOB_THRESHOLD": "1024",
        }
    )
    assert settings.data_dir == Path("/var/lib/sy")
    assert settings.blob_dir == Path("/var/lib/sy/blobs")
    assert settings.temporal_address == "temporal:7233"
    assert not settings.embedded
    assert (settings.temporal_namespace, settings.task_queue) == ("ops", "q")
    assert settings.blob_threshold == 1024
    blob_dir = Settings.from_env({"SWITCHYARD_BLOB_DIR": "/blobs"}).blob_dir
    assert blob_dir == Path("/blobs")


def test_settings_refuse_a_bad_threshold() -> None:
    with pytest.raises(SettingsError, match="SWITCHYARD_BLOB_THRESHOLD"):
        Settings.from_env({"SWITCHYARD_BLOB_THRESHOLD": "lots"})


def test_tmp_data_dir_sets_the_environment(tmp_data_dir: Path) -> None:
    assert get_settings().data_dir == tmp_data_dir
    assert get_settings().blob_dir == tmp_data_dir / "blobs"
