"""The Teams channels against a real receiver on loopback: Alertmanager's MessageCard
(msteams) and Adaptive Card message (msteamsv2), Markdown escaping, send_resolved, failures
and config validation."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from core_alerts.notify.channels.base import Channel, ChannelContext, ChannelSpec, DeliveryFailed
from core_alerts.notify.channels.msteams import (
    MSTEAMS_SPEC,
    MSTEAMSV2_SPEC,
    SPECS,
    MSTeamsConfig,
    MSTeamsV2Config,
)
from tests.support.receiver import FAILURES, SHORT_TIMEOUT, Answer, Failure, Receiver
from tests.unit.notify.channels.builders import (
    HOSTILE,
    alert,
    build_channel,
    notification,
    rejection,
    undescribed,
)

BOTH = pytest.mark.parametrize("spec", SPECS, ids=[s.integration for s in SPECS])
TEXT = (
    "# Alerts Firing:\n\n"
    "Labels\n  - alertname = HighLatency\n  - env = prod\n  - instance = web\\-1\n"
    "Annotations\n  - summary = HighLatency on web\\-1\n"
    "Source: http://prometheus\\.example/graph?g0\\.expr=up&n=1\n\n"
)


def teams(spec: ChannelSpec, ctx: ChannelContext, **entry: Any) -> Channel:
    return build_channel(spec, ctx, **entry)


async def test_msteams_sends_alertmanagers_message_card(
    receiver: Receiver, ctx: ChannelContext
) -> None:
    receiver.queue(Answer(body="1"))
    await teams(MSTEAMS_SPEC, ctx, webhook_url=receiver.url("/webhookb2/x")).send(
        notification(alert())
    )
    (seen,) = receiver.requests
    assert (seen.method, seen.path) == ("POST", "/webhookb2/x")
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Idempotency-Key"] == "notif-1"
    assert seen.json() == {
        "@context": "http://schema.org/extensions",
        "type": "MessageCard",
        "title": "[FIRING:1] HighLatency (prod web\\-1)",
        "summary": "",
        "text": TEXT,
        "themeColor": "8C1A1A",
    }


async def test_msteamsv2_sends_an_adaptive_card_message(
    receiver: Receiver, ctx: ChannelContext
) -> None:
    receiver.queue(Answer(status=202))
    await teams(MSTEAMSV2_SPEC, ctx, webhook_url=receiver.url("/workflows/x")).send(
        notification(alert())
    )
    (seen,) = receiver.requests
    assert seen.headers["Idempotency-Key"] == "notif-1"
    assert seen.json() == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.2",
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": "[FIRING:1] HighLatency (prod web\\-1)",
                            "weight": "Bolder",
                            "size": "Medium",
                            "wrap": True,
                            "style": "heading",
                            "color": "Attention",
                        },
                        {"type": "TextBlock", "text": TEXT, "wrap": True},
                    ],
                    "msteams": {"width": "full"},
                },
            }
        ],
    }


async def test_msteams_renders_its_own_templates(receiver: Receiver, ctx: ChannelContext) -> None:
    await teams(
        MSTEAMS_SPEC,
        ctx,
        webhook_url=receiver.url(),
        title="{{ receiver }}: {{ firing | length }}",
        summary="{{ common_labels.alertname }} on {{ common_labels.instance }}",
        text="**{{ status }}**",
        http_config={"authorization": {"credentials": "tok"}},
    ).send(notification(alert()))
    seen = receiver.requests[0]
    body = seen.json()
    assert (body["title"], body["summary"], body["text"]) == (
        "ops: 1",
        "HighLatency on web-1",
        "**firing**",
    )
    assert seen.headers["Authorization"] == "Bearer tok"


@BOTH
async def test_hostile_alert_data_is_escaped_and_never_rendered(
    receiver: Receiver, ctx: ChannelContext, spec: ChannelSpec
) -> None:
    channel = teams(spec, ctx, webhook_url=receiver.url(), text="{{ common_labels.evil }}")
    await channel.send(notification(alert(evil=HOSTILE)))
    raw = receiver.requests[0].body.decode()
    body = receiver.requests[0].json()
    text = (
        body["text"]
        if spec is MSTEAMS_SPEC
        else body["attachments"][0]["content"]["body"][1]["text"]
    )
    assert text == "\\<\\!channel\\> \\{\\{ 7\\*7 \\}\\} \\<script\\>"
    assert "49" not in raw
    assert "<script>" not in raw


@BOTH
async def test_resolved_groups_are_sent_in_green_unless_send_resolved_is_off(
    receiver: Receiver, ctx: ChannelContext, spec: ChannelSpec
) -> None:
    resolved = notification(alert(status="resolved"))
    quiet = teams(spec, ctx, webhook_url=receiver.url(), send_resolved=False)
    assert quiet.send_resolved is False
    await quiet.send(resolved)
    assert receiver.requests == []

    loud = teams(spec, ctx, webhook_url=receiver.url())
    assert loud.send_resolved is True
    await loud.send(resolved)
    body = receiver.requests[0].json()
    if spec is MSTEAMS_SPEC:
        assert (body["themeColor"], body["title"]) == (
            "2DC72D",
            "[RESOLVED] HighLatency (prod web\\-1)",
        )
        assert body["text"].startswith("# Alerts Resolved:\n")
    else:
        heading = body["attachments"][0]["content"]["body"][0]
        assert (heading["color"], heading["text"]) == (
            "Good",
            "[RESOLVED] HighLatency (prod web\\-1)",
        )


@BOTH
@pytest.mark.parametrize("failure", FAILURES)
async def test_each_failure_answer_becomes_delivery_failed(
    receiver: Receiver, ctx: ChannelContext, spec: ChannelSpec, failure: Failure
) -> None:
    receiver.queue(failure.answer)
    channel = teams(spec, ctx, webhook_url=receiver.url(), timeout=SHORT_TIMEOUT)
    await failure.raised_by(channel.send(notification(alert())))


@BOTH
async def test_a_failing_template_is_a_permanent_failure(
    receiver: Receiver, ctx: ChannelContext, spec: ChannelSpec
) -> None:
    channel = teams(spec, ctx, webhook_url=receiver.url(), title="{% if %}")
    with pytest.raises(DeliveryFailed, match=f"{spec.integration} title") as info:
        await channel.send(notification(alert()))
    assert info.value.retryable is False
    assert receiver.requests == []


@BOTH
@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({}, "missing required field `webhook_url`"),
        (
            {"webhook_url": "https://h.example", "webhook_url_file": "/x"},
            "unknown field `webhook_url_file`",
        ),
        ({"webhook_url": "file:///etc/passwd"}, "webhook_url must be an http or https URL"),
        ({"webhook_url": "https://h.example", "timeout": 0}, "Expected `float` > 0"),
        (
            {
                "webhook_url": "https://h.example",
                "http_config": {"bearer_token": "a", "authorization": {"credentials": "b"}},
            },
            "at most one of",
        ),
    ],
)
def test_invalid_config_is_rejected_with_a_precise_message(
    spec: ChannelSpec, entry: dict[str, Any], message: str
) -> None:
    assert message in rejection(spec.config_type, entry)


def test_v1_has_summary_and_v2_does_not() -> None:
    v1 = msgspec.convert({"webhook_url": "https://h.example", "summary": "s"}, MSTeamsConfig)
    assert v1.summary == "s"
    with pytest.raises(msgspec.ValidationError, match="unknown field `summary`"):
        msgspec.convert({"webhook_url": "https://h.example", "summary": "s"}, MSTeamsV2Config)


def test_specs_secrets_and_schema_descriptions() -> None:
    assert [(s.config_key, s.integration) for s in SPECS] == [
        ("msteams_configs", "msteams"),
        ("msteamsv2_configs", "msteamsv2"),
    ]
    auth = {"bearer_token": "t"}
    assert all(s.defaults({"http_config": auth}) == {"http_config": auth} for s in SPECS)
    for config_type in (MSTeamsConfig, MSTeamsV2Config):
        assert {"webhook_url", "http_config.bearer_token"} <= config_type.SECRETS
        assert undescribed(config_type) == {}
        properties = msgspec.json.schema(config_type)["$defs"][config_type.__name__]["properties"]
        assert properties["send_resolved"]["default"] is True
