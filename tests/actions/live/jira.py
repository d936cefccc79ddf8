"""A local fake of the Jira Cloud REST API (v3), and the Jira live cases.

`FakeJira` answers like a Jira Cloud site (shapes from developer.atlassian.com
REST v3): basic auth `email:api_token` or a bearer token; rich text only as
Atlassian Document Format documents (a plain string is refused, as v3
does); Jira's 400 `{"errorMessages": [...], "errors": {field: message}}`;
a workflow with transitions per status; and the enhanced JQL search
(`POST /rest/api/3/search/jql`) with `nextPageToken` paging, a page-size
cap, and 400 for the old `startAt` style payload.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from switchyard.connections import Connection

from . import SECRET, Live, LiveCase

EMAIL = "automation@example.com"
STATUS_IDS = {"To Do": "10000", "In Progress": "3", "Done": "10001"}
#: status -> transitions available from it: (id, name, target status)
WORKFLOW: dict[str, list[tuple[str, str, str]]] = {
    "To Do": [("11", "Start Progress", "In Progress"), ("31", "Close Issue", "Done")],
    "In Progress": [("21", "Stop Progress", "To Do"), ("31", "Close Issue", "Done")],
    "Done": [("41", "Reopen", "To Do")],
}
PRIORITIES = {"1": "Highest", "2": "High", "3": "Medium", "4": "Low", "5": "Lowest"}
SEARCH_KEYS = {
    "jql",
    "nextPageToken",
    "maxResults",
    "fields",
    "expand",
    "properties",
    "fieldsByKeys",
    "failFast",
    "reconcileIssues",
}
_INLINE = {"text", "hardBreak", "mention", "emoji", "inlineCard", "status", "date"}


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


def _bad(messages: list[str] | None = None, errors: dict[str, str] | None = None) -> Response:
    return _json({"errorMessages": messages or [], "errors": errors or {}}, 400)


def adf_problem(doc: Any) -> str | None:
    """Why `doc` is not an ADF document Jira would take (None when it is)."""
    if not isinstance(doc, dict) or doc.get("type") != "doc" or doc.get("version") != 1:
        return "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
    if not isinstance(doc.get("content"), list):
        return "INVALID_INPUT: content must be an array"
    for block in doc["content"]:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            return "INVALID_INPUT: a block node has no type"
        if block["type"] in _INLINE:
            return f"INVALID_INPUT: {block['type']} is not allowed at the top level"
        if block["type"] == "paragraph":
            for node in block.get("content", []):
                if not isinstance(node, dict) or node.get("type") not in _INLINE:
                    return "INVALID_INPUT: a paragraph holds inline nodes only"
                if node["type"] == "text" and not (
                    isinstance(node.get("text"), str) and node["text"]
                ):
                    return "INVALID_INPUT: text nodes need non-empty text"
    return None


def adf_text(doc: dict[str, Any]) -> str:
    """Paragraph texts (hard breaks as newlines), joined by blank lines."""
    out = []
    for block in doc.get("content", []):
        parts = []
        for node in block.get("content", []):
            parts.append("\n" if node.get("type") == "hardBreak" else node.get("text", ""))
        out.append("".join(parts))
    return "\n\n".join(out)


@dataclass
class FakeIssue:
    id: str
    key: str
    fields: dict[str, Any]
    status: str = "To Do"
    comments: list[dict[str, Any]] = field(default_factory=list)
    transitions: list[dict[str, Any]] = field(default_factory=list)


class FakeJira:
    """An in-memory Jira Cloud site on a pytest-httpserver."""

    def __init__(
        self,
        server: HTTPServer,
        *,
        email: str = EMAIL,
        api_token: str | None = SECRET,
        token: str | None = None,
        page_limit: int = 100,
        workflow: dict[str, list[tuple[str, str, str]]] | None = None,
    ) -> None:
        self.server = server
        self.email = email
        self.api_token = api_token
        self.token = token
        self.page_limit = page_limit
        self.workflow = workflow or WORKFLOW
        self.projects: dict[str, dict[str, Any]] = {}
        self.issues: dict[str, FakeIssue] = {}
        self.requests: list[dict[str, Any]] = []
        self._next_id = 10000
        server.expect_request(re.compile("^/rest/api/3/.*")).respond_with_handler(self.handle)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def connection(self, name: str = "jira") -> Connection:
        if self.api_token:
            return Connection(
                name,
                "jira",
                fields={"base_url": self.base_url, "email": self.email},
                secrets={"api_token": self.api_token},
            )
        return Connection(
            name, "jira", fields={"base_url": self.base_url}, secrets={"token": self.token}
        )

    def add_project(self, key: str, issue_types: tuple[str, ...] = ("Task", "Bug")) -> None:
        self.projects[key] = {
            "id": str(10100 + len(self.projects)),
            "key": key,
            "issuetypes": {name: str(10001 + i) for i, name in enumerate(issue_types)},
        }

    def add_issue(self, project: str, summary: str, status: str = "To Do") -> FakeIssue:
        self._next_id += 1
        number = 1 + sum(1 for i in self.issues.values() if i.key.startswith(project + "-"))
        issue = FakeIssue(
            str(self._next_id),
            f"{project}-{number}",
            {
                "summary": summary,
                "project": {"key": project},
                "issuetype": {"name": "Task"},
                "labels": [],
            },
            status,
        )
        self.issues[issue.key] = issue
        return issue

    # ------------------------------------------------------------ plumbing

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if self.api_token:
            expected = base64.b64encode(f"{self.email}:{self.api_token}".encode()).decode()
            if header == f"Basic {expected}":
                return True
        return bool(self.token) and header == f"Bearer {self.token}"

    def _find(self, ref: str) -> FakeIssue | None:
        for issue in self.issues.values():
            if ref in (issue.key, issue.id):
                return issue
        return None

    def _status(self, name: str) -> dict[str, Any]:
        category = {"To Do": "new", "In Progress": "indeterminate", "Done": "done"}.get(name)
        return {
            "self": f"{self.base_url}/rest/api/3/status/{STATUS_IDS.get(name, '1')}",
            "name": name,
            "id": STATUS_IDS.get(name, "1"),
            "statusCategory": {"key": category or "new", "name": name},
        }

    def _issue_fields(self, issue: FakeIssue) -> dict[str, Any]:
        return {**issue.fields, "status": self._status(issue.status)}

    def handle(self, request: Request) -> Response:
        body: Any = None
        if request.get_data():
            if request.mimetype != "application/json":
                return _json({"errorMessages": ["Unsupported Media Type"]}, 415)
            try:
                body = json.loads(request.get_data())
            except ValueError:
                return _bad(["Unexpected character in the JSON body"])
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": request.args.to_dict(),
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "json": body,
            }
        )
        if not self._authorized(request):
            return _json(
                {"errorMessages": ["You are not authenticated. Authentication required."]}, 401
            )
        path, method = request.path, request.method
        if path == "/rest/api/3/issue" and method == "POST":
            return self._create(body)
        if path == "/rest/api/3/search/jql" and method == "POST":
            return self._search(body)
        m = re.fullmatch(r"/rest/api/3/issue/([^/]+)(/transitions|/comment)?", path)
        if not m:
            return _json({"errorMessages": ["Not found"]}, 404)
        issue = self._find(m.group(1))
        if issue is None:
            return _bad_issue()
        sub = m.group(2)
        if sub is None and method == "GET":
            wanted = (request.args.get("fields") or "*all").split(",")
            fields = self._issue_fields(issue)
            if "*all" not in wanted:
                fields = {k: v for k, v in fields.items() if k in wanted}
            return _json(
                {
                    "id": issue.id,
                    "key": issue.key,
                    "self": f"{self.base_url}/rest/api/3/issue/{issue.id}",
                    "fields": fields,
                }
            )
        if sub == "/transitions" and method == "GET":
            return _json({"expand": "transitions", "transitions": self._transitions(issue)})
        if sub == "/transitions" and method == "POST":
            return self._transition(issue, body)
        if sub == "/comment" and method == "POST":
            return self._comment(issue, body)
        return _json({"errorMessages": ["Method not allowed"]}, 405)

    # ----------------------------------------------------------- endpoints

    def _create(self, body: Any) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
            return _bad(["Issue must have 'fields'"])
        fields = body["fields"]
        problems: dict[str, str] = {}
        project_ref = fields.get("project")
        project = None
        if isinstance(project_ref, dict):
            project = next(
                (
                    p
                    for p in self.projects.values()
                    if project_ref.get("key") == p["key"] or project_ref.get("id") == p["id"]
                ),
                None,
            )
        if project is None:
            problems["project"] = "valid project is required"
        itype = fields.get("issuetype")
        if not isinstance(itype, dict) or project is None:
            problems.setdefault("issuetype", "Specify an issue type")
        elif (
            itype.get("name") not in project["issuetypes"]
            and itype.get("id") not in project["issuetypes"].values()
        ):
            problems["issuetype"] = "Specify a valid issue type"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            problems["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255:
            problems["summary"] = "Summary must be less than 255 characters."
        if "description" in fields:
            problem = adf_problem(fields["description"])
            if problem:
                problems["description"] = problem
        labels = fields.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            problems["labels"] = "Labels must be an array of strings"
        else:
            for label in labels:
                if re.search(r"\s", label):
                    problems["labels"] = f"The label '{label}' contains spaces which is invalid."
        if "priority" in fields:
            prio = fields["priority"]
            if not isinstance(prio, dict) or (
                prio.get("id") not in PRIORITIES and prio.get("name") not in PRIORITIES.values()
            ):
                problems["priority"] = "The priority selected is invalid."
        if "assignee" in fields:
            who = fields["assignee"]
            if not isinstance(who, dict) or not isinstance(who.get("accountId"), str):
                problems["assignee"] = "Specify a valid value for assignee"
        known = {"project", "issuetype", "summary", "description", "labels", "priority"}
        for name in fields:
            if name not in known | {"assignee", "components"} and not name.startswith(
                "customfield_"
            ):
                problems[name] = (
                    f"Field '{name}' cannot be set. It is not on the appropriate screen, "
                    "or unknown."
                )
        if problems or project is None:
            return _bad(errors=problems)
        self._next_id += 1
        number = 1 + sum(1 for i in self.issues.values() if i.key.startswith(project["key"] + "-"))
        issue = FakeIssue(str(self._next_id), f"{project['key']}-{number}", dict(fields))
        self.issues[issue.key] = issue
        return _json(
            {
                "id": issue.id,
                "key": issue.key,
                "self": f"{self.base_url}/rest/api/3/issue/{issue.id}",
            },
            201,
        )

    def _transitions(self, issue: FakeIssue) -> list[dict[str, Any]]:
        return [
            {
                "id": tid,
                "name": name,
                "to": self._status(target),
                "hasScreen": False,
                "isGlobal": False,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "isLooped": False,
            }
            for tid, name, target in self.workflow.get(issue.status, [])
        ]

    def _transition(self, issue: FakeIssue, body: Any) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("transition"), dict):
            return _bad(["Missing 'transition' identifier"])
        tid = body["transition"].get("id")
        if not isinstance(tid, str):
            return _bad(["Missing 'transition' identifier"])
        match = [t for t in self.workflow.get(issue.status, []) if t[0] == tid]
        if not match:
            return _bad([f"Transition id '{tid}' is not valid for this issue."])
        fields = body.get("fields", {})
        for name in fields:
            if name != "resolution" or match[0][2] != "Done":
                return _bad(
                    errors={
                        name: f"Field '{name}' cannot be set. It is not on the appropriate "
                        "screen, or unknown."
                    }
                )
        comments: list[dict[str, Any]] = []
        for op in (body.get("update") or {}).get("comment", []):
            added = op.get("add", {}).get("body") if isinstance(op, dict) else None
            problem = adf_problem(added)
            if problem or not isinstance(added, dict):
                return _bad(errors={"comment": problem or "invalid"})
            comments.append(added)
        issue.status = match[0][2]
        issue.fields.update(fields)
        issue.transitions.append({"id": tid, "name": match[0][1], "fields": fields})
        for doc in comments:
            self._add_comment(issue, doc)
        return Response(b"", 204)

    def _add_comment(self, issue: FakeIssue, doc: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        comment = {
            "self": f"{self.base_url}/rest/api/3/issue/{issue.id}/comment/{self._next_id}",
            "id": str(self._next_id),
            "author": {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Automation"},
            "body": doc,
            "updateAuthor": {"accountId": "5b10ac8d82e05b22cc7d4ef5"},
            "created": "2024-05-01T10:05:00.000+0000",
            "updated": "2024-05-01T10:05:00.000+0000",
            "jsdPublic": True,
        }
        issue.comments.append(comment)
        return comment

    def _comment(self, issue: FakeIssue, body: Any) -> Response:
        if not isinstance(body, dict) or "body" not in body:
            return _bad(errors={"comment": "Comment body can not be empty!"})
        problem = adf_problem(body["body"])
        if problem:
            return _bad(errors={"comment": problem})
        return _json(self._add_comment(issue, body["body"]), 201)

    def _search(self, body: Any) -> Response:
        if not isinstance(body, dict) or set(body) - SEARCH_KEYS:
            return _bad(
                ["Invalid request payload. Refer to the REST API documentation and try again."]
            )
        jql = body.get("jql")
        m = re.fullmatch(r"\s*project\s*=\s*(\w+)(\s+ORDER BY .*)?\s*", jql or "", re.IGNORECASE)
        if not m:
            return _bad(
                ["Unbounded JQL queries are not allowed here. Please add a search restriction."]
            )
        size = body.get("maxResults", 50)
        fields = body.get("fields", ["id"])
        if not isinstance(size, int) or not isinstance(fields, list):
            return _bad(
                ["Invalid request payload. Refer to the REST API documentation and try again."]
            )
        start = 0
        token = body.get("nextPageToken")
        if token is not None:
            try:
                kind, offset, query = base64.b64decode(token).decode().split("|", 2)
                assert kind == "page" and query == jql
                start = int(offset)
            except Exception:
                return _bad(["The provided next page token is invalid or expired."])
        found = sorted(
            (i for i in self.issues.values() if i.key.startswith(m.group(1).upper() + "-")),
            key=lambda i: int(i.id),
        )
        page = found[start : start + min(size, self.page_limit)]
        end = start + len(page)
        items = []
        for issue in page:
            all_fields = self._issue_fields(issue)
            if "*all" in fields or "*navigable" in fields:
                chosen = all_fields
            else:
                chosen = {k: v for k, v in all_fields.items() if k in fields}
            items.append(
                {
                    "expand": "",
                    "id": issue.id,
                    "self": f"{self.base_url}/rest/api/3/issue/{issue.id}",
                    "key": issue.key,
                    "fields": chosen,
                }
            )
        out: dict[str, Any] = {"issues": items, "isLast": end >= len(found)}
        if end < len(found):
            out["nextPageToken"] = base64.b64encode(f"page|{end}|{jql}".encode()).decode()
        return _json(out)


def _bad_issue() -> Response:
    return _json(
        {
            "errorMessages": ["Issue does not exist or you do not have permission to see it."],
            "errors": {},
        },
        404,
    )


# ------------------------------------------------------------------ live cases


def _create_case(server: HTTPServer) -> Live:
    fake = FakeJira(server)
    fake.add_project("OPS")
    return Live({"project": "OPS", "summary": f"leaked {SECRET}"}, fake.connection())


def _transition_case(server: HTTPServer) -> Live:
    fake = FakeJira(server, workflow={"To Do": [("31", f"Close {SECRET}", "Done")]})
    fake.add_project("OPS")
    issue = fake.add_issue("OPS", "x")
    return Live({"issue": issue.key, "transition": f"Close {SECRET}"}, fake.connection())


def _comment_case(server: HTTPServer) -> Live:
    fake = FakeJira(server)
    fake.add_project("OPS")
    issue = fake.add_issue("OPS", "x")
    return Live({"issue": issue.key, "body": f"rotated {SECRET}"}, fake.connection())


def _search_case(server: HTTPServer) -> Live:
    fake = FakeJira(server)
    fake.add_project("OPS")
    fake.add_issue("OPS", f"leaked {SECRET}")
    return Live({"jql": "project = OPS"}, fake.connection())


CASES: dict[str, LiveCase] = {
    "jira.create_issue": _create_case,
    "jira.transition_issue": _transition_case,
    "jira.add_comment": _comment_case,
    "jira.search": _search_case,
}
