"""opsgenie-escalation: alert, take-or-escalate approval, email escalation, close on resolution."""

from __future__ import annotations

import pytest

from switchyard.connections.store import LocalConnectionStore
from switchyard.definition.model import ApprovalStep, Workflow
from switchyard.engine.client import ApprovalRefused

from .conftest import Blueprints, load, summary
from .fakes import SaaS, SmtpFake

BLUEPRINT = "opsgenie-escalation.yaml"
INPUTS = {
    "service": "checkout",
    "message": "Payment provider timeouts above 2%",
    "description": "p99 of POST /charge is 9s; the provider's status page is green.",
    "priority": "P1",
}
ALIAS = "checkout:payment-provider-timeouts-above-2"


@pytest.fixture
def mail(smtp: SmtpFake, store: LocalConnectionStore) -> SmtpFake:
    """The `smtp` connection, to a real SMTP server requiring STARTTLS and AUTH."""
    store.create(
        "smtp",
        "smtp",
        {
            "host": "127.0.0.1",
            "port": smtp.port,
            "from_address": "Switchyard <switchyard@example.com>",
            "starttls": True,
            "ca_cert": smtp.ca_cert,
        },
        {"username": SmtpFake.USER, "password": SmtpFake.PASSWORD},
    )
    return smtp


def with_short_take_timeout(wf: Workflow) -> Workflow:
    """The blueprint with its 10-minute wait for someone to take the alert cut to 2s."""
    [take] = [s for s in wf.steps if s.id == "take"]
    assert isinstance(take, ApprovalStep) and take.timeout == 600
    take.timeout = 2.0
    return wf


async def test_nobody_takes_it_so_the_list_is_emailed_then_it_closes_on_resolution(
    blueprints: Blueprints, saas: SaaS, mail: SmtpFake
) -> None:
    wf = with_short_take_timeout(load(BLUEPRINT))
    handle = await blueprints.start(wf, INPUTS)
    info = await blueprints.waiting(handle.id, "resolved")
    assert info["choices"] == ["resolved"]

    # The escalation went out before anyone resolved anything.
    [sent] = mail.received
    assert sent.tls
    assert sorted(sent.rcpt_tos) == ["incident-manager@example.com", "sre-leads@example.com"]
    message = sent.message
    assert message["Subject"] == (
        "[P1] UNACKNOWLEDGED: checkout: Payment provider timeouts above 2%"
    )
    assert message["X-Opsgenie-Alias"] == ALIAS
    body = message.get_content()
    assert f"switchyard approve {handle.id} resolved resolved" in body
    assert "p99 of POST /charge is 9s" in body
    alert = saas.opsgenie.by_alias(ALIAS)
    assert alert["status"] == "open"

    await blueprints.approve(handle.id, "resolved", "resolved", by="bob")
    run = await blueprints.result(handle)

    assert run["status"] == "succeeded", summary(run)
    assert run["outputs"] == {
        "alias": ALIAS,
        "outcome": "resolved",
        "escalated": True,
        "owner": None,
    }
    assert run["steps"]["take"]["output"]["choice"] == "timeout"
    assert alert["message"] == "[checkout] Payment provider timeouts above 2%"
    assert alert["priority"] == "P1"
    assert alert["responders"] == [{"type": "team", "name": "sre"}]
    assert alert["details"] == {"run": handle.id, "service": "checkout"}
    assert alert["status"] == "closed"
    assert alert["close"] == {"user": "bob", "source": "Switchyard", "note": "Resolved by bob"}
    [close] = saas.of("opsgenie", "POST", r"/v2/alerts/.+/close")
    assert close.arg("identifierType") == "alias"


async def test_taken_by_the_oncall_then_resolved_without_escalation(
    blueprints: Blueprints, saas: SaaS, mail: SmtpFake
) -> None:
    handle = await blueprints.start(load(BLUEPRINT), INPUTS)
    info = await blueprints.waiting(handle.id, "take")
    assert info["approvers"] == ["sre-oncall"]
    with pytest.raises(ApprovalRefused):  # not on call
        await blueprints.approve(handle.id, "take", "take", by="mallory", roles=["dev"])
    await blueprints.approve(handle.id, "take", "take", by="alice", roles=["sre-oncall"])
    await blueprints.approve(
        handle.id, "resolved", "resolved", by="alice", comment="provider fixed"
    )
    run = await blueprints.result(handle)

    assert run["status"] == "succeeded", summary(run)
    assert run["outputs"] == {
        "alias": ALIAS,
        "outcome": "resolved",
        "escalated": False,
        "owner": "alice",
    }
    assert run["steps"]["escalate"]["status"] == "skipped"
    assert mail.received == []
    alert = saas.opsgenie.by_alias(ALIAS)
    assert alert["close"]["note"] == "Resolved by alice: provider fixed"


async def test_false_alarm_closes_at_once(
    blueprints: Blueprints, saas: SaaS, mail: SmtpFake
) -> None:
    handle = await blueprints.start(load(BLUEPRINT), {**INPUTS, "alias": "chk-timeouts"})
    await blueprints.approve(handle.id, "take", "false_alarm", by="alice", roles=["sre-oncall"])
    run = await blueprints.result(handle)

    assert run["status"] == "succeeded", summary(run)
    assert run["outputs"]["outcome"] == "false alarm"
    assert run["steps"]["resolved"]["status"] == "skipped"
    alert = saas.opsgenie.by_alias("chk-timeouts")
    assert alert["status"] == "closed"
    assert alert["close"]["note"] == "False alarm, says alice"
    assert mail.received == []
