"""The webhook channel against a real receiver on loopback: Alertmanager's exact payload,
authentication headers, truncation, send_resolved, each failure answer, config validation."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
import pytest

from core_alerts.domain.notification import NotifiedAlert
from core_alerts.notify.channels.base import ChannelContext, DeliveryFailed
from core_alerts.notify.channels.webhook import SPEC, WebhookConfig
from core_alerts.notify.channels.webhook.payload import rfc3339
from tests.support.receiver import FAILURES, SHORT_TIMEOUT, Failure, Receiver
from tests.unit.notify.channels.builders import (
    HOSTILE,
    STARTS,
    alert,
    build_channel,
    channel_context,
    notification,
    rejection,
    undescribed,
)


async def test_payload_is_alertmanager_webhook_version_4(
    receiver: Receiver, ctx: ChannelContext
) -> None:
    channel = build_channel(SPEC, ctx, url=receiver.url())
    firing = alert(n=1)
    resolved = NotifiedAlert(
        alert_id="id-2",
        fingerprint="00000000000000ab",
        status="resolved",
        labels={"alertname": "HighLatency", "env": "prod", "instance": "web-2"},
        annotations={"summary": "HighLatency on web-2"},
        starts_at=STARTS + 0.25,
        ends_at=STARTS + 600,
    )
    await channel.send(notification(firing, resolved))

    (seen,) = receiver.requests
    assert (seen.method, seen.path) == ("POST", "/hook")
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Idempotency-Key"] == "notif-1"
    assert "Authorization" not in seen.headers
    assert seen.json() == {
        "receiver": "ops",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "HighLatency", "env": "prod", "instance": "web-1"},
                "annotations": {"summary": "HighLatency on web-1"},
                "startsAt": "2023-11-14T22:13:21Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example/graph?g0.expr=up&n=1",
                "fingerprint": "0000000000000001",
            },
            {
                "status": "resolved",
                "labels": {"alertname": "HighLatency", "env": "prod", "instance": "web-2"},
                "annotations": {"summary": "HighLatency on web-2"},
                "startsAt": "2023-11-14T22:13:20.25Z",
                "endsAt": "2023-11-14T22:23:20Z",
                "generatorURL": "",
                "fingerprint": "00000000000000ab",
            },
        ],
        "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": {"alertname": "HighLatency", "env": "prod"},
        "commonAnnotations": {},
        "externalURL": "https://alerts.example",
        "version": "4",
        "groupKey": '{}/{env="prod"}:{alertname="HighLatency"}',
        "truncatedAlerts": 0,
    }


async def test_external_url_falls_back_to_the_context(receiver: Receiver) -> None:
    async with channel_context(external_url="https://core.example") as context:
        channel = build_channel(SPEC, context, url=receiver.url())
        await channel.send(notification(alert(), external_url=""))
    assert receiver.requests[0].json()["externalURL"] == "https://core.example"


async def test_max_alerts_truncates_and_counts_what_was_left_out(
    receiver: Receiver, ctx: ChannelContext
) -> None:
    channel = build_channel(SPEC, ctx, url=receiver.url(), max_alerts=2)
    await channel.send(notification(alert(n=1), alert(n=2), alert(n=3, team="db"), truncated=5))

    body = receiver.requests[0].json()
    assert [a["labels"]["instance"] for a in body["alerts"]] == ["web-1", "web-2"]
    assert body["truncatedAlerts"] == 6
    # Common labels still describe every alert of the group, as Alertmanager computes them.
    assert body["commonLabels"] == {"alertname": "HighLatency", "env": "prod"}


@pytest.mark.parametrize(
    ("http_config", "expected"),
    [
        ({"authorization": {"credentials": "s3cret"}}, "Bearer s3cret"),
        ({"authorization": {"type": "Token", "credentials": "abc"}}, "Token abc"),
        ({"bearer_token": "tok"}, "Bearer tok"),
        (
            {"basic_auth": {"username": "jörg", "password": "p:w"}},
            "Basic " + base64.b64encode("jörg:p:w".encode()).decode(),
        ),
    ],
)
async def test_http_config_sets_the_authorization_header(
    receiver: Receiver, ctx: ChannelContext, http_config: dict[str, Any], expected: str
) -> None:
    channel = build_channel(SPEC, ctx, url=receiver.url(), http_config=http_config)
    await channel.send(notification(alert()))
    assert receiver.requests[0].headers["Authorization"] == expected


async def test_hostile_alert_data_arrives_verbatim_and_unrendered(
    receiver: Receiver, ctx: ChannelContext
) -> None:
    channel = build_channel(SPEC, ctx, url=receiver.url())
    await channel.send(notification(alert(evil=HOSTILE)))
    body = receiver.requests[0].json()
    assert body["alerts"][0]["labels"]["evil"] == HOSTILE
    assert "49" not in receiver.requests[0].body.decode()


async def test_send_resolved_false_sends_nothing_when_all_are_resolved(
    receiver: Receiver, ctx: ChannelContext
) -> None:
    channel = build_channel(SPEC, ctx, url=receiver.url(), send_resolved=False)
    assert channel.send_resolved is False

    await channel.send(notification(alert(status="resolved", n=1), nid="n-resolved"))
    assert receiver.requests == []

    await channel.send(notification(alert(n=1), alert(status="resolved", n=2), nid="n-mixed"))
    assert [r.headers["Idempotency-Key"] for r in receiver.requests] == ["n-mixed"]


async def test_send_resolved_true_reports_the_resolution(
    receiver: Receiver, ctx: ChannelContext
) -> None:
    channel = build_channel(SPEC, ctx, url=receiver.url())
    assert channel.send_resolved is True
    await channel.send(notification(alert(status="resolved")))
    body = receiver.requests[0].json()
    assert body["status"] == "resolved"
    assert body["alerts"][0]["endsAt"] == "2023-11-14T22:23:20Z"


@pytest.mark.parametrize("failure", FAILURES)
async def test_each_failure_answer_becomes_delivery_failed(
    receiver: Receiver, ctx: ChannelContext, failure: Failure
) -> None:
    receiver.queue(failure.answer)
    channel = build_channel(SPEC, ctx, url=receiver.url(), timeout=SHORT_TIMEOUT)
    await failure.raised_by(channel.send(notification(alert())))
    assert len(receiver.requests) == 1


async def test_a_destination_the_policy_forbids_is_not_retried_and_not_reached(
    receiver: Receiver,
) -> None:
    async with channel_context(allow=()) as context:
        channel = build_channel(SPEC, context, url=receiver.url())
        with pytest.raises(DeliveryFailed) as info:
            await channel.send(notification(alert()))
    assert info.value.retryable is False
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({}, "missing required field `url`"),
        ({"url": "https://h.example", "color": "red"}, "unknown field `color`"),
        ({"url": "ftp://h.example/x"}, "url must be an http or https URL"),
        ({"url": "https:///path"}, "url must name a host"),
        ({"url": "https://u:p@h.example"}, "url must not contain credentials"),
        ({"url": "https://h.example", "max_alerts": -1}, "Expected `int` >= 0"),
        ({"url": "https://h.example", "timeout": 0}, "Expected `float` > 0"),
        (
            {
                "url": "https://h.example",
                "http_config": {"bearer_token": "a", "basic_auth": {"username": "u"}},
            },
            "at most one of authorization, basic_auth and bearer_token",
        ),
        (
            {
                "url": "https://h.example",
                "http_config": {"authorization": {"type": "Basic", "credentials": "x"}},
            },
            'cannot be "Basic"',
        ),
        (
            {"url": "https://h.example", "http_config": {"authorization": {"credentials": "a\nb"}}},
            "credentials must be printable ASCII",
        ),
        (
            {"url": "https://h.example", "http_config": {"tls_config": {}}},
            "unknown field `tls_config`",
        ),
        (
            {"url": "https://h.example", "http_config": {"authorization": {}}},
            "missing required field `credentials`",
        ),
    ],
)
def test_invalid_config_is_rejected_with_a_precise_message(
    entry: dict[str, Any], message: str
) -> None:
    assert message in rejection(WebhookConfig, entry)


def test_defaults_and_secrets_follow_alertmanager() -> None:
    config = msgspec.convert({"url": "https://h.example/x"}, WebhookConfig)
    assert (config.send_resolved, config.max_alerts, config.timeout) == (True, 0, 10.0)
    assert {"url", "http_config.authorization.credentials", "http_config.bearer_token"} <= (
        WebhookConfig.SECRETS
    )
    assert "http_config.basic_auth.password" in WebhookConfig.SECRETS


def test_spec_names_the_integration_and_takes_global_http_config() -> None:
    assert (SPEC.config_key, SPEC.integration, SPEC.config_type) == (
        "webhook_configs",
        "webhook",
        WebhookConfig,
    )
    auth = {"bearer_token": "t"}
    assert SPEC.defaults({"http_config": auth, "slack_api_url": "x"}) == {"http_config": auth}
    assert SPEC.defaults({}) == {}


def test_json_schema_describes_every_field() -> None:
    schema = msgspec.json.schema(WebhookConfig)
    assert set(schema["$defs"]) == {"WebhookConfig", "HttpConfig", "Authorization", "BasicAuth"}
    assert undescribed(WebhookConfig) == {}
    assert schema["$defs"]["WebhookConfig"]["required"] == ["url"]


@pytest.mark.parametrize(
    ("epoch", "text"),
    [
        (None, "0001-01-01T00:00:00Z"),
        (0.0, "1970-01-01T00:00:00Z"),
        (STARTS, "2023-11-14T22:13:20Z"),
        (STARTS + 0.5, "2023-11-14T22:13:20.5Z"),
        (STARTS + 0.000123, "2023-11-14T22:13:20.000123Z"),
    ],
)
def test_times_are_written_as_go_writes_them(epoch: float | None, text: str) -> None:
    assert rfc3339(epoch) == text
