"""The Slack channel against a real receiver on loopback: the attachment Alertmanager sends,
incoming webhook and chat.postMessage answers, escaping, send_resolved, config validation."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from core_alerts.notify.channels.base import Channel, ChannelContext, DeliveryFailed
from core_alerts.notify.channels.slack import SPEC, SlackConfig
from tests.support.receiver import FAILURES, SHORT_TIMEOUT, Answer, Failure, Receiver
from tests.unit.notify.channels.builders import (
    HOSTILE,
    alert,
    build_channel,
    notification,
    rejection,
    undescribed,
)

OK_JSON = Answer(body='{"ok":true,"ts":"1.2"}', content_type="application/json; charset=utf-8")
TOKEN = "xoxb-123-456-abcdef"


def slack(ctx: ChannelContext, **entry: Any) -> Channel:
    return build_channel(SPEC, ctx, **entry)


def error_answer(error: str, **headers: str) -> Answer:
    body = json.dumps({"ok": False, "error": error})
    return Answer(body=body, content_type="application/json", headers=headers)


async def test_incoming_webhook_gets_alertmanagers_attachment(
    receiver: Receiver, ctx: ChannelContext
) -> None:
    receiver.queue(Answer(body="ok"))
    await slack(ctx, api_url=receiver.url("/services/T0/B0/x")).send(
        notification(alert(n=1, team="db"), alert(n=2, team="db"))
    )

    (seen,) = receiver.requests
    assert (seen.method, seen.path) == ("POST", "/services/T0/B0/x")
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Idempotency-Key"] == "notif-1"
    assert "Authorization" not in seen.headers
    link = "https://alerts.example/#/alerts?receiver=ops"
    text = "".join(
        f"*FIRING* HighLatency - HighLatency on web-{n}\n"
        f"• alertname: HighLatency\n• env: prod\n• instance: web-{n}\n• team: db\n"
        f"<http://prometheus.example/graph?g0.expr=up&amp;n={n}|Source>\n"
        for n in (1, 2)
    )
    assert seen.json() == {
        "username": "core-alerts",
        "attachments": [
            {
                "title": "[FIRING:2] HighLatency (prod db)",
                "title_link": link,
                "text": text,
                "fallback": f"[FIRING:2] HighLatency (prod db) | {link}",
                "callback_id": "",
                "footer": "",
                "color": "danger",
                "mrkdwn_in": ["fallback", "pretext", "text"],
            }
        ],
    }


async def test_every_configured_field_reaches_slack(
    receiver: Receiver, ctx: ChannelContext
) -> None:
    await slack(
        ctx,
        api_url=receiver.url(),
        channel="#{{ common_labels.team }}",
        username="bot",
        icon_emoji=":fire:",
        icon_url="https://img.example/i.png",
        link_names=True,
        color="#ff0000",
        title="{{ common_labels.alertname }}",
        title_link="https://runbooks.example/{{ common_labels.alertname }}",
        pretext="pre",
        text="{{ alerts | length }} alerts",
        fallback="fb",
        callback_id="cb",
        footer="foot",
        image_url="https://img.example/a.png",
        thumb_url="https://img.example/t.png",
        mrkdwn_in=["text"],
        short_fields=True,
        fields=[
            {"title": "Env", "value": "{{ common_labels.env }}"},
            {"title": "Team", "value": "{{ common_labels.team }}", "short": False},
        ],
        actions=[
            {
                "type": "button",
                "text": "Runbook",
                "url": "https://runbooks.example",
                "style": "primary",
                "confirm": {"text": "Sure?", "ok_text": "Yes"},
            }
        ],
    ).send(notification(alert(team="db")))

    assert receiver.requests[0].json() == {
        "channel": "#db",
        "username": "bot",
        "icon_emoji": ":fire:",
        "icon_url": "https://img.example/i.png",
        "link_names": True,
        "attachments": [
            {
                "title": "HighLatency",
                "title_link": "https://runbooks.example/HighLatency",
                "pretext": "pre",
                "text": "1 alerts",
                "fallback": "fb",
                "callback_id": "cb",
                "fields": [
                    {"title": "Env", "value": "prod", "short": True},
                    {"title": "Team", "value": "db", "short": False},
                ],
                "actions": [
                    {
                        "type": "button",
                        "text": "Runbook",
                        "url": "https://runbooks.example",
                        "style": "primary",
                        "confirm": {"text": "Sure?", "ok_text": "Yes"},
                    }
                ],
                "image_url": "https://img.example/a.png",
                "thumb_url": "https://img.example/t.png",
                "footer": "foot",
                "color": "#ff0000",
                "mrkdwn_in": ["text"],
            }
        ],
    }


@pytest.mark.parametrize(
    "auth",
    [
        {"token": TOKEN},
        {"http_config": {"authorization": {"credentials": TOKEN}}},
    ],
    ids=["token", "http_config"],
)
async def test_chat_post_message_sends_the_bot_token(
    receiver: Receiver, ctx: ChannelContext, auth: dict[str, Any]
) -> None:
    receiver.queue(OK_JSON)
    url = receiver.url("/api/chat.postMessage")
    await slack(ctx, api_url=url, channel="C024BE91L", **auth).send(notification(alert()))
    (seen,) = receiver.requests
    assert seen.path == "/api/chat.postMessage"
    assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["Idempotency-Key"] == "notif-1"
    assert seen.json()["channel"] == "C024BE91L"


@pytest.mark.parametrize(
    ("answer", "retryable", "retry_after"),
    [
        (error_answer("channel_not_found"), False, None),
        (error_answer("invalid_auth"), False, None),
        (error_answer("ratelimited", **{"Retry-After": "30"}), True, 30.0),
        (error_answer("internal_error"), True, None),
        (Answer(body="{not json", content_type="application/json"), True, None),
        (Answer(body="invalid_payload"), False, None),
    ],
    ids=["channel_not_found", "invalid_auth", "ratelimited", "internal_error", "bad-json", "text"],
)
async def test_errors_slack_answers_with_200_are_failures(
    receiver: Receiver,
    ctx: ChannelContext,
    answer: Answer,
    retryable: bool,
    retry_after: float | None,
) -> None:
    receiver.queue(answer)
    channel = slack(ctx, api_url=receiver.url("/api/chat.postMessage"), channel="C1", token=TOKEN)
    with pytest.raises(DeliveryFailed) as info:
        await channel.send(notification(alert()))
    assert (info.value.retryable, info.value.retry_after, info.value.status) == (
        retryable,
        retry_after,
        200,
    )


async def test_an_empty_success_answer_is_accepted(receiver: Receiver, ctx: ChannelContext) -> None:
    receiver.queue(Answer(status=204))
    await slack(ctx, api_url=receiver.url()).send(notification(alert()))
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("failure", FAILURES)
async def test_each_failure_answer_becomes_delivery_failed(
    receiver: Receiver, ctx: ChannelContext, failure: Failure
) -> None:
    receiver.queue(failure.answer)
    channel = slack(ctx, api_url=receiver.url(), timeout=SHORT_TIMEOUT)
    await failure.raised_by(channel.send(notification(alert())))


async def test_hostile_alert_data_is_escaped_and_never_rendered(
    receiver: Receiver, ctx: ChannelContext
) -> None:
    evil = alert(HOSTILE, evil=HOSTILE)
    await slack(ctx, api_url=receiver.url(), pretext="{{ common_labels.evil }}").send(
        notification(evil)
    )
    attachment = receiver.requests[0].json()["attachments"][0]
    escaped = "&lt;!channel&gt; {{ 7*7 }} &lt;script&gt;"
    assert attachment["pretext"] == escaped
    assert attachment["title"] == f"[FIRING:1] {escaped} (prod {escaped} web-1)"
    assert f"• evil: {escaped}\n" in attachment["text"]
    assert "49" not in receiver.requests[0].body.decode()
    assert "<!channel>" not in receiver.requests[0].body.decode()


async def test_send_resolved_is_off_by_default(receiver: Receiver, ctx: ChannelContext) -> None:
    channel = slack(ctx, api_url=receiver.url())
    assert channel.send_resolved is False
    await channel.send(notification(alert(status="resolved")))
    assert receiver.requests == []


async def test_send_resolved_reports_resolution_in_green(
    receiver: Receiver, ctx: ChannelContext
) -> None:
    await slack(ctx, api_url=receiver.url(), send_resolved=True).send(
        notification(alert(status="resolved"))
    )
    attachment = receiver.requests[0].json()["attachments"][0]
    assert attachment["title"] == "[RESOLVED] HighLatency (prod web-1)"
    assert attachment["color"] == "good"
    assert attachment["text"].startswith("*RESOLVED* HighLatency")


async def test_long_titles_are_cut_at_slacks_limit(receiver: Receiver, ctx: ChannelContext) -> None:
    await slack(ctx, api_url=receiver.url(), title="x" * 2000).send(notification(alert()))
    title = receiver.requests[0].json()["attachments"][0]["title"]
    assert len(title) == 1024
    assert title.endswith("x…")


async def test_a_failing_template_is_a_permanent_failure_and_sends_nothing(
    receiver: Receiver, ctx: ChannelContext
) -> None:
    channel = slack(ctx, api_url=receiver.url(), text="{{ 1 / 0 }}")
    with pytest.raises(DeliveryFailed, match="slack text") as info:
        await channel.send(notification(alert()))
    assert info.value.retryable is False
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({}, "missing required field `api_url`"),
        (
            {"api_url": "https://hooks.slack.com/x", "api_url_file": "/etc/x"},
            "unknown field `api_url_file`",
        ),
        ({"api_url": "hooks.slack.com/services/x"}, "api_url must be an http or https URL"),
        ({"api_url": "https://slack.com/api/chat.postMessage", "channel": "C1"}, "set token"),
        ({"api_url": "https://slack.com/api/chat.postMessage", "token": TOKEN}, "set channel"),
        (
            {
                "api_url": "https://slack.com/api/chat.postMessage",
                "channel": "C1",
                "token": TOKEN,
                "http_config": {"bearer_token": TOKEN},
            },
            "not both",
        ),
        ({"api_url": "https://h.example", "token": "a\r\nb"}, "token must be printable ASCII"),
        (
            {"api_url": "https://h.example", "fields": [{"title": "t", "value": ""}]},
            "non-empty title and value",
        ),
        (
            {"api_url": "https://h.example", "actions": [{"type": "button", "text": "t"}]},
            "a url or a name",
        ),
        ({"api_url": "https://h.example", "timeout": -1}, "Expected `float` > 0"),
    ],
)
def test_invalid_config_is_rejected_with_a_precise_message(
    entry: dict[str, Any], message: str
) -> None:
    assert message in rejection(SlackConfig, entry)


def test_spec_takes_the_global_slack_api_url() -> None:
    assert (SPEC.config_key, SPEC.integration) == ("slack_configs", "slack")
    assert SPEC.defaults({"slack_api_url": "https://hooks.slack.com/s/1"}) == {
        "api_url": "https://hooks.slack.com/s/1"
    }
    auth = {"bearer_token": "t"}
    assert SPEC.defaults({"http_config": auth}) == {"http_config": auth}
    # The receiver's own value wins over the global default.
    merged = {
        **SPEC.defaults({"slack_api_url": "https://a.example"}),
        "api_url": "https://b.example",
    }
    assert msgspec.convert(merged, SlackConfig).api_url == "https://b.example"


def test_secrets_and_schema_descriptions() -> None:
    assert {"api_url", "token", "http_config.authorization.credentials"} <= SlackConfig.SECRETS
    schema = msgspec.json.schema(SlackConfig)
    assert {"SlackConfig", "SlackField", "SlackAction", "SlackConfirm"} <= set(schema["$defs"])
    assert undescribed(SlackConfig) == {}
    assert schema["$defs"]["SlackConfig"]["properties"]["send_resolved"]["default"] is False


@pytest.mark.parametrize("answer", [Answer(kind="hang"), Answer(status=500, body="boom")])
async def test_failures_never_reveal_the_webhook_url(
    receiver: Receiver, ctx: ChannelContext, answer: Answer
) -> None:
    receiver.queue(answer)
    url = receiver.url("/services/T0/B0/SECRETPART")
    channel = slack(ctx, api_url=url, timeout=SHORT_TIMEOUT)
    with pytest.raises(DeliveryFailed) as info:
        await channel.send(notification(alert()))
    assert "SECRETPART" not in str(info.value)
