"""A local fake of the GitHub REST API, and the GitHub live cases.

`FakeGitHub` answers like api.github.com (shapes from the REST docs,
version 2022-11-28): it checks the bearer token, the headers GitHub
requires, the method, the path and the body's fields and types, keeps
state (issues, labels, comments, files, workflow runs) and answers with
GitHub's documented bodies and statuses (201/200/204, 401 `Bad
credentials`, 404 `Not Found` / `Label does not exist`, 422 validation).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from switchyard.connections import Connection

from . import SECRET, Live, LiveCase

DOCS = "https://docs.github.com/rest"
SUPPORTED_VERSIONS = ("2022-11-28", "2026-03-10")


@dataclass
class FakeRepo:
    owner: str
    name: str
    default_branch: str = "main"
    refs: set[str] = field(default_factory=lambda: {"main"})
    labels: set[str] = field(default_factory=set)
    milestones: set[int] = field(default_factory=set)
    collaborators: set[str] = field(default_factory=set)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)
    workflows: dict[str, int] = field(default_factory=dict)
    dispatches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status, headers or {}, content_type="application/json")


def _error(status: int, message: str, **extra: Any) -> Response:
    return _json(
        {"message": message, "documentation_url": DOCS, "status": str(status), **extra}, status
    )


def _invalid(detail: str) -> Response:
    return _error(422, f"Invalid request.\n\n{detail}")


class FakeGitHub:
    """An in-memory GitHub API on a pytest-httpserver (under `prefix`, e.g. `/api/v3`)."""

    def __init__(self, server: HTTPServer, *, token: str = SECRET, prefix: str = "") -> None:
        self.server = server
        self.token = token
        self.prefix = prefix.rstrip("/")
        self.repos: dict[str, FakeRepo] = {}
        self.requests: list[dict[str, Any]] = []
        self._next_id = 1000
        server.expect_request(
            re.compile("^" + re.escape(self.prefix) + "/.*")
        ).respond_with_handler(self.handle)

    @property
    def base_url(self) -> str:
        return self.server.url_for(self.prefix + "/")

    def connection(self, name: str = "gh", **fields: Any) -> Connection:
        return Connection(
            name,
            "github",
            fields={"base_url": self.base_url, **fields},
            secrets={"token": self.token},
        )

    def add_repo(self, full_name: str, **kwargs: Any) -> FakeRepo:
        owner, name = full_name.split("/")
        repo = FakeRepo(owner, name, **kwargs)
        self.repos[full_name.lower()] = repo
        return repo

    def add_issue(
        self, repo: FakeRepo, title: str = "An issue", labels: tuple[str, ...] = ()
    ) -> int:
        number = len(repo.issues) + 1
        repo.labels.update(labels)
        repo.issues[number] = self._issue(repo, number, {"title": title, "labels": list(labels)})
        return number

    # ------------------------------------------------------------ plumbing

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _api(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def _label(self, repo: FakeRepo, name: str) -> dict[str, Any]:
        digest = int(hashlib.sha1(name.encode()).hexdigest()[:8], 16)
        return {
            "id": digest,
            "node_id": f"LA_{digest}",
            "url": self._api(f"/repos/{repo.full_name}/labels/{quote(name)}"),
            "name": name,
            "color": "ededed",
            "default": False,
            "description": None,
        }

    def _issue(self, repo: FakeRepo, number: int, body: dict[str, Any]) -> dict[str, Any]:
        api = self._api(f"/repos/{repo.full_name}/issues/{number}")
        milestone = body.get("milestone")
        return {
            "id": self._id(),
            "node_id": f"I_{number}",
            "url": api,
            "repository_url": self._api(f"/repos/{repo.full_name}"),
            "labels_url": api + "/labels{/name}",
            "comments_url": api + "/comments",
            "html_url": f"https://github.com/{repo.full_name}/issues/{number}",
            "number": number,
            "state": "open",
            "title": str(body["title"]),
            "body": body.get("body"),
            "user": {"login": "switchyard-bot", "id": 1},
            "labels": [self._label(repo, n) for n in body.get("labels", [])],
            "assignee": ({"login": body["assignees"][0]} if body.get("assignees") else None),
            "assignees": [
                {"login": a, "id": 10 + i} for i, a in enumerate(body.get("assignees", []))
            ],
            "milestone": {"number": milestone, "title": f"M{milestone}"} if milestone else None,
            "locked": False,
            "comments": 0,
            "created_at": "2024-05-01T10:00:00Z",
            "updated_at": "2024-05-01T10:00:00Z",
            "closed_at": None,
            "author_association": "MEMBER",
        }

    def handle(self, request: Request) -> Response:
        body: Any = None
        raw = request.get_data()
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return _error(400, "Problems parsing JSON")
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": request.args.to_dict(),
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "json": body,
            }
        )
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "Bad credentials")
        if not request.headers.get("User-Agent"):
            return _error(403, "Request forbidden by administrative rules.")
        version = request.headers.get("X-GitHub-Api-Version")
        if version is not None and version not in SUPPORTED_VERSIONS:
            return _error(400, f"API version {version} is not supported.")
        path = request.path[len(self.prefix) :]
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
        if not m:
            return _error(404, "Not Found")
        repo = self.repos.get(f"{m.group(1)}/{m.group(2)}".lower())
        if repo is None:
            return _error(404, "Not Found")
        rest = m.group(3) or ""
        if request.method in ("POST", "PATCH", "PUT") and not isinstance(body, dict):
            return _invalid("Body should be a JSON object")
        return self._route(request, repo, rest, body)

    def _route(self, request: Request, repo: FakeRepo, rest: str, body: Any) -> Response:
        method = request.method
        if rest == "/issues" and method == "POST":
            return self._create_issue(repo, body)
        m = re.fullmatch(r"/issues/(\d+)/comments", rest)
        if m and method == "POST":
            return self._comment(repo, int(m.group(1)), body)
        m = re.fullmatch(r"/issues/(\d+)/labels", rest)
        if m and method == "POST":
            return self._add_labels(repo, int(m.group(1)), body)
        m = re.fullmatch(r"/issues/(\d+)/labels/(.+)", rest)
        if m and method == "DELETE":
            return self._remove_label(repo, int(m.group(1)), m.group(2))
        m = re.fullmatch(r"/actions/workflows/([^/]+)/dispatches", rest)
        if m and method == "POST":
            return self._dispatch(repo, m.group(1), body)
        m = re.fullmatch(r"/contents/(.*)", rest)
        if m and method == "GET":
            return self._contents(repo, m.group(1), request.args.get("ref"))
        return _error(404, "Not Found")

    # ----------------------------------------------------------- endpoints

    def _create_issue(self, repo: FakeRepo, body: dict[str, Any]) -> Response:
        title = body.get("title")
        if title is None:
            return _invalid('"title" wasn\'t supplied.')
        if not isinstance(title, str | int) or isinstance(title, bool):
            return _invalid(
                f"For 'properties/title', {json.dumps(title)} is not a string or integer."
            )
        if "body" in body and not isinstance(body["body"], str | None):
            return _invalid(f"For 'properties/body', {json.dumps(body['body'])} is not a string.")
        for key in ("labels", "assignees"):
            value = body.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return _invalid(
                    f"For 'properties/{key}', {json.dumps(value)} is not an array of strings."
                )
        for login in body.get("assignees", []):
            if login not in repo.collaborators:
                return _error(
                    422,
                    "Validation Failed",
                    errors=[
                        {
                            "value": login,
                            "resource": "Issue",
                            "field": "assignees",
                            "code": "invalid",
                        }
                    ],
                )
        milestone = body.get("milestone")
        if milestone is not None:
            if not isinstance(milestone, int) or isinstance(milestone, bool):
                return _invalid(
                    f"For 'properties/milestone', {json.dumps(milestone)} is not an integer."
                )
            if milestone not in repo.milestones:
                return _error(
                    422,
                    "Validation Failed",
                    errors=[
                        {
                            "value": milestone,
                            "resource": "Issue",
                            "field": "milestone",
                            "code": "invalid",
                        }
                    ],
                )
        number = len(repo.issues) + 1
        repo.labels.update(body.get("labels", []))
        issue = self._issue(repo, number, body)
        repo.issues[number] = issue
        return _json(issue, 201, {"Location": issue["url"]})

    def _comment(self, repo: FakeRepo, number: int, body: dict[str, Any]) -> Response:
        if number not in repo.issues:
            return _error(404, "Not Found")
        text = body.get("body")
        if not isinstance(text, str):
            return _invalid(
                '"body" wasn\'t supplied.'
                if text is None
                else "For 'properties/body', not a string."
            )
        cid = self._id()
        comment: dict[str, Any] = {
            "id": cid,
            "node_id": f"IC_{cid}",
            "url": self._api(f"/repos/{repo.full_name}/issues/comments/{cid}"),
            "html_url": f"https://github.com/{repo.full_name}/issues/{number}#issuecomment-{cid}",
            "body": text,
            "user": {"login": "switchyard-bot", "id": 1},
            "created_at": "2024-05-01T10:05:00Z",
            "updated_at": "2024-05-01T10:05:00Z",
            "issue_url": self._api(f"/repos/{repo.full_name}/issues/{number}"),
            "author_association": "MEMBER",
        }
        repo.comments.append({"issue": number, **comment})
        repo.issues[number]["comments"] += 1
        return _json(comment, 201, {"Location": comment["url"]})

    def _add_labels(self, repo: FakeRepo, number: int, body: dict[str, Any]) -> Response:
        issue = repo.issues.get(number)
        if issue is None:
            return _error(404, "Not Found")
        labels = body.get("labels")
        if (
            not isinstance(labels, list)
            or not labels
            or not all(isinstance(x, str) for x in labels)
        ):
            return _invalid(
                f"For 'properties/labels', {json.dumps(labels)} is not a non-empty array."
            )
        names = [x["name"] for x in issue["labels"]]
        for label in labels:
            if label not in names:
                names.append(label)
        repo.labels.update(labels)
        issue["labels"] = [self._label(repo, n) for n in names]
        return _json(issue["labels"])

    def _remove_label(self, repo: FakeRepo, number: int, name: str) -> Response:
        issue = repo.issues.get(number)
        if issue is None:
            return _error(404, "Not Found")
        names = [x["name"] for x in issue["labels"]]
        if name not in names:
            return _error(404, "Label does not exist")
        issue["labels"] = [self._label(repo, n) for n in names if n != name]
        return _json(issue["labels"])

    def _dispatch(self, repo: FakeRepo, workflow: str, body: dict[str, Any]) -> Response:
        ids = {str(v): k for k, v in repo.workflows.items()}
        name = workflow if workflow in repo.workflows else ids.get(workflow)
        if name is None:
            return _error(404, "Not Found")
        ref = body.get("ref")
        if not isinstance(ref, str):
            return _invalid(
                '"ref" wasn\'t supplied.' if ref is None else "For 'properties/ref', not a string."
            )
        inputs = body.get("inputs", {})
        if not isinstance(inputs, dict):
            return _invalid(f"For 'properties/inputs', {json.dumps(inputs)} is not an object.")
        if len(inputs) > 25:
            return _invalid("For 'properties/inputs', too many properties (maximum 25).")
        for key, value in inputs.items():
            if not isinstance(value, str):
                return _invalid(f"For 'properties/{key}', {json.dumps(value)} is not a string.")
        details = body.get("return_run_details", False)
        if not isinstance(details, bool):
            return _invalid("For 'properties/return_run_details', not a boolean.")
        if ref not in repo.refs:
            return _error(422, f"No ref found for: {ref}")
        run_id = self._id()
        repo.dispatches.append({"workflow": name, "ref": ref, "inputs": inputs, "run_id": run_id})
        if details:
            return _json(
                {
                    "workflow_run_id": run_id,
                    "run_url": self._api(f"/repos/{repo.full_name}/actions/runs/{run_id}"),
                    "html_url": f"https://github.com/{repo.full_name}/actions/runs/{run_id}",
                }
            )
        return Response(b"", 204)

    def _contents(self, repo: FakeRepo, path: str, ref: str | None) -> Response:
        ref = ref or repo.default_branch
        if ref not in repo.refs:
            return _error(404, f"No commit found for the ref {ref}")
        path = path.strip("/")
        data = repo.files.get((ref, path))
        api = self._api(f"/repos/{repo.full_name}/contents/{quote(path)}?ref={quote(ref)}")
        html = f"https://github.com/{repo.full_name}/blob/{ref}/{quote(path)}"
        if data is None:
            entries = sorted(
                {
                    p[len(path) + 1 :].split("/")[0]
                    for (r, p) in repo.files
                    if r == ref and p.startswith(path + "/")
                }
            )
            if not entries:
                return _error(404, "Not Found")
            return _json(
                [
                    {"type": "file", "name": e, "path": f"{path}/{e}", "sha": "0" * 40, "size": 0}
                    for e in entries
                ]
            )
        sha = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        encoded = base64.b64encode(data).decode()
        large = len(data) > 1024 * 1024
        return _json(
            {
                "type": "file",
                "encoding": "none" if large else "base64",
                "size": len(data),
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                # GitHub wraps the base64 text in lines of 60 characters.
                "content": ""
                if large
                else "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n",
                "sha": sha,
                "url": api,
                "git_url": self._api(f"/repos/{repo.full_name}/git/blobs/{sha}"),
                "html_url": html,
                "download_url": f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{quote(path)}",
                "_links": {
                    "self": api,
                    "git": self._api(f"/repos/{repo.full_name}/git/blobs/{sha}"),
                    "html": html,
                },
            }
        )


# ------------------------------------------------------------------ live cases


def _create_issue_case(server: HTTPServer) -> Live:
    fake = FakeGitHub(server)
    fake.add_repo("octo-org/api")
    return Live(
        {"repo": "octo-org/api", "title": f"token {SECRET} leaked in logs"}, fake.connection()
    )


def _comment_case(server: HTTPServer) -> Live:
    fake = FakeGitHub(server)
    repo = fake.add_repo("octo-org/api")
    number = fake.add_issue(repo)
    return Live(
        {"repo": "octo-org/api", "issue_number": number, "body": f"rotated {SECRET}"},
        fake.connection(),
    )


def _add_labels_case(server: HTTPServer) -> Live:
    fake = FakeGitHub(server)
    repo = fake.add_repo("octo-org/api")
    number = fake.add_issue(repo, labels=("bug",))
    return Live(
        {"repo": "octo-org/api", "issue_number": number, "labels": [f"leak-{SECRET}"]},
        fake.connection(),
    )


def _remove_label_case(server: HTTPServer) -> Live:
    fake = FakeGitHub(server)
    repo = fake.add_repo("octo-org/api")
    number = fake.add_issue(repo, labels=("bug", f"leak-{SECRET}"))
    return Live({"repo": "octo-org/api", "issue_number": number, "label": "bug"}, fake.connection())


def _dispatch_case(server: HTTPServer) -> Live:
    fake = FakeGitHub(server)
    fake.add_repo(
        "octo-org/api", refs={"main", f"release/{SECRET}"}, workflows={"deploy.yml": 161335}
    )
    return Live(
        {"repo": "octo-org/api", "workflow": "deploy.yml", "ref": f"release/{SECRET}"},
        fake.connection(),
    )


def _get_file_case(server: HTTPServer) -> Live:
    fake = FakeGitHub(server)
    repo = fake.add_repo("octo-org/api")
    repo.files[("main", "deploy/values.yaml")] = f"token: {SECRET}\n".encode()
    return Live({"repo": "octo-org/api", "path": "deploy/values.yaml"}, fake.connection())


CASES: dict[str, LiveCase] = {
    "github.create_issue": _create_issue_case,
    "github.comment_issue": _comment_case,
    "github.add_labels": _add_labels_case,
    "github.remove_label": _remove_label_case,
    "github.dispatch_workflow": _dispatch_case,
    "github.get_file": _get_file_case,
}
