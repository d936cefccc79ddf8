"""Browser-test fixtures: the real server serving the built UI, and Chromium.

`ui_server` starts what `switchyard up` starts, in this process, on a free
loopback port: the API app built by `switchyard.cli.api.build_app(ui=True)`
over a migrated SQLite database, an engine worker resolving connections and
`call:` targets from that database, on the session's Temporal dev server. It
builds `ui/dist` first when it is missing or older than the UI's sources.

The browser is Debian's Chromium (`/usr/bin/chromium`) driven by Playwright's
async API, in the same event loop as the server. Screenshots go to
`docs/screenshots/` when `SWITCHYARD_UI_SCREENSHOTS=1`, else to a temp dir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio

from switchyard.engine.devserver import DevServer

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "ui"
DIST = UI / "dist"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: What the build reads: a newer one of these means `ui/dist` is stale.
UI_SOURCES = (
    "src",
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "tsconfig.json",
)


def _newest_source() -> float:
    newest = (ROOT / "schema" / "workflow.schema.json").stat().st_mtime
    for name in UI_SOURCES:
        path = UI / name
        files = path.rglob("*") if path.is_dir() else [path]
        for f in files:
            if f.is_file():
                newest = max(newest, f.stat().st_mtime)
    return newest


def ensure_ui_built() -> Path:
    """`ui/dist`, built now (`npm ci` when needed, then `npm run build`) unless up to date."""
    index = DIST / "index.html"
    if index.is_file() and index.stat().st_mtime >= _newest_source():
        return DIST
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed to build the UI (scripts/install installs it)")
    if not (UI / "node_modules" / ".package-lock.json").is_file():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=UI, check=True)
    subprocess.run([npm, "run", "build"], cwd=UI, check=True)
    return DIST


@dataclass
class UiServer:
    url: str
    token: str
    data_dir: Path
    #: An HTTP client of the running server with the admin's token.
    api: httpx.AsyncClient

    async def put_workflow(self, yaml_text: str, *, publish: bool = True) -> dict[str, Any]:
        name = next(
            line.split(":", 1)[1].strip()
            for line in yaml_text.splitlines()
            if line.startswith("name:")
        )
        response = await self.api.put(
            f"/api/v1/workflows/{name}",
            content=yaml_text,
            headers={"Content-Type": "application/yaml"},
            params={"publish": "true"} if publish else None,
        )
        assert response.status_code in (200, 201), response.text
        return dict(response.json())


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def ui_server(
    temporal_server: DevServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[UiServer]:
    from switchyard.cli.api import bind, build_app, serving, ui_dist, url_of
    from switchyard.config import Settings
    from switchyard.control import auth
    from switchyard.control.db import Database, database_url
    from switchyard.control.workflows_source import worker_sources
    from switchyard.engine.blobs import BlobStore
    from switchyard.engine.worker import build_worker

    ensure_ui_built()
    assert ui_dist() == DIST, "switchyard.cli.api.ui_dist() must find the checkout's ui/dist"
    data_dir = tmp_path_factory.mktemp("ui-data")
    previous = os.environ.get("SWITCHYARD_DATA_DIR")
    os.environ["SWITCHYARD_DATA_DIR"] = str(data_dir)
    settings = Settings(data_dir=data_dir, task_queue=f"ui-{uuid4().hex[:8]}")
    db = Database(database_url(data_dir))
    await db.migrate()
    async with db.session() as session:
        token = await auth.ensure_admin(session)
    assert token is not None
    client = await temporal_server.client()
    connections, definitions, from_db = worker_sources(db, data_dir, data_dir / "definitions")
    worker = build_worker(
        client,
        settings.task_queue,
        connections=connections,
        definitions=definitions,
        blobs=BlobStore(settings.blob_dir, settings.blob_threshold),
    )
    app = build_app(settings, db, client, ui=True)
    sock = bind("127.0.0.1", 0)
    url = url_of(sock)
    try:
        async with (
            worker,
            serving(app, sock),
            httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
            ) as api,
        ):
            yield UiServer(url=url, token=token, data_dir=data_dir, api=api)
    finally:
        from_db.close()
        await db.close()
        if previous is None:
            os.environ.pop("SWITCHYARD_DATA_DIR", None)
        else:
            os.environ["SWITCHYARD_DATA_DIR"] = previous


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (scripts/install installs Debian's chromium)")
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Any, ui_server: UiServer) -> AsyncIterator[Any]:
    """A new tab already signed in as the admin (the token put in sessionStorage)."""
    context = await browser.new_context(
        viewport={"width": 1400, "height": 1000}, base_url=ui_server.url
    )
    await context.add_init_script(
        f"sessionStorage.setItem('switchyard.token', {ui_server.token!r});"
    )
    tab = await context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    await context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_page(browser: Any, ui_server: UiServer) -> AsyncIterator[Any]:
    """A new tab with no token (shows the sign-in form)."""
    context = await browser.new_context(
        viewport={"width": 1400, "height": 1000}, base_url=ui_server.url
    )
    tab = await context.new_page()
    yield tab
    await context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: docs/screenshots/ when SWITCHYARD_UI_SCREENSHOTS=1."""
    if os.environ.get("SWITCHYARD_UI_SCREENSHOTS") == "1":
        out = ROOT / "docs" / "screenshots"
        out.mkdir(parents=True, exist_ok=True)
        return out
    return tmp_path_factory.mktemp("screenshots")
