"""Annotations a tenant marks sensitive are encrypted in the database and shown decrypted
through the API; without a master key the setting is refused."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import msgspec
import pytest

from core_alerts.app import EngineOrchestrator
from core_alerts.config import load_settings
from core_alerts.crypto import generate_master_key
from core_alerts.domain.errors import ConfigError
from core_alerts.store import AlertQuery

KEY = generate_master_key()


@pytest.fixture
def api_config() -> dict[str, Any]:
    return {
        "security": {"encryption_key": KEY},
        "privacy": {"encrypt_annotations": ["token"], "tenants": {"beta": {}}},
    }


async def test_marked_annotations_are_ciphertext_at_rest_and_plain_through_the_api(
    api: httpx.AsyncClient, api_orchestrator: EngineOrchestrator
) -> None:
    alert = {"labels": {"alertname": "Leak"}, "annotations": {"token": "s3cr3t", "summary": "x"}}
    assert (await api.post("/api/v2/alerts", json=[alert])).status_code == 200
    assert (
        await api.post("/api/v2/alerts", json=[alert], headers={"X-Tenant-ID": "beta"})
    ).status_code == 200
    db = sqlite3.connect(api_orchestrator.settings.database.sqlite_path)
    await api_orchestrator.store.flush()  # type: ignore[attr-defined]
    stored = {
        tenant: msgspec.json.decode(annotations)
        for tenant, annotations in db.execute("SELECT tenant_id, annotations FROM alerts")
    }
    assert stored["default"]["token"].startswith("enc:v1:") and "s3cr3t" not in str(
        stored["default"]
    )
    assert stored["default"]["summary"] == "x"  # only the marked annotation
    assert stored["beta"]["token"] == "s3cr3t"  # beta's own rules mark nothing
    [shown] = (await api.get("/api/v2/alerts")).json()
    assert shown["annotations"]["token"] == "s3cr3t"
    [listed] = (await api.get("/api/v1/alerts")).json()["items"]
    assert listed["annotations"]["token"] == "s3cr3t"
    acked = await api.post(f"/api/v1/alerts/{listed['id']}/ack")
    assert acked.json()["annotations"]["token"] == "s3cr3t"

    # A ciphertext moved to another alert does not decrypt there.
    other = {"labels": {"alertname": "Other"}, "annotations": {"token": "mine"}}
    await api.post("/api/v2/alerts", json=[other])
    await api_orchestrator.store.flush()  # type: ignore[attr-defined]
    token = stored["default"]["token"]
    db.execute(
        "UPDATE alerts SET annotations = ? WHERE tenant_id = 'default' AND labels LIKE '%Other%'",
        (msgspec.json.encode({"token": token}).decode(),),
    )
    db.commit()
    db.close()
    api_orchestrator.store._cache.clear()  # type: ignore[attr-defined]
    moved = (await api.get("/api/v2/alerts", params={"filter": "alertname=Other"})).json()
    assert moved[0]["annotations"]["token"] == "<undecryptable>"


def test_marking_annotations_without_a_master_key_is_refused() -> None:
    settings = load_settings({"privacy": {"encrypt_annotations": ["token"]}}, environ={})
    with pytest.raises(ConfigError, match="needs a master key"):
        EngineOrchestrator(settings=settings)


async def test_rotation_then_reencryption_leaves_nothing_on_the_old_key(tmp_path: Any) -> None:
    import subprocess
    import sys
    from pathlib import Path

    from core_alerts.crypto import key_id_of
    from core_alerts.domain.clock import FixedClock

    db = str(tmp_path / "rot.db")
    config = {
        "database": {"sqlite_path": db},
        "security": {"encryption_key": KEY},
        "privacy": {"encrypt_annotations": ["token"]},
    }
    body = b'[{"labels": {"alertname": "A%d"}, "annotations": {"token": "t%d"}}]'

    async def run(action: Any) -> Any:
        orch = EngineOrchestrator(
            settings=load_settings(config, environ={}), clock=FixedClock(1.8e9)
        )
        await orch.start_all()
        try:
            return await action(orch)
        finally:
            await orch.stop_all()

    async def ingest(orch: EngineOrchestrator) -> list[str]:
        for n in range(3):
            await orch.alert_engine.ingest_payload(
                "alertmanager", body % (n, n), tenant_id="default"
            )
        page = await orch.store.query("default", AlertQuery(limit=10))
        return [key_id_of(r.annotations["token"]) for r in page.items]

    assert await run(ingest) == ["t1", "t1", "t1"]
    cli = Path(sys.executable).parent / "core-alerts"
    rotated = subprocess.run(
        [str(cli), "keys", "rotate"], capture_output=True, text=True, timeout=60, check=False,
        env={"ALERTS_DB_PATH": db, "ALERTS_ENCRYPTION_KEY": KEY, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert rotated.returncode == 0, rotated.stderr
    assert "default\tnow on data key t2" in rotated.stdout

    async def reseal(orch: EngineOrchestrator) -> tuple[dict[str, int], list[str], list[str]]:
        done = await orch.reseal_all()
        page = await orch.store.query("default", AlertQuery(limit=10))
        shown = await orch.alert_engine.sealed.reveal(page.items)
        return (
            done,
            sorted(key_id_of(r.annotations["token"]) for r in page.items),
            sorted(r.annotations["token"] for r in shown),
        )

    done, key_ids, values = await run(reseal)
    assert done == {"default": 3}
    assert key_ids == ["t2", "t2", "t2"]  # 0 values left on the old key
    assert values == ["t0", "t1", "t2"]
