"""A 200-step workflow lays out and renders in under a second; the pages are
usable by keyboard and have labelled controls (axe-core finds no serious or
critical violation)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from ui.bigflow import big_yaml
from ui.conftest import UI, UiServer
from ui.helpers import expect_run_status, node, open_step, shot

AXE = UI / "node_modules" / "axe-core" / "axe.min.js"
LAYOUT_BUDGET_MS = 1000


async def test_200_steps_lay_out_in_under_a_second(
    page: Page, ui_server: UiServer, capsys: pytest.CaptureFixture[str], screenshots: Path
) -> None:
    await ui_server.put_workflow(big_yaml("ui-big"))
    await page.goto("/workflows/ui-big")
    graph = page.get_by_test_id("graph")
    await expect(graph).to_have_attribute("data-nodes", "200", timeout=20_000)
    await expect(graph).to_have_attribute("data-layout-ms", re.compile(r"\d"), timeout=20_000)
    ms = await page.evaluate("() => window.__graphLayoutMs")
    timings = await page.evaluate("() => window.__graphTimings")
    rendered = await page.locator(".react-flow__node").count()
    with capsys.disabled():
        print(f"\n200-step workflow: parse + layout + first render in {ms:.0f} ms")
        print(f"  ({rendered} nodes drawn; parts in ms: {timings})")
    assert rendered == 200
    await expect(node(page, "loop/body_18")).to_be_attached()
    assert ms < LAYOUT_BUDGET_MS, f"{ms:.0f} ms"
    await shot(page, screenshots, "workflow-200-steps")


async def _axe(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => ({id: v.id, impact: v.impact, help: v.help,
                          nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }"""
    )
    return list(result)


ACCESSIBLE = """\
name: ui-a11y
inputs:
  who: {type: string, required: true}
  times: {type: integer, default: 1}
  loud: {type: boolean, default: false}
steps:
  - id: greet
    action: core.echo
    with: {message: "hello {{ Inputs.who }}"}
    next: each
  - id: each
    for_each: "[1, 2]"
    do:
      - id: twice
        transform: "Item * 2"
"""


async def test_pages_have_no_serious_accessibility_violations(
    page: Page, fresh_page: Page, ui_server: UiServer
) -> None:
    await ui_server.put_workflow(ACCESSIBLE)
    run = (
        await ui_server.api.post("/api/v1/workflows/ui-a11y/runs", json={"inputs": {"who": "x"}})
    ).json()
    await ui_server.api.post(
        "/api/v1/events", json={"id": "ui-a11y-ev", "source": "monitor", "title": "t", "tags": []}
    )

    found: dict[str, list[dict[str, Any]]] = {}
    await fresh_page.goto("/")
    await expect(fresh_page.get_by_label("API token")).to_be_visible()
    found["sign-in"] = await _axe(fresh_page)

    pages = {
        "workflows": ("/workflows", "Workflows"),
        "workflow": ("/workflows/ui-a11y", "ui-a11y"),
        "new workflow": ("/workflows/new", "New workflow"),
        "runs": ("/runs", "Runs"),
        "run": (f"/runs/{run['id']}", "Run of"),
        "connections": ("/connections", "Connections"),
        "users": ("/users", "Users and tokens"),
        "audit": ("/audit", "Audit log"),
        "events": ("/events", "Events"),
        "runners": ("/runners", "Runners"),
    }
    for name, (path, heading) in pages.items():
        await page.goto(path)
        await expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        if name == "run":
            await expect_run_status(page, "succeeded")
            await open_step(page, "greet")
        if name in ("workflow", "new workflow"):
            await expect(page.get_by_test_id("graph")).to_have_attribute(
                "data-layout-ms", re.compile(r"\d")
            )
        if name == "events":
            await page.get_by_role("button", name="Show event ui-a11y-ev").click()
        found[name] = await _axe(page)
    bad = {k: v for k, v in found.items() if v}
    assert not bad, bad


#: The focused element's name, roughly as assistive technology gets it.
FOCUSED_NAME = """() => {
    const e = document.activeElement;
    if (!e) return '';
    const label = e.labels && e.labels[0] && e.labels[0].innerText;
    return (e.getAttribute('aria-label') || label || e.innerText || '').trim();
}"""


async def _tab_to(page: Page, name: str, limit: int = 60) -> list[str]:
    """Press Tab until the focused element's accessible name is `name`; the names passed."""
    seen: list[str] = []
    for _ in range(limit):
        await page.keyboard.press("Tab")
        label = await page.evaluate(FOCUSED_NAME)
        seen.append(label)
        if label == name:
            return seen
    raise AssertionError(f"Tab never reached {name!r}; reached {seen}")


async def test_keyboard_reaches_the_main_actions(page: Page, ui_server: UiServer) -> None:
    await ui_server.put_workflow(ACCESSIBLE)
    await page.goto("/workflows/ui-a11y")
    await expect(page.get_by_test_id("graph")).to_have_attribute(
        "data-layout-ms", re.compile(r"\d")
    )
    # From the top: skip link, navigation, then the page's actions, the editor, the run form.
    seen = await _tab_to(page, "Skip to content")
    assert len(seen) == 1
    await _tab_to(page, "Runs")
    await _tab_to(page, "Save and publish")
    await _tab_to(page, "Workflow definition (YAML)")
    # The editor does not trap Tab: the graph's nodes and the run form come next.
    await _tab_to(page, "step greet, action, core.echo")
    await page.keyboard.press("Enter")  # opens nothing on the editor page, but must not fail
    seen = await _tab_to(page, "Run")
    await page.keyboard.press("ArrowRight")
    await expect(page.get_by_role("tab", name="Versions")).to_have_attribute(
        "aria-selected", "true"
    )
    await page.keyboard.press("ArrowLeft")
    await _tab_to(page, "who * string")
    await page.keyboard.type("keyboard")
    await _tab_to(page, "Start run")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/runs/[^/]+$"))
    await expect_run_status(page, "succeeded")
    # On the run page, a step opens from the keyboard (the step list, or a focused node).
    await _tab_to(page, "Open step greet")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("step-panel")).to_have_attribute("data-step", "greet")
    await page.get_by_role("button", name="Close the step panel").click()
    await _tab_to(page, "step greet, action, core.echo, status succeeded")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("step-panel")).to_have_attribute("data-step", "greet")
