"""The retention job deletes each tenant's old resolved alerts, as its policy says."""

from __future__ import annotations

from pathlib import Path

from core_alerts.app import EngineOrchestrator
from core_alerts.config import load_settings
from core_alerts.domain.alert import Alert, AlertMetadata, AlertStatus
from core_alerts.domain.clock import FixedClock

DAY = 86_400.0


async def test_each_tenant_keeps_resolved_alerts_for_its_own_days(tmp_path: Path) -> None:
    clock = FixedClock(1_800_000_000.0)
    settings = load_settings(
        {
            "database": {"sqlite_path": str(tmp_path / "r.db")},
            "retention": {"resolved_days": 30, "tenants": {"acme": 7}},
        },
        environ={},
    )
    orch = EngineOrchestrator(settings=settings, clock=clock)
    await orch.start_all()
    try:
        await orch.security_manager.create_tenant("acme", "Acme")
        engine = orch.alert_engine
        ids = {}
        for tenant in ("default", "acme"):
            for name, status in (("Gone", AlertStatus.RESOLVED), ("Open", AlertStatus.FIRING)):
                alert = Alert(
                    metadata=AlertMetadata(tenant_id=tenant), title=name, status=status,
                    labels={"alertname": name},
                )  # fmt: skip
                ids[(tenant, name)] = (await engine.process_alert(alert)).alert_id
        clock.advance(10 * DAY)  # past acme's 7 days, within default's 30
        assert await orch.retention.run_once() == {"acme": 1}
        assert await orch.store.get("acme", ids[("acme", "Gone")]) is None
        assert await orch.store.get("acme", ids[("acme", "Open")]) is not None
        assert await orch.store.get("default", ids[("default", "Gone")]) is not None
        clock.advance(25 * DAY)
        assert await orch.retention.run_once() == {"default": 1}
        assert await orch.retention.run_once() == {}
        trail = orch.security_manager.trail
        assert trail is not None
        await trail.flush()
        page = await trail.log.list("acme", action_prefix="retention")
        [entry] = page.entries
        assert (entry.actor, entry.details) == (
            "system",
            {"alerts_deleted": 1, "resolved_days": 7.0},
        )
    finally:
        await orch.stop_all()


def test_no_policy_means_no_job() -> None:
    orch = EngineOrchestrator(settings=load_settings({}, environ={}))
    assert orch.retention.days_for("default") is None
