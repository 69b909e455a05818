"""Source formats: decoding, validation and mapping of every supported payload."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
import pytest

from core_alerts.config import LimitSettings
from core_alerts.domain.errors import (
    ConfigError,
    LimitExceeded,
    MalformedInput,
    ValidationFailed,
)
from core_alerts.domain.fingerprint import fingerprint_labels
from core_alerts.domain.ingest import NormalizedAlert, SendAction
from core_alerts.ingest.formats import (
    FieldMapping,
    decode_alertmanager_webhook,
    decode_grafana,
    decode_pagerduty,
    make_generic_decoder,
)
from core_alerts.ingest.normalize import SourceContext

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z
Decoder = Callable[[bytes, SourceContext], list[NormalizedAlert]]


def make_ctx(**limits: Any) -> SourceContext:
    return SourceContext(
        tenant_id="t1",
        source="test",
        received_at=NOW,
        limits=LimitSettings(**limits),
        resolve_timeout=300.0,
    )


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def assert_invalid(
    decoder: Decoder, payload: Any, field: str | None, index: int | None = 0
) -> None:
    data = payload if isinstance(payload, bytes) else body(payload)
    with pytest.raises(ValidationFailed) as info:
        decoder(data, make_ctx())
    assert info.value.field == field, info.value.message
    if index is not None:
        assert info.value.index == index


# --- Alertmanager webhook ------------------------------------------------------------------


def am_webhook() -> dict[str, Any]:
    common = {"alertname": "HighLatency", "job": "api", "severity": "critical"}
    return {
        "receiver": "core-alerts",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {**common, "instance": "api-1:9090"},
                "annotations": {"summary": "p99 latency above 1s", "description": "api-1 slow"},
                "startsAt": "2023-11-14T22:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=latency",
                "fingerprint": "0123456789abcdef",
                "addedBySomeFutureVersion": {"x": [1, 2]},
            },
            {
                "status": "resolved",
                "labels": {**common, "instance": "api-2:9090"},
                "annotations": {"summary": "p99 latency above 1s"},
                "startsAt": "2023-11-14T21:50:00.123+01:00",
                "endsAt": "2023-11-14T22:10:00Z",
                "generatorURL": "",
                "fingerprint": "fedcba9876543210",
            },
        ],
        "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": common,
        "commonAnnotations": {"summary": "p99 latency above 1s"},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": '{}:{alertname="HighLatency"}',
        "truncatedAlerts": 0,
    }


def test_am_webhook_fires_and_resolves() -> None:
    firing, resolved = decode_alertmanager_webhook(body(am_webhook()), make_ctx())
    assert firing.action is SendAction.FIRE
    assert firing.labels["instance"] == "api-1:9090"
    assert firing.fingerprint == fingerprint_labels(firing.labels)
    assert firing.title == "p99 latency above 1s"
    assert firing.description == "api-1 slow"
    assert firing.severity == "critical"
    assert firing.starts_at == ts("2023-11-14T22:00:00+00:00")
    assert (firing.ends_at, firing.ends_at_explicit) == (NOW + 300.0, False)
    assert firing.generator_url.startswith("http://prometheus:9090")
    assert resolved.action is SendAction.RESOLVE
    assert resolved.starts_at == ts("2023-11-14T20:50:00.123+00:00")
    assert (resolved.ends_at, resolved.ends_at_explicit) == (ts("2023-11-14T22:10:00+00:00"), True)


@pytest.mark.parametrize(
    ("mutate", "field", "index"),
    [
        (lambda p: p.update(version="3"), "version", None),
        (lambda p: p["alerts"][1].update(status="pending"), "status", 1),
        (lambda p: p["alerts"][0]["labels"].update({"": "x"}), "labels", 0),
        (lambda p: p["alerts"][1].update(labels={}), "labels", 1),
        (lambda p: p["alerts"][1].update(endsAt="2023-11-14T20:00:00Z"), "endsAt", 1),
        (lambda p: p["alerts"][0].update(startsAt="2023-11-14T22:00:00"), "startsAt", 0),
        # NUL is refused for the whole body before decoding (no backend can store it).
        (lambda p: p["alerts"][0]["annotations"].update(summary="a\x00b"), None, None),
    ],
)
def test_am_webhook_invalid(mutate: Callable[[Any], None], field: str, index: int | None) -> None:
    payload = am_webhook()
    mutate(payload)
    assert_invalid(decode_alertmanager_webhook, payload, field, index)


def test_am_webhook_shape_and_limits() -> None:
    with pytest.raises(MalformedInput):
        decode_alertmanager_webhook(b'{"alerts": [', make_ctx())
    with pytest.raises(ValidationFailed):
        decode_alertmanager_webhook(b'{"version": "4"}', make_ctx())  # no alerts
    with pytest.raises(LimitExceeded):
        decode_alertmanager_webhook(body(am_webhook()), make_ctx(max_alerts_per_request=1))


# --- Grafana -------------------------------------------------------------------------------


def grafana_unified() -> dict[str, Any]:
    """Shaped like Grafana 10's webhook contact point (docs example, trimmed)."""
    return {
        "receiver": "My Super Webhook",
        "status": "firing",
        "orgId": 1,
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "High memory usage",
                    "team": "blue",
                    "zone": "us-1",
                    "grafana_folder": "Infra",
                    "__alert_rule_uid__": "a1b2c3",
                    "host.name": "web-1",
                },
                "annotations": {
                    "description": "The system has high memory usage",
                    "runbook_url": "https://myrunbook.com/runbook/1234",
                    "summary": "This alert was triggered for zone us-1",
                },
                "startsAt": "2021-10-12T09:51:03.157076+02:00",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
                "fingerprint": "c6eadffa33fcdf37",
                "silenceURL": "https://play.grafana.org/alerting/silence/new?matcher=zone%3Dus-1",
                "dashboardURL": "",
                "panelURL": "",
                "values": {"B": 44.23943737541908, "C": 1},
                "valueString": "[ var='B' labels={zone=us-1} value=44.23943737541908 ]",
            },
            {
                "status": "resolved",
                "labels": {"alertname": "High CPU usage", "team": "blue", "zone": "eu-1"},
                "annotations": {},
                "startsAt": "2021-10-12T09:56:03.157076+02:00",
                "endsAt": "2021-10-12T09:58:03.157076+02:00",
                "generatorURL": "https://play.grafana.org/alerting/d1rdpdv7k/edit",
                "fingerprint": "bc97ff14869b13e3",
                "silenceURL": "",
                "dashboardURL": "https://play.grafana.org/d/abc",
                "panelURL": "https://play.grafana.org/d/abc?viewPanel=2",
                "values": None,
                "valueString": "",
            },
        ],
        "groupLabels": {},
        "commonLabels": {"team": "blue"},
        "commonAnnotations": {},
        "externalURL": "https://play.grafana.org/",
        "version": "1",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "title": "[FIRING:2]  (blue)",
        "state": "alerting",
        "message": "**Firing**\n\nValue: B=44.2\nLabels:\n - alertname = High memory usage\n",
    }


def grafana_legacy(state: str = "alerting") -> dict[str, Any]:
    return {
        "dashboardId": 1,
        "evalMatches": [{"value": 1, "metric": "Count", "tags": {}}],
        "imageUrl": "https://grafana.com/assets/img/blog/mixed_styles.png",
        "message": "Notification Message",
        "orgId": 1,
        "panelId": 2,
        "ruleId": 1,
        "ruleName": "Panel Title alert",
        "ruleUrl": "http://localhost:3000/d/hZ7BuVbWz/test-dashboard?tab=alert&panelId=2",
        "state": state,
        "tags": {"tag name": "tag value"},
        "title": f"[{state.title()}] Panel Title alert",
    }


def test_grafana_unified() -> None:
    firing, resolved = decode_grafana(body(grafana_unified()), make_ctx())
    assert firing.action is SendAction.FIRE
    assert firing.labels["host.name"] == "web-1"
    assert firing.labels["__alert_rule_uid__"] == "a1b2c3"
    assert firing.title == "This alert was triggered for zone us-1"
    assert firing.description == "The system has high memory usage"
    assert firing.annotations["silenceURL"].endswith("zone%3Dus-1")
    assert firing.annotations["valueString"].startswith("[ var='B'")
    assert "dashboardURL" not in firing.annotations  # empty in the payload
    assert firing.starts_at == ts("2021-10-12T07:51:03.157076+00:00")
    assert firing.fingerprint == fingerprint_labels(firing.labels)
    assert resolved.action is SendAction.RESOLVE
    assert resolved.title == "High CPU usage"  # no summary: the alertname
    assert resolved.ends_at == ts("2021-10-12T07:58:03.157076+00:00")
    assert resolved.annotations["panelURL"].endswith("viewPanel=2")


def test_grafana_sender_annotations_win() -> None:
    payload = grafana_unified()
    payload["alerts"][0]["annotations"]["silenceURL"] = "mine"
    (first, _) = decode_grafana(body(payload), make_ctx())
    assert first.annotations["silenceURL"] == "mine"


def test_grafana_legacy_alerting_then_ok() -> None:
    (fired,) = decode_grafana(body(grafana_legacy()), make_ctx())
    assert fired.labels == {
        "alertname": "Panel Title alert",
        "rule_id": "1",
        "tag name": "tag value",
    }
    assert fired.action is SendAction.FIRE
    assert fired.title == "Panel Title alert"
    assert fired.description == "Notification Message"
    assert fired.generator_url.startswith("http://localhost:3000/d/")
    assert fired.annotations["imageURL"].endswith("mixed_styles.png")
    (ok,) = decode_grafana(body(grafana_legacy("ok")), make_ctx())
    assert ok.action is SendAction.RESOLVE
    assert ok.fingerprint == fired.fingerprint
    for state in ("no_data", "paused", "pending"):
        (sent,) = decode_grafana(body(grafana_legacy(state)), make_ctx())
        assert sent.action is SendAction.FIRE


@pytest.mark.parametrize(
    ("payload", "field", "index"),
    [
        (grafana_legacy("exploded"), "state", 0),
        ({**grafana_legacy(), "ruleName": ""}, "ruleName", 0),
        ({"receiver": "x", "status": "firing"}, "alerts", None),
        ({"alerts": [{"status": "firing", "labels": {"": "x"}}]}, "labels", 0),
        ({"alerts": [{"status": "unknown", "labels": {"a": "b"}}]}, "status", 0),
    ],
)
def test_grafana_invalid(payload: Any, field: str, index: int | None) -> None:
    assert_invalid(decode_grafana, payload, field, index)


# --- PagerDuty -----------------------------------------------------------------------------


def pd_trigger(**changes: Any) -> dict[str, Any]:
    """The trigger example of PagerDuty's Events API v2 documentation."""
    event: dict[str, Any] = {
        "payload": {
            "summary": "DISK at 99% on machine prod-datapipe03.example.com",
            "timestamp": "2015-07-17T08:42:58.315+0000",
            "severity": "critical",
            "source": "prod-datapipe03.example.com",
            "component": "mysql",
            "group": "prod-datapipe",
            "class": "disk",
            "custom_details": {"free space": "1%", "ping time": "1500ms", "load avg": 0.75},
        },
        "routing_key": "e93facc04764012d7bfb002500d5d1a6",
        "dedup_key": "srv01/mysql",
        "event_action": "trigger",
        "client": "Sample Monitoring Service",
        "client_url": "https://monitoring.service.com",
        "links": [{"href": "http://pagerduty.example.com", "text": "An example link."}],
        "images": [{"src": "https://example.com/chart.png", "alt": "chart"}],
    }
    event.update(changes)
    return event


def pd_payload(**changes: Any) -> dict[str, Any]:
    event = pd_trigger()
    event["payload"].update(changes)
    return event


def test_pagerduty_trigger() -> None:
    (sent,) = decode_pagerduty(body(pd_trigger()), make_ctx())
    assert sent.action is SendAction.FIRE
    assert sent.title == "DISK at 99% on machine prod-datapipe03.example.com"
    assert sent.labels == {
        "source": "prod-datapipe03.example.com",
        "component": "mysql",
        "group": "prod-datapipe",
        "class": "disk",
        "severity": "critical",
    }
    assert sent.severity == "critical"
    assert sent.dedup_key == "srv01/mysql"
    assert sent.fingerprint == fingerprint_labels({"dedup_key": "srv01/mysql"})
    assert sent.starts_at == ts("2015-07-17T08:42:58.315+00:00")
    assert json.loads(sent.annotations["custom_details"])["load avg"] == 0.75
    assert sent.annotations["client"] == "Sample Monitoring Service"
    assert sent.generator_url == "https://monitoring.service.com"


@pytest.mark.parametrize(
    ("action", "expected"),
    [("acknowledge", SendAction.ACK), ("resolve", SendAction.RESOLVE)],
)
def test_pagerduty_follow_up_meets_the_trigger(action: str, expected: SendAction) -> None:
    (trigger,) = decode_pagerduty(body(pd_trigger()), make_ctx())
    follow_up = {"routing_key": "e93facc04764012d7bfb002500d5d1a6", "event_action": action}
    (sent,) = decode_pagerduty(body({**follow_up, "dedup_key": "srv01/mysql"}), make_ctx())
    assert sent.action is expected
    assert sent.fingerprint == trigger.fingerprint
    assert sent.labels == {"dedup_key": "srv01/mysql"}
    assert sent.dedup_key == "srv01/mysql"


def test_pagerduty_trigger_without_dedup_key_gets_one() -> None:
    event = pd_trigger()
    del event["dedup_key"]
    (first,) = decode_pagerduty(body(event), make_ctx())
    (second,) = decode_pagerduty(body(event), make_ctx())
    assert first.dedup_key is not None
    assert len(first.dedup_key) == 32
    int(first.dedup_key, 16)
    assert first.dedup_key != second.dedup_key
    assert first.fingerprint == fingerprint_labels({"dedup_key": first.dedup_key})


@pytest.mark.parametrize(
    ("given", "expected"),
    [("critical", "critical"), ("error", "high"), ("warning", "medium"), ("info", "info")],
)
def test_pagerduty_severity(given: str, expected: str) -> None:
    (sent,) = decode_pagerduty(body(pd_payload(severity=given)), make_ctx())
    assert sent.severity == expected
    assert sent.labels["severity"] == given


def test_pagerduty_null_custom_details_is_omitted() -> None:
    (sent,) = decode_pagerduty(body(pd_payload(custom_details=None)), make_ctx())
    assert "custom_details" not in sent.annotations


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({**pd_trigger(), "routing_key": ""}, "routing_key"),
        ({k: v for k, v in pd_trigger().items() if k != "routing_key"}, "routing_key"),
        (pd_trigger(event_action="escalate"), "event_action"),
        ({k: v for k, v in pd_trigger().items() if k != "event_action"}, "event_action"),
        ({"routing_key": "k", "event_action": "resolve"}, "dedup_key"),
        ({"routing_key": "k", "event_action": "acknowledge", "dedup_key": ""}, "dedup_key"),
        (pd_trigger(payload=None), "payload"),
        (pd_payload(summary=""), "payload.summary"),
        (pd_payload(summary="x" * 1025), "payload.summary"),
        (pd_payload(source=None), "payload.source"),
        (pd_payload(severity=None), "payload.severity"),
        (pd_payload(severity="CRITICAL"), "payload.severity"),
        (pd_payload(severity="high"), "payload.severity"),
        (pd_payload(timestamp="yesterday"), "payload.timestamp"),
        (pd_payload(timestamp="2015-07-17T08:42:58"), "payload.timestamp"),
        (pd_trigger(dedup_key="k" * 256), "dedup_key"),
    ],
)
def test_pagerduty_invalid(event: dict[str, Any], field: str) -> None:
    assert_invalid(decode_pagerduty, event, field)


def test_pagerduty_shape() -> None:
    with pytest.raises(ValidationFailed):
        decode_pagerduty(body([pd_trigger()]), make_ctx())  # one event per request
    with pytest.raises(MalformedInput):
        decode_pagerduty(b"routing_key=abc", make_ctx())


# --- Generic -------------------------------------------------------------------------------


NESTED = FieldMapping(
    title="alert.name",
    description="alert.text",
    severity="alert.level",
    labels="alert.tags",
    annotations="meta",
    status="alert.state",
    dedup_key="alert.id",
    starts_at="alert.time",
    items="data.events",
    extra_labels={"host.name": "instance", "alert.zones.0": "zone"},
)


def nested_body() -> dict[str, Any]:
    return {
        "data": {
            "events": [
                {
                    "alert": {
                        "name": "Disk full",
                        "text": "/var is at 99%",
                        "level": "P1",
                        "tags": {"env": "prod", "shard": 3, "primary": True, "note": None},
                        "state": "open",
                        "id": 12345,
                        "time": "2023-11-14T22:00:00Z",
                        "zones": ["eu-1a", "eu-1b"],
                    },
                    "host": {"name": "db-1"},
                    "meta": {"runbook": "https://runbooks/disk"},
                },
                {
                    "alert": {"name": "Disk full", "state": "RESOLVED", "id": 12345, "time": 1.7e9},
                },
            ]
        }
    }


def test_generic_nested_paths() -> None:
    fired, resolved = make_generic_decoder(NESTED)(body(nested_body()), make_ctx())
    assert fired.labels == {
        "env": "prod",
        "shard": "3",
        "primary": "true",
        "instance": "db-1",
        "zone": "eu-1a",
    }
    assert fired.title == "Disk full"
    assert fired.description == "/var is at 99%"
    assert fired.severity == "critical"  # "P1"
    assert fired.annotations == {"runbook": "https://runbooks/disk"}
    assert fired.dedup_key == "12345"
    assert fired.starts_at == ts("2023-11-14T22:00:00+00:00")
    assert fired.action is SendAction.FIRE
    assert resolved.action is SendAction.RESOLVE  # case-insensitive
    assert resolved.starts_at == 1.7e9
    assert resolved.labels == {"alertname": "Disk full"}  # no tags: the title
    assert resolved.fingerprint == fired.fingerprint  # both from dedup_key


def test_generic_default_mapping() -> None:
    decode = make_generic_decoder(FieldMapping())
    one = {"title": "Queue stuck", "severity": "warning", "labels": {"queue": "mail"}}
    (sent,) = decode(body(one), make_ctx())
    assert (sent.title, sent.severity, sent.labels) == ("Queue stuck", "medium", {"queue": "mail"})
    assert sent.fingerprint == fingerprint_labels({"queue": "mail"})
    many = decode(body([one, {**one, "status": "ok"}, {**one, "status": "closed"}]), make_ctx())
    assert [s.action for s in many] == [SendAction.FIRE, SendAction.RESOLVE, SendAction.RESOLVE]
    (odd,) = decode(body({**one, "severity": "purple"}), make_ctx())
    assert odd.severity == "medium"  # generic senders' words are not refused


def test_generic_custom_resolved_values() -> None:
    decode = make_generic_decoder(FieldMapping(resolved_values=["Recovered"]))
    (sent,) = decode(body({"title": "x", "status": "recovered"}), make_ctx())
    assert sent.action is SendAction.RESOLVE
    (sent,) = decode(body({"title": "x", "status": "resolved"}), make_ctx())
    assert sent.action is SendAction.FIRE


@pytest.mark.parametrize(
    ("payload", "field", "index"),
    [
        ({"title": "x", "labels": ["a"]}, "labels", 0),
        ({"title": "x", "labels": {"a": {"b": "c"}}}, "labels.a", 0),
        ({"title": "x", "annotations": "text"}, "annotations", 0),
        ({"title": ["x"]}, "title", 0),
        ([{"title": "x"}, "not an object"], None, 1),
        ([{"title": "x"}, {"severity": "high"}], "labels", 1),  # neither labels nor title
        ("just a string", None, None),
    ],
)
def test_generic_invalid(payload: Any, field: str | None, index: int | None) -> None:
    assert_invalid(make_generic_decoder(FieldMapping()), payload, field, index)


@pytest.mark.parametrize(
    ("when", "field"),
    [("yesterday", "t"), ("2023-11-14", "t"), (1.7e12, "t"), (-1, "t"), ({"s": 1}, "t")],
)
def test_generic_invalid_start(when: Any, field: str) -> None:
    decode = make_generic_decoder(FieldMapping(starts_at="t"))
    assert_invalid(decode, {"title": "x", "t": when}, field)


def test_generic_items_and_limits() -> None:
    decode = make_generic_decoder(FieldMapping(items="result.alerts"))
    assert_invalid(decode, {"result": {"alerts": {"title": "x"}}}, "result.alerts", None)
    assert decode(body({"result": {"alerts": []}}), make_ctx()) == []
    with pytest.raises(LimitExceeded):
        decode(
            body({"result": {"alerts": [{"title": "x"}] * 3}}), make_ctx(max_alerts_per_request=2)
        )
    with pytest.raises(MalformedInput):
        decode(b"{not json", make_ctx())


@pytest.mark.parametrize("path", ["", "a..b", ".a", "a."])
def test_generic_bad_mapping_is_a_config_error(path: str) -> None:
    with pytest.raises(ConfigError):
        make_generic_decoder(FieldMapping(title=path))


def test_generic_mapping_rejects_unknown_keys() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"titel": "name"}, FieldMapping)


# --- Every format ----------------------------------------------------------------------------

DEPTH = 100_000
DEEP_BODIES = {
    "arrays": b"[" * DEPTH + b"]" * DEPTH,
    "objects": b'{"a":' * DEPTH + b"1" + b"}" * DEPTH,
    "in an unknown field": b'{"routing_key": "k", "x": ' + b"[" * DEPTH + b"]" * DEPTH + b"}",
}
DECODERS: dict[str, Decoder] = {
    "alertmanager_webhook": decode_alertmanager_webhook,
    "grafana": decode_grafana,
    "pagerduty": decode_pagerduty,
    "generic": make_generic_decoder(FieldMapping()),
    "generic_nested": make_generic_decoder(NESTED),
}


@pytest.mark.parametrize("decoder", DECODERS.values(), ids=DECODERS.keys())
@pytest.mark.parametrize("deep", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_deep_nesting_is_refused_cleanly(decoder: Decoder, deep: bytes) -> None:
    with pytest.raises((MalformedInput, ValidationFailed)):
        decoder(deep, make_ctx())


@pytest.mark.parametrize("decoder", DECODERS.values(), ids=DECODERS.keys())
@pytest.mark.parametrize("bad", [b"", b"\xef\xbb\xbf{}", b"{", b"\xff\xfe"])
def test_unparseable_is_malformed(decoder: Decoder, bad: bytes) -> None:
    with pytest.raises(MalformedInput):
        decoder(bad, make_ctx())


def test_am_webhook_accepts_utf8_label_names() -> None:
    # Alertmanager 0.27+ forwards UTF-8 label names in its notifications.
    body = {
        "version": "4",
        "alerts": [{"status": "firing", "labels": {"service.name": "api", "Σ": "1"}}],
    }
    (send,) = decode_alertmanager_webhook(json.dumps(body).encode(), make_ctx())
    assert send.labels == {"service.name": "api", "Σ": "1"}
