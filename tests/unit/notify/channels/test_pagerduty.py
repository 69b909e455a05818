"""The PagerDuty channel against a real Events API v2 stand-in on loopback: the exact event,
its headers, escaping, send_resolved, each failure answer, and config validation."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from core_alerts.notify.channels.base import Channel, ChannelContext, DeliveryFailed
from core_alerts.notify.channels.pagerduty import SPEC, PagerDutyConfig
from core_alerts.notify.receivers import parse_receiver
from tests.support.receiver import FAILURES, SHORT_TIMEOUT, Answer, Failure, Receiver, Seen
from tests.unit.notify.channels.builders import (
    HOSTILE,
    alert,
    build_channel,
    notification,
    rejection,
    undescribed,
)

ROUTING_KEY = "R0UT1NGKEY0123456789abcdef012345"


class FakePagerDuty(Receiver):
    """POST /v2/enqueue, recording each request; answers 202 as PagerDuty does."""

    @property
    def enqueue_url(self) -> str:
        return self.url("/v2/enqueue")

    def respond(self, seen: Seen) -> Answer:
        accepted = {"status": "success", "message": "Event processed"}
        return Answer.of_json(accepted | {"dedup_key": seen.json()["dedup_key"]}, status=202)


@pytest.fixture
async def pagerduty() -> AsyncIterator[FakePagerDuty]:
    async with FakePagerDuty() as fake:
        yield fake


def channel(ctx: ChannelContext, url: str, **fields: Any) -> Channel:
    return build_channel(SPEC, ctx, **{"routing_key": ROUTING_KEY, "url": url, **fields})


async def test_trigger_event_has_pagerdutys_exact_shape(
    pagerduty: FakePagerDuty, ctx: ChannelContext
) -> None:
    n = notification(
        alert(n=1, severity="critical", host="db1"), alert(n=2, severity="warning", host="db2")
    )
    await channel(ctx, pagerduty.enqueue_url).send(n)

    [seen] = pagerduty.requests
    assert (seen.method, seen.path) == ("POST", "/v2/enqueue")
    assert seen.headers["Idempotency-Key"] == "notif-1"
    assert seen.headers["Content-Type"] == "application/json"
    body = seen.json()
    details = body["payload"].pop("custom_details")
    assert body == {
        "routing_key": ROUTING_KEY,
        "dedup_key": n.group_hash,
        "event_action": "trigger",
        "client": "core-alerts",
        "client_url": "https://alerts.example",
        "payload": {
            "summary": "[FIRING:2] HighLatency (prod)",
            "source": "core-alerts",
            "severity": "critical",
        },
    }
    assert details["num_firing"] == "2"
    assert details["num_resolved"] == "0"
    assert " - host = db1\n" in details["firing"]
    assert "Source: http://prometheus.example/graph?g0.expr=up&n=1\n" in details["firing"]
    assert details["resolved"] == ""


async def test_all_resolved_sends_a_resolve_with_the_same_dedup_key(
    pagerduty: FakePagerDuty, ctx: ChannelContext
) -> None:
    chan = channel(ctx, pagerduty.enqueue_url)
    await chan.send(notification(alert(), nid="n-1"))
    await chan.send(notification(alert(status="resolved"), nid="n-2"))

    first, second = (seen.json() for seen in pagerduty.requests)
    assert second["event_action"] == "resolve"
    assert second["dedup_key"] == first["dedup_key"] == notification().group_hash
    assert second["payload"]["summary"] == "[RESOLVED] HighLatency (prod web-1)"
    assert pagerduty.requests[1].headers["Idempotency-Key"] == "n-2"


async def test_send_resolved_false_sends_nothing_for_resolved_groups(
    pagerduty: FakePagerDuty, ctx: ChannelContext
) -> None:
    chan = channel(ctx, pagerduty.enqueue_url, send_resolved=False)
    assert chan.send_resolved is False
    await chan.send(notification(alert(status="resolved")))
    assert pagerduty.requests == []
    await chan.send(notification(alert(), alert("Other", n=2, status="resolved")))
    assert [r.json()["event_action"] for r in pagerduty.requests] == ["trigger"]


async def test_hostile_label_arrives_verbatim_and_unrendered(
    pagerduty: FakePagerDuty, ctx: ChannelContext
) -> None:
    await channel(ctx, pagerduty.enqueue_url, component="{{ common_labels.team }}").send(
        notification(alert(team=HOSTILE))
    )
    payload = pagerduty.requests[0].json()["payload"]
    assert payload["summary"] == f"[FIRING:1] HighLatency (prod web-1 {HOSTILE})"
    assert payload["component"] == HOSTILE
    assert f" - team = {HOSTILE}\n" in payload["custom_details"]["firing"]
    assert "49" not in str(payload)


async def test_summary_is_cut_to_1024_characters_with_an_ellipsis(
    pagerduty: FakePagerDuty, ctx: ChannelContext
) -> None:
    await channel(ctx, pagerduty.enqueue_url, description="{{ common_labels.long }}").send(
        notification(alert(long="é" * 3000))
    )
    summary = pagerduty.requests[0].json()["payload"]["summary"]
    assert len(summary) == 1024
    assert summary == "é" * 1023 + "…"


@pytest.mark.parametrize(
    ("severity", "alert_severity", "expected"),
    [
        ("", "high", "error"),
        ("", "medium", "warning"),
        ("", "info", "info"),
        ("warning", "critical", "warning"),
        ("{{ common_labels.sev }}", "info", "critical"),  # label "crit" is an alias
        ("not-a-severity", "low", "warning"),
    ],
)
async def test_severity_is_one_of_pagerdutys_four_words(
    pagerduty: FakePagerDuty,
    ctx: ChannelContext,
    severity: str,
    alert_severity: str,
    expected: str,
) -> None:
    await channel(ctx, pagerduty.enqueue_url, severity=severity).send(
        notification(alert(severity=alert_severity, sev="crit"))
    )
    assert pagerduty.requests[0].json()["payload"]["severity"] == expected


async def test_optional_fields_images_and_links_are_rendered(
    pagerduty: FakePagerDuty, ctx: ChannelContext
) -> None:
    chan = channel(
        ctx,
        pagerduty.enqueue_url,
        routing_key="{{ common_labels.pd_key }}",
        client="Acme monitoring",
        client_url="",
        source="{{ common_labels.host }}",
        group="storage",
        details={"runbook": "https://runbooks/{{ group_labels.alertname }}"},
        images=[
            {"src": "https://img/{{ common_labels.host }}.png", "alt": "graph"},
            {"src": "{{ common_labels.missing }}"},
        ],
        links=[
            {"href": "https://dash/{{ common_labels.host }}", "text": "Dashboard"},
            {"href": ""},
        ],
        **{"class": "disk"},
    )
    await chan.send(notification(alert(host="db1", pd_key="key-from-label")))
    body = pagerduty.requests[0].json()
    assert body["routing_key"] == "key-from-label"
    assert body["client"] == "Acme monitoring"
    assert "client_url" not in body
    assert body["payload"]["source"] == "db1"
    assert body["payload"]["class"] == "disk"
    assert body["payload"]["group"] == "storage"
    assert "component" not in body["payload"]
    assert body["payload"]["custom_details"] == {"runbook": "https://runbooks/HighLatency"}
    assert body["images"] == [{"src": "https://img/db1.png", "alt": "graph", "href": ""}]
    assert body["links"] == [{"href": "https://dash/db1", "text": "Dashboard"}]


async def test_oversized_event_loses_its_custom_details(
    pagerduty: FakePagerDuty, ctx: ChannelContext
) -> None:
    # Each detail stays under the template output cap; together they pass PagerDuty's limit.
    big = {name: "{{ common_labels.big }}" for name in ("a", "b", "c")}
    await channel(ctx, pagerduty.enqueue_url, details=big).send(
        notification(alert(big="x" * 200_000))
    )
    details = pagerduty.requests[0].json()["payload"]["custom_details"]
    assert list(details) == ["error"]
    assert "exceeds the maximum size of 512kB" in details["error"]


async def test_routing_key_that_renders_empty_is_not_sent(
    pagerduty: FakePagerDuty, ctx: ChannelContext
) -> None:
    chan = channel(ctx, pagerduty.enqueue_url, routing_key="{{ common_labels.nothing }}")
    with pytest.raises(DeliveryFailed, match="routing_key is empty") as info:
        await chan.send(notification())
    assert info.value.retryable is False
    assert pagerduty.requests == []


async def test_broken_template_fails_without_retry(
    pagerduty: FakePagerDuty, ctx: ChannelContext
) -> None:
    chan = channel(ctx, pagerduty.enqueue_url, description="{{ status ")
    with pytest.raises(DeliveryFailed, match=r"^description: template syntax error") as info:
        await chan.send(notification())
    assert info.value.retryable is False
    assert pagerduty.requests == []


@pytest.mark.parametrize("failure", FAILURES)
async def test_failure_answers(
    pagerduty: FakePagerDuty, ctx: ChannelContext, failure: Failure
) -> None:
    pagerduty.queue(failure.answer)
    chan = channel(ctx, pagerduty.enqueue_url, timeout=SHORT_TIMEOUT)
    failed = await failure.raised_by(chan.send(notification()))
    assert ROUTING_KEY not in failed.message
    assert len(pagerduty.requests) == 1


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"routing_key": "k", "colour": "red"}, "unknown field `colour`"),
        ({"routing_key": "k", "url": "ftp://events.pagerduty.com/"}, "url: must be an http"),
        ({"routing_key": "k", "url": "https:///no-host"}, "url: must be an http"),
        ({}, "missing required field `routing_key`"),
        ({"routing_key": " "}, "routing_key: must not be empty"),
        ({"routing_key": "k", "service_key": "v1key"}, "service_key: the PagerDuty Events API v1"),
        ({"routing_key": "k", "timeout": 0}, "Expected `float` > 0.0 - at `$.timeout`"),
        ({"routing_key": "k", "images": [{"alt": "x"}]}, "missing required field `src`"),
    ],
)
def test_config_validation(fields: dict[str, Any], error: str) -> None:
    assert re.search(re.escape(error), rejection(PagerDutyConfig, fields))


def test_config_defaults_and_secrets() -> None:
    config = msgspec.convert({"routing_key": "k"}, PagerDutyConfig)
    assert config.url == "https://events.pagerduty.com/v2/enqueue"
    assert config.send_resolved is True
    assert config.timeout == 10.0
    assert set(config.details) == {"firing", "resolved", "num_firing", "num_resolved"}
    secrets = PagerDutyConfig.SECRETS
    assert secrets == frozenset({"routing_key"})
    assert SPEC.defaults({"pagerduty_url": "https://pd.proxy/v2/enqueue"}) == {
        "url": "https://pd.proxy/v2/enqueue"
    }
    assert SPEC.defaults({}) == {}
    assert (SPEC.config_key, SPEC.integration) == ("pagerduty_configs", "pagerduty")


def test_schema_carries_field_descriptions() -> None:
    schema = msgspec.json.schema(PagerDutyConfig)
    props = schema["$defs"]["PagerDutyConfig"]["properties"]
    assert "class" in props
    assert "class_" not in props
    assert undescribed(PagerDutyConfig) == {}
    assert "Events API v2" in props["routing_key"]["description"]
    assert schema["$defs"]["PagerDutyConfig"]["required"] == ["routing_key"]


async def test_global_url_applies_through_the_receivers_section(
    pagerduty: FakePagerDuty, ctx: ChannelContext
) -> None:
    entry = {"routing_key": ROUTING_KEY, "severity": "info"}
    [parsed] = parse_receiver(
        "pd", {"pagerduty_configs": [entry]}, {"pagerduty_url": pagerduty.enqueue_url}
    )
    await SPEC.build(parsed.config, ctx).send(notification())
    [seen] = pagerduty.requests
    assert seen.json()["routing_key"] == ROUTING_KEY
    assert seen.json()["payload"]["severity"] == "info"
