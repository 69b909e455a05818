"""Alertmanager v2 sends recalled from a memo are exactly the sends a fresh decode makes."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import msgspec
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from core_alerts.config import LimitSettings
from core_alerts.config.settings import PrivacySettings
from core_alerts.domain.errors import CoreAlertsError
from core_alerts.domain.ingest import NormalizedAlert, content_digest
from core_alerts.ingest.formats.alertmanager import (
    Recalled,
    decode_alertmanager_v2,
    decode_alertmanager_v2_recalling,
)
from core_alerts.ingest.normalize import SourceContext
from core_alerts.ingest.privacy import build_anonymisers
from core_alerts.ingest.sendmemo import SendMemo

NOW = 1_800_000_000.0


def ctx(tenant: str = "t1", received_at: float = NOW, **limits: Any) -> SourceContext:
    return SourceContext(
        tenant_id=tenant,
        source="alertmanager",
        received_at=received_at,
        limits=LimitSettings(**limits),
        resolve_timeout=300.0,
    )


def alert(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "labels": {"alertname": f"Disk{i % 3}", "instance": f"node-{i}", "severity": "warning"},
        "annotations": {"summary": f"disk full on node-{i}", "description": "Größe"},
        "startsAt": "2026-12-01T10:00:00Z",
        "generatorURL": f"http://prometheus/graph?g0.expr=disk{i}",
        **extra,
    }


def body(alerts: list[dict[str, Any]]) -> bytes:
    return json.dumps(alerts, ensure_ascii=False).encode()


# Every shape a send may take: defaults left out, an end given, empty label values, ...
SHAPES = [
    alert(0),
    alert(1, endsAt="2026-12-01T11:00:00Z"),
    {"labels": {"alertname": "Bare"}},
    {"labels": {"alertname": "Empty", "gone": ""}, "annotations": {}},
    alert(2, startsAt="0001-01-01T00:00:00Z"),
    {"labels": {"alertname": "Sev", "severity": "page"}, "generatorURL": ""},
]


def recall(data: bytes, memo: Recalled, context: SourceContext) -> list[NormalizedAlert]:
    pairs = decode_alertmanager_v2_recalling(data, context, memo)
    for send, digest in pairs:
        assert digest == content_digest(send)
    return [send for send, _ in pairs]


def fields(sends: list[NormalizedAlert]) -> list[dict[str, Any]]:
    return [msgspec.structs.asdict(s) for s in sends]


def test_first_and_repeated_sends_equal_a_fresh_decode() -> None:
    memo: Recalled = SendMemo()
    data = body(SHAPES * 3)  # the repeats inside the body are recalled too
    expected = fields(decode_alertmanager_v2(data, ctx()))
    assert fields(recall(data, memo, ctx())) == expected
    assert len(memo) == len(SHAPES)
    assert fields(recall(data, memo, ctx())) == expected


def test_a_recalled_send_has_its_own_times_and_receipt() -> None:
    memo: Recalled = SendMemo()
    recall(body([alert(0)]), memo, ctx())
    later = ctx(received_at=NOW + 60)
    data = body(
        [
            alert(0, startsAt="2026-12-01T10:05:00Z"),
            alert(0, startsAt="2026-12-01T10:05:00Z", endsAt="2026-12-01T10:30:00Z"),
            {key: value for key, value in alert(0).items() if key != "startsAt"},
        ]
    )
    sends = recall(data, memo, later)
    assert len(memo) == 1  # all three were recalled
    assert fields(sends) == fields(decode_alertmanager_v2(data, later))
    assert [s.received_at for s in sends] == [NOW + 60] * 3
    assert sends[0].ends_at == NOW + 60 + 300 and not sends[0].ends_at_explicit
    assert sends[1].ends_at_explicit and sends[1].ends_at != sends[0].ends_at
    assert sends[2].starts_at == NOW + 60  # no start given: when it was received


def test_the_same_content_from_another_tenant_is_that_tenants_send() -> None:
    memo: Recalled = SendMemo()
    data = body([alert(0)])
    recall(data, memo, ctx("t1"))
    [theirs] = recall(data, memo, ctx("t2"))
    assert theirs.tenant_id == "t2"
    assert fields([theirs]) == fields(decode_alertmanager_v2(data, ctx("t2")))


BAD = [
    body([alert(0), {"labels": {"bad-name": "x"}}]),
    body([alert(0), alert(1, endsAt="2026-12-01T09:00:00Z")]),
    body([alert(0, endsAt="2026-12-01T09:00:00Z")]),  # known content, bad times
    body([alert(0, startsAt="2026-12-01T10:00:00")]),  # known content, no time zone
    body([alert(0, startsAt="yesterday")]),
    body([alert(0), {"labels": {"alertname": ""}}]),
    body([alert(0), {"labels": {"alertname": "x" * 5000}}]),
    body([alert(0), {"labels": {f"l{i}": "v" for i in range(200)}}]),
    body([{"annotations": {}}]),
    body([alert(0), {"labels": {"a": 1}}]),
    body([alert(0, generatorURL="http://" + "x" * 5000)]),
    body([alert(0)] * 3)[:-2],
    b'[{"labels": {"a": "\\u0000"}}]',
    b'[{"labels": {"a": "\\ud800"}}]',
    b"\xef\xbb\xbf[]",
    b"{}",
]


@pytest.mark.parametrize("data", BAD)
def test_a_bad_body_gets_the_fresh_decoders_error_whatever_is_remembered(data: bytes) -> None:
    memo: Recalled = SendMemo()
    recall(body([*SHAPES, alert(0)]), memo, ctx())
    with pytest.raises(CoreAlertsError) as fresh:
        decode_alertmanager_v2(data, ctx())
    with pytest.raises(CoreAlertsError) as recalled:
        decode_alertmanager_v2_recalling(data, ctx(), memo)
    assert type(recalled.value) is type(fresh.value)
    assert recalled.value.message == fresh.value.message
    assert recalled.value.field == fresh.value.field
    assert getattr(recalled.value, "index", None) == getattr(fresh.value, "index", None)


def test_a_batch_over_the_limit_is_refused() -> None:
    with pytest.raises(CoreAlertsError, match="the limit is 2"):
        decode_alertmanager_v2_recalling(
            body([alert(0)] * 3), ctx(max_alerts_per_request=2), SendMemo()
        )


def test_a_tenant_with_privacy_rules_is_decoded_fresh_and_not_remembered() -> None:
    anonymiser = build_anonymisers(PrivacySettings(detect=["email"]))("t1")
    private = dataclasses.replace(ctx(), anonymiser=anonymiser)
    data = body([alert(0, annotations={"owner": "ops@example.com"})] * 2)
    memo: Recalled = SendMemo()
    sends = recall(data, memo, private)
    assert sends[0].annotations["owner"] != "ops@example.com"
    assert fields(sends) == fields(decode_alertmanager_v2(data, private))
    assert len(memo) == 0


def test_the_memo_is_bounded_and_keeps_what_is_used() -> None:
    memo: SendMemo[int] = SendMemo(capacity=3)
    for i in range(3):
        memo.put(i, i)
    memo.put(3, 3)  # the young generation was full: 0, 1, 2 are now old
    assert memo.get(0) == 0  # used: back into the young generation
    for i in range(4, 7):
        memo.put(i, i)
    assert len(memo) <= 6
    assert memo.get(0) == 0
    assert memo.get(1) is None and memo.get(2) is None  # old and unused: dropped
    with pytest.raises(ValueError, match="capacity"):
        SendMemo(capacity=0)


# Few distinct values, so that generated bodies repeat content (what the memo recalls);
# mostly valid ones, with the cases that change what a send becomes or make it invalid.
_NAMES = st.sampled_from(["alertname", "instance", "severity", "job"] * 6 + ["bad-name"])
_VALUES = st.sampled_from(
    ["Disk", "node-1", "critical", "warning", "Ä", "A\u0308"] * 4 + ["", "x" * 5000]
)
_TIMES = st.sampled_from(
    ["2026-12-01T10:00:00Z", "2026-12-01T09:30:00+01:00", "2026-12-01T11:00:00Z"] * 4
    + [None, "2026-12-01T10:00:00", "0001-01-01T00:00:00Z", "soon"]
)
_ALERTS = st.fixed_dictionaries(
    {"labels": st.dictionaries(_NAMES, _VALUES, min_size=1, max_size=3)},
    optional={
        "annotations": st.dictionaries(_NAMES, _VALUES, max_size=2),
        "startsAt": _TIMES,
        "endsAt": _TIMES,
        "generatorURL": st.sampled_from(["", "http://prometheus/graph"]),
    },
)


@settings(max_examples=300, deadline=None)
@given(
    bodies=st.lists(st.lists(_ALERTS, max_size=5), min_size=1, max_size=4),
    tenants=st.lists(st.sampled_from(["t1", "t2"]), min_size=4, max_size=4),
)
def test_recalling_decodes_any_body_as_a_fresh_decode_does(
    bodies: list[list[dict[str, Any]]], tenants: list[str]
) -> None:
    memo: Recalled = SendMemo(capacity=3)  # small: entries also move between generations
    valid = 0
    for i, alerts in enumerate(bodies):
        data = body(alerts)
        context = ctx(tenants[i], received_at=NOW + i)
        try:
            expected: Any = fields(decode_alertmanager_v2(data, context))
            valid += 1
        except CoreAlertsError as exc:
            expected = (type(exc), exc.message, exc.field, getattr(exc, "index", None))
        try:
            got: Any = fields(recall(data, memo, context))
        except CoreAlertsError as exc:
            got = (type(exc), exc.message, exc.field, getattr(exc, "index", None))
        assert got == expected
    event("valid bodies: " + ("none" if not valid else "some"))
