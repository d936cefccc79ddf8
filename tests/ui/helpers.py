"""What the browser tests share: editor input, waiting for run states, screenshots."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

#: Generous: runs go through Temporal, the recorder and the event stream.
RUN_TIMEOUT_MS = 60_000


async def paste_definition(page: Page, text: str) -> None:
    """Replace the editor's text as a paste would (no auto-indent on the way in)."""
    editor = page.get_by_role("textbox", name="Workflow definition (YAML)")
    await editor.click()
    await page.keyboard.press("ControlOrMeta+a")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text(text)


async def expect_run_status(page: Page, status: str, timeout: int = RUN_TIMEOUT_MS) -> None:
    await expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", status, timeout=timeout
    )


def node(page: Page, node_id: str) -> Any:
    """The graph node of a step (`loop/inner` for a step in a loop body)."""
    return page.locator(f'[data-testid="node-{node_id}"]')


async def open_step(page: Page, node_id: str) -> None:
    """Click a step in the graph (on its name: a loop's middle is its body)."""
    await node(page, node_id).locator(".node-id").first.click()
    await expect(page.get_by_test_id("step-panel")).to_have_attribute("data-step", node_id)


async def shot(page: Page, directory: Path, name: str) -> Path:
    path = directory / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def wait_until(predicate: Any, timeout: float = 30.0, interval: float = 0.25) -> Any:
    """Poll an async predicate until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout}s")
        await asyncio.sleep(interval)
