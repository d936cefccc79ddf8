"""The issue's flow, end to end in Chromium against the real server.

Create a workflow by pasting YAML, see a problem inline, fix it, publish, run
it with inputs, watch the graph reach `succeeded`, open a step, answer an
approval; rerun a failed run from the failed step.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page, expect

from ui.conftest import UiServer
from ui.helpers import (
    RUN_TIMEOUT_MS,
    expect_run_status,
    node,
    open_step,
    paste_definition,
    shot,
)

FLOW = """\
name: ui-flow
description: Check a service, ask before restarting it
inputs:
  service: {type: string, required: true, description: Service to restart}
  count: {type: integer, default: 2}
  dry_run: {type: boolean, default: false}
steps:
  - id: begin
    action: core.echo
    with: {service: "{{ Inputs.service }}"}
    next: [check, items]
  - id: check
    if: "Inputs.count > 1"
    then: approve
    else: done
  - id: items
    for_each: "[1, 2, 3].slice(0, Inputs.count)"
    do:
      - id: double
        transform: "Item * 2"
    next: done
  - id: approve
    approval: "Restart {{ Inputs.service }}?"
    on:
      approve: done
      reject: refuse
  - id: refuse
    fail: "refused"
  - id: done
    action: core.echo
    with: {restarted: "{{ Inputs.service }}", doubled: "{{ Steps.items.output }}"}
    on_error: cleanup
  - id: cleanup
    action: core.echo
    with: {note: cleanup}
"""
#: The same with a mistake: `begin` goes to a step that does not exist.
BROKEN = FLOW.replace("next: [check, items]", "next: [check, itemz]")


async def test_create_fix_publish_run_approve(
    fresh_page: Page, ui_server: UiServer, screenshots: Path
) -> None:
    page = fresh_page
    # Sign in with the admin's token.
    await page.goto("/")
    await page.get_by_label("API token").fill(ui_server.token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_test_id("signed-in-as")).to_contain_text("admin")
    await expect(page.get_by_role("heading", name="Workflows")).to_be_visible()

    # Paste a definition with a mistake: the problem is shown on its line as we type.
    await page.get_by_role("link", name="New workflow").click()
    await paste_definition(page, BROKEN)
    problems = page.get_by_test_id("problems")
    problem = problems.locator("li", has_text="unknown step 'itemz'")
    await expect(problem).to_be_visible(timeout=10_000)
    broken_line = BROKEN.splitlines().index("    next: [check, itemz]") + 1
    await expect(problem).to_have_attribute("data-line", str(broken_line))
    await expect(problem).to_contain_text("steps[0].next")
    # ... inline: underlined in the text, and a marker in the gutter.
    await expect(page.locator(".cm-lintRange-error").first).to_be_visible()
    await expect(page.locator(".cm-lint-marker-error").first).to_be_visible()
    await expect(page.get_by_role("button", name="Save and publish")).to_be_disabled()

    # Fix it: the problems go away and the graph shows the definition.
    await paste_definition(page, FLOW)
    await expect(problems).to_have_attribute("data-count", "0", timeout=10_000)
    await expect(problems).to_contain_text("No problems.")
    graph = page.get_by_test_id("graph")
    await expect(graph).to_have_attribute("data-nodes", "8")
    await expect(node(page, "items")).to_have_attribute("data-kind", "for_each")
    await expect(node(page, "items/double")).to_be_visible()
    await expect(page.locator(".react-flow__edge.edge-error")).to_have_count(1)
    await expect(page.locator(".react-flow__edge.edge-branch")).to_have_count(4)
    await expect(page.locator(".edge-label", has_text="on error")).to_be_visible()

    # Publish: the page becomes the workflow's.
    await page.get_by_role("button", name="Save and publish").click()
    await page.wait_for_url("**/workflows/ui-flow")
    await expect(page.get_by_test_id("workflow-versions")).to_contain_text("published v1")
    await expect(page.get_by_role("tab", name="Run", exact=True)).to_have_attribute(
        "aria-selected", "true"
    )
    await shot(page, screenshots, "workflow-editor")

    # Run it with inputs from the generated form.
    await page.get_by_role("textbox", name="service").fill("checkout")
    await page.get_by_role("spinbutton", name="count").fill("3")
    await page.get_by_role("button", name="Start run").click()
    await page.wait_for_url(re.compile(r".*/runs/[^/]+$"))
    run_id = page.url.rsplit("/", 1)[1]

    # It waits for the approval; the graph says so, live.
    await expect_run_status(page, "waiting")
    await expect(node(page, "approve")).to_have_attribute(
        "data-status", "waiting", timeout=RUN_TIMEOUT_MS
    )
    await expect(node(page, "begin")).to_have_attribute("data-status", "succeeded")
    await expect(node(page, "items/double")).to_have_attribute(
        "data-status", "succeeded", timeout=RUN_TIMEOUT_MS
    )
    approval = page.get_by_test_id("approval-approve")
    await expect(approval).to_contain_text("Restart checkout?")
    await approval.get_by_label("Comment (optional)").fill("go ahead")
    await approval.get_by_role("button", name="Answer approve to approve").click()

    # The graph reaches succeeded without a reload.
    await expect_run_status(page, "succeeded")
    await expect(node(page, "done")).to_have_attribute("data-status", "succeeded")
    await expect(node(page, "refuse")).to_have_attribute("data-status", "skipped")
    await expect(node(page, "cleanup")).to_have_attribute("data-status", "skipped")
    await expect(node(page, "approve")).to_have_attribute("data-status", "succeeded")

    # Open steps: their output, attempts, the loop's iterations.
    await open_step(page, "done")
    panel = page.get_by_test_id("step-panel")
    await expect(panel).to_have_attribute("data-step", "done")
    await expect(panel.get_by_label("step output")).to_contain_text('"restarted": "checkout"')
    await expect(panel.get_by_label("step output")).to_contain_text("6")
    await expect(panel.get_by_test_id("step-attempts")).to_have_text("1")
    await open_step(page, "approve")
    await expect(panel.get_by_label("step output")).to_contain_text('"comment": "go ahead"')
    await expect(panel.get_by_label("step output")).to_contain_text('"by": "admin"')
    await open_step(page, "items")
    iterations = panel.get_by_role("table", name="Iterations")
    await expect(iterations.locator("tbody tr")).to_have_count(3)
    await panel.get_by_role("button", name="Show iteration 2").click()
    await expect(panel.get_by_test_id("iteration-details")).to_contain_text("double")
    await open_step(page, "done")
    await shot(page, screenshots, "run-page")

    # The run is listed with its workflow's last run.
    await page.get_by_role("link", name="Workflows", exact=True).click()
    row = page.get_by_test_id("workflow-row-ui-flow")
    await expect(row).to_contain_text("published v1")
    await expect(row.get_by_role("link", name=re.compile("last run of ui-flow"))).to_have_attribute(
        "href", f"/runs/{run_id}"
    )
    await shot(page, screenshots, "workflows-list")


FLAKY = """\
name: ui-flaky
description: Needs a connection that does not exist yet
steps:
  - id: prepare
    action: core.echo
    with: {stage: prepare}
    next: call
  - id: call
    action: http.request
    connection: ui-flaky-api
    with: {url: /api/v1/health}
    retry: {max_attempts: 1}
    next: finish
  - id: finish
    transform: "Steps.call.output.body.status"
"""


async def test_rerun_from_the_failed_step(
    page: Page, ui_server: UiServer, screenshots: Path
) -> None:
    await ui_server.put_workflow(FLAKY)
    response = await ui_server.api.post("/api/v1/workflows/ui-flaky/runs", json={"inputs": {}})
    assert response.status_code == 201, response.text
    first = response.json()["id"]

    await page.goto(f"/runs/{first}")  # a deep link: the server answers with the app
    await expect_run_status(page, "failed")
    await expect(node(page, "call")).to_have_attribute("data-status", "failed")
    await expect(node(page, "finish")).to_have_attribute(
        "data-status", re.compile("pending|skipped|cancelled")
    )
    await expect(page.get_by_test_id("run-error")).to_contain_text("call")
    await open_step(page, "call")
    await expect(page.get_by_test_id("step-error")).to_contain_text("ConnectionNotFound")

    # Create the missing connection in the UI (its secret is write-only) ...
    await page.get_by_role("link", name="Connections").click()
    await page.get_by_role("button", name="New connection").click()
    form = page.get_by_role("form", name="New connection")
    await form.get_by_label("Name", exact=True).fill("ui-flaky-api")
    await form.get_by_label("Type").fill("http")
    await form.get_by_label("Fields 1 value").fill(ui_server.url)
    await form.get_by_label("Secrets 1 value").fill("s3cret-value-never-shown")
    await form.get_by_role("button", name="Create connection").click()
    row = page.get_by_test_id("connection-ui-flaky-api")
    await expect(row).to_contain_text(ui_server.url)
    await expect(row).to_contain_text("token: ••••••")
    assert "s3cret-value-never-shown" not in await page.content()
    listed = (await ui_server.api.get("/api/v1/connections/ui-flaky-api")).json()
    assert listed["secrets"] == ["token"] and "s3cret" not in str(listed)
    # Editing shows the secret's name, never its value.
    await row.get_by_role("button", name="Edit connection ui-flaky-api").click()
    edit = page.get_by_role("form", name="Edit connection ui-flaky-api")
    await expect(edit.get_by_label("remove token")).not_to_be_checked()
    assert "s3cret-value-never-shown" not in await page.content()
    await shot(page, screenshots, "connections")
    await edit.get_by_role("button", name="Cancel").click()

    # ... and rerun the failed run from its failed step: `prepare` is reused, not run again.
    await page.go_back()
    await expect_run_status(page, "failed")
    await page.get_by_role("button", name="Rerun from failed step").click()
    await page.wait_for_url(lambda url: url.endswith("/runs/" + first) is False and "/runs/" in url)
    await expect_run_status(page, "succeeded")
    second = page.url.rsplit("/", 1)[1]
    assert second != first
    await expect(node(page, "call")).to_have_attribute("data-status", "succeeded")
    await open_step(page, "prepare")
    await expect(page.get_by_test_id("step-panel")).to_contain_text("reused from the earlier run")
    await open_step(page, "finish")
    await expect(page.get_by_test_id("step-panel").get_by_label("step output")).to_contain_text(
        '"ok"'
    )
    await expect(page.get_by_role("link", name=first)).to_be_visible()  # "rerun of"

    # The runs list filters: only the failed one when asked for failed runs.
    await page.goto("/runs?workflow=ui-flaky")
    await expect(page.get_by_test_id(f"run-row-{first}")).to_be_visible()
    await expect(page.get_by_test_id(f"run-row-{second}")).to_be_visible()
    await page.get_by_label("Status").select_option("failed")
    await page.get_by_role("button", name="Apply filters").click()
    await expect(page.get_by_test_id(f"run-row-{first}")).to_be_visible()
    await expect(page.get_by_test_id(f"run-row-{second}")).to_have_count(0)
    assert "status=failed" in page.url
    await page.get_by_role("button", name="Clear").click()
    await expect(page.get_by_test_id(f"run-row-{second}")).to_be_visible()
    await shot(page, screenshots, "runs-list")
