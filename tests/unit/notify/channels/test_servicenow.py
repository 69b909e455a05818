"""The ServiceNow channel against a real Table API stand-in on loopback that keeps its records
in memory: create, update and resolve end to end, retries, escaping, failures, config."""

from __future__ import annotations

import base64
import itertools
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from core_alerts.notify.channels.base import Channel, ChannelContext, DeliveryFailed
from core_alerts.notify.channels.servicenow import SPEC, ServiceNowConfig
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

PASSWORD = "s3cret-pässword"
TOKEN = "oauth-token-0123456789"
BASIC = "Basic " + base64.b64encode(f"alerts.bot:{PASSWORD}".encode()).decode()
SUMMARY = "Disk almost full"
_ROUTE = re.compile(r"/api/now/table/(?P<table>\w+)(?:/(?P<sys_id>\w+))?")


class FakeServiceNow(Receiver):
    """/api/now/table/<table>: GET with an encoded query, POST, PATCH by sys_id.

    Records live in memory; `work_notes` is a journal (each write appends an entry), and a
    record whose state becomes 7 (Closed) or 8 (Canceled) stops being active, as in ServiceNow.
    With `lose_next_create` set, the next record is stored but its answer is a 500.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.lose_next_create = False
        self._clock = itertools.count(1)

    @property
    def instance_url(self) -> str:
        return self.url("")

    def records(self, table: str = "incident") -> list[dict[str, Any]]:
        return self.tables.get(table, [])

    def respond(self, seen: Seen) -> Answer:
        if seen.headers.get("Authorization") not in (BASIC, f"Bearer {TOKEN}"):
            return Answer.of_json({"error": {"message": "User Not Authenticated"}}, status=401)
        route = _ROUTE.fullmatch(seen.path)
        if route is None:
            return Answer(status=404)
        if seen.method == "GET" and route["sys_id"] is None:
            return self._query(route["table"], seen.query)
        if seen.method == "POST" and route["sys_id"] is None:
            return self._create(route["table"], seen.json())
        if seen.method == "PATCH" and route["sys_id"] is not None:
            return self._update(route["table"], route["sys_id"], seen.json())
        return Answer(status=405)

    def _query(self, table: str, query: Any) -> Answer:
        found = self.records(table)
        for term in query["sysparm_query"].split("^"):
            if term.startswith("ORDERBYDESC"):
                found = sorted(found, key=lambda r: r[term[11:]], reverse=True)
            elif "!=" in term:
                name, value = term.split("!=")
                found = [r for r in found if r.get(name) != value]
            else:
                name, value = term.split("=")
                found = [r for r in found if r.get(name) == value]
        fields = query["sysparm_fields"].split(",")
        limit = int(query["sysparm_limit"])
        return Answer.of_json({"result": [{f: r[f] for f in fields} for r in found[:limit]]})

    def _create(self, name: str, fields: dict[str, Any]) -> Answer:
        table = self.tables.setdefault(name, [])
        record = {
            "sys_id": uuid.uuid4().hex,
            "number": f"INC{len(table) + 1:07d}",
            "state": "1",
            "active": "true",
            "work_notes": [],
            "sys_created_on": f"2030-01-01 00:00:{next(self._clock):02d}",
        }
        table.append(record | fields)
        if self.lose_next_create:  # the record exists, but the answer is lost
            self.lose_next_create = False
            return Answer.of_json({"error": {"message": "timeout"}}, status=500)
        return Answer.of_json({"result": record | fields}, status=201)

    def _update(self, table: str, sys_id: str, fields: dict[str, Any]) -> Answer:
        [record] = [r for r in self.records(table) if r["sys_id"] == sys_id]
        for name, value in fields.items():
            if name == "work_notes":
                record["work_notes"].append(value)
            else:
                record[name] = value
        if record["state"] in ("7", "8"):
            record["active"] = "false"
        return Answer.of_json({"result": record})


@pytest.fixture
async def snow() -> AsyncIterator[FakeServiceNow]:
    async with FakeServiceNow() as fake:
        yield fake


def channel(ctx: ChannelContext, url: str, **fields: Any) -> Channel:
    auth = {} if "token" in fields else {"username": "alerts.bot", "password": PASSWORD}
    return build_channel(SPEC, ctx, **{"instance_url": url, **auth, **fields})


GROUP_HASH = notification().group_hash
QUERY = f"correlation_id={GROUP_HASH}^active=true^state!=6^ORDERBYDESCsys_created_on"


async def test_first_firing_notification_creates_an_incident(
    snow: FakeServiceNow, ctx: ChannelContext
) -> None:
    chan = channel(
        ctx,
        snow.instance_url + "/",
        assignment_group="{{ common_labels.team }}-oncall",
        category="Infrastructure",
        caller_id="alerts.bot",
    )
    await chan.send(
        notification(
            alert(n=1, severity="critical", summary=SUMMARY, host="db1", team="dba"),
            alert(n=2, severity="critical", summary=SUMMARY, host="db2", team="dba"),
        )
    )

    lookup, create = snow.requests
    assert (lookup.method, lookup.path) == ("GET", "/api/now/table/incident")
    assert lookup.query == {
        "sysparm_query": QUERY,
        "sysparm_limit": "1",
        "sysparm_fields": "sys_id,number",
    }
    assert (create.method, create.path) == ("POST", "/api/now/table/incident")
    for seen in (lookup, create):
        assert seen.headers["Authorization"] == BASIC
        assert seen.headers["Idempotency-Key"] == "notif-1"
        assert seen.headers["Accept"] == "application/json"
    fields = create.json()
    description = fields.pop("description")
    assert fields == {
        "short_description": "HighLatency (prod dba): Disk almost full",
        "urgency": "1",
        "impact": "1",
        "assignment_group": "dba-oncall",
        "caller_id": "alerts.bot",
        "category": "Infrastructure",
        "correlation_id": GROUP_HASH,
        "correlation_display": "core-alerts",
    }
    assert description.startswith(
        "Opened by core-alerts for receiver ops: 2 alert(s) firing.\n"
        "Alerts: https://alerts.example\n"
    )
    assert (
        "- HighLatency (since 2023-11-14 22:13:21 UTC)\n  alertname = HighLatency\n" in description
    )
    assert "  host = db2\n" in description
    [record] = snow.records()
    assert (record["state"], record["active"]) == ("1", "true")


async def test_later_notifications_add_work_notes_then_resolve(
    snow: FakeServiceNow, ctx: ChannelContext
) -> None:
    chan = channel(ctx, snow.instance_url)
    await chan.send(notification(alert(host="db1"), nid="n-1"))
    await chan.send(notification(alert(n=1, host="db1"), alert(n=2, host="db2"), nid="n-2"))
    await chan.send(
        notification(
            alert(n=1, host="db1", status="resolved"),
            alert(n=2, host="db2", status="resolved"),
            nid="n-3",
        )
    )

    [record] = snow.records()
    assert [(r.method, r.headers["Idempotency-Key"]) for r in snow.requests] == [
        ("GET", "n-1"),
        ("POST", "n-1"),
        ("GET", "n-2"),
        ("PATCH", "n-2"),
        ("GET", "n-3"),
        ("PATCH", "n-3"),
    ]
    assert snow.requests[3].path == f"/api/now/table/incident/{record['sys_id']}"
    assert snow.requests[3].json() == {"work_notes": record["work_notes"][0]}
    [note] = record["work_notes"]
    assert note.startswith("[FIRING:2] HighLatency (prod)\n\nFiring:\n")
    assert "  host = db2\n" in note
    close = snow.requests[5].json()
    assert close.pop("close_notes").startswith(
        "Resolved by core-alerts: every alert of this group has resolved.\n\nResolved:\n"
    )
    assert close == {"state": "6", "close_code": "Solution provided"}
    assert (record["state"], record["close_code"]) == ("6", "Solution provided")


async def test_resolved_group_without_an_open_record_writes_nothing(
    snow: FakeServiceNow, ctx: ChannelContext
) -> None:
    await channel(ctx, snow.instance_url).send(notification(alert(status="resolved")))
    assert [r.method for r in snow.requests] == ["GET"]
    assert snow.records() == []


async def test_group_firing_again_after_resolution_opens_a_new_incident(
    snow: FakeServiceNow, ctx: ChannelContext
) -> None:
    chan = channel(ctx, snow.instance_url)
    await chan.send(notification(alert(), nid="n-1"))
    await chan.send(notification(alert(status="resolved"), nid="n-2"))
    await chan.send(notification(alert(status="resolved"), nid="n-3"))  # already resolved
    await chan.send(notification(alert(), nid="n-4"))

    first, second = snow.records()
    assert (first["state"], second["state"]) == ("6", "1")
    assert first["correlation_id"] == second["correlation_id"] == GROUP_HASH
    assert [r.method for r in snow.requests] == [
        "GET",
        "POST",
        "GET",
        "PATCH",
        "GET",
        "GET",
        "POST",
    ]


async def test_retry_after_a_lost_answer_updates_instead_of_duplicating(
    snow: FakeServiceNow, ctx: ChannelContext
) -> None:
    chan = channel(ctx, snow.instance_url)
    snow.lose_next_create = True
    with pytest.raises(DeliveryFailed) as info:
        await chan.send(notification(nid="n-1"))
    assert info.value.retryable is True
    await chan.send(notification(nid="n-1"))

    [record] = snow.records()
    assert [r.method for r in snow.requests] == ["GET", "POST", "GET", "PATCH"]
    assert len(record["work_notes"]) == 1


async def test_send_resolved_false_leaves_the_incident_open(
    snow: FakeServiceNow, ctx: ChannelContext
) -> None:
    chan = channel(ctx, snow.instance_url, send_resolved=False)
    assert chan.send_resolved is False
    await chan.send(notification(alert()))
    await chan.send(notification(alert(status="resolved")))
    assert [r.method for r in snow.requests] == ["GET", "POST"]
    assert snow.records()[0]["state"] == "1"


async def test_hostile_labels_arrive_verbatim_and_cannot_open_code_blocks(
    snow: FakeServiceNow, ctx: ChannelContext
) -> None:
    chan = channel(ctx, snow.instance_url, extra_fields={"u_team": "{{ common_labels.team }}"})
    code = "[code]<img src=x onerror=alert(1)>[/CODE]"
    hostile = alert(summary=SUMMARY, team=HOSTILE, note=code)
    await chan.send(notification(hostile, nid="n-1"))
    await chan.send(notification(hostile, nid="n-2"))

    [record] = snow.records()
    assert record["u_team"] == HOSTILE
    defused = "[\u200bcode]<img src=x onerror=alert(1)>[\u200b/CODE]"
    assert record["short_description"] == (
        f"HighLatency (prod web-1 {defused} {HOSTILE}): Disk almost full"
    )
    assert f"  team = {HOSTILE}\n" in record["description"]
    [note] = record["work_notes"]
    assert defused in note
    assert "[code]" not in note.lower()
    assert "49" not in record["short_description"] + record["description"] + note


async def test_token_auth_custom_table_levels_and_extra_fields(
    snow: FakeServiceNow, ctx: ChannelContext
) -> None:
    chan = channel(
        ctx,
        snow.instance_url,
        token=TOKEN,
        table="u_monitoring_event",
        urgency=3,
        extra_fields={"cmdb_ci": "{{ common_labels.host }}", "u_empty": "{{ common_labels.x }}"},
        short_description="{{ common_labels.host }} needs attention",
    )
    await chan.send(notification(alert(host="db1", severity="info")))
    create = snow.requests[1]
    assert create.path == "/api/now/table/u_monitoring_event"
    assert create.headers["Authorization"] == f"Bearer {TOKEN}"
    fields = create.json()
    assert fields["cmdb_ci"] == "db1"
    assert "u_empty" not in fields
    assert (fields["urgency"], fields["impact"]) == ("3", "3")
    assert fields["short_description"] == "db1 needs attention"
    assert snow.records("u_monitoring_event")[0]["cmdb_ci"] == "db1"


@pytest.mark.parametrize(
    ("severity", "impact", "urgency"),
    [
        ("critical", "1", "1"),
        ("high", "1", "2"),
        ("medium", "2", "2"),
        ("low", "2", "3"),
        ("info", "3", "3"),
    ],
)
async def test_impact_and_urgency_follow_the_worst_firing_alert(
    snow: FakeServiceNow, ctx: ChannelContext, severity: str, impact: str, urgency: str
) -> None:
    n = notification(
        alert(n=1, severity=severity),
        alert("Low", n=2, severity="info"),
        alert("Gone", n=3, severity="critical", status="resolved"),
    )
    await channel(ctx, snow.instance_url).send(n)
    fields = snow.requests[1].json()
    assert (fields["impact"], fields["urgency"]) == (impact, urgency)


async def test_long_short_description_is_cut_to_160_characters(
    snow: FakeServiceNow, ctx: ChannelContext
) -> None:
    await channel(ctx, snow.instance_url, short_description="{{ common_labels.long }}").send(
        notification(alert(long="x" * 400))
    )
    assert snow.requests[1].json()["short_description"] == "x" * 159 + "…"


HIBERNATING = Failure(
    Answer(body="<html>Your instance is hibernating</html>", content_type="text/html"),
    True,
    None,
    None,
    "answered 200 with a body that is not JSON",
)
NO_RESULT = Failure(
    Answer.of_json({"records": []}), False, None, None, "answered without a `result` list"
)


@pytest.mark.parametrize(
    "failure",
    [*FAILURES, pytest.param(HIBERNATING, id="html"), pytest.param(NO_RESULT, id="no-result")],
)
async def test_failure_answers(snow: FakeServiceNow, ctx: ChannelContext, failure: Failure) -> None:
    snow.queue(failure.answer)
    chan = channel(ctx, snow.instance_url, timeout=SHORT_TIMEOUT)
    failed = await failure.raised_by(chan.send(notification()))
    assert PASSWORD not in failed.message
    assert snow.records() == []


async def test_wrong_credentials_are_not_retried(snow: FakeServiceNow, ctx: ChannelContext) -> None:
    chan = channel(ctx, snow.instance_url, password="wrong")
    with pytest.raises(DeliveryFailed, match="answered 401") as info:
        await chan.send(notification())
    assert (info.value.retryable, info.value.status) == (False, 401)


async def test_broken_template_fails_without_retry(
    snow: FakeServiceNow, ctx: ChannelContext
) -> None:
    with pytest.raises(DeliveryFailed, match=r"^description: template syntax error") as info:
        await channel(ctx, snow.instance_url, description="{% for %}").send(notification())
    assert info.value.retryable is False
    assert [r.method for r in snow.requests] == ["GET"]


BASE = {"instance_url": "https://acme.service-now.com", "token": "t"}


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({**BASE, "priority": 1}, "unknown field `priority`"),
        ({**BASE, "instance_url": "acme.service-now.com"}, "instance_url: must be an https://"),
        (
            {**BASE, "instance_url": "https://u:p@acme.service-now.com"},
            "instance_url: must not carry",
        ),
        ({"token": "t"}, "missing required field `instance_url`"),
        ({"instance_url": "https://acme.service-now.com"}, "username, password: set both"),
        ({**BASE, "username": "u", "password": "p"}, "token: set either token or username"),
        ({**BASE, "token": "", "username": "u"}, "username, password: set both"),
        (
            {**BASE, "token": "", "username": "a:b", "password": "p"},
            "username: must not contain ':'",
        ),
        ({**BASE, "token": "bad token"}, "token: must be printable ASCII"),
        ({**BASE, "table": "incident/../sys_user"}, "table: 'incident/../sys_user' is not a"),
        ({**BASE, "urgency": 4}, "Expected `int` <= 3 - at `$.urgency`"),
        ({**BASE, "impact": 0}, "Expected `int` >= 1 - at `$.impact`"),
        ({**BASE, "extra_fields": {"state": "1"}}, "extra_fields: state is set by the channel"),
        ({**BASE, "extra_fields": {"urgency": "1"}}, "extra_fields: set the urgency field"),
        ({**BASE, "extra_fields": {"u x": "1"}}, "extra_fields: 'u x' is not a ServiceNow column"),
        ({**BASE, "resolve_state": "6^active=false"}, "resolve_state: must be a state value"),
    ],
)
def test_config_validation(fields: dict[str, Any], error: str) -> None:
    assert error in rejection(ServiceNowConfig, fields)


def test_config_defaults_and_secrets() -> None:
    config = msgspec.convert(BASE, ServiceNowConfig)
    assert (config.table, config.resolve_state, config.close_code) == (
        "incident",
        "6",
        "Solution provided",
    )
    assert (config.send_resolved, config.urgency, config.impact) == (True, None, None)
    secrets = ServiceNowConfig.SECRETS
    assert secrets == frozenset({"password", "token"})
    assert SPEC.defaults({"smtp_from": "x@example.com"}) == {}
    assert (SPEC.config_key, SPEC.integration) == ("servicenow_configs", "servicenow")


def test_schema_carries_field_descriptions() -> None:
    schema = msgspec.json.schema(ServiceNowConfig)
    props = schema["$defs"]["ServiceNowConfig"]["properties"]
    assert undescribed(ServiceNowConfig) == {}
    assert "secret" in props["password"]["description"]
    assert schema["$defs"]["ServiceNowConfig"]["required"] == ["instance_url"]


async def test_numeric_resolve_state_from_the_config_file_closes_the_record(
    snow: FakeServiceNow, ctx: ChannelContext
) -> None:
    entry = {
        "instance_url": snow.instance_url,
        "token": TOKEN,
        "resolve_state": 7,
    }  # as YAML gives it
    [parsed] = parse_receiver("itsm", {"servicenow_configs": [entry]}, {})
    chan = SPEC.build(parsed.config, ctx)
    await chan.send(notification(alert(), nid="n-1"))
    await chan.send(notification(alert(status="resolved"), nid="n-2"))
    assert snow.requests[2].query["sysparm_query"] == QUERY.replace("state!=6", "state!=7")
    assert snow.requests[-1].json()["state"] == "7"
    assert snow.records()[0]["active"] == "false"
