"""StateManager against a real store: auto-resolve sweeps, published events, history."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from core_alerts.app import EngineOrchestrator
from core_alerts.domain.clock import FixedClock
from core_alerts.domain.events import AlertChanged


async def test_sweep_resolves_expired_alerts_and_publishes(
    orchestrator: EngineOrchestrator, clock: FixedClock
) -> None:
    seen: list[AlertChanged] = []
    done = asyncio.Event()

    async def collect(events: Sequence[Any]) -> None:
        seen.extend(events)
        if any(e.outcome == "expired" for e in events):
            done.set()

    orchestrator.bus.subscribe(AlertChanged.topic, collect)
    engine = orchestrator.alert_engine
    body = b'[{"labels": {"alertname": "Gone"}}, {"labels": {"alertname": "Stays"}, "endsAt": "2099-01-01T00:00:00Z"}]'
    results = await engine.ingest_payload("alertmanager", body, tenant_id="t1")
    clock.advance(299)
    assert await orchestrator.state_manager.expire_due() == 0
    clock.advance(2)
    assert await orchestrator.state_manager.expire_due() == 1
    await asyncio.wait_for(done.wait(), 5)
    expired = [e for e in seen if e.outcome == "expired"]
    assert [e.alert_id for e in expired] == [results[0].alert_id]
    history = await orchestrator.state_manager.history("t1", results[0].alert_id)
    assert history[-1].to_status == "resolved" and history[-1].actor == "system"
    assert history[-1].reason.startswith("resolve_timeout")
    stays = await orchestrator.store.get("t1", results[1].alert_id)
    assert stays is not None and stays.status == "firing"
