"""The audit trail over HTTP: writes, refusals and admin reads are recorded per tenant, and
tampering with one stored row is found and located."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from core_alerts.app import EngineOrchestrator
from core_alerts.domain.access import ROLE_SCOPES, Role


async def test_writes_refusals_and_admin_reads_are_recorded_per_tenant(
    api: httpx.AsyncClient, api_orchestrator: EngineOrchestrator
) -> None:
    acme = {"X-Tenant-ID": "acme"}
    sent = await api.post("/api/v1/alerts", json={"title": "disk"}, headers=acme)
    alert_id = sent.json()["results"][0]["alert_id"]
    assert (await api.post(f"/api/v1/alerts/{alert_id}/ack", headers=acme)).status_code == 200
    assert (await api.post(f"/api/v1/alerts/{alert_id}/ack", headers=acme)).status_code == 409
    viewer = api_orchestrator.security_manager.issue_token("acme", "vic", ROLE_SCOPES[Role.VIEWER])
    async with httpx.AsyncClient(transport=api._transport, base_url="http://test") as raw:
        denied = await raw.post(
            f"/api/v1/alerts/{alert_id}/resolve", headers={"Authorization": f"Bearer {viewer[0]}"}
        )
        assert denied.status_code == 403
    await api.get("/api/v1/alerts", headers=acme)  # an admin reading: recorded too

    page = (await api.get("/api/v1/audit", headers=acme)).json()
    seen = [(e["actor"], e["action"], e["target_id"], e["outcome"]) for e in page["entries"]]
    assert seen == [
        ("admin", "api.v1.alerts.post", "", "ok"),
        ("admin", "api.v1.alerts.ack.post", alert_id, "ok"),
        ("admin", "api.v1.alerts.ack.post", alert_id, "error"),
        ("vic", "api.v1.alerts.resolve.post", alert_id, "denied"),
        ("admin", "api.v1.alerts.get", "", "ok"),
    ]
    assert [e["seq"] for e in page["entries"]] == [1, 2, 3, 4, 5]
    only_acks = (await api.get("/api/v1/audit", params={"action": "api.v1.alerts.ack"},
                               headers=acme)).json()["entries"]  # fmt: skip
    assert len(only_acks) == 2
    # Another tenant's chain holds none of it.
    beta = (await api.get("/api/v1/audit", headers={"X-Tenant-ID": "beta"})).json()["entries"]
    assert all(e["tenant_id"] == "beta" for e in beta) and alert_id not in str(beta)
    report = (await api.get("/api/v1/audit/verify", headers=acme)).json()
    assert report["ok"] is True and report["checked"] >= 5


async def test_an_edited_row_is_found_by_the_api_and_the_cli(
    api: httpx.AsyncClient, api_orchestrator: EngineOrchestrator, tmp_path: Path
) -> None:
    for n in range(4):
        await api.post("/api/v1/alerts", json={"title": f"a{n}"}, headers={"X-Tenant-ID": "gamma"})
    listed = (await api.get("/api/v1/audit", headers={"X-Tenant-ID": "gamma"})).json()["entries"]
    assert [e["seq"] for e in listed][:4] == [1, 2, 3, 4]
    db = api_orchestrator.settings.database.sqlite_path
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TRIGGER audit_entries_no_update")  # what an intruder with the file can do
    conn.execute(
        "UPDATE audit_entries SET actor = 'someone-else' WHERE tenant_id = 'gamma' AND seq = 2"
    )
    conn.close()
    broken = await api.get("/api/v1/audit/verify", headers={"X-Tenant-ID": "gamma"})
    assert broken.status_code == 409
    assert (broken.json()["bad_seq"], broken.json()["kind"]) == (2, "edited")
    cli = subprocess.run(
        [str(Path(sys.executable).parent / "core-alerts"), "audit", "verify", "--tenant", "gamma"],
        capture_output=True, text=True, timeout=60, check=False,
        env={"ALERTS_DB_PATH": db, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert cli.returncode == 1, cli.stderr
    assert "gamma\tTAMPERED at seq 2 (edited)" in cli.stdout


async def test_a_change_is_in_the_chain_before_its_answer(
    api: httpx.AsyncClient, api_orchestrator: EngineOrchestrator
) -> None:
    trail = api_orchestrator.security_manager.trail
    assert trail is not None
    await trail.flush()
    sent = await api.post("/api/v1/alerts", json={"title": "t"}, headers={"X-Tenant-ID": "beta"})
    await trail.flush()  # ingestion entries are buffered (appended within 0.1 s)
    alert_id = sent.json()["results"][0]["alert_id"]
    acked = await api.post(f"/api/v1/alerts/{alert_id}/ack", headers={"X-Tenant-ID": "beta"})
    assert acked.status_code == 200
    assert trail.backlog == 0  # a human action: already in the chain
    entries = (await trail.log.list("beta", action_prefix="api.v1.alerts.ack")).entries
    assert [e.target_id for e in entries] == [alert_id]
