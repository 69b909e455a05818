"""The Python SDK against a real `core-alerts serve` process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core_alerts.client import AlertPage, AlertsClient, ApiError
from core_alerts.domain import Alert, AlertMetadata, AlertSeverity, AlertStatus
from core_alerts.domain.access import Role
from tests.support.server import ServerProcess


@pytest.fixture
async def client(live_server: ServerProcess) -> AsyncIterator[AlertsClient]:
    async with AlertsClient(live_server.url, token=live_server.token()) as c:
        yield c


async def test_health_and_ready(client: AlertsClient) -> None:
    assert await client.health() == {"status": "ok"}
    assert (await client.ready())["status"] == "ready"


async def test_send_one_dict_and_read_it_back(client: AlertsClient) -> None:
    sent = await client.send(
        {
            "title": "disk full",
            "severity": "high",
            "labels": {"host": "db1"},
            "annotations": {"a": "b"},
        }
    )
    assert sent.accepted == 1
    result = sent.results[0]
    assert (result.outcome, result.status, result.occurrences) == ("created", "firing", 1)
    alert = await client.get(result.alert_id)
    assert alert.title == "disk full"
    assert alert.severity is AlertSeverity.HIGH
    assert alert.status is AlertStatus.FIRING
    assert alert.labels == {"host": "db1"}
    assert alert.annotations == {"a": "b"}
    assert alert.starts_at.tzinfo is not None


async def test_send_domain_alert_maps_every_field(client: AlertsClient) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    alert = Alert(
        metadata=AlertMetadata(dedup_key="db1-disk"),
        title="disk full",
        description="/var is at 99%",
        severity=AlertSeverity.CRITICAL,
        labels={"host": "db1"},
        annotations={"runbook": "https://runbooks/disk"},
        starts_at=start,
        generator_url="https://prom/graph",
    )
    result = (await client.send(alert)).results[0]
    stored = await client.get(result.alert_id)
    assert stored.dedup_key == "db1-disk"
    assert stored.description == "/var is at 99%"
    assert stored.severity is AlertSeverity.CRITICAL
    assert stored.generator_url == "https://prom/graph"
    assert abs((stored.starts_at - start).total_seconds()) < 0.01
    # The same dedup key with other labels is the same alert.
    again = Alert(metadata=AlertMetadata(dedup_key="db1-disk"), title="x", labels={"h": "2"})
    assert (await client.send(again)).results[0].alert_id == result.alert_id

    resolved = Alert(
        metadata=AlertMetadata(dedup_key="db1-disk"), title="ok", status=AlertStatus.RESOLVED
    )
    outcome = (await client.send(resolved)).results[0]
    assert (outcome.outcome, outcome.status) == ("resolved", "resolved")


async def test_send_batch_reports_dedup_outcomes_in_order(client: AlertsClient) -> None:
    batch = [
        {"title": "a", "labels": {"alertname": "A"}},
        {"title": "b", "labels": {"alertname": "B"}},
        {"title": "a again", "labels": {"alertname": "A"}},
    ]
    sent = await client.send(batch)
    assert sent.accepted == 3
    assert [r.outcome for r in sent.results] == ["created", "created", "deduplicated"]
    assert sent.results[0].alert_id == sent.results[2].alert_id
    assert sent.results[2].occurrences == 2
    assert (await client.get(sent.results[0].alert_id)).title == "a again"


async def test_invalid_send_raises_api_error_with_field_and_index(client: AlertsClient) -> None:
    with pytest.raises(ApiError) as info:
        await client.send([{"title": "ok"}, {"title": "bad", "severity": "bogus"}])
    err = info.value
    assert (err.status, err.title, err.field, err.index) == (422, "ValidationFailed", "severity", 1)
    assert "unknown severity" in err.detail
    assert (await client.list()).items == []  # all or nothing


async def test_send_alertmanager(client: AlertsClient) -> None:
    await client.send_alertmanager(
        [{"labels": {"alertname": "HighLatency", "severity": "critical"}, "annotations": {}}]
    )
    page = await client.list(filters=['alertname="HighLatency"'])
    assert [a.severity for a in page.items] == [AlertSeverity.CRITICAL]
    assert page.items[0].source == "alertmanager"


async def test_list_filters_by_status_severity_and_labels(client: AlertsClient) -> None:
    sent = await client.send(
        [
            {"title": "db down", "severity": "critical", "labels": {"team": "db", "env": "prod"}},
            {"title": "db slow", "severity": "low", "labels": {"team": "db", "env": "dev"}},
            {"title": "web down", "severity": "critical", "labels": {"team": "web"}},
        ]
    )
    ids = [r.alert_id for r in sent.results]
    await client.ack(ids[0])

    def titles(page: AlertPage) -> set[str]:
        return {a.title for a in page.items}

    assert titles(await client.list(filters=['team="db"'])) == {"db down", "db slow"}
    assert titles(await client.list(filters=['team="db"', 'env=~"pro.*"'])) == {"db down"}
    assert titles(await client.list(severity="critical")) == {"db down", "web down"}
    assert titles(await client.list(status=AlertStatus.FIRING)) == {"db slow", "web down"}
    both = await client.list(status=["firing", "acknowledged"], severity=["low"])
    assert titles(both) == {"db slow"}
    assert titles(await client.list(since=datetime.now(UTC) + timedelta(hours=1))) == set()
    with pytest.raises(ApiError) as info:
        await client.list(filters=["team~~db"])
    assert (info.value.status, info.value.field) == (422, "filter")


async def test_iterate_follows_cursors_over_many_pages(client: AlertsClient) -> None:
    batch = [
        {"title": f"alert {i}", "labels": {"n": str(i), "parity": "odd" if i % 2 else "even"}}
        for i in range(260)
    ]
    await client.send(batch)
    first = await client.list(limit=100)
    assert len(first.items) == 100
    assert first.next_cursor is not None
    assert first.items[0].labels["n"] == "259"  # newest first

    seen = [a.labels["n"] async for a in client.iterate(limit=100)]
    assert len(seen) == 260
    assert seen == [str(i) for i in range(259, -1, -1)]

    odd = [a async for a in client.iterate(filters=['parity="odd"'], limit=40)]
    assert len(odd) == 130
    assert len({a.id for a in odd}) == 130
    last = await client.list(limit=60, cursor=(await client.list(limit=200)).next_cursor)
    assert (len(last.items), last.next_cursor) == (60, None)


async def test_ack_unack_resolve_and_history(client: AlertsClient) -> None:
    alert_id = (await client.send({"title": "cpu hot"})).results[0].alert_id
    acked = await client.ack(alert_id, actor="alice", comment="looking")
    assert acked.status is AlertStatus.ACKNOWLEDGED
    assert acked.acked_by == "tests (alice)"  # the token's subject, and whom it acts for
    assert acked.acked_at is not None

    with pytest.raises(ApiError) as info:
        await client.ack(alert_id)
    assert (info.value.status, info.value.title) == (409, "InvalidTransition")
    assert "acknowledged" in info.value.detail

    assert (await client.unack(alert_id, actor="alice")).status is AlertStatus.FIRING
    resolved = await client.resolve(alert_id, actor="bob", comment="fixed the fan")
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.resolved_at is not None
    with pytest.raises(ApiError) as info:
        await client.resolve(alert_id)
    assert info.value.status == 409

    detail = await client.get(alert_id)
    steps = [(t.from_status, t.to_status, t.actor, t.comment) for t in detail.history]
    assert steps == [
        (None, "firing", "source", ""),
        ("firing", "acknowledged", "tests (alice)", "looking"),
        ("acknowledged", "firing", "tests (alice)", ""),
        ("firing", "resolved", "tests (bob)", "fixed the fan"),
    ]


async def test_unknown_alert_raises_404(client: AlertsClient) -> None:
    for call in (client.get, client.explain, client.ack, client.resolve):
        with pytest.raises(ApiError) as info:
            await call("no-such-alert")
        assert (info.value.status, info.value.title) == (404, "AlertNotFound")
        assert info.value.detail == "alert no-such-alert not found"
    with pytest.raises(ApiError) as info:
        await client.get("../../healthz")  # quoted: stays one path segment
    assert info.value.status == 404


async def test_explain(client: AlertsClient) -> None:
    sent = await client.send([{"title": "x", "dedup_key": "k"}, {"title": "y", "dedup_key": "k"}])
    record = await client.explain(sent.results[0].alert_id)
    assert record["alert_id"] == sent.results[0].alert_id
    assert record["fingerprint"]["from"] == "dedup_key"
    assert record["deduplication"]["occurrences"] == 2
    assert [t["to_status"] for t in record["transitions"]] == ["firing"]


async def test_tenants_are_isolated(live_server: ServerProcess) -> None:
    for tenant in ("team-a", "team-b"):
        made = httpx.post(
            f"{live_server.url}/api/v1/tenants", json={"id": tenant}, headers=live_server.headers
        )
        assert made.status_code == 201, made.text
    token_a = live_server.token("team-a", Role.RESPONDER)
    token_b = live_server.token("team-b", Role.RESPONDER)
    async with (
        AlertsClient(live_server.url, token=token_a) as a,
        AlertsClient(live_server.url, token=token_b) as b,
        AlertsClient(live_server.url, token=token_b, tenant="team-a") as b_in_a,
    ):
        alert_id = (await a.send({"title": "only for a"})).results[0].alert_id
        assert [x.id for x in (await a.list()).items] == [alert_id]
        assert (await b.list()).items == []
        with pytest.raises(ApiError) as info:
            await b.get(alert_id)
        assert info.value.status == 404
        with pytest.raises(ApiError) as info:
            await b.ack(alert_id)
        assert info.value.status == 404
        with pytest.raises(ApiError) as info:  # naming another tenant: as if it did not exist
            await b_in_a.list()
        assert info.value.status == 404
    async with AlertsClient(live_server.url, token=token_a, tenant="bad tenant!") as bad:
        with pytest.raises(ApiError) as info:
            await bad.list()
        assert (info.value.status, info.value.field) == (422, "X-Tenant-ID")


async def test_headers_retries_and_non_problem_errors() -> None:
    """Transport-level behaviour (no server): headers, GET retries on 503, POSTs not retried."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/healthz" and len(seen) < 3:
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"title": "NotReady"})
        if request.url.path == "/api/v1/alerts":
            return httpx.Response(429, headers={"Retry-After": "0"}, text="slow down")
        return httpx.Response(200, json={"status": "ok"})

    transport = httpx.MockTransport(handler)
    async with AlertsClient("http://svc", tenant="t1", token="s3cret", transport=transport) as c:
        assert await c.health() == {"status": "ok"}
        assert len(seen) == 3
        assert seen[0].headers["Authorization"] == "Bearer s3cret"
        assert seen[0].headers["X-Tenant-ID"] == "t1"
        with pytest.raises(ApiError) as info:
            await c.send({"title": "x"})
        assert len(seen) == 4  # a POST is never repeated
        assert (info.value.status, info.value.detail) == (429, "slow down")
        with pytest.raises(ApiError):
            await c.list()
        assert len(seen) == 4 + 1 + c.retries
