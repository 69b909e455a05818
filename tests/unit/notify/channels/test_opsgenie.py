"""The Opsgenie channel against a real Alert API v2 stand-in on loopback that keeps its alerts:
create, update and close end to end, the exact bodies, headers, escaping, failures, config."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest

from core_alerts.notify.channels.base import Channel, ChannelContext, DeliveryFailed
from core_alerts.notify.channels.opsgenie import SPEC, OpsgenieConfig
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

API_KEY = "0e1f2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
_ROUTE = re.compile(r"/(?:opsgenie/)?v2/alerts(?:/(?P<alias>[^/]+)/(?P<what>\w+))?")


@dataclass
class OpsAlert:
    message: str
    description: str
    status: str = "open"
    count: int = 1
    history: list[str] = field(default_factory=list)


class FakeOpsgenie(Receiver):
    """The Alert API v2 endpoints the channel uses, under an optional /opsgenie prefix.

    Keeps alerts by alias; checks the GenieKey; answers 202 unless told otherwise.
    """

    def __init__(self) -> None:
        super().__init__()
        self.alerts: dict[str, OpsAlert] = {}

    @property
    def api_url(self) -> str:
        return self.url("/")

    def respond(self, seen: Seen) -> Answer:
        if seen.headers.get("Authorization") != f"GenieKey {API_KEY}":
            return Answer.of_json({"message": "Key format is not valid!"}, status=401)
        route = _ROUTE.fullmatch(seen.path)
        if route is None:
            return Answer(status=404)
        alias, what, body = route["alias"], route["what"], seen.json()
        if alias is None and seen.method == "POST":
            existing = self.alerts.get(body["alias"])
            if existing is not None and existing.status == "open":
                existing.count += 1  # Opsgenie deduplicates open alerts by alias
            else:
                self.alerts[body["alias"]] = OpsAlert(body["message"], body.get("description", ""))
        elif (seen.method, what) == ("POST", "close"):
            assert seen.query["identifierType"] == "alias"
            self.alerts[alias].status = "closed"
        elif seen.method == "PUT" and what in ("message", "description"):
            assert seen.query["identifierType"] == "alias"
            setattr(self.alerts[alias], what, body[what])
            self.alerts[alias].history.append(what)
        else:
            return Answer(status=405)
        return Answer.of_json({"result": "Request will be processed", "took": 0.1}, status=202)


@pytest.fixture
async def opsgenie() -> AsyncIterator[FakeOpsgenie]:
    async with FakeOpsgenie() as fake:
        yield fake


def channel(ctx: ChannelContext, url: str, **fields: Any) -> Channel:
    return build_channel(SPEC, ctx, **{"api_key": API_KEY, "api_url": url, **fields})


async def test_firing_group_creates_one_alert_with_the_group_alias(
    opsgenie: FakeOpsgenie, ctx: ChannelContext
) -> None:
    n = notification(
        alert(n=1, severity="critical", host="db1"), alert(n=2, severity="warning", host="db2")
    )
    details = {"runbook": "rb/{{ group_labels.alertname }}"}
    await channel(ctx, opsgenie.api_url, details=details).send(n)

    [seen] = opsgenie.requests
    assert (seen.method, seen.path, seen.query) == ("POST", "/v2/alerts", {})
    assert seen.headers["Authorization"] == f"GenieKey {API_KEY}"
    assert seen.headers["Idempotency-Key"] == "notif-1"
    assert seen.headers["Content-Type"] == "application/json"
    body = seen.json()
    description = body.pop("description")
    assert body == {
        "alias": n.group_hash,
        "message": "[FIRING:2] HighLatency (prod)",
        "details": {"alertname": "HighLatency", "env": "prod", "runbook": "rb/HighLatency"},
        "source": "https://alerts.example",
        "priority": "P1",
    }
    assert description.startswith("[FIRING:2] HighLatency (prod)\nAlerts Firing:\nLabels:\n")
    assert " - host = db2\n" in description
    assert "Alerts Resolved" not in description
    assert opsgenie.alerts[n.group_hash].status == "open"


async def test_resolved_group_closes_the_alert_by_alias(
    opsgenie: FakeOpsgenie, ctx: ChannelContext
) -> None:
    chan = channel(ctx, opsgenie.api_url)
    await chan.send(notification(alert(), nid="n-1"))
    await chan.send(notification(alert(), nid="n-2"))
    await chan.send(notification(alert(status="resolved"), nid="n-3"))

    alias = notification().group_hash
    assert opsgenie.alerts[alias].count == 2
    assert opsgenie.alerts[alias].status == "closed"
    close = opsgenie.requests[-1]
    assert (close.method, close.path) == ("POST", f"/v2/alerts/{alias}/close")
    assert close.query == {"identifierType": "alias"}
    assert close.json() == {"source": "https://alerts.example"}
    assert close.headers["Idempotency-Key"] == "n-3"
    assert close.headers["Authorization"] == f"GenieKey {API_KEY}"


async def test_update_alerts_rewrites_message_and_description(
    opsgenie: FakeOpsgenie, ctx: ChannelContext
) -> None:
    chan = channel(ctx, opsgenie.url("/opsgenie"), update_alerts=True, description="{{ status }}")
    await chan.send(notification(alert(), nid="n-1"))
    await chan.send(notification(alert(n=1), alert(n=2, host="db9"), nid="n-2"))

    alias = notification().group_hash
    assert [(r.method, r.path) for r in opsgenie.requests[3:]] == [
        ("POST", "/opsgenie/v2/alerts"),
        ("PUT", f"/opsgenie/v2/alerts/{alias}/message"),
        ("PUT", f"/opsgenie/v2/alerts/{alias}/description"),
    ]
    assert [r.headers["Idempotency-Key"] for r in opsgenie.requests[3:]] == [
        "n-2",
        "n-2:message",
        "n-2:description",
    ]
    assert opsgenie.requests[4].json() == {"message": "[FIRING:2] HighLatency (prod)"}
    assert opsgenie.requests[5].json() == {"description": "firing"}
    assert opsgenie.alerts[alias].message == "[FIRING:2] HighLatency (prod)"
    assert opsgenie.alerts[alias].history == ["message", "description"] * 2


async def test_send_resolved_false_leaves_the_alert_open(
    opsgenie: FakeOpsgenie, ctx: ChannelContext
) -> None:
    chan = channel(ctx, opsgenie.api_url, send_resolved=False)
    assert chan.send_resolved is False
    await chan.send(notification(alert()))
    await chan.send(notification(alert(status="resolved")))
    assert [r.path for r in opsgenie.requests] == ["/v2/alerts"]
    assert opsgenie.alerts[notification().group_hash].status == "open"


async def test_hostile_label_arrives_verbatim_and_unrendered(
    opsgenie: FakeOpsgenie, ctx: ChannelContext
) -> None:
    chan = channel(
        ctx, opsgenie.api_url, entity="{{ common_labels.team }}", tags="{{ common_labels.team }}"
    )
    await chan.send(notification(alert(team=HOSTILE)))
    body = opsgenie.requests[0].json()
    assert body["message"] == f"[FIRING:1] HighLatency (prod web-1 {HOSTILE})"
    assert body["entity"] == HOSTILE
    assert body["details"]["team"] == HOSTILE
    assert body["tags"] == [HOSTILE]
    assert f" - team = {HOSTILE}\n" in body["description"]
    body.pop("alias")  # a hash: its digits prove nothing
    assert "49" not in str(body)


async def test_message_is_cut_to_130_characters(
    opsgenie: FakeOpsgenie, ctx: ChannelContext
) -> None:
    await channel(ctx, opsgenie.api_url, message="{{ common_labels.long }}").send(
        notification(alert(long="ü" * 500))
    )
    assert opsgenie.requests[0].json()["message"] == "ü" * 129 + "…"


async def test_responders_tags_actions_and_priority_are_rendered(
    opsgenie: FakeOpsgenie, ctx: ChannelContext
) -> None:
    chan = channel(
        ctx,
        opsgenie.api_url,
        responders=[
            {"type": "Team", "name": "{{ common_labels.team }}"},
            {"type": "teams", "name": "dba, storage ,"},
            {"type": "user", "username": "{{ common_labels.oncall }}"},
            {"type": "{{ common_labels.missing }}", "id": "{{ common_labels.missing }}"},
            {"type": "schedule", "id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c"},
        ],
        tags="{{ common_labels.team }}, prod,,",
        actions=["Restart", "{{ common_labels.missing }}"],
        priority="{{ common_labels.prio }}",
        note="first seen by {{ receiver }}",
    )
    await chan.send(notification(alert(team="db", oncall="ann@example.com", prio="p2")))
    body = opsgenie.requests[0].json()
    assert body["responders"] == [
        {"name": "db", "type": "team"},
        {"name": "dba", "type": "team"},
        {"name": "storage", "type": "team"},
        {"username": "ann@example.com", "type": "user"},
        {"id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c", "type": "schedule"},
    ]
    assert body["tags"] == ["db", "prod"]
    assert body["actions"] == ["Restart"]
    assert body["priority"] == "P2"
    assert body["note"] == "first seen by ops"


@pytest.mark.parametrize(
    ("priority", "severity", "expected"),
    [("", "high", "P2"), ("", "low", "P4"), ("", "info", "P5"), ("{{ 'urgent' }}", "medium", "P3")],
)
async def test_priority_falls_back_to_the_alerts_severity(
    opsgenie: FakeOpsgenie, ctx: ChannelContext, priority: str, severity: str, expected: str
) -> None:
    await channel(ctx, opsgenie.api_url, priority=priority).send(
        notification(
            alert(severity=severity), alert("Other", n=2, severity="critical", status="resolved")
        )
    )
    assert opsgenie.requests[0].json()["priority"] == expected


INVALID = Failure(Answer.of_json({"message": "nope"}, 422), False, None, 422, "answered 422")


@pytest.mark.parametrize("failure", [*FAILURES, pytest.param(INVALID, id="422")])
async def test_failure_answers(
    opsgenie: FakeOpsgenie, ctx: ChannelContext, failure: Failure
) -> None:
    opsgenie.queue(failure.answer)
    chan = channel(ctx, opsgenie.api_url, timeout=SHORT_TIMEOUT)
    failed = await failure.raised_by(chan.send(notification()))
    assert API_KEY not in failed.message
    assert len(opsgenie.requests) == 1


async def test_wrong_key_is_not_retried(opsgenie: FakeOpsgenie, ctx: ChannelContext) -> None:
    chan = channel(ctx, opsgenie.api_url, api_key="wrong-key")
    with pytest.raises(DeliveryFailed, match="answered 401") as info:
        await chan.send(notification())
    assert (info.value.retryable, info.value.status) == (False, 401)


async def test_broken_template_fails_without_retry(
    opsgenie: FakeOpsgenie, ctx: ChannelContext
) -> None:
    with pytest.raises(DeliveryFailed, match=r"^note: template syntax error") as info:
        await channel(ctx, opsgenie.api_url, note="{% if %}").send(notification())
    assert info.value.retryable is False
    assert opsgenie.requests == []


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"api_key": "k", "visible_to": []}, "unknown field `visible_to`"),
        ({"api_key": "k", "api_key_file": "/etc/key"}, "unknown field `api_key_file`"),
        ({"api_key": "k", "api_url": "gopher://api.opsgenie.com/"}, "api_url: must be an http"),
        ({"api_key": "k", "api_url": "https://api.opsgenie.com/?x=1"}, "api_url: must not have"),
        ({}, "missing required field `api_key`"),
        ({"api_key": "two words"}, "api_key: must be non-empty printable ASCII"),
        ({"api_key": "k", "priority": "P9"}, "priority: must be P1, P2, P3, P4 or P5"),
        ({"api_key": "k", "responders": [{"type": "team"}]}, "responders: each responder needs"),
        (
            {"api_key": "k", "responders": [{"type": "group", "name": "x"}]},
            "responders: type 'group' is not one of team, teams, user, escalation, schedule",
        ),
        ({"api_key": "k", "responders": [{"name": "x"}]}, "missing required field `type`"),
    ],
)
def test_config_validation(fields: dict[str, Any], error: str) -> None:
    assert error in rejection(OpsgenieConfig, fields)


def test_config_defaults_and_secrets() -> None:
    config = msgspec.convert(
        {
            "api_key": "k",
            "priority": "{{ common_labels.p }}",
            "responders": [{"type": "{{ common_labels.kind }}", "id": "x"}],
        },
        OpsgenieConfig,
    )
    assert config.api_url == "https://api.opsgenie.com/"
    assert (config.send_resolved, config.update_alerts, config.timeout) == (True, False, 10.0)
    secrets = OpsgenieConfig.SECRETS
    assert secrets == frozenset({"api_key"})
    assert SPEC.defaults(
        {"opsgenie_api_key": "gk", "opsgenie_api_url": "https://api.eu.opsgenie.com/"}
    ) == {"api_key": "gk", "api_url": "https://api.eu.opsgenie.com/"}
    assert SPEC.defaults({"slack_api_url": "https://hooks.slack.com/x"}) == {}
    assert (SPEC.config_key, SPEC.integration) == ("opsgenie_configs", "opsgenie")


def test_schema_carries_field_descriptions() -> None:
    schema = msgspec.json.schema(OpsgenieConfig)
    assert {"OpsgenieConfig", "OpsgenieResponder"} <= set(schema["$defs"])
    assert undescribed(OpsgenieConfig) == {}
    props = schema["$defs"]["OpsgenieConfig"]["properties"]
    assert "130 characters" in props["message"]["description"]
    assert schema["$defs"]["OpsgenieConfig"]["required"] == ["api_key"]


async def test_global_key_and_url_apply_through_the_receivers_section(
    opsgenie: FakeOpsgenie, ctx: ChannelContext
) -> None:
    global_ = {"opsgenie_api_key": API_KEY, "opsgenie_api_url": opsgenie.url("/opsgenie")}
    [parsed] = parse_receiver("ops", {"opsgenie_configs": [{"tags": "db"}]}, global_)
    await SPEC.build(parsed.config, ctx).send(notification())
    [seen] = opsgenie.requests
    assert seen.path == "/opsgenie/v2/alerts"
    assert seen.headers["Authorization"] == f"GenieKey {API_KEY}"
    assert seen.json()["tags"] == ["db"]
