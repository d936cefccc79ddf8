"""azure-vm-remediation: list VMs by tag, restart the unhealthy ones, Adaptive Card to Teams."""

from __future__ import annotations

from .conftest import Blueprints, load, summary
from .fakes import SaaS, card_text


def _fleet(saas: SaaS) -> None:
    heal = {"autoheal": "true", "env": "prod"}
    saas.azure.add_vm("web-01", tags=heal)
    saas.azure.add_vm("web-02", tags=heal, health="unhealthy")
    saas.azure.add_vm("web-03", tags=heal, power="stopped", group="prod-edge-rg")
    saas.azure.add_vm("web-04", tags=heal, power="deallocated")  # parked on purpose
    saas.azure.add_vm("db-01", tags={"env": "prod"}, health="unhealthy")  # not opted in
    saas.azure.failing_restarts.add("web-03")


async def test_unhealthy_vms_are_restarted_and_reported(blueprints: Blueprints, saas: SaaS) -> None:
    _fleet(saas)
    wf = load("azure-vm-remediation.yaml")
    run = await blueprints.run(wf)

    assert run["status"] == "succeeded", summary(run)
    assert run["outputs"] == {
        "checked": 4,
        "unhealthy": ["web-02", "web-03"],
        "restarted": ["web-02"],
        "failed": ["web-03"],
    }
    # Listed by tag (ARM's OData filter), read one instance view per tagged VM.
    [listing] = saas.of("azure", "GET", r"/subscriptions/[^/]+/resources")
    assert listing.arg("$filter") == "tagName eq 'autoheal' and tagValue eq 'true'"
    assert listing.arg("api-version") == "2021-04-01"
    views = saas.of("azure", "GET", r".*/instanceView")
    assert sorted(c.path.split("/")[-2] for c in views) == ["web-01", "web-02", "web-03", "web-04"]
    # Both unhealthy VMs got a restart; web-03's failed, which did not stop web-02's.
    assert sorted(saas.azure.restarts) == ["web-02", "web-03"]
    restart = run["steps"]["restart"]
    statuses = {it["index"]: it["status"] for it in restart["iterations"]}
    assert statuses == {0: "succeeded", 1: "failed"}
    error = restart["iterations"][1]["steps"]["reboot"]["error"]
    assert "OSProvisioningTimedOut" in error["message"]
    assert saas.azure.vms["web-02"]["health"] == "healthy"

    [card] = saas.teams.cards
    assert card["version"] == "1.5"
    text = card_text(card)
    assert "2 of 4 VMs unhealthy" in text
    assert "Restarted\nweb-02" in text
    assert "Failed to restart\nweb-03" in text
    rows = card["body"][2]["rows"]
    cells = [[c["items"][0]["text"] for c in row["cells"]] for row in rows]
    assert cells[0] == ["VM", "Power", "Health"]
    assert sorted(cells[1:]) == [
        ["web-01", "running", "healthy"],
        ["web-02", "running", "unhealthy"],
        ["web-03", "stopped", "healthy"],
        ["web-04", "deallocated", "healthy"],
    ]


async def test_dry_run_only_reports(blueprints: Blueprints, saas: SaaS) -> None:
    _fleet(saas)
    run = await blueprints.run(load("azure-vm-remediation.yaml"), {"dry_run": True})
    assert run["status"] == "succeeded", summary(run)
    assert run["outputs"]["unhealthy"] == ["web-02", "web-03"]
    assert run["outputs"]["restarted"] == [] and run["outputs"]["failed"] == []
    assert run["steps"]["restart"]["status"] == "skipped"
    assert saas.azure.restarts == []
    assert "(dry run)" in card_text(saas.teams.cards[0])
