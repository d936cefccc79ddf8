"""A local fake of the GitLab REST API (v4), and the GitLab live cases.

`FakeGitLab` answers like GitLab (shapes from docs.gitlab.com/api): the
`PRIVATE-TOKEN` header (401 `{"message": "401 Unauthorized"}` otherwise),
projects addressed by id or by URL-encoded path (`group%2Fproject`; an
unencoded path does not match any route, so GitLab answers 404), Grape's
400 `{"error": "title is missing"}` for missing or mistyped parameters,
and the trigger API, which authenticates with the form field `token`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from switchyard.connections import Connection

from . import SECRET, Live, LiveCase

HOST = "https://gitlab.example.com"


@dataclass
class FakeProject:
    id: int
    path: str
    refs: dict[str, str] = field(default_factory=lambda: {"main": "a" * 40})
    merge_requests: set[int] = field(default_factory=set)
    issues: list[dict[str, Any]] = field(default_factory=list)
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


def _missing(name: str) -> Response:
    return _json({"error": f"{name} is missing"}, 400)


def _invalid(name: str) -> Response:
    return _json({"error": f"{name} is invalid"}, 400)


class FakeGitLab:
    """An in-memory GitLab API on a pytest-httpserver, under `prefix` (`/api/v4`)."""

    def __init__(
        self,
        server: HTTPServer,
        *,
        token: str = SECRET,
        trigger_token: str | None = None,
        prefix: str = "/api/v4",
    ) -> None:
        self.server = server
        self.token = token
        self.trigger_token = trigger_token
        self.prefix = prefix.rstrip("/")
        self.projects: dict[int, FakeProject] = {}
        self.requests: list[dict[str, Any]] = []
        self._next_id = 5000
        server.expect_request(
            re.compile("^" + re.escape(self.prefix) + "/.*")
        ).respond_with_handler(self.handle)

    @property
    def base_url(self) -> str:
        return self.server.url_for(self.prefix)

    def connection(self, name: str = "gl", **secrets: str) -> Connection:
        given = secrets or {"token": self.token}
        return Connection(name, "gitlab", fields={"base_url": self.base_url}, secrets=given)

    def add_project(self, project_id: int, path: str, **kwargs: Any) -> FakeProject:
        project = FakeProject(project_id, path, **kwargs)
        self.projects[project_id] = project
        return project

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _find(self, raw_id: str) -> FakeProject | None:
        ident = unquote(raw_id)
        if ident.isdigit():
            return self.projects.get(int(ident))
        for project in self.projects.values():
            if project.path.lower() == ident.lower():
                return project
        return None

    def handle(self, request: Request) -> Response:
        raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
        raw_path = raw_uri.split("?", 1)[0]
        ctype = (request.mimetype or "").lower()
        body: Any = None
        if ctype == "application/json":
            try:
                body = json.loads(request.get_data() or b"null")
            except ValueError:
                return _json({"error": "400 Bad request - JSON parse error"}, 400)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            body = request.form.to_dict()
        self.requests.append(
            {
                "method": request.method,
                "raw_path": raw_path,
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "content_type": ctype,
                "body": body,
            }
        )
        m = re.fullmatch(re.escape(self.prefix) + r"/projects/([^/]+)(/.*)", raw_path)
        if not m or request.method != "POST":
            return _json({"error": "404 Not Found"}, 404)
        raw_id, rest = m.group(1), m.group(2)
        if rest == "/trigger/pipeline":
            # Authenticated by the trigger token alone.
            return self._trigger(raw_id, ctype, body)
        if request.headers.get("PRIVATE-TOKEN") != self.token:
            return _json({"message": "401 Unauthorized"}, 401)
        project = self._find(raw_id)
        if project is None:
            return _json({"message": "404 Project Not Found"}, 404)
        if ctype != "application/json" or not isinstance(body, dict):
            return _json({"error": "400 Bad request - expected a JSON object"}, 400)
        if rest == "/issues":
            return self._create_issue(project, body)
        if rest == "/pipeline":
            return self._create_pipeline(project, body)
        n = re.fullmatch(r"/merge_requests/(\d+)/notes", rest)
        if n:
            return self._note(project, int(n.group(1)), body)
        return _json({"error": "404 Not Found"}, 404)

    # ----------------------------------------------------------- endpoints

    def _create_issue(self, project: FakeProject, body: dict[str, Any]) -> Response:
        title = body.get("title")
        if title is None:
            return _missing("title")
        if not isinstance(title, str):
            return _invalid("title")
        if "description" in body and not isinstance(body["description"], str):
            return _invalid("description")
        labels = body.get("labels", "")
        if not isinstance(labels, str):  # the documented shape: comma-separated names
            return _invalid("labels")
        assignees = body.get("assignee_ids", [])
        if not isinstance(assignees, list) or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in assignees
        ):
            return _invalid("assignee_ids")
        confidential = body.get("confidential", False)
        if not isinstance(confidential, bool):
            return _invalid("confidential")
        iid = len(project.issues) + 1
        issue = {
            "id": self._id(),
            "iid": iid,
            "project_id": project.id,
            "title": title,
            "description": body.get("description"),
            "state": "opened",
            "created_at": "2024-05-01T10:00:00.000Z",
            "updated_at": "2024-05-01T10:00:00.000Z",
            "closed_at": None,
            "labels": [x for x in labels.split(",") if x],
            "milestone": None,
            "assignees": [{"id": a, "username": f"user{a}"} for a in assignees],
            "assignee": {"id": assignees[0], "username": f"user{assignees[0]}"}
            if assignees
            else None,
            "author": {"id": 1, "username": "switchyard-bot"},
            "type": "ISSUE",
            "user_notes_count": 0,
            "confidential": confidential,
            "web_url": f"{HOST}/{project.path}/-/issues/{iid}",
            "references": {"short": f"#{iid}", "full": f"{project.path}#{iid}"},
        }
        project.issues.append(issue)
        return _json(issue, 201)

    def _pipeline(self, project: FakeProject, ref: str, source: str) -> dict[str, Any]:
        pid = self._id()
        pipeline = {
            "id": pid,
            "iid": len(project.pipelines) + 1,
            "project_id": project.id,
            "sha": project.refs[ref],
            "ref": ref,
            "status": "created",
            "source": source,
            "created_at": "2024-05-01T10:00:00.000Z",
            "updated_at": "2024-05-01T10:00:00.000Z",
            "web_url": f"{HOST}/{project.path}/-/pipelines/{pid}",
            "before_sha": "0" * 40,
            "tag": False,
            "yaml_errors": None,
            "user": {"id": 1, "username": "switchyard-bot"},
            "started_at": None,
            "finished_at": None,
            "duration": None,
            "coverage": None,
            "detailed_status": {"text": "created", "label": "created", "group": "created"},
        }
        return pipeline

    def _trigger(self, raw_id: str, ctype: str, form: Any) -> Response:
        if ctype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return _missing("token")
        project = self._find(raw_id)
        if project is None or form.get("token") != self.trigger_token or not self.trigger_token:
            return _json({"message": "404 Not Found"}, 404)
        ref = form.get("ref")
        if not ref:
            return _missing("ref")
        variables: dict[str, str] = {}
        for key, value in form.items():
            m = re.fullmatch(r"variables\[(.+)\]", key)
            if m:
                variables[m.group(1)] = value
            elif key not in ("token", "ref", "inputs"):
                return _json({"error": f"{key} does not have a valid value"}, 400)
        if ref not in project.refs:
            return _json({"message": {"base": ["Reference not found"]}}, 400)
        pipeline = self._pipeline(project, ref, "trigger")
        project.pipelines.append({**pipeline, "variables": variables})
        return _json(pipeline, 201)

    def _create_pipeline(self, project: FakeProject, body: dict[str, Any]) -> Response:
        ref = body.get("ref")
        if ref is None:
            return _missing("ref")
        if not isinstance(ref, str):
            return _invalid("ref")
        variables = body.get("variables", [])
        if not isinstance(variables, list):
            return _invalid("variables")
        for item in variables:
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("key"), str)
                or not isinstance(item.get("value"), str)
                or item.get("variable_type", "env_var") not in ("env_var", "file")
                or set(item) - {"key", "value", "variable_type"}
            ):
                return _invalid("variables")
        if ref not in project.refs:
            return _json({"message": {"base": ["Reference not found"]}}, 400)
        pipeline = self._pipeline(project, ref, "api")
        project.pipelines.append(
            {**pipeline, "variables": {v["key"]: v["value"] for v in variables}}
        )
        return _json(pipeline, 201)

    def _note(self, project: FakeProject, iid: int, body: dict[str, Any]) -> Response:
        if iid not in project.merge_requests:
            return _json({"message": "404 Not found"}, 404)
        text = body.get("body")
        if text is None:
            return _missing("body")
        if not isinstance(text, str) or not text:
            return _invalid("body")
        internal = body.get("internal", False)
        if not isinstance(internal, bool):
            return _invalid("internal")
        note = {
            "id": self._id(),
            "type": None,
            "body": text,
            "author": {"id": 1, "username": "switchyard-bot"},
            "created_at": "2024-05-01T10:05:00.000Z",
            "updated_at": "2024-05-01T10:05:00.000Z",
            "system": False,
            "noteable_id": 90000 + iid,
            "noteable_type": "MergeRequest",
            "noteable_iid": iid,
            "project_id": project.id,
            "resolvable": False,
            "confidential": internal,
            "internal": internal,
        }
        project.notes.append(note)
        return _json(note, 201)


# ------------------------------------------------------------------ live cases


def _create_issue_case(server: HTTPServer) -> Live:
    fake = FakeGitLab(server)
    fake.add_project(278964, "platform/api")
    return Live({"project": "platform/api", "title": f"leaked {SECRET}"}, fake.connection())


def _trigger_case(server: HTTPServer) -> Live:
    fake = FakeGitLab(server)
    fake.add_project(278964, "platform/api", refs={f"release-{SECRET}": "b" * 40})
    return Live({"project": "platform/api", "ref": f"release-{SECRET}"}, fake.connection())


def _note_case(server: HTTPServer) -> Live:
    fake = FakeGitLab(server)
    fake.add_project(278964, "platform/api", merge_requests={12})
    return Live(
        {"project": "platform/api", "merge_request_iid": 12, "body": f"rotated {SECRET}"},
        fake.connection(),
    )


CASES: dict[str, LiveCase] = {
    "gitlab.create_issue": _create_issue_case,
    "gitlab.trigger_pipeline": _trigger_case,
    "gitlab.merge_request_note": _note_case,
}
