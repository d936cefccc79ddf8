"""Third-party action packs, found through the `switchyard.actions` entry-point group.

The example pack in examples/packs/switchyard-statuspage is made importable
with the same files an installer writes (the package on the path and a
`.dist-info` with `entry_points.txt`), then used by the real CLI: listed,
shown, validated against, and run on the real engine against a fake
Statuspage API. A pack that fails to import is reported, not fatal.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

PACK = Path(__file__).parents[2] / "examples" / "packs" / "switchyard-statuspage"
CLI = [sys.executable, "-c", "from switchyard.cli import main; main()"]
API_KEY = "sp-key-5b1f0c"


def _dist_info(site: Path, name: str, entry_points: str) -> None:
    info = site / f"{name}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    (info / "RECORD").write_text("")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A directory holding the installed example pack and a broken pack."""
    site = tmp_path / "site"
    site.mkdir()
    shutil.copytree(PACK / "src" / "switchyard_statuspage", site / "switchyard_statuspage")
    _dist_info(
        site,
        "switchyard_statuspage",
        """
        [switchyard.actions]
        statuspage = switchyard_statuspage
        """,
    )
    (site / "broken_pack.py").write_text("raise RuntimeError('this pack is broken')\n")
    _dist_info(site, "broken_pack", "[switchyard.actions]\nbroken = broken_pack\n")
    return site


def cli(
    *args: str, site: Path, cwd: Path, address: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "SWITCHYARD_DATA_DIR": str(cwd / ".switchyard"),
    }
    env.pop("TEMPORAL_ADDRESS", None)
    if address:
        env["TEMPORAL_ADDRESS"] = address
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )


def test_pack_actions_are_listed_and_shown(site: Path, tmp_path: Path) -> None:
    listed = cli("actions", "list", "statuspage.", site=site, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "statuspage.create_incident" in listed.stdout
    assert "statuspage.update_incident" in listed.stdout
    # The broken pack is named, and did not stop the others from loading.
    assert "broken" in listed.stderr and "this pack is broken" in listed.stderr

    shown = cli("actions", "show", "statuspage.create_incident", "--json", site=site, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    desc = json.loads(shown.stdout)
    assert desc["connection_type"] == "statuspage"
    assert desc["options"] == "write_once"
    assert desc["input_schema"]["required"] == ["name"]


def test_without_the_pack_the_action_is_unknown(tmp_path: Path) -> None:
    shown = cli("actions", "show", "statuspage.create_incident", site=tmp_path, cwd=tmp_path)
    assert shown.returncode == 2
    assert "unknown action type 'statuspage.create_incident'" in shown.stderr


def test_validate_checks_pack_parameters(site: Path, tmp_path: Path) -> None:
    wf = tmp_path / "wf.yaml"
    wf.write_text(
        textwrap.dedent(
            """
            name: open-incident
            steps:
              - id: open
                action: statuspage.create_incident
                connection: sp
                with: {name: API down, severity: high}
            """
        )
    )
    result = cli("validate", str(wf), site=site, cwd=tmp_path)
    assert result.returncode == 2
    assert "steps[0].with.severity: unknown parameter 'severity'" in result.stdout


def _statuspage(request: Request) -> Response:
    """Statuspage's create-incident endpoint, checked as the real API would."""
    if request.headers.get("Authorization") != f"OAuth {API_KEY}":
        return Response(json.dumps({"error": "unauthorized"}), 401)
    body = request.get_json(silent=True) or {}
    incident = body.get("incident")
    if not isinstance(incident, dict) or not isinstance(incident.get("name"), str):
        return Response(json.dumps({"error": "incident.name is required"}), 422)
    answer = {
        "id": "p31zjtct2jer",
        "name": incident["name"],
        "status": incident.get("status", "investigating"),
        "shortlink": "http://stspg.io/p31zjtct2jer",
        "page_id": "pg1",
        "incident_updates": [{"body": incident.get("body", "")}],
    }
    return Response(json.dumps(answer), 201, content_type="application/json")


@pytest.mark.temporal
@pytest.mark.no_record
def test_a_pack_action_runs_on_the_engine(
    site: Path, tmp_path: Path, httpserver: HTTPServer, temporal_server
) -> None:
    httpserver.expect_request("/v1/pages/pg1/incidents", method="POST").respond_with_handler(
        _statuspage
    )
    created = cli(
        "connection", "create", "sp", "--type", "statuspage",
        "--field", f"base_url={httpserver.url_for('/v1')}",
        "--field", "page_id=pg1",
        "--secret", f"api_key={API_KEY}",
        site=site, cwd=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    wf = tmp_path / "wf.yaml"
    wf.write_text(
        textwrap.dedent(
            """
            name: open-incident
            inputs:
              title: {type: string, required: true}
            outputs:
              link: "{{ Steps.open.output.shortlink }}"
            steps:
              - id: open
                action: statuspage.create_incident
                connection: sp
                with: {name: "{{ Inputs.title }}", body: Investigating}
            """
        )
    )
    result = cli(
        "run", str(wf), "--input", "title=API down", "--json",
        site=site, cwd=tmp_path, address=temporal_server.address,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    run = json.loads(result.stdout)
    assert run["status"] == "succeeded"
    assert run["outputs"] == {"link": "http://stspg.io/p31zjtct2jer"}
    assert run["steps"]["open"]["output"]["name"] == "API down"
    assert API_KEY not in result.stdout
    assert len(httpserver.log) == 1
