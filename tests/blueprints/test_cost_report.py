"""nightly-cost-report: started by its Temporal Schedule; Cost Explorer on moto; Slack blocks."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from typing import Any

from switchyard.definition.model import ScheduleTrigger

from .conftest import Blueprints, aws_client, load, summary
from .fakes import SaaS

YESTERDAY_COSTS = {
    "Amazon Elastic Compute Cloud - Compute": "812.4402",
    "Amazon Relational Database Service": "301.1189",
    "Amazon Simple Storage Service": "96.5531",
    "AmazonCloudWatch": "41.0071",
    "Amazon Elastic Load Balancing": "38.2210",
    "AWS Lambda": "12.9954",
    "Amazon Route 53": "3.0012",
}
BEFORE_COSTS = {
    "Amazon Elastic Compute Cloud - Compute": "610.0021",
    "Amazon Relational Database Service": "298.7712",
    "Amazon Simple Storage Service": "95.1022",
    "AmazonCloudWatch": "17.4410",
    "Amazon Elastic Load Balancing": "38.0096",
    "AWS Lambda": "13.2001",
    "Amazon Route 53": "3.0012",
}


def _day(start: dt.date, costs: dict[str, str]) -> dict[str, Any]:
    """One `ResultsByTime` entry of GetCostAndUsage grouped by SERVICE."""
    return {
        "TimePeriod": {
            "Start": start.isoformat(),
            "End": (start + dt.timedelta(days=1)).isoformat(),
        },
        "Total": {},
        "Groups": [
            {"Keys": [name], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}
            for name, amount in costs.items()
        ],
        "Estimated": False,
    }


def queue_cost_explorer_result(endpoint: str, result: dict[str, Any]) -> None:
    """Give moto the answer of the next GetCostAndUsage request (its documented API)."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/static/ce/cost-and-usage-results",
        data=json.dumps({"results": [result]}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201


async def test_scheduled_report_posts_the_top_services_and_flags_the_spike(
    blueprints: Blueprints, saas: SaaS, aws_endpoint: str
) -> None:
    today = dt.datetime.now(dt.UTC).date()
    yesterday, before = today - dt.timedelta(days=1), today - dt.timedelta(days=2)
    result = {
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        "ResultsByTime": [_day(before, BEFORE_COSTS), _day(yesterday, YESTERDAY_COSTS)],
        "DimensionValueAttributes": [],
    }
    queue_cost_explorer_result(aws_endpoint, result)
    wf = load("nightly-cost-report.yaml")
    [trigger] = wf.triggers
    assert isinstance(trigger, ScheduleTrigger)
    assert (trigger.schedule.cron, trigger.schedule.timezone) == ("30 6 * * *", "Europe/Paris")

    run = await blueprints.on_schedule(wf)

    assert run["status"] == "succeeded", summary(run)
    assert run["trigger"]["type"] == "schedule"
    assert run["outputs"] == {
        "day": yesterday.isoformat(),
        "total": 1305.34,
        "change_pct": 21.4,
        "top": [
            "Amazon Elastic Compute Cloud - Compute",
            "Amazon Relational Database Service",
            "Amazon Simple Storage Service",
            "AmazonCloudWatch",
            "Amazon Elastic Load Balancing",
        ],
    }
    # moto hands a queued result to the first request and keeps it for the same
    # parameters: asking again with the parameters the blueprint should have sent
    # gets it back, so the blueprint sent exactly these.
    again = aws_client(aws_endpoint, "ce").get_cost_and_usage(
        TimePeriod={"Start": before.isoformat(), "End": today.isoformat()},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}],
    )
    assert len(again["ResultsByTime"]) == 2

    post, spike = saas.slack.in_channel("finops")
    header, total, fields, _context = post["blocks"]
    assert header["text"]["text"] == f"AWS spend on {yesterday.isoformat()}"
    assert total["text"]["text"] == f"*1305.34 USD* (+21.4% vs {before.isoformat()})"
    assert [f["text"] for f in fields["fields"]][:2] == [
        "*1. Amazon Elastic Compute Cloud - Compute*\n812.44 USD (+202.44)",
        "*2. Amazon Relational Database Service*\n301.12 USD (+2.35)",
    ]
    assert spike["thread_ts"] == post["ts"]
    assert spike["text"].startswith(":chart_with_upwards_trend: Spend grew 21.4% day over day.")
    assert (
        "Amazon Elastic Compute Cloud - Compute +202.44, AmazonCloudWatch +23.57" in spike["text"]
    )
