"""page-oncall-open-ticket: a Datadog alert pages on-call, opens a linked Jira ticket, Slack."""

from __future__ import annotations

import copy

from switchyard.triggers.adapters import adapt
from switchyard.triggers.matching import Candidate, decide

from .conftest import Blueprints, load, summary
from .fakes import SaaS, adf_text

BLUEPRINT = "page-oncall-open-ticket.yaml"

# A Datadog monitor webhook (the default payload plus the usual variables).
DATADOG_ALERT = {
    "id": "7421593880016781546",
    "title": "[Triggered on {service:checkout}] Checkout error rate above 5%",
    "alert_transition": "Triggered",
    "alert_type": "error",
    "alert_id": "148212",
    "priority": "P1",
    "event_type": "query_alert_monitor",
    "date": 1718010000000,
    "last_updated": 1718010000000,
    "tags": "service:checkout,env:prod,team:payments,page:oncall,pd_policy:PPAYMNT",
    "url": "https://app.datadoghq.eu/monitors/148212?group=service%3Acheckout",
    "body": "%%%\nError rate is 7.2% over the last 5 minutes (threshold 5%).\n%%%",
    "org": {"id": "311", "name": "Acme"},
}


def test_only_firing_alerts_tagged_for_paging_start_it() -> None:
    wf = load(BLUEPRINT)
    recovered = {**DATADOG_ALERT, "alert_transition": "Recovered", "alert_type": "success"}
    untagged = {**DATADOG_ALERT, "tags": "service:checkout,env:prod"}
    for body in (recovered, untagged):
        [decision] = decide(adapt("datadog", body)[0], [Candidate(wf, 1)], lambda *_: True)
        assert not decision.matched, body


async def test_alert_pages_oncall_and_opens_a_linked_ticket(
    blueprints: Blueprints, saas: SaaS
) -> None:
    saas.pagerduty.add_oncall("PADA001", "Ada Lovelace", "ada@example.com", policy="PPAYMNT")
    saas.pagerduty.add_oncall("PBOB002", "Bob Byte", "bob@example.com", policy="PPAYMNT", level=2)
    saas.pagerduty.add_oncall("POTHER3", "Other Team", "other@example.com", policy="POTHER")
    saas.slack.add_user("ada@example.com", "U0ADA00001", "Ada Lovelace")
    wf = load(BLUEPRINT)

    [event] = adapt("datadog", copy.deepcopy(DATADOG_ALERT))
    handle = await blueprints.on_event(wf, event)
    run = await blueprints.result(handle)

    assert run["status"] == "succeeded", summary(run)
    [incident] = saas.pagerduty.incidents
    assert run["outputs"] == {
        "oncall": "Ada Lovelace",
        "dedup_key": f"checkout/{handle.id}",
        "incident_url": incident["html_url"],
        "jira_key": "OPS-1",
        "jira_url": f"{saas.jira.base_url}/browse/OPS-1",
        "slack_ts": saas.slack.in_channel("incidents")[0]["ts"],
    }
    # PagerDuty: on-call of the alert's policy asked for, a critical page with the alert link.
    [oncall_query] = saas.of("pagerduty", "GET", "/oncalls")
    assert oncall_query.query["escalation_policy_ids[]"] == ["PPAYMNT"]
    [page] = saas.pagerduty.events
    assert page["event_action"] == "trigger"
    assert page["payload"]["severity"] == "critical"  # Datadog P1
    assert page["payload"]["summary"] == f"[checkout] {DATADOG_ALERT['title']}"
    assert page["links"] == [{"href": DATADOG_ALERT["url"], "text": "Alert"}]
    assert page["payload"]["custom_details"]["alert_id"] == "148212"
    assert incident["incident_key"] == f"checkout/{handle.id}"

    # Jira: an Incident with the PagerDuty link and the on-call in its description.
    issue = saas.jira.issues["OPS-1"]
    assert issue.fields["issuetype"] == {"name": "Incident"}
    assert issue.fields["priority"] == {"name": "Highest"}
    assert issue.fields["labels"] == ["incident", "pagerduty", "service-checkout"]
    text = adf_text(issue.fields["description"])
    assert f"incident #{incident['incident_number']} <{incident['html_url']}>" in text
    assert "On call: Ada Lovelace (ada@example.com)" in text
    assert f"Alert <{DATADOG_ALERT['url']}>" in text

    # The incident got the Jira link back as a note.
    assert saas.pagerduty.notes == [
        {
            "incident": incident["id"],
            "from": "switchyard@example.com",
            "content": f"Jira ticket OPS-1: {saas.jira.base_url}/browse/OPS-1",
        }
    ]

    # Slack: the announcement mentions the on-call and links both; details in its thread.
    announce, reply = saas.slack.in_channel("incidents")
    assert "<@U0ADA00001>" in announce["all_text"]
    assert f"<{incident['html_url']}|#{incident['incident_number']}>" in announce["all_text"]
    assert f"<{saas.jira.base_url}/browse/OPS-1|OPS-1>" in announce["all_text"]
    assert reply["thread_ts"] == announce["ts"]
    assert "you are paged for *checkout*" in reply["text"]
    assert '"alert_id": "148212"' in reply["text"]


async def test_nobody_on_call_still_pages_and_opens_the_ticket(
    blueprints: Blueprints, saas: SaaS
) -> None:
    wf = load(BLUEPRINT)
    run = await blueprints.run(
        wf,
        {"service": "search", "summary": "Index lag above 10 minutes", "severity": "warning"},
    )
    assert run["status"] == "succeeded", summary(run)
    assert run["outputs"]["oncall"] is None
    assert run["outputs"]["jira_key"] == "OPS-1"
    assert saas.jira.issues["OPS-1"].fields["priority"] == {"name": "Medium"}
    assert "On call: nobody found" in adf_text(saas.jira.issues["OPS-1"].fields["description"])
    assert run["steps"]["slack_user"]["status"] == "skipped"
    [announce, _reply] = saas.slack.in_channel("incidents")
    assert "*On call*\nnobody found" in announce["all_text"]
