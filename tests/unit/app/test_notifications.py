"""The notification path end to end in one process: ingest -> dispatcher -> hub -> outbox ->
webhook on loopback, on a fake clock; a restart neither re-pages nor forgets a resolve."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core_alerts.app import EngineOrchestrator, parse_routing
from core_alerts.config import load_settings
from core_alerts.domain.clock import FixedClock
from core_alerts.domain.errors import ConfigError
from tests.support.receiver import Answer, Receiver
from tests.support.services import temporary_pg_database

CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: ['team="db"']
      receiver: db
receivers:
  - name: hook
    webhook_configs:
      - url: {url}/hook
  - name: db
    webhook_configs:
      - url: {url}/db
        send_resolved: false
"""


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The database settings of one backend (a fresh PostgreSQL database per test)."""
    if request.param == "sqlite":
        yield {"sqlite_path": str(tmp_path / "t.db")}
        return
    with temporary_pg_database() as dsn:
        yield {"backend": "postgres", "url": dsn}


def settings(tmp_path: Path, receiver: Receiver, database: dict[str, Any] | None = None) -> Any:
    config = tmp_path / "alertmanager.yml"
    if not config.exists():
        config.write_text(CONFIG.format(url=f"http://127.0.0.1:{receiver.port}"))
    return load_settings(
        {
            "database": database or {"sqlite_path": str(tmp_path / "t.db")},
            "notifications": {
                "config_file": str(config),
                "outbound_allow": ["127.0.0.1/32"],
                "external_url": "https://alerts.example",
            },
        },
        environ={},
    )


async def started(
    tmp_path: Path,
    receiver: Receiver,
    clock: FixedClock,
    database: dict[str, Any] | None = None,
) -> EngineOrchestrator:
    orch = EngineOrchestrator(settings=settings(tmp_path, receiver, database), clock=clock)
    await orch.start_all()
    assert orch.notifications is not None
    await orch.notifications.stop_loops()  # the test moves time and drives the loops
    return orch


async def post(orch: EngineOrchestrator, *alerts: dict[str, Any]) -> None:
    await orch.alert_engine.ingest_payload(
        "alertmanager", json.dumps(list(alerts)).encode(), tenant_id="default"
    )
    await orch.bus.join()


async def tick(orch: EngineOrchestrator, clock: FixedClock, seconds: float) -> None:
    assert orch.notifications is not None
    clock.advance(seconds)
    await orch.notifications.dispatcher.run_due()
    await orch.notifications.delivery.run_once()


def ended(clock: FixedClock) -> str:
    return datetime.fromtimestamp(clock.now(), UTC).isoformat()


def bodies(receiver: Receiver, path: str) -> list[dict[str, Any]]:
    return [r.json() for r in receiver.requests if r.path == path]


async def test_first_notification_after_group_wait_then_resolve(
    tmp_path, receiver, clock, database
):
    orch = await started(tmp_path, receiver, clock, database)
    try:
        await post(orch, {"labels": {"alertname": "Down", "instance": "a"}},
                   {"labels": {"alertname": "Down", "instance": "b"}})  # fmt: skip
        await tick(orch, clock, 29)
        assert receiver.requests == []  # group_wait not over
        await tick(orch, clock, 1)
        [first] = bodies(receiver, "/hook")
        assert first["status"] == "firing" and first["receiver"] == "hook"
        assert first["groupKey"] == '{}:{alertname="Down"}'
        assert first["externalURL"] == "https://alerts.example"
        assert sorted(a["labels"]["instance"] for a in first["alerts"]) == ["a", "b"]
        key = receiver.requests[0].headers["Idempotency-Key"]
        assert key
        await post(orch, {"labels": {"alertname": "Down", "instance": "a"},
                          "endsAt": ended(clock)})  # fmt: skip
        await tick(orch, clock, 300)
        second = bodies(receiver, "/hook")[1]
        statuses = {a["labels"]["instance"]: a["status"] for a in second["alerts"]}
        assert statuses == {"a": "resolved", "b": "firing"}
        assert receiver.requests[1].headers["Idempotency-Key"] != key
        await tick(orch, clock, 300)
        assert len(bodies(receiver, "/hook")) == 2  # nothing new: no notification
        # The alert's notification history names both deliveries.
        rec = await orch.store.get_by_fingerprint("default", first["alerts"][0]["fingerprint"])
        assert orch.notifications is not None and rec is not None
        history = await orch.notifications.store.for_alert("default", rec.id)
        assert [e.state for e in history] == ["delivered", "delivered"]
        await orch.notifications.delivery.refresh_gauges()
        metrics = orch.metrics.render().decode()
        assert 'notifications_total{integration="webhook",status="delivered"} 2.0' in metrics
        assert 'notification_queue_depth{tenant_id="default"} 0.0' in metrics
        assert 'notification_group_flushes_total{result="notified"} 2.0' in metrics
        assert "notification_latency_seconds_count" in metrics
    finally:
        await orch.stop_all()


async def test_send_resolved_false_gets_only_firing(tmp_path, receiver, clock):
    orch = await started(tmp_path, receiver, clock)
    try:
        await post(orch, {"labels": {"alertname": "Slow", "team": "db"}})
        await tick(orch, clock, 30)
        await post(orch, {"labels": {"alertname": "Slow", "team": "db"},
                          "endsAt": ended(clock)})  # fmt: skip
        await tick(orch, clock, 300)
        assert [b["status"] for b in bodies(receiver, "/db")] == ["firing"]
    finally:
        await orch.stop_all()


async def test_restart_neither_repages_nor_forgets_a_pending_resolve(
    tmp_path, receiver, clock, database
):
    orch = await started(tmp_path, receiver, clock, database)
    await post(orch, {"labels": {"alertname": "Down", "instance": "a"}},
               {"labels": {"alertname": "Down", "instance": "b"}})  # fmt: skip
    await tick(orch, clock, 30)
    assert len(bodies(receiver, "/hook")) == 1
    # Resolved while the service is going down: the resolve is owed.
    await post(orch, {"labels": {"alertname": "Down", "instance": "a"},
                      "endsAt": ended(clock)})  # fmt: skip
    await orch.stop_all()

    again = await started(tmp_path, receiver, clock, database)
    try:
        await tick(again, clock, 60)  # before the group's next tick: nothing
        assert len(bodies(receiver, "/hook")) == 1
        await tick(again, clock, 240)  # the stored tick, 5 min after the first flush
        sent = bodies(receiver, "/hook")
        assert len(sent) == 2
        statuses = {a["labels"]["instance"]: a["status"] for a in sent[1]["alerts"]}
        assert statuses == {"a": "resolved", "b": "firing"}
        await tick(again, clock, 300)
        assert len(bodies(receiver, "/hook")) == 2  # no repeat before repeat_interval
    finally:
        await again.stop_all()


async def test_pending_deliveries_survive_a_restart_with_their_idempotency_key(
    tmp_path, receiver, clock
):
    receiver.queue(Answer(status=503))
    orch = await started(tmp_path, receiver, clock)
    await post(orch, {"labels": {"alertname": "Down"}})
    await tick(orch, clock, 30)
    assert len(receiver.requests) == 1
    first_key = receiver.requests[0].headers["Idempotency-Key"]
    await orch.stop_all()

    again = await started(tmp_path, receiver, clock)
    try:
        await tick(again, clock, 2)  # the retry is due after at most backoff_initial
        assert len(receiver.requests) == 2
        assert receiver.requests[1].headers["Idempotency-Key"] == first_key
        assert again.notifications is not None
        [entry] = (await again.notifications.store.list_outbox("default")).entries
        assert (entry.state, entry.attempts) == ("delivered", 2)
    finally:
        await again.stop_all()


async def test_a_bad_config_file_fails_the_start_naming_the_line(tmp_path, receiver, clock):
    (tmp_path / "alertmanager.yml").write_text("route:\n  receiver: nobody\nreceivers: []\n")
    orch = EngineOrchestrator(settings=settings(tmp_path, receiver), clock=clock)
    with pytest.raises(Exception, match="line 2: undefined receiver 'nobody'"):
        await orch.start_all()


async def test_retry_after_is_honoured_then_a_4xx_is_a_dead_letter(tmp_path, receiver, clock):
    receiver.queue(Answer(status=429, headers={"Retry-After": "30"}), Answer(status=400))
    orch = await started(tmp_path, receiver, clock)
    try:
        assert orch.notifications is not None
        await post(orch, {"labels": {"alertname": "Down"}})
        await tick(orch, clock, 30)
        assert len(receiver.requests) == 1
        [entry] = (await orch.notifications.store.list_outbox("default")).entries
        assert entry.state == "pending" and entry.next_attempt_at - clock.now() >= 30
        await tick(orch, clock, 29)
        assert len(receiver.requests) == 1  # the receiver asked for 30 s
        await tick(orch, clock, 1)
        assert len(receiver.requests) == 2
        [entry] = (await orch.notifications.store.list_outbox("default", state="dead")).entries
        assert entry.attempts == 2 and entry.last_error.startswith("answered 400")
        keys = {r.headers["Idempotency-Key"] for r in receiver.requests}
        assert keys == {entry.id}
    finally:
        await orch.stop_all()


UTF8_CONFIG = """
route:
  receiver: default
  routes:
    - matchers: ['"service.name"="checkout"', 'team=~"db|🙂"']
      receiver: utf8
receivers:
  - name: default
  - name: utf8
"""


def test_matcher_syntax_reads_route_matchers_as_configured() -> None:
    with pytest.raises(ConfigError, match="line 5"):
        parse_routing(UTF8_CONFIG, syntax="classic")  # a quoted name is not classic syntax
    for syntax in ("utf8", "fallback"):
        routing = parse_routing(UTF8_CONFIG, syntax=syntax)  # type: ignore[arg-type]
        labels = {"service.name": "checkout", "team": "🙂"}
        assert routing.tree.receivers(labels) == ["utf8"]
        assert routing.tree.receivers({"service.name": "checkout", "team": "web"}) == ["default"]


async def test_alerts_of_a_config_that_sends_nothing_are_grouped_once_one_does(
    tmp_path, receiver, clock
):
    """The default config sends nothing, so its alerts are not grouped (no memory per
    alert); a config that sends picks up the alerts already active."""
    s = load_settings(
        {
            "database": {"sqlite_path": str(tmp_path / "t.db")},
            "notifications": {"outbound_allow": ["127.0.0.1/32"]},
        },
        environ={},
    )
    orch = EngineOrchestrator(settings=s, clock=clock)
    await orch.start_all()
    try:
        assert orch.notifications is not None
        await orch.notifications.stop_loops()
        await post(orch, {"labels": {"alertname": "Early", "instance": "a"}})
        assert orch.notifications.dispatcher.groups("default") == []
        config = CONFIG.format(url=f"http://127.0.0.1:{receiver.port}")
        await orch.notifications.save("default", config, "tests")
        [group] = orch.notifications.dispatcher.groups("default")
        assert group.receiver == "hook"
        await post(orch, {"labels": {"alertname": "Early", "instance": "b"}})
        await tick(orch, clock, 30)
        [sent] = bodies(receiver, "/hook")
        assert sorted(a["labels"]["instance"] for a in sent["alerts"]) == ["a", "b"]
    finally:
        await orch.stop_all()


async def test_a_config_that_stops_sending_forgets_its_groups(tmp_path, receiver, clock):
    """While a tenant's config sends nothing its alerts are not followed; when it sends
    again, alerts resolved meanwhile must not come back as firing members."""
    orch = await started(tmp_path, receiver, clock)
    try:
        assert orch.notifications is not None
        notifications = orch.notifications
        await post(orch, {"labels": {"alertname": "Down", "instance": "a"}},
                   {"labels": {"alertname": "Down", "instance": "b"}})  # fmt: skip
        assert len(notifications.dispatcher.groups("default")) == 1
        silent = "route:\n  receiver: quiet\nreceivers:\n  - name: quiet\n"
        await notifications.save("default", silent, "tests")
        assert notifications.dispatcher.groups("default") == []
        await post(orch, {"labels": {"alertname": "Down", "instance": "a"},
                          "endsAt": ended(clock)})  # fmt: skip
        config = CONFIG.format(url=f"http://127.0.0.1:{receiver.port}")
        await notifications.save("default", config, "tests")
        [group] = notifications.dispatcher.groups("default")
        assert [m.resolved for m in group.members] == [False]  # only b, still firing
        await tick(orch, clock, 30)
        [sent] = bodies(receiver, "/hook")
        assert [a["labels"]["instance"] for a in sent["alerts"]] == ["b"]
    finally:
        await orch.stop_all()
