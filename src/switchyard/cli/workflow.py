"""`switchyard workflow ...`: manage workflows on a server.

The server is `--server` / `SWITCHYARD_URL` with `--token` /
`SWITCHYARD_TOKEN`; without them, the server `switchyard up` runs for the
data directory (`DIR/server-url`, with `DIR/admin-token`). Exit codes: 0 ok,
1 the server refused or failed (not found, forbidden, unreachable), 2 an
invalid definition or invocation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from switchyard.api.client import ApiClient

app = typer.Typer(
    name="workflow",
    help="Manage workflows on a Switchyard server: apply, list, show, publish, roll back.",
    no_args_is_help=True,
    add_completion=False,
)

Server = Annotated[
    str | None,
    typer.Option("--server", envvar="SWITCHYARD_URL", help="API base URL (http://host:8080)."),
]
Token = Annotated[str | None, typer.Option("--token", envvar="SWITCHYARD_TOKEN", help="API token.")]
DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="SWITCHYARD_DATA_DIR",
        help="Data directory of `switchyard up` (its server-url and admin-token files).",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
_DATA_DIR = Path(".switchyard")

EXIT_FAILED = 1
EXIT_INVALID = 2


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    typer.echo(_printable(f"error: {message}"), err=True)
    raise typer.Exit(code)


def _client(server: str | None, token: str | None, data_dir: Path) -> ApiClient:
    from switchyard.api.client import ApiClient, server_from_data_dir

    url, tok = server_from_data_dir(server, token, data_dir)
    if not url:
        _fail(
            "no server: pass --server (or set SWITCHYARD_URL), or start `switchyard up`",
            EXIT_INVALID,
        )
    return ApiClient(url, tok)


def _call(client: ApiClient, method: str, path: str, **kwargs: Any) -> Any:
    from switchyard.api.client import ApiClientError

    try:
        return client.request(method, path, **kwargs)
    except ApiClientError as exc:
        _fail(exc.message or f"HTTP {exc.status}")


def _definition_name(path: Path, text: str) -> str | None:
    """The `name` of a definition file, or None (problems printed) when it has none."""
    from switchyard.definition.loader import LoadError, load_text

    try:
        data = load_text(text, filename=path.name)
    except LoadError as exc:
        for problem in exc.problems:
            typer.echo(_printable(f"{path}: {problem}"))
        return None
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name:
        typer.echo(_printable(f"{path}: name: is required (the workflow's name on the server)"))
        return None
    return name


@app.command("apply")
def apply(
    files: Annotated[list[Path], typer.Argument(help="Definition files (YAML or JSON).")],
    publish: Annotated[bool, typer.Option("--publish", help="Publish the new versions.")] = False,
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="Note stored with new versions.")
    ] = None,
    server: Server = None,
    token: Token = None,
    data_dir: DataDir = _DATA_DIR,
) -> None:
    """Create or update workflows from files: a new version only when a definition changed.

    Prints `FILE: NAME version N (created|updated|unchanged)`, or the
    problems of an invalid file as `switchyard validate` words them.
    """
    from switchyard.api.client import ApiClientError
    from switchyard.definition.loader import read_text

    invalid = failed = False
    with _client(server, token, data_dir) as client:
        for path in files:
            text, problems = read_text(path)
            if text is None:
                for problem in problems:
                    typer.echo(_printable(f"{path}: {problem}"))
                invalid = True
                continue
            name = _definition_name(path, text)
            if name is None:
                invalid = True
                continue
            ctype = "application/json" if path.suffix.lower() == ".json" else "application/yaml"
            try:
                result = client.request(
                    "PUT",
                    f"/workflows/{name}",
                    content=text.encode(),
                    content_type=ctype,
                    params={"publish": "true" if publish else None, "message": message},
                )
            except ApiClientError as exc:
                if exc.status == 422 and exc.problems:
                    for p in exc.problems:
                        loc = f"{p.get('location')}: " if p.get("location") else ""
                        mark = "warning: " if p.get("severity") == "warning" else ""
                        typer.echo(_printable(f"{path}: {mark}{loc}{p.get('message')}"))
                    invalid = True
                else:
                    typer.echo(_printable(f"{path}: error: {exc.message}"), err=True)
                    failed = True
                continue
            what = (
                "created" if result["created"] else "updated" if result["changed"] else "unchanged"
            )
            published = (
                f", published version {result['published_version']}"
                if result["published_version"] is not None
                else ""
            )
            typer.echo(
                _printable(f"{path}: {name} version {result['version']} ({what}){published}")
            )
    if failed:
        raise typer.Exit(EXIT_FAILED)
    if invalid:
        raise typer.Exit(EXIT_INVALID)


@app.command("list")
def list_(
    as_json: AsJson = False,
    server: Server = None,
    token: Token = None,
    data_dir: DataDir = _DATA_DIR,
) -> None:
    """List workflows: name, latest and published version, triggers, last run."""
    from switchyard.api.client import ApiClientError

    with _client(server, token, data_dir) as client:
        try:
            items = client.items("/workflows")
        except ApiClientError as exc:
            _fail(exc.message)
    if as_json:
        typer.echo(_printable(json.dumps(items, indent=2, ensure_ascii=False)))
        return
    if not items:
        typer.echo("no workflows")
        return
    rows = [("NAME", "LATEST", "PUBLISHED", "TRIGGERS", "LAST RUN")]
    for item in items:
        last = item.get("last_run") or {}
        rows.append(
            (
                item["name"],
                str(item["latest_version"]),
                "-" if item["published_version"] is None else str(item["published_version"]),
                ",".join(t["id"] for t in item["triggers"]) or "-",
                str(last.get("status", "-")) if last else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        typer.echo(_printable("  ".join([*cells, row[-1]]).rstrip()))


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Workflow name.")],
    version: Annotated[
        int | None, typer.Option("--version", help="A version (default: the latest).")
    ] = None,
    as_json: AsJson = False,
    server: Server = None,
    token: Token = None,
    data_dir: DataDir = _DATA_DIR,
) -> None:
    """Show a workflow: its versions and the source text of the latest (or --version)."""
    with _client(server, token, data_dir) as client:
        wf = _call(client, "GET", f"/workflows/{name}")
        number = version if version is not None else wf["latest_version"]
        detail = _call(client, "GET", f"/workflows/{name}/versions/{number}")
    if as_json:
        typer.echo(_printable(json.dumps({**wf, "shown": detail}, indent=2, ensure_ascii=False)))
        return
    published = wf["published_version"]
    lines = [
        f"name: {name}",
        f"latest version: {wf['latest_version']}",
        f"published version: {'-' if published is None else published}",
        f"version {number}: by {detail['author'] or '-'} at {detail['created_at']}"
        + (f" ({detail['message']})" if detail.get("message") else ""),
        "",
    ]
    typer.echo(_printable("\n".join(lines) + detail["text"].rstrip("\n")))


def _publish(name: str, number: int, client: ApiClient) -> None:
    result = _call(client, "POST", f"/workflows/{name}/publish", json={"version": number})
    previous = result.get("previous")
    was = f" (was {previous})" if previous is not None else ""
    typer.echo(_printable(f"{name}: published version {number}{was}"))


@app.command("publish")
def publish_(
    name: Annotated[str, typer.Argument(help="Workflow name.")],
    version: Annotated[int, typer.Option("--version", help="The version to publish.")],
    server: Server = None,
    token: Token = None,
    data_dir: DataDir = _DATA_DIR,
) -> None:
    """Publish a version: what triggers and runs use by default."""
    with _client(server, token, data_dir) as client:
        _publish(name, version, client)


@app.command("rollback")
def rollback(
    name: Annotated[str, typer.Argument(help="Workflow name.")],
    to: Annotated[
        int | None,
        typer.Option(
            "--to",
            help="The version to go back to (default: the one before the published version).",
        ),
    ] = None,
    server: Server = None,
    token: Token = None,
    data_dir: DataDir = _DATA_DIR,
) -> None:
    """Publish an earlier version again."""
    with _client(server, token, data_dir) as client:
        if to is None:
            published = _call(client, "GET", f"/workflows/{name}")["published_version"]
            if published is None:
                _fail(f"workflow {name!r} has no published version: pass --to N")
            if published <= 1:
                _fail(f"workflow {name!r} has no version before {published}")
            to = published - 1
        _publish(name, to, client)
