"""`switchyard api`: serve the HTTP API alone (distributed mode), and the serving
helpers `switchyard up` shares: bind, bootstrap the admin, run uvicorn in this loop.

The database is `SWITCHYARD_DATABASE_URL` (PostgreSQL) or SQLite in the data
directory; Temporal is `--temporal-address` / `TEMPORAL_ADDRESS` (or the
address `switchyard up` wrote), connected lazily: the API starts while
Temporal is down, and `GET /api/v1/health` says how it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from switchyard.cli._common import finish, resolve_address

if TYPE_CHECKING:
    from fastapi import FastAPI

    from switchyard.control.db import Database

ADMIN_TOKEN_ENV = "SWITCHYARD_ADMIN_TOKEN"
ADMIN_TOKEN_FILE = "admin-token"
SERVER_URL_FILE = "server-url"
DEFAULT_PORT = 8080


def api(
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="HTTP port")] = DEFAULT_PORT,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", envvar="SWITCHYARD_DATA_DIR", help="state directory")
    ] = Path(".switchyard"),
    temporal_address: Annotated[
        str | None, typer.Option("--temporal-address", envvar="TEMPORAL_ADDRESS")
    ] = None,
) -> None:
    """Serve the HTTP API until interrupted (the engine worker runs elsewhere)."""
    try:
        sock = bind(host, port)
    except OSError as exc:
        typer.echo(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    asyncio.run(_api(sock, data_dir.resolve(), temporal_address))
    finish(0)


async def _api(sock: socket.socket, data_dir: Path, temporal_address: str | None) -> None:
    from switchyard.config import get_settings
    from switchyard.control.db import Database, database_url
    from switchyard.engine.converter import connect
    from switchyard.heap import tune_garbage_collector

    os.environ["SWITCHYARD_DATA_DIR"] = str(data_dir)
    settings = get_settings()
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(database_url(data_dir))
    await db.migrate()
    token_note = await bootstrap_admin(db, data_dir)
    address = resolve_address(temporal_address, data_dir)
    temporal = None
    if address:
        temporal = await connect(address, namespace=settings.temporal_namespace, lazy=True)
    app = build_app(settings, db, temporal, ui=False)
    stop = _stop_on_signals()
    url = url_of(sock)
    print(f"Switchyard API at {url}/api/v1 (database {_safe_url(db.url)})", flush=True)
    print(f"Temporal: {address or 'not configured'}", flush=True)
    print(token_note, flush=True)
    try:
        async with serving(app, sock):
            tune_garbage_collector()  # started: what lives now lives as long as the process
            await stop.wait()
    finally:
        await db.close()


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0: a free port). Raises OSError when taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: with protocol 0, Python 3.11's asyncio does not
    # set TCP_NODELAY, and each response on a kept-alive connection waits ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def bootstrap_admin(db: Database, data_dir: Path) -> str:
    """Make sure an admin exists (api.md, "Bootstrap"); returns a line saying where its token is.

    `SWITCHYARD_ADMIN_TOKEN` if set; else, on first start, a generated token
    written to `DATA_DIR/admin-token` (mode 600).
    """
    from switchyard.connections.crypto import write_private
    from switchyard.control.audit import record
    from switchyard.control.auth import ensure_admin

    given = os.environ.get(ADMIN_TOKEN_ENV, "").strip() or None
    async with db.session() as session:
        token = await ensure_admin(session, given)
        if token is not None:
            await record(
                session,
                actor=None,
                action="user.bootstrap",
                resource="user:admin",
                details={"token": "from " + ADMIN_TOKEN_ENV if given else "generated"},
                source="local start-up",
            )
    path = data_dir / ADMIN_TOKEN_FILE
    if given:
        return f"admin token: the value of {ADMIN_TOKEN_ENV}"
    if token is not None:
        write_private(path, (token + "\n").encode())
        return f"admin token written to {path} (mode 600)"
    if path.exists():
        return f"admin token in {path}"
    return "an admin exists already (its token was shown when it was created)"


def build_app(settings: Any, db: Database, temporal: Any, *, ui: bool) -> FastAPI:
    """The API app; with `ui`, `/` serves the web UI (or a page saying it is not built)."""
    from switchyard.api.app import create_app

    app = create_app(settings, db, temporal=temporal, migrate=False)
    if ui:
        mount_ui(app)
    return app


def ui_dist() -> Path | None:
    """The built web UI: `switchyard/ui/dist` in the package, or `ui/dist` in a checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "ui" / "dist", package.parent.parent / "ui" / "dist"):
        if (candidate / "index.html").is_file():
            return candidate
    return None


_NO_UI = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchyard</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>Switchyard</h1>
<p>The web UI is not built yet. The HTTP API is at <a href="/api/v1/docs">/api/v1/docs</a>
(OpenAPI: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>).</p>
</body></html>
"""


def mount_ui(app: FastAPI) -> None:
    """Serve the UI at `/`: its files, and `index.html` for any other page path (the
    UI routes in the browser); `/api/...` paths stay the API's (JSON 404s)."""
    from fastapi.responses import FileResponse, HTMLResponse

    from switchyard.api.errors import ApiError

    dist = ui_dist()

    @app.get("/{path:path}", include_in_schema=False)
    async def ui(path: str) -> Any:
        if path == "api" or path.startswith("api/"):
            raise ApiError(404, f"no such API path: /{path}")
        if dist is None:
            return HTMLResponse(_NO_UI)
        root = dist.resolve()
        wanted = (root / path).resolve()
        if path and wanted.is_relative_to(root) and wanted.is_file():
            return FileResponse(wanted)
        return FileResponse(root / "index.html")


@contextlib.asynccontextmanager
async def serving(app: FastAPI, sock: socket.socket) -> Any:
    """Run uvicorn on `sock` in this event loop until the block ends.

    Signals stay with the caller (uvicorn's own handlers would re-raise them
    after shutdown). Raises RuntimeError when the app fails to start.
    """
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            exc = task.exception() if not task.cancelled() else None
            raise RuntimeError(f"the API did not start: {exc!r}")
        await asyncio.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, 30)
        sock.close()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
