"""Notifications survive a crash: SIGKILL the service with deliveries pending; after a
restart every notification reaches the webhook at least once, and every duplicate carries
the same idempotency key (and the same content) as the first attempt."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.receiver import Answer, Receiver
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration

GROUPS = 20


def config_files(tmp_path: Path, port: int) -> dict[str, str]:
    am = tmp_path / "alertmanager.yml"
    am.write_text(
        yaml.safe_dump(
            {
                "route": {
                    "receiver": "hook",
                    "group_by": ["alertname"],
                    "group_wait": "0s",
                    "group_interval": "1s",
                    "repeat_interval": "1h",
                },
                "receivers": [
                    {"name": "hook", "webhook_configs": [{"url": f"http://127.0.0.1:{port}/h"}]}
                ],
            }
        )
    )
    service = tmp_path / "core-alerts.yml"
    service.write_text(
        yaml.safe_dump(
            {
                "core_alerts": {
                    "notifications": {
                        "config_file": str(am),
                        "outbound_allow": ["127.0.0.1/32"],
                        "backoff_initial": 0.2,
                        "backoff_max": 1.0,
                        "max_attempts": 1000,
                        "lease": 4.0,
                    }
                }
            }
        )
    )
    return {"ALERTS_CONFIG": str(service)}


async def wait_until(check, what: str, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_sigkill_with_pending_notifications_loses_none(tmp_path: Path) -> None:
    async with Receiver() as receiver:
        receiver.queue(*[Answer(status=503) for _ in range(100_000)])  # down until told
        server = ServerProcess(tmp_path, env=config_files(tmp_path, receiver.port))
        await asyncio.to_thread(server.start)
        try:
            alerts = [{"labels": {"alertname": f"A{i}", "job": "x"}} for i in range(GROUPS)]
            async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as api:
                r = await api.post("/api/v2/alerts", json=alerts)
                assert r.status_code == 200
            # Every group has been tried (and refused) at least once: all are pending.
            await wait_until(
                lambda: len({r.json()["groupKey"] for r in receiver.requests}) == GROUPS,
                "a first attempt for every group",
            )
        finally:
            await asyncio.to_thread(server.kill)
        receiver.answers.clear()  # the receiver is back: 200 from now on
        refused = len(receiver.requests)

        await asyncio.to_thread(server.start)
        try:

            def delivered() -> set[str]:
                return {r.json()["groupKey"] for r in receiver.requests[refused:]}

            await wait_until(lambda: len(delivered()) == GROUPS, "every group delivered")
        finally:
            await asyncio.to_thread(server.stop)

    bodies_by_key: dict[str, set[bytes]] = defaultdict(set)
    for request in receiver.requests:
        bodies_by_key[request.headers["Idempotency-Key"]].add(request.body)
    # One key per notification, and every attempt of it, before and after the crash, carried
    # that key and the same body.
    assert len(bodies_by_key) == GROUPS
    assert all(len(bodies) == 1 for bodies in bodies_by_key.values())
    assert len(receiver.requests) > GROUPS  # there were duplicates to check
