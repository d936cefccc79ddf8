"""deploy-with-muted-monitors: Datadog downtimes around a GitLab pipeline, Teams report."""

from __future__ import annotations

from .conftest import Blueprints, load, summary
from .fakes import SaaS, card_text

BLUEPRINT = "deploy-with-muted-monitors.yaml"


async def test_deploy_mutes_runs_the_pipeline_unmutes_and_reports(
    blueprints: Blueprints, saas: SaaS
) -> None:
    saas.datadog.monitors.update({148212, 148213})
    saas.gitlab.pipeline_script = ["running", "success"]
    wf = load(BLUEPRINT)
    run = await blueprints.run(
        wf,
        {"service": "checkout", "version": "v2.15.0", "monitor_ids": [148212, 148213, 999]},
    )

    assert run["status"] == "succeeded", summary(run)
    [pipeline] = saas.gitlab.pipelines.values()
    assert run["outputs"] == {
        "pipeline": pipeline["web_url"],
        "status": "success",
        "muted": 2,
        "unmuted": 2,
    }
    # Monitor 999 does not exist: that item failed, the others were muted.
    mute = run["steps"]["mute"]
    assert [it["status"] for it in mute["iterations"]] == ["succeeded", "succeeded", "failed"]
    created = saas.of("datadog", "POST")
    assert sorted(
        c.body["data"]["attributes"]["monitor_identifier"]["monitor_id"] for c in created
    ) == [
        999,
        148212,
        148213,
    ]
    attrs = created[0].body["data"]["attributes"]
    assert attrs["scope"] == "env:production"
    assert "checkout v2.15.0" in attrs["message"]
    assert attrs["schedule"]["end"]  # a downtime that ends by itself

    # The pipeline ran on the tag with the deploy variables, and was followed to its end.
    assert pipeline["ref"] == "v2.15.0"
    assert pipeline["variables"] == {
        "DEPLOY_ENV": "production",
        "SERVICE": "checkout",
        "TRIGGERED_BY": f"switchyard/{run['id']}",
    }
    reads = saas.of("gitlab", "GET")
    assert [c.path for c in reads] == [
        f"/projects/platform%2Fcheckout/pipelines/{pipeline['id']}"
    ] * 2
    assert run["steps"]["wait_pipeline"]["attempts"] == 2

    # Unmuted only after the pipeline ended.
    assert saas.datadog.active() == []
    first_cancel = next(i for i, c in enumerate(saas.calls) if c.method == "DELETE")
    last_read = max(i for i, c in enumerate(saas.calls) if c.service == "gitlab")
    assert first_cancel > last_read

    [card] = saas.teams.cards
    text = card_text(card)
    assert "checkout v2.15.0 is live in production" in text
    assert "Monitors muted\n2 of 3" in text
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open the pipeline", "url": pipeline["web_url"]}
    ]


async def test_pipeline_that_cannot_start_still_unmutes_and_fails_the_run(
    blueprints: Blueprints, saas: SaaS
) -> None:
    saas.datadog.monitors.add(148212)
    wf = load(BLUEPRINT)
    run = await blueprints.run(
        wf, {"service": "checkout", "version": "v9.9.9", "monitor_ids": [148212]}
    )

    assert run["status"] == "failed", summary(run)
    assert run["error"]["type"] == "Fail"
    assert run["error"]["step"] == "failed"
    assert run["error"]["message"] == "deploy of checkout v9.9.9: not started"
    assert run["steps"]["pipeline"]["status"] == "failed"
    assert run["steps"]["wait_pipeline"]["status"] == "skipped"
    assert run["steps"]["unmute"]["status"] == "succeeded"
    assert saas.datadog.downtimes and saas.datadog.active() == []
    assert saas.gitlab.pipelines == {}
    [card] = saas.teams.cards
    text = card_text(card)
    assert "Deploy of checkout v9.9.9 did not succeed" in text
    assert "Reference not found" in text
    assert card["body"][0]["style"] == "attention"
