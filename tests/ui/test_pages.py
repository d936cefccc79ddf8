"""The other pages against the real API: versions, users and tokens, audit, events, completion."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from playwright.async_api import Page, expect

from ui.conftest import UiServer
from ui.helpers import paste_definition, shot

V1 = """\
name: ui-versions
steps:
  - id: hello
    action: core.echo
    with: {greeting: hello}
"""
V2 = V1.replace("greeting: hello", "greeting: bonjour")


async def test_versions_diff_publish_and_rollback(page: Page, ui_server: UiServer) -> None:
    await ui_server.put_workflow(V1)
    await ui_server.put_workflow(V2)
    await page.goto("/workflows/ui-versions")
    await expect(page.get_by_test_id("workflow-versions")).to_contain_text("published v2")
    await page.get_by_role("tab", name="Versions").click()
    await page.get_by_role("button", name="Show the changes of version 2").click()
    diff = page.get_by_label("Differences from the previous version")
    await expect(diff.locator(".del")).to_contain_text("hello")
    await expect(diff.locator(".add")).to_contain_text("bonjour")
    # Roll back to v1.
    await page.get_by_role("button", name="Publish version 1").click()
    await expect(page.get_by_test_id("workflow-versions")).to_contain_text("published v1")
    await expect(page.get_by_test_id("version-1")).to_contain_text("published")
    got = (await ui_server.api.get("/api/v1/workflows/ui-versions")).json()
    assert got["published_version"] == 1
    # Editing and saving makes v3 (not published).
    await paste_definition(page, V2.replace("bonjour", "hallo"))
    await expect(page.get_by_test_id("problems")).to_have_attribute(
        "data-count", "0", timeout=10_000
    )
    await expect(page.get_by_test_id("problems")).to_have_attribute("data-checking", "false")
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.get_by_test_id("save-result")).to_contain_text("Saved version 3")
    await expect(page.get_by_test_id("workflow-versions")).to_contain_text("latest v3")
    await expect(page.get_by_test_id("workflow-versions")).to_contain_text("published v1")


async def test_users_and_tokens(page: Page, ui_server: UiServer, screenshots: Path) -> None:
    await page.goto("/users")
    await page.get_by_label("User name").fill("ui-operator")
    await page.get_by_label("Role", exact=True).select_option("operator")
    await page.get_by_role("button", name="Add user").click()
    row = page.get_by_test_id("user-ui-operator")
    await expect(row.get_by_label("Role of ui-operator")).to_have_value("operator")
    await row.get_by_label("Role of ui-operator").select_option("editor")
    await expect(row.get_by_label("Role of ui-operator")).to_have_value("editor")
    await row.get_by_role("button", name="Tokens of ui-operator").click()
    await page.get_by_role("button", name="Create token").click()
    token = await page.get_by_test_id("new-token").input_value()
    assert token
    # The token is real: it signs in as that user, with the role set above.
    async with httpx.AsyncClient(base_url=ui_server.url) as client:
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["name"] == "ui-operator" and me.json()["role"] == "editor"
        tokens = page.get_by_role("table", name="Tokens of ui-operator")
        await expect(tokens.locator("tbody tr")).to_have_count(1)
        await tokens.get_by_role("button", name="Revoke token").click()
        await expect(tokens).to_contain_text("revoked")
        await shot(page, screenshots, "users")
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401


async def test_audit_log(page: Page, ui_server: UiServer) -> None:
    await ui_server.put_workflow(V1.replace("ui-versions", "ui-audited"))
    await page.goto("/audit")
    table = page.get_by_role("table", name="Audit entries")
    await expect(table.locator("tr", has_text="workflow:ui-audited").first).to_contain_text(
        "workflow.create"
    )
    await page.get_by_label("Action").fill("user.*")
    await page.get_by_role("button", name="Apply filters").click()
    await expect(table.locator("tbody tr").first).to_contain_text("user.")
    await expect(table.locator("tr", has_text="workflow.create")).to_have_count(0)


async def test_runners_page_lists_the_runners_workflows_name(
    page: Page, ui_server: UiServer
) -> None:
    await ui_server.put_workflow(
        V1.replace("ui-versions", "ui-on-edge").replace(
            "    action: core.echo\n", "    action: core.echo\n    runner: ui-edge\n"
        )
    )
    await page.goto("/runners")
    row = page.get_by_test_id("runner-row-ui-edge")
    await expect(row).to_contain_text("switchyard-runner-ui-edge")
    await expect(row).to_contain_text("offline")  # no runner polls it
    await row.get_by_role("link", name="ui-on-edge").click()
    await expect(page).to_have_url(f"{ui_server.url}/workflows/ui-on-edge")


MONITORED = """\
name: ui-monitored
triggers:
  - monitor:
      match: "Trigger.event.tags.includes('team:sre')"
steps:
  - id: note
    action: core.echo
    with: {title: "{{ Trigger.event.title }}"}
"""


async def test_events_say_why_they_matched_or_not(
    page: Page, ui_server: UiServer, screenshots: Path
) -> None:
    await ui_server.put_workflow(MONITORED)
    base = {"source": "monitor", "status": "alert", "severity": "high"}
    for event in (
        {**base, "id": "ui-ev-match", "title": "Latency high", "tags": ["team:sre"]},
        {**base, "id": "ui-ev-other", "title": "Disk full", "tags": ["team:db"]},
    ):
        response = await ui_server.api.post("/api/v1/events", json=event)
        assert response.status_code == 202, response.text

    await page.goto("/events")
    await page.get_by_role("button", name="Show event ui-ev-match").click()
    details = page.get_by_test_id("event-details")
    decision = details.get_by_test_id("decision-ui-monitored")
    await expect(decision).to_have_attribute("data-matched", "true")
    await expect(details.locator("a[href^='/runs/']")).to_have_count(1)

    await page.get_by_role("button", name="Show event ui-ev-other").click()
    decision = details.get_by_test_id("decision-ui-monitored")
    await expect(decision).to_have_attribute("data-matched", "false")
    stored = (await ui_server.api.get("/api/v1/events/ui-ev-other")).json()
    reason = next(d["reason"] for d in stored["decisions"] if d["workflow"] == "ui-monitored")
    assert reason
    await expect(decision).to_contain_text(reason)
    await shot(page, screenshots, "events")


async def accept(page: Page) -> None:
    """Enter on the open completion list (CodeMirror ignores an Enter in its first 75 ms)."""
    await page.wait_for_timeout(250)
    await page.keyboard.press("Enter")


async def test_completion_from_schema_and_catalogue(page: Page) -> None:
    await page.goto("/workflows/new")
    await paste_definition(page, "name: ui-complete\nsteps:\n  - id: first\n    ")
    editor = page.get_by_role("textbox", name="Workflow definition (YAML)")
    await page.keyboard.type("ac")
    options = page.locator(".cm-tooltip-autocomplete li")
    await expect(options.filter(has_text="action")).to_have_count(1)
    await accept(page)  # takes `action: `
    await page.keyboard.type("core.ec")
    await expect(options.filter(has_text="core.echo")).to_be_visible()
    await accept(page)
    await expect(editor).to_contain_text("action: core.echo")
    # Keys of the step's kind, from the schema: `with`, `next`, `retry`...
    await page.keyboard.press("Enter")
    await page.keyboard.type("ret")
    await expect(options.filter(has_text="retry")).to_be_visible()
    await page.keyboard.press("Escape")
    # Top-level keys at the top level.
    await page.keyboard.press("ControlOrMeta+Home")
    await page.keyboard.press("End")
    await page.keyboard.press("Enter")
    await page.keyboard.type("trig")
    await expect(options.filter(has_text="triggers")).to_be_visible()
    text = await page.evaluate("() => document.querySelector('.cm-content').innerText")
    assert "action: core.echo" in text, json.dumps(text)
