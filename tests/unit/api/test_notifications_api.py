"""Routing config API (secrets hidden and kept, line-numbered errors, hot reload), routing
test, receivers and groups, channel schemas, notification history and dead letters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from core_alerts.app import EngineOrchestrator
from core_alerts.crypto import generate_master_key
from core_alerts.domain.notification import Notification, NotifiedAlert

pytestmark = pytest.mark.asyncio

CONFIG = """\
global:
  slack_api_url: https://hooks.slack.example/services/T0/B0/SECRET1
route:
  receiver: ops
  group_by: [alertname]
  routes:
    - matchers: ['team="db"']
      receiver: db
      continue: true
    - matchers: ['severity=~"critical|page"']
      receiver: pager
receivers:
  - name: ops
    webhook_configs:
      - url: https://hooks.example/ops?token=SECRET2
  - name: db
    slack_configs:
      - channel: '#db'
  - name: pager
    webhook_configs:
      - url: https://hooks.example/pager
        http_config:
          authorization:
            credentials: SECRET3
"""


@pytest.fixture
def api_config(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "am.yml").write_text(
        "route:\n  receiver: fallback\nreceivers:\n  - name: fallback\n"
    )
    return {
        "notifications": {"config_file": str(tmp_path / "am.yml")},
        "security": {"encryption_key": generate_master_key()},
    }


async def put(api: httpx.AsyncClient, text: str, tenant: str = "acme") -> httpx.Response:
    return await api.put(
        "/api/v1/config",
        content=text,
        headers={"Content-Type": "application/yaml", "X-Tenant-ID": tenant},
    )


async def test_config_secrets_are_hidden_kept_on_save_and_encrypted_at_rest(
    api: httpx.AsyncClient, api_orchestrator: EngineOrchestrator
) -> None:
    r = await put(api, CONFIG)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1 and r.json()["source"] == "api"
    shown = (await api.get("/api/v1/config", headers={"X-Tenant-ID": "acme"})).json()["config"]
    assert "SECRET" not in shown
    assert shown.count("<secret>") == 4  # webhook URLs are secrets too, as in Alertmanager
    # Saving the shown text back keeps every secret in place.
    r = await put(api, shown)
    assert r.status_code == 200 and r.json()["version"] == 2
    notifications = api_orchestrator.notifications
    assert notifications is not None
    original = notifications.routing("acme").config.original  # type: ignore[union-attr]
    assert all(f"SECRET{i}" in original for i in (1, 2, 3))
    stored = await notifications.store.get_config("acme")
    assert stored is not None and stored.text.startswith("enc:") and "SECRET" not in stored.text


async def test_a_placeholder_without_a_saved_value_is_refused(api: httpx.AsyncClient) -> None:
    text = CONFIG.replace("https://hooks.example/pager", "<secret>")
    r = await put(api, text, tenant="beta")
    assert r.status_code == 422
    assert "pager.webhook_configs.0.url is <secret>" in r.json()["detail"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("route:\n  receiver: x\n  bad: [\n", "invalid YAML"),
        ("route:\n  receiver: nobody\nreceivers: []\n", "line 2: undefined receiver 'nobody'"),
        (
            "route:\n  receiver: r\nreceivers:\n  - name: r\n    webhook_configs:\n"
            "      - url: ftp://x\n",
            "line 4: receiver 'r': webhook_configs[0]",
        ),
        (
            "route:\n  receiver: r\nreceivers:\n  - name: r\n    telegram_configs: []\n",
            "use apprise_configs with a tgram:// URL",
        ),
    ],
)
async def test_an_invalid_config_is_refused_and_changes_nothing(
    api: httpx.AsyncClient, text: str, message: str
) -> None:
    assert (await put(api, CONFIG)).status_code == 200
    r = await put(api, text)
    assert r.status_code == 422 and message in r.json()["detail"], r.json()
    shown = (await api.get("/api/v1/config", headers={"X-Tenant-ID": "acme"})).json()
    assert shown["version"] == 1


async def test_json_body_and_tenant_isolation(api: httpx.AsyncClient) -> None:
    r = await api.put("/api/v1/config", json={"config": CONFIG}, headers={"X-Tenant-ID": "alpha"})
    assert r.status_code == 200
    other = (await api.get("/api/v1/config", headers={"X-Tenant-ID": "gamma"})).json()
    assert other["source"] == "file" and "fallback" in other["config"]


async def test_routing_test_gives_receivers_in_tree_order_and_groups(
    api: httpx.AsyncClient,
) -> None:
    await put(api, CONFIG)
    r = await api.post(
        "/api/v1/routing/test",
        json={"labels": {"alertname": "Slow", "team": "db", "severity": "critical"}},
        headers={"X-Tenant-ID": "acme"},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["receivers"] == ["db", "pager"]
    assert body["routes"][0]["group_key"] == '{}/{team="db"}:{alertname="Slow"}'
    assert body["routes"][0]["group_wait"] == 30.0
    bad = await api.post("/api/v1/routing/test", json={"labels": {"a": 1}},
                         headers={"X-Tenant-ID": "acme"})  # fmt: skip
    assert bad.status_code == 422


async def test_v2_receivers_alert_receivers_groups_and_status(api: httpx.AsyncClient) -> None:
    await put(api, CONFIG)
    h = {"X-Tenant-ID": "acme"}
    names = [r["name"] for r in (await api.get("/api/v2/receivers", headers=h)).json()]
    assert names == ["ops", "db", "pager"]
    alerts = [
        {"labels": {"alertname": "Slow", "team": "db", "severity": "page"}},
        {"labels": {"alertname": "Slow", "team": "db"}},
        {"labels": {"alertname": "Disk"}},
    ]
    assert (await api.post("/api/v2/alerts", json=alerts, headers=h)).status_code == 200
    got = (await api.get("/api/v2/alerts", headers=h)).json()
    receivers = {
        tuple(sorted(a["labels"].items())): [r["name"] for r in a["receivers"]] for a in got
    }
    assert receivers[(("alertname", "Slow"), ("severity", "page"), ("team", "db"))] == [
        "db", "pager"
    ]  # fmt: skip
    assert receivers[(("alertname", "Disk"),)] == ["ops"]
    only_db = (await api.get("/api/v2/alerts", params={"receiver": "d."}, headers=h)).json()
    assert len(only_db) == 2
    groups = (await api.get("/api/v2/alerts/groups", headers=h)).json()
    summary = sorted((g["receiver"]["name"], g["labels"]["alertname"], len(g["alerts"]))
                     for g in groups)  # fmt: skip
    assert summary == [("db", "Slow", 2), ("ops", "Disk", 1), ("pager", "Slow", 1)]
    status = (await api.get("/api/v2/status", headers=h)).json()
    assert "<secret>" in status["config"]["original"]
    assert "SECRET" not in status["config"]["original"]


async def test_channel_schemas_name_fields_and_secrets(api: httpx.AsyncClient) -> None:
    channels = {c["config_key"]: c for c in (await api.get("/api/v1/channels")).json()}
    assert {"webhook_configs", "slack_configs", "email_configs", "pagerduty_configs",
            "opsgenie_configs", "msteams_configs", "servicenow_configs",
            "apprise_configs"} <= set(channels)  # fmt: skip
    webhook = channels["webhook_configs"]
    assert "url" in webhook["secrets"]
    assert webhook["schema"]  # the JSON schema of the config type
    assert "description" in str(webhook["schema"])


def dead(n: int, tenant: str = "default") -> Notification:
    alert = NotifiedAlert(
        alert_id="a1",
        fingerprint="f" * 16,
        status="firing",
        labels={"alertname": "X"},
        annotations={},
        starts_at=1.0,
    )
    return Notification(id=f"n{n}", tenant_id=tenant, receiver="fallback",
                        integration="webhook[0]", group_key="{}:{}", group_labels={},
                        alerts=(alert,), created_at=1.0)  # fmt: skip


async def test_dead_letters_are_listed_and_replayed(
    api: httpx.AsyncClient, api_orchestrator: EngineOrchestrator
) -> None:
    notifications = api_orchestrator.notifications
    assert notifications is not None
    store = notifications.store
    await notifications.stop_loops()  # keep the replayed entries where the test can see them
    await store.enqueue([dead(1), dead(2), dead(3, tenant="beta")], [])
    for nid in ("n1", "n2", "n3"):
        await store.mark_dead(nid, 10, "answered 500 (gave up after 10 attempts)", 2.0)
    page = (await api.get("/api/v1/notifications", params={"state": "dead"})).json()
    assert [e["notification"]["id"] for e in page["entries"]] == ["n1", "n2"]
    assert page["entries"][0]["last_error"].startswith("answered 500")
    one = (await api.get("/api/v1/notifications/n1")).json()
    assert one["state"] == "dead"
    assert (await api.get("/api/v1/notifications/n3")).status_code == 404  # other tenant
    r = await api.post("/api/v1/notifications/replay", json={"ids": ["n1"]})
    assert r.json() == {"replayed": 1}
    r = await api.post("/api/v1/notifications/replay", json={"all": True})
    assert r.json() == {"replayed": 1}
    bad = await api.post("/api/v1/notifications/replay", json={"all": True, "ids": ["n1"]})
    assert bad.status_code == 422
    pending = (await api.get("/api/v1/notifications", params={"state": "pending"})).json()
    assert sorted(e["notification"]["id"] for e in pending["entries"]) == ["n1", "n2"]
    assert (await store.get_outbox("beta", "n3")).state == "dead"  # type: ignore[union-attr]


async def test_alert_notification_history(
    api: httpx.AsyncClient, api_orchestrator: EngineOrchestrator
) -> None:
    r = await api.post("/api/v1/alerts", json={"title": "X", "labels": {"alertname": "X"}})
    alert_id = r.json()["results"][0]["alert_id"]
    assert (await api.get(f"/api/v1/alerts/{alert_id}/notifications")).json() == []
    notifications = api_orchestrator.notifications
    assert notifications is not None
    n = dead(9)
    n = Notification(**{**{f: getattr(n, f) for f in n.__struct_fields__},
                        "alerts": (NotifiedAlert(**{**{f: getattr(n.alerts[0], f) for f in
                                   n.alerts[0].__struct_fields__}, "alert_id": alert_id}),)})  # fmt: skip
    await notifications.store.enqueue([n], [])
    history = (await api.get(f"/api/v1/alerts/{alert_id}/notifications")).json()
    assert [e["notification"]["id"] for e in history] == ["n9"]
    explained = (await api.get(f"/api/v1/alerts/{alert_id}/explain")).json()
    [notify] = [d for d in explained["decisions"] if d["stage"] == "notify"]
    assert notify["decision"] == "queued" and "via fallback/webhook[0]" in notify["reason"]
    assert (await api.get("/api/v1/alerts/nope/notifications")).status_code == 404


async def test_reload_keeps_the_old_config_when_the_file_is_bad(
    api: httpx.AsyncClient, tmp_path: Path
) -> None:
    (tmp_path / "am.yml").write_text("route:\n  receiver: second\nreceivers:\n  - name: second\n")
    assert (await api.post("/-/reload")).status_code == 200
    names = [r["name"] for r in (await api.get("/api/v2/receivers")).json()]
    assert names == ["second"]
    (tmp_path / "am.yml").write_text("route:\n  receiver: gone\nreceivers: []\n")
    r = await api.post("/-/reload")
    assert r.status_code == 422 and "line 2: undefined receiver 'gone'" in r.json()["detail"]
    names = [r["name"] for r in (await api.get("/api/v2/receivers")).json()]
    assert names == ["second"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:9/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data", "metadata"),
        ("http://10.1.2.3/hook", "private"),
        ("http://localhost/hook", "local"),
    ],
)
async def test_a_destination_the_outbound_policy_refuses_is_refused_at_save(
    api: httpx.AsyncClient, url: str, reason: str
) -> None:
    text = f"route:\n  receiver: r\nreceivers:\n  - name: r\n    webhook_configs:\n      - url: {url}\n"
    r = await put(api, text)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "receiver 'r': webhook[0]" in detail and reason in detail.lower(), detail
