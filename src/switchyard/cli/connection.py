"""`switchyard connection ...`: manage connections, locally or on a server.

Without `--server`, it reads and writes the encrypted store of a data
directory, `DATA_DIR/connections/` (`--data-dir`, else `SWITCHYARD_DATA_DIR`,
else `./.switchyard`), with or without a running server. With `--server URL`
(or `SWITCHYARD_URL`) and `--token` (or `SWITCHYARD_TOKEN`), `create`,
`update`, `list`, `show` and `delete` manage the server's connections through
its API instead. Exit codes: 0 ok, 1 not found / already exists / unreadable
record / refused by the server, 2 invalid input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from switchyard.cli._common import json_or_text

if TYPE_CHECKING:
    from switchyard.api.client import ApiClient
    from switchyard.connections.store import LocalConnectionStore

app = typer.Typer(
    name="connection",
    help="Manage connections: named, typed fields and encrypted secrets.",
    no_args_is_help=True,
    add_completion=False,
)

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="SWITCHYARD_DATA_DIR",
        help="Data directory holding the store (default ./.switchyard).",
    ),
]
_DEFAULT_DATA_DIR = Path(".switchyard")
Server = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="SWITCHYARD_URL",
        help="Manage the connections of this API server instead of the local store.",
    ),
]
Token = Annotated[
    str | None, typer.Option("--token", envvar="SWITCHYARD_TOKEN", help="API token (--server).")
]

EXIT_NOT_FOUND = 1
EXIT_INVALID = 2


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {_printable(message)}", err=True)
    raise typer.Exit(code)


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _store(data_dir: Path) -> LocalConnectionStore:
    from switchyard.connections.store import LocalConnectionStore

    return LocalConnectionStore(data_dir)


def _read_stdin_secret(key: str) -> str:
    if sys.stdin is None:
        _fail(f"--secret {key}=-: no standard input to read the value from", EXIT_INVALID)
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"{key}: ")
    value = sys.stdin.read()
    # `echo TOKEN | ...` adds one newline that is not part of the secret.
    if value.endswith("\r\n"):
        value = value[:-2]
    elif value.endswith("\n"):
        value = value[:-1]
    return value


def _parse_pairs(pairs: list[str], option: str, *, secret: bool) -> dict[str, Any]:
    """`KEY=VALUE` options: fields parse VALUE as JSON when it does; secrets stay text."""
    out: dict[str, Any] = {}
    stdin_used = False
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            _fail(f"{option} {key or pair!r}: expected KEY=VALUE", EXIT_INVALID)
        if key in out:
            _fail(f"{option} {key!r} given twice", EXIT_INVALID)
        if secret:
            if raw == "-":
                if stdin_used:
                    _fail("only one --secret can read its value from stdin (KEY=-)", EXIT_INVALID)
                stdin_used = True
                raw = _read_stdin_secret(key)
            out[key] = raw
            continue
        out[key] = json_or_text(raw)
    return out


def _run(action: Any) -> Any:
    """Call the store; map its errors to messages and exit codes."""
    from switchyard.connections.store import (
        ConnectionExists,
        ConnectionNotFound,
        ConnectionStoreError,
    )

    try:
        return action()
    except ValueError as exc:
        _fail(str(exc), EXIT_INVALID)
    except (ConnectionExists, ConnectionNotFound) as exc:
        _fail(str(exc), EXIT_NOT_FOUND)
    except ConnectionStoreError as exc:
        _fail(str(exc), EXIT_NOT_FOUND)
    except OSError as exc:
        _fail(f"cannot access the store: {exc}", EXIT_NOT_FOUND)


def _remote(server: str | None, token: str | None) -> ApiClient | None:
    """A client of the server when one is given (server mode), else None (local store)."""
    if not server:
        return None
    from switchyard.api.client import ApiClient

    return ApiClient(server, token)


def _call(client: ApiClient, method: str, path: str, **kwargs: Any) -> Any:
    """Call the API; map its errors to messages and exit codes like the local store's."""
    from switchyard.api.client import ApiClientError

    try:
        with client:
            return client.request(method, path, **kwargs)
    except ApiClientError as exc:
        message = exc.message or f"HTTP {exc.status}"
        details = [
            f"{p.get('location')}: {p.get('message')}" if p.get("location") else p.get("message")
            for p in exc.problems
        ]
        if details and exc.status == 422:
            message = f"{message} ({'; '.join(str(d) for d in details)})"
        _fail(message, EXIT_INVALID if exc.status in (400, 422) else EXIT_NOT_FOUND)


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _print_description(desc: dict[str, Any]) -> None:
    lines = [f"name: {desc['name']}", f"type: {desc['type']}"]
    lines.append("fields:" if desc["fields"] else "fields: {}")
    lines += [f"  {k}: {_value_text(v)}" for k, v in sorted(desc["fields"].items())]
    lines.append("secrets:" if desc["secrets"] else "secrets: {}")
    lines += [f"  {k}: ***" for k in desc["secrets"]]
    lines += [f"created_at: {desc['created_at']}", f"updated_at: {desc['updated_at']}"]
    typer.echo(_printable("\n".join(lines)))


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Connection name (a-z, 0-9, _ . -).")],
    type: Annotated[str, typer.Option("--type", "-t", help="Connection type (http, ...).")],
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field", "-f", help="KEY=VALUE; VALUE is read as JSON when it parses, else text."
        ),
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option(
            "--secret",
            "-s",
            help="KEY=VALUE (always text); KEY=- reads the value from stdin.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    data_dir: DataDir = _DEFAULT_DATA_DIR,
    server: Server = None,
    token: Token = None,
) -> None:
    """Create a connection (refuses an existing name)."""
    fields = _parse_pairs(field or [], "--field", secret=False)
    secrets = _parse_pairs(secret or [], "--secret", secret=True)
    client = _remote(server, token)
    if client is not None:
        body = {"name": name, "type": type, "fields": fields, "secrets": secrets}
        desc = _call(client, "POST", "/connections", json=body)
    else:
        store = _store(data_dir)
        desc = _run(lambda: store.create(name, type, fields, secrets))
    if as_json:
        typer.echo(json.dumps(desc, indent=2, ensure_ascii=False))
    else:
        typer.echo(_printable(f"created connection {name!r} ({type})"))


@app.command("update")
def update(
    name: Annotated[str, typer.Argument(help="Connection name.")],
    field: Annotated[
        list[str] | None,
        typer.Option("--field", "-f", help="KEY=VALUE to set (VALUE as JSON when it parses)."),
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option("--secret", "-s", help="KEY=VALUE to set; KEY=- reads stdin."),
    ] = None,
    unset: Annotated[
        list[str] | None, typer.Option("--unset", help="Field or secret KEY to remove.")
    ] = None,
    data_dir: DataDir = _DEFAULT_DATA_DIR,
    server: Server = None,
    token: Token = None,
) -> None:
    """Set or remove fields and secrets of a connection (others keep their values)."""
    fields = _parse_pairs(field or [], "--field", secret=False)
    secrets = _parse_pairs(secret or [], "--secret", secret=True)
    client = _remote(server, token)
    if client is not None:
        _update_remote(client, name, fields, secrets, unset or [])
    else:
        store = _store(data_dir)
        _run(lambda: store.update(name, fields, secrets, remove=unset or []))
    typer.echo(_printable(f"updated connection {name!r}"))


def _update_remote(
    client: ApiClient,
    name: str,
    fields: dict[str, Any],
    secrets: dict[str, Any],
    unset: list[str],
) -> None:
    """The local `update`'s meaning over the API: fields merged here, secrets on the server."""
    from switchyard.api.client import ApiClientError

    try:
        current = client.request("GET", f"/connections/{name}")
    except ApiClientError as exc:
        client.close()
        _fail(exc.message, EXIT_INVALID if exc.status in (400, 422) else EXIT_NOT_FOUND)
    new_fields = dict(current["fields"])
    new_secrets: dict[str, Any] = dict(secrets)
    for key in unset:
        if key in new_fields:
            del new_fields[key]
        elif key in current["secrets"]:
            new_secrets[key] = None
        else:
            client.close()
            _fail(f"connection {name!r} has no field or secret {key!r}", EXIT_INVALID)
    new_fields.update(fields)
    _call(
        client, "PUT", f"/connections/{name}", json={"fields": new_fields, "secrets": new_secrets}
    )


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    data_dir: DataDir = _DEFAULT_DATA_DIR,
    server: Server = None,
    token: Token = None,
) -> None:
    """List connections: name, type, fields and secret names (never secret values)."""
    client = _remote(server, token)
    if client is not None:
        items = _list_remote(client)
    else:
        store = _store(data_dir)
        items = _run(store.list)
    if as_json:
        typer.echo(_printable(json.dumps(items, indent=2, ensure_ascii=False)))
        return
    if not items:
        typer.echo("no connections")
        return
    rows = [("NAME", "TYPE", "FIELDS", "SECRETS", "UPDATED")]
    for item in items:
        if "error" in item:
            rows.append((item["name"], "?", f"(unreadable: {item['error']})", "", ""))
            continue
        rows.append(
            (
                item["name"],
                item["type"],
                ",".join(sorted(item["fields"])) or "-",
                ",".join(item["secrets"]) or "-",
                item["updated_at"],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        typer.echo(_printable("  ".join([*cells, row[-1]]).rstrip()))


def _list_remote(client: ApiClient) -> list[dict[str, Any]]:
    from switchyard.api.client import ApiClientError

    try:
        with client:
            return client.items("/connections")
    except ApiClientError as exc:
        _fail(exc.message, EXIT_NOT_FOUND)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Connection name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDir = _DEFAULT_DATA_DIR,
    server: Server = None,
    token: Token = None,
) -> None:
    """Show a connection; secrets are shown as `***`, never their values."""
    client = _remote(server, token)
    if client is not None:
        desc = _call(client, "GET", f"/connections/{name}")
    else:
        store = _store(data_dir)
        desc = _run(lambda: store.show(name))
    if as_json:
        typer.echo(_printable(json.dumps(desc, indent=2, ensure_ascii=False)))
    else:
        _print_description(desc)


@app.command("delete")
def delete(
    name: Annotated[str, typer.Argument(help="Connection name.")],
    data_dir: DataDir = _DEFAULT_DATA_DIR,
    server: Server = None,
    token: Token = None,
) -> None:
    """Delete a connection."""
    client = _remote(server, token)
    if client is not None:
        _call(client, "DELETE", f"/connections/{name}")
    else:
        store = _store(data_dir)
        _run(lambda: store.delete(name))
    typer.echo(_printable(f"deleted connection {name!r}"))


@app.command("rotate-key")
def rotate_key(data_dir: DataDir = _DEFAULT_DATA_DIR) -> None:
    """Generate a new master key, make it current and re-wrap every connection under it."""
    store = _store(data_dir)
    kid = _run(store.rotate_key)
    typer.echo(f"new master key {kid} ({store.keyring.directory}/{kid}.key)")
    _rewrap(store)


@app.command("rewrap")
def rewrap(data_dir: DataDir = _DEFAULT_DATA_DIR) -> None:
    """Re-wrap every connection's data key under the current master key
    (e.g. after setting SWITCHYARD_MASTER_KEY)."""
    _rewrap(_store(data_dir))


def _rewrap(store: LocalConnectionStore) -> None:
    failures = _run(store.rewrap)
    in_use = _run(store.key_ids_in_use)
    current = store.keyring.current_kid
    typer.echo(f"current master key: {current or '(none yet)'}")
    for name, problem in sorted(failures.items()):
        typer.echo(_printable(f"error: {name}: {problem}"), err=True)
    old = sorted(kid for kid in store.keyring.kids if kid != current and kid not in in_use)
    if old and not failures:
        typer.echo(
            "no connection uses these older keys any more; their files can be removed "
            "(keep them while backups still need them): " + ", ".join(old)
        )
    if failures:
        raise typer.Exit(EXIT_NOT_FOUND)
