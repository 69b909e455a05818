"""The compliance report: each check against real configurations and real stored state."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from core_alerts.api import create_app
from core_alerts.app import EngineOrchestrator
from core_alerts.config import load_settings
from core_alerts.crypto import generate_master_key
from core_alerts.domain.access import ROLE_SCOPES, Role
from core_alerts.domain.clock import FixedClock


def orchestrator(tmp_path: Path, **config: Any) -> EngineOrchestrator:
    settings = load_settings(
        {"database": {"sqlite_path": str(tmp_path / "c.db")}, **config}, environ={}
    )
    return EngineOrchestrator(settings=settings, clock=FixedClock(1_800_000_000.0))


def statuses(report: Any) -> dict[str, str]:
    return {c.id: c.status for c in report.checks}


async def test_the_defaults_pass_what_they_can_and_say_what_is_missing(tmp_path: Path) -> None:
    orch = orchestrator(tmp_path)
    await orch.start_all()
    try:
        report = await orch.compliance_manager.report()
    finally:
        await orch.stop_all()
    assert statuses(report) == {
        "auth": "pass", "dev-mode": "pass", "least-privilege": "pass", "encryption": "fail",
        "tls": "warn", "audit": "pass", "audit-key": "warn", "retention": "fail",
        "privacy": "warn", "durability": "pass", "backups": "fail",
    }  # fmt: skip
    assert report.summary == {"pass": 5, "fail": 3, "warn": 3}
    assert report.frameworks["hipaa"]["fail"] == 3
    retention = next(c for c in report.checks if c.id == "retention")
    assert retention.remediation == "set retention.resolved_days"
    assert retention.controls.gdpr == ["Art. 5(1)(e)"]


async def test_a_configured_service_passes_and_declarations_are_marked(tmp_path: Path) -> None:
    orch = orchestrator(
        tmp_path,
        security={"encryption_key": generate_master_key(), "audit_key": "a" * 8 + "b" * 24},
        retention={"resolved_days": 90},
        privacy={"detect": ["email"]},
        compliance={"tls_terminated_by": "nginx", "backups": "nightly, 30 days"},
    )
    await orch.start_all()
    try:
        report = await orch.compliance_manager.report()
    finally:
        await orch.stop_all()
    assert report.summary == {"pass": 9, "declared": 2}
    assert statuses(report)["tls"] == "declared"


async def test_admin_keys_without_expiry_and_a_tampered_chain_fail(tmp_path: Path) -> None:
    orch = orchestrator(tmp_path)
    await orch.start_all()
    try:
        security = orch.security_manager
        admin = security.anonymous("default")  # holds every scope, so it may grant any
        await security.create_api_key(
            admin, "default", "forever-admin", ROLE_SCOPES[Role.ADMIN], None
        )
        await security.create_api_key(admin, "default", "sender", ROLE_SCOPES[Role.INGEST], None)
        for n in range(3):
            security.audit("default", "ann", "alert.ack", target_id=str(n))
        assert security.trail is not None
        await security.trail.flush()
        conn = sqlite3.connect(orch.settings.database.sqlite_path, isolation_level=None)
        conn.execute("DROP TRIGGER audit_entries_no_update")
        conn.execute("UPDATE audit_entries SET actor = 'bob' WHERE seq = 2")
        conn.close()
        report = await orch.compliance_manager.report()
    finally:
        await orch.stop_all()
    checks = {c.id: c for c in report.checks}
    assert checks["least-privilege"].status == "fail"
    assert "default/forever-admin" in checks["least-privilege"].evidence
    assert "sender" not in checks["least-privilege"].evidence
    assert (checks["audit"].status, checks["audit"].evidence) == (
        "fail", "audit chains that do not verify: default",
    )  # fmt: skip


async def test_the_api_serves_json_and_escaped_html_to_platform_admins_only(tmp_path: Path) -> None:
    orch = orchestrator(tmp_path, compliance={"tls_terminated_by": "<script>x</script>"})
    app = create_app(orch)
    async with LifespanManager(app) as manager:
        security = orch.security_manager
        admin = security.admin_token()
        tenant_admin = security.issue_token("default", "t", ROLE_SCOPES[Role.ADMIN])[0]
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            url = "/api/v1/compliance/report"
            as_admin = {"Authorization": f"Bearer {admin}"}
            body = (await client.get(url, headers=as_admin)).json()
            assert {c["id"] for c in body["checks"]} >= {"auth", "audit", "retention"}
            html = await client.get(url, params={"format": "html"}, headers=as_admin)
            assert html.headers["content-type"].startswith("text/html")
            assert "&lt;script&gt;x&lt;/script&gt;" in html.text and "<script>" not in html.text
            denied = await client.get(url, headers={"Authorization": f"Bearer {tenant_admin}"})
            assert denied.status_code == 403


def test_the_cli_writes_the_report_and_strict_fails_on_a_failed_check(tmp_path: Path) -> None:
    cli = Path(sys.executable).parent / "core-alerts"
    env = {"ALERTS_DB_PATH": str(tmp_path / "cli.db"), "PATH": "/usr/bin:/bin"}
    out = tmp_path / "report.html"
    made = subprocess.run(
        [str(cli), "compliance", "report", "--format", "html", "-o", str(out)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "Compliance report" in out.read_text()
    strict = subprocess.run(
        [str(cli), "compliance", "report", "--strict"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert strict.returncode == 1
    assert '"id": "retention"' in strict.stdout
