"""Fixtures for the blueprint tests: the fakes, the connections, a worker, and how to run.

- `saas`: one pytest-httpserver acting as every SaaS API (tests/blueprints/fakes.py);
- `aws_endpoint`: a real `moto_server` subprocess on 127.0.0.1 (session-wide);
- `store`: the encrypted connection store of a fresh data directory, holding
  every connection the blueprints name (`connections()`: the ones
  docs/blueprints.md creates with `switchyard connection create`), with their
  URLs pointing at the fakes;
- `blueprints`: a real engine worker on the session's Temporal dev server,
  reading connections from that store, plus helpers to validate a blueprint,
  start it manually or from a trigger, and answer its approvals.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pytest_httpserver import HTTPServer
from temporalio.client import Client, WorkflowHandle

from switchyard.connections.store import LocalConnectionStore, StoreConnections
from switchyard.definition.model import WebhookTrigger, Workflow
from switchyard.definition.triggers import trigger_ids
from switchyard.definition.validate import validate_file
from switchyard.engine import client as engine_client
from switchyard.engine.blobs import BlobStore
from switchyard.engine.worker import build_worker
from switchyard.expressions import render
from switchyard.triggers.events import Event
from switchyard.triggers.matching import Candidate, decide, trigger_scope
from switchyard.triggers.schedules import remove_schedules, sync_schedules
from switchyard.triggers.signatures import verify

from . import fakes
from .fakes import SaaS, SmtpFake

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINTS = ROOT / "examples" / "blueprints"
AWS_REGION = "eu-west-1"
AWS_KEY_ID = "AKIABLUEPRINTTEST01"
AWS_SECRET = "blueprint/aws/secret/access/key/000000000"
GITHUB_WEBHOOK_SECRET = "gh-webhook-blueprint-secret"


def connections(
    saas: SaaS, aws_url: str | None
) -> list[tuple[str, str, dict[str, Any], dict[str, str]]]:
    """`(name, type, fields, secrets)` of every connection the blueprints use."""
    out: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
        ("slack", "slack", {"base_url": saas.slack.base_url}, {"token": fakes.SLACK_TOKEN}),
        (
            "pagerduty",
            "pagerduty",
            {
                "api_base_url": saas.url(fakes.PagerDutyFake.API),
                "events_base_url": saas.url(fakes.PagerDutyFake.EVENTS),
                "from_email": "switchyard@example.com",
            },
            {"api_token": fakes.PD_API_TOKEN, "routing_key": fakes.PD_ROUTING_KEY},
        ),
        (
            "pagerduty-api",
            "http",
            {
                "base_url": saas.url(fakes.PagerDutyFake.API),
                "headers": {"Accept": "application/vnd.pagerduty+json;version=2"},
                "auth": "api_key",
                "api_key_header": "Authorization",
            },
            {"api_key": f"Token token={fakes.PD_API_TOKEN}"},
        ),
        (
            "jira",
            "jira",
            {"base_url": saas.jira.base_url, "email": fakes.JIRA_EMAIL},
            {"api_token": fakes.JIRA_API_TOKEN},
        ),
        ("github", "github", {"base_url": saas.github.base_url}, {"token": fakes.GITHUB_TOKEN}),
        (
            "github-api",
            "http",
            {
                "base_url": saas.github.base_url,
                "headers": {
                    "Accept": "application/vnd.github+json",
                    "X-GitHub-Api-Version": "2022-11-28",
                },
                "auth": "bearer",
            },
            {"token": fakes.GITHUB_TOKEN},
        ),
        ("github-webhook", "webhook_secret", {}, {"secret": GITHUB_WEBHOOK_SECRET}),
        (
            "openai",
            "openai",
            {"base_url": saas.openai.base_url, "default_model": "gpt-4o-mini"},
            {"api_key": fakes.OPENAI_KEY},
        ),
        (
            "datadog",
            "datadog",
            {"base_url": saas.datadog.base_url},
            {"api_key": fakes.DD_API_KEY, "app_key": fakes.DD_APP_KEY},
        ),
        ("gitlab", "gitlab", {"base_url": saas.gitlab.base_url}, {"token": fakes.GITLAB_TOKEN}),
        (
            "gitlab-api",
            "http",
            {
                "base_url": saas.gitlab.base_url,
                "auth": "api_key",
                "api_key_header": "PRIVATE-TOKEN",
            },
            {"api_key": fakes.GITLAB_TOKEN},
        ),
        (
            "azure",
            "azure",
            {
                "tenant_id": fakes.AZURE_TENANT,
                "client_id": fakes.AZURE_CLIENT_ID,
                "subscription_id": fakes.AZURE_SUBSCRIPTION,
                "authority_url": saas.azure.authority_url,
                "arm_url": saas.azure.arm_url,
            },
            {"client_secret": fakes.AZURE_CLIENT_SECRET},
        ),
        ("teams", "teams_webhook", {}, {"url": saas.teams.url}),
        (
            "opsgenie",
            "opsgenie",
            {"base_url": saas.opsgenie.base_url},
            {"api_key": fakes.OPSGENIE_KEY},
        ),
        ("internal-services", "http", {"base_url": saas.internal.base_url}, {}),
    ]
    if aws_url is not None:
        keys = {"access_key_id": AWS_KEY_ID, "secret_access_key": AWS_SECRET}
        out += [
            ("aws", "aws", {"region": AWS_REGION, "endpoint_url": aws_url}, keys),
            ("aws-billing", "aws", {"region": "us-east-1", "endpoint_url": aws_url}, keys),
        ]
    return out


# ------------------------------------------------------------------ fakes


@pytest.fixture
def saas(httpserver: HTTPServer) -> Iterator[SaaS]:
    """Every SaaS fake on the test's pytest-httpserver; unknown requests fail the test."""
    fake = SaaS(httpserver)
    yield fake
    assert fake.unexpected == [], f"requests no fake knew: {fake.unexpected}"


@pytest.fixture
def smtp() -> Iterator[SmtpFake]:
    server = SmtpFake()
    server.start()
    yield server
    server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """A `moto_server` subprocess on a free loopback port, warmed up in the background.

    moto loads a service's backend (EC2's is large) on its first call: a
    thread makes those first calls while the earlier tests run.
    """

    def __init__(self) -> None:
        port = _free_port()
        script = Path(sys.executable).parent / "moto_server"
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [str(script), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.ready = threading.Thread(target=self._warm_up, args=(port,), daemon=True)
        self.ready.start()

    def _warm_up(self, port: int) -> None:
        deadline = time.monotonic() + 60
        while self.proc.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            return
        try:
            aws_client(self.url, "ec2").describe_instances()
            aws_client(self.url, "ssm").list_commands()
        except Exception:  # only a warm-up: the tests' own calls will say what is wrong
            pass

    def wait(self) -> str:
        self.ready.join(timeout=90)
        assert self.proc.poll() is None, "moto_server exited"
        host, port = self.url.removeprefix("http://").split(":")
        socket.create_connection((host, int(port)), 1).close()  # it answers
        return self.url

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="session", autouse=True)
def moto_server() -> Iterator[MotoServer]:
    """Started with the first blueprint test, so that it is warm when AWS tests come."""
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def aws_endpoint(moto_server: MotoServer) -> str:
    """The moto server's URL, once it answers (the `aws` connections point there)."""
    return moto_server.wait()


def aws_client(endpoint: str, service: str) -> Any:
    """A boto3 client on the moto server, with the `aws` connection's credentials."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=AWS_REGION,
        aws_access_key_id=AWS_KEY_ID,
        aws_secret_access_key=AWS_SECRET,
    )


@pytest.fixture
def store(tmp_data_dir: Path, saas: SaaS, request: pytest.FixtureRequest) -> LocalConnectionStore:
    """The data directory's connection store with every blueprint connection in it."""
    aws_url = (
        request.getfixturevalue("aws_endpoint") if "aws_endpoint" in request.fixturenames else None
    )
    store = LocalConnectionStore(tmp_data_dir)
    for name, type_, fields_, secrets in connections(saas, aws_url):
        store.create(name, type_, fields_, secrets)
    return store


# ------------------------------------------------------------------ running


def load(name: str) -> Workflow:
    """A blueprint, checked as `switchyard validate` checks it: no error, no warning."""
    wf, problems = validate_file(BLUEPRINTS / name)
    assert not problems, [str(p) for p in problems]
    assert wf is not None
    return wf


@dataclass
class Blueprints:
    """Runs blueprints on a real worker (this test's task queue)."""

    client: Client
    task_queue: str

    async def start(
        self,
        wf: Workflow,
        inputs: dict[str, Any] | None = None,
        trigger: dict[str, Any] | None = None,
        *,
        identity: str | None = None,
    ) -> WorkflowHandle[Any, dict[str, Any]]:
        return await engine_client.start_run(
            self.client,
            wf,
            inputs or {},
            task_queue=self.task_queue,
            trigger=trigger,
            identity=identity,
        )

    async def result(
        self, handle: WorkflowHandle[Any, dict[str, Any]], timeout: float = 90
    ) -> dict[str, Any]:
        return await asyncio.wait_for(engine_client.wait_result(handle), timeout=timeout)

    async def run(
        self, wf: Workflow, inputs: dict[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        return await self.result(await self.start(wf, inputs, **kw))

    async def on_event(self, wf: Workflow, event: Event) -> WorkflowHandle[Any, dict[str, Any]]:
        """Start `wf` for an event as the event ingest does: its trigger must match."""
        [decision] = decide(event, [Candidate(wf, 1)], lambda *_: True)
        assert decision.matched, decision.to_dict()
        trigger = {"type": event.source, "id": decision.trigger, "event": event.to_trigger()}
        return await self.start(wf, decision.inputs, trigger)

    async def on_webhook(
        self, wf: Workflow, secret: str, body: bytes, headers: dict[str, str]
    ) -> WorkflowHandle[Any, dict[str, Any]]:
        """Start `wf` for a webhook request as `POST /hooks/<workflow>/<trigger>` does.

        The signature is checked against the connection's secret, `Trigger.event`
        is `{headers, query, body}` and the trigger's inputs are templated from it.
        """
        verify(headers, body, [secret])
        [(trigger, tid)] = [
            (t, tid)
            for t, tid in zip(wf.triggers, trigger_ids(wf), strict=True)
            if isinstance(t, WebhookTrigger)
        ]
        # As the API hands it over: header names lower-case, the JSON body parsed.
        event = {
            "headers": {k.lower(): v for k, v in headers.items()},
            "query": {},
            "body": json.loads(body),
        }
        scope = trigger_scope("webhook", tid, event)
        inputs = render(trigger.inputs, scope, field=f"triggers.{tid}.inputs")
        return await self.start(wf, dict(inputs), {"type": "webhook", "id": tid, "event": event})

    async def on_schedule(self, wf: Workflow) -> dict[str, Any]:
        """Publish `wf`'s schedule triggers as Temporal Schedules, fire one now, return its run.

        This is the production path (switchyard.triggers.schedules): the run is
        started by Temporal from the Schedule, with the trigger's inputs.
        """
        ids = await sync_schedules(self.client, wf, 1, task_queue=self.task_queue)
        try:
            schedule = self.client.get_schedule_handle(ids[0])
            await schedule.trigger()
            deadline = time.monotonic() + 30
            while True:
                actions = (await schedule.describe()).info.recent_actions
                if actions:
                    break
                assert time.monotonic() < deadline, "the schedule started nothing"
                await asyncio.sleep(0.2)
            started = actions[-1].action
            handle = self.client.get_workflow_handle(started.workflow_id, result_type=dict)
            return await self.result(handle)
        finally:
            await remove_schedules(self.client, wf.name)

    async def waiting(self, run_id: str, step: str, timeout: float = 60) -> dict[str, Any]:
        """The approval `step` once the run waits on it: `{prompt, choices, approvers}`."""
        deadline = time.monotonic() + timeout
        while True:
            found = await engine_client.waiting_approval(self.client, run_id, step)
            if found is not None:
                return found[1]
            assert time.monotonic() < deadline, f"{run_id} never waited on {step}"
            await asyncio.sleep(0.2)

    async def approve(
        self,
        run_id: str,
        step: str,
        choice: str,
        *,
        by: str,
        roles: list[str] | None = None,
        comment: str | None = None,
    ) -> dict[str, Any]:
        """Answer the approval through the engine's API, once the run waits on it."""
        await self.waiting(run_id, step)
        return await engine_client.approve(
            self.client, run_id, step, choice, by=by, roles=roles or [], comment=comment
        )


@pytest_asyncio.fixture(loop_scope="session")
async def blueprints(
    client: Client, task_queue: str, tmp_data_dir: Path, store: LocalConnectionStore
) -> AsyncIterator[Blueprints]:
    """A worker whose connections come from the data directory's encrypted store."""
    worker = build_worker(
        client,
        task_queue,
        connections=StoreConnections(store),
        definitions=BLUEPRINTS,
        blobs=BlobStore(tmp_data_dir / "blobs", threshold=128 * 1024),
    )
    async with worker:
        yield Blueprints(client, task_queue)


def summary(run: dict[str, Any]) -> str:
    """The run's status, error and step statuses: the message of a failed assertion."""
    steps = {k: (v.get("status"), v.get("error")) for k, v in run.get("steps", {}).items()}
    return f"status={run.get('status')} error={run.get('error')} steps={steps}"
