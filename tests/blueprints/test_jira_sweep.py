"""jira-stale-ticket-sweep: started by its Temporal Schedule; JQL, comments, resets, Slack."""

from __future__ import annotations

from switchyard.definition.model import ScheduleTrigger

from .conftest import Blueprints, load, summary
from .fakes import SaaS, adf_text


async def test_scheduled_sweep_nudges_resets_and_reports(
    blueprints: Blueprints, saas: SaaS
) -> None:
    jira = saas.jira
    jira.add_issue(
        "Rotate TLS certificates", status="In Progress", updated_days_ago=20, assignee="alice"
    )
    jira.add_issue(
        "Upgrade Postgres to 16", status="In Progress", updated_days_ago=45, assignee="bob"
    )
    jira.add_issue(
        "Fix flaky disk alert", status="In Progress", updated_days_ago=3, assignee="carol"
    )
    jira.add_issue("Decommission old VPN", status="Done", updated_days_ago=60)
    jira.add_issue("Vendor audit", status="In Progress", updated_days_ago=25)
    jira.locked.add("OPS-5")
    wf = load("jira-stale-ticket-sweep.yaml")
    [trigger] = wf.triggers
    assert isinstance(trigger, ScheduleTrigger)
    assert (trigger.schedule.cron, trigger.schedule.timezone) == ("0 9 * * 1", "Europe/Paris")

    run = await blueprints.on_schedule(wf)

    assert run["status"] == "succeeded", summary(run)
    assert run["trigger"]["type"] == "schedule"
    assert run["outputs"] == {
        "stale": ["OPS-2", "OPS-5", "OPS-1"],
        "reset": ["OPS-2"],
        "failed": ["OPS-5"],
    }
    [search] = saas.of("jira", "POST", "/rest/api/3/search/jql")
    assert search.body["jql"] == (
        'project = OPS AND status = "In Progress" AND updated < -14d ORDER BY updated ASC'
    )
    nudged = jira.issues["OPS-1"].comments
    assert len(nudged) == 1
    assert adf_text(nudged[0]["body"]).startswith(
        "Alice, this ticket has had no update for 20 days."
    )
    assert jira.issues["OPS-1"].status == "In Progress"
    # 45 days: nudged, then back to To Do with its own comment.
    upgrade = jira.issues["OPS-2"]
    assert upgrade.status == "To Do" and upgrade.transitions == ["Back to To Do"]
    assert "after 45 days without an update" in adf_text(upgrade.comments[-1]["body"])
    assert jira.issues["OPS-3"].comments == [] and jira.issues["OPS-4"].comments == []
    assert run["steps"]["nudge"]["iterations"][1]["steps"]["comment"]["error"]["type"] == (
        "PermissionDenied"
    )

    [report] = saas.slack.in_channel("sre-alerts")
    text = report["all_text"]
    assert "Stale tickets in OPS: 3" in text
    assert (
        f"<{jira.base_url}/browse/OPS-2|OPS-2> Upgrade Postgres to 16 (45 days, Bob)"
        " → *back to To Do*" in text
    )
    assert "OPS-5> Vendor audit (25 days, unassigned) → :x: could not update" in text
