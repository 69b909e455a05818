"""The lifecycle rules as pure functions: sends, human actions, expiry."""

from __future__ import annotations

import msgspec
import pytest

from core_alerts.config import LimitSettings
from core_alerts.domain.errors import InvalidTransition
from core_alerts.domain.ingest import (
    IngestOutcome,
    NormalizedAlert,
    PackedSend,
    SendAction,
    UnchangedRepeat,
)
from core_alerts.domain.lifecycle import HumanAction, apply_human_action, expire, plan_batch
from core_alerts.ingest.normalize import SourceContext, normalize

NOW = 1_800_000_000.0


def send(
    labels: dict[str, str] | None = None,
    *,
    at: float = NOW,
    ends_at: float | None = None,
    action: SendAction = SendAction.FIRE,
    timeout: float | None = 300.0,
    tenant: str = "t1",
) -> NormalizedAlert:
    ctx = SourceContext(
        tenant_id=tenant, source="test", received_at=at, limits=LimitSettings(),
        resolve_timeout=timeout,
    )  # fmt: skip
    return normalize(ctx, labels=labels or {"alertname": "A"}, ends_at=ends_at, action=action)


def test_first_send_creates_then_repeats_merge_into_one_record() -> None:
    plan = plan_batch({}, [[send(), send(), send()]], NOW)
    outcomes = [r.outcome for r in plan.results[0]]
    assert outcomes == [
        IngestOutcome.CREATED,
        IngestOutcome.DEDUPLICATED,
        IngestOutcome.DEDUPLICATED,
    ]
    assert len(plan.inserts) == 1 and not plan.updates
    (rec,) = plan.inserts.values()
    assert rec.occurrences == 3
    assert [t.to_status for t in plan.transitions] == ["firing"]


def test_repeats_across_requests_share_one_write_and_keep_per_request_results() -> None:
    plan = plan_batch({}, [[send()], [send()], [send({"alertname": "B"})]], NOW)
    assert [len(r) for r in plan.results] == [1, 1, 1]
    assert plan.results[1][0].outcome is IngestOutcome.DEDUPLICATED
    assert plan.results[1][0].alert_id == plan.results[0][0].alert_id
    assert len(plan.inserts) == 2


def test_resolve_then_refire_reopens_the_same_alert() -> None:
    existing: dict = {}
    created = plan_batch(existing, [[send()]], NOW)
    rec = next(iter(created.inserts.values()))
    resolved = plan_batch(existing, [[send(ends_at=NOW + 5)]], NOW + 10)
    assert resolved.results[0][0].outcome is IngestOutcome.RESOLVED
    assert rec.status == "resolved" and rec.resolved_at == NOW + 5
    again = plan_batch(existing, [[send(at=NOW + 20)]], NOW + 20)
    assert again.results[0][0].outcome is IngestOutcome.REFIRED
    assert rec.status == "firing" and rec.starts_at == NOW + 20 and rec.resolved_at is None
    assert [(t.from_status, t.to_status) for t in again.transitions] == [("resolved", "firing")]


def test_a_resolve_for_an_unknown_alert_is_stored_resolved() -> None:
    plan = plan_batch({}, [[send(at=NOW - 10, ends_at=NOW - 1)]], NOW)
    assert plan.results[0][0].outcome is IngestOutcome.CREATED
    assert plan.results[0][0].status == "resolved"


def test_acknowledge_from_a_sender_and_for_an_unknown_alert() -> None:
    existing: dict = {}
    plan_batch(existing, [[send()]], NOW)
    acked = plan_batch(existing, [[send(action=SendAction.ACK)]], NOW + 1)
    assert acked.results[0][0].outcome is IngestOutcome.ACKNOWLEDGED
    ignored = plan_batch({}, [[send(action=SendAction.ACK)]], NOW)
    assert ignored.results[0][0].outcome is IngestOutcome.IGNORED
    assert not ignored.inserts


def test_expiry_reason_names_endsat_or_resolve_timeout() -> None:
    explicit = next(iter(plan_batch({}, [[send(ends_at=NOW + 60)]], NOW).inserts.values()))
    implicit = next(iter(plan_batch({}, [[send()]], NOW).inserts.values()))
    assert expire(explicit, NOW + 59) is None
    assert expire(explicit, NOW + 60).reason == "endsAt passed"  # type: ignore[union-attr]
    tr = expire(implicit, NOW + 301)
    assert tr is not None and tr.reason.startswith("resolve_timeout")
    assert implicit.status == "resolved"


def test_human_actions_follow_the_state_machine() -> None:
    rec = next(iter(plan_batch({}, [[send(timeout=None)]], NOW).inserts.values()))
    (tr,) = apply_human_action(rec, HumanAction.ACK, "ann", "looking", NOW + 1)
    assert (tr.from_status, tr.to_status, tr.actor, tr.comment) == (
        "firing",
        "acknowledged",
        "ann",
        "looking",
    )
    with pytest.raises(InvalidTransition, match="allowed from firing, suppressed"):
        apply_human_action(rec, HumanAction.ACK, "ann", "", NOW + 2)
    apply_human_action(rec, HumanAction.UNACK, "ann", "", NOW + 3)
    assert rec.status == "firing" and rec.acked_by is None
    apply_human_action(rec, HumanAction.RESOLVE, "bob", "fixed", NOW + 4)
    assert rec.status == "resolved" and rec.ends_at == NOW + 4
    for action in HumanAction:
        with pytest.raises(InvalidTransition):
            apply_human_action(rec, action, "bob", "", NOW + 5)


def test_an_expired_alert_cannot_be_acknowledged() -> None:
    rec = next(iter(plan_batch({}, [[send()]], NOW).inserts.values()))
    with pytest.raises(InvalidTransition, match="it is resolved"):
        apply_human_action(rec, HumanAction.ACK, "ann", "", NOW + 1000)


def test_the_plan_lists_the_sends_that_repeat_their_alert_unchanged() -> None:
    existing: dict = {}
    first, plain, changed, plain_again = send(), send(), send(), send()
    changed.annotations = {"summary": "new text"}
    other = send({"alertname": "B"})
    plan = plan_batch(existing, [[first, plain, other], [changed, plain_again]], NOW)
    # Creations and content changes are not in the list; repeats after a change are.
    assert [[id(s) for s in part] for part in plan.unchanged] == [[id(plain)], []]
    resolving = send(at=NOW - 10, ends_at=NOW - 1)
    later = plan_batch(existing, [[plain_again, resolving]], NOW + 1)
    assert [[id(s) for s in part] for part in later.unchanged] == [[id(plain_again)]]


def test_an_unchanged_repeat_has_the_effect_of_the_send_it_stands_for() -> None:
    full: dict = {}
    plan_batch(full, [[send()]], NOW)
    short = {key: msgspec.structs.replace(rec) for key, rec in full.items()}
    repeat = send(ends_at=NOW + 90)
    by_send = plan_batch(full, [[repeat]], NOW + 10)
    stand_in = UnchangedRepeat(repeat.tenant_id, repeat.fingerprint, NOW + 90, True)
    by_repeat = plan_batch(short, [[stand_in]], NOW + 10)
    assert by_repeat.results == by_send.results
    assert by_repeat.results[0][0].occurrences == 2
    assert list(short.values()) == list(full.values())
    assert not by_repeat.reshaped and len(by_repeat.updates) == 1


def test_an_unchanged_repeat_of_an_unknown_alert_creates_nothing() -> None:
    plan = plan_batch({}, [[UnchangedRepeat("t1", "0123456789abcdef", None, False)]], NOW)
    assert plan.results[0][0].outcome is IngestOutcome.IGNORED
    assert not plan.inserts and not plan.updates


def test_a_packed_repeat_with_the_known_digest_is_planned_without_unpacking() -> None:
    existing: dict = {}
    first = PackedSend.of(send())
    created = plan_batch(existing, [[first]], NOW, {})
    assert created.results[0][0].outcome is IngestOutcome.CREATED
    digests = {k: d for k, d in created.digests.items() if d is not None}
    assert list(digests.values()) == [first.digest]  # the alert has the send's content
    repeat = PackedSend.of(send(ends_at=NOW + 90))
    plan = plan_batch(existing, [[repeat]], NOW + 10, digests)
    assert repeat._unpacked is None  # decided from the digest alone
    assert plan.results[0][0].occurrences == 2 and not plan.reshaped
    assert plan.unchanged == [[repeat]]
    assert repeat.labels == {"alertname": "A"} and repeat.starts_at == NOW
    (rec,) = existing.values()
    assert (rec.ends_at, rec.last_seen) == (NOW + 90, NOW + 10)


def test_a_packed_send_of_unknown_or_other_digest_is_unpacked_and_compared() -> None:
    existing: dict = {}
    plan_batch(existing, [[send()]], NOW)
    unknown = PackedSend.of(send())
    plan = plan_batch(existing, [[unknown]], NOW + 1, {})  # no digest known: unpack
    assert unknown._unpacked is not None and plan.unchanged == [[unknown]]
    assert plan.digests == {("t1", unknown.fingerprint): unknown.digest}
    changed = send()
    changed.annotations = {"summary": "new"}
    other = PackedSend.of(changed)
    plan = plan_batch(existing, [[other]], NOW + 2, {("t1", unknown.fingerprint): unknown.digest})
    (rec,) = existing.values()
    assert rec.annotations == {"summary": "new"} and plan.reshaped
    assert plan.digests == {("t1", other.fingerprint): other.digest}
    assert plan.unchanged == [[]]


def test_an_unpacked_send_forgets_the_digest_it_may_have_made_stale() -> None:
    existing: dict = {}
    first = PackedSend.of(send())
    created = plan_batch(existing, [[first]], NOW, {})
    key = ("t1", first.fingerprint)
    changed = send()
    changed.annotations = {"summary": "edited"}
    again = PackedSend.of(send())  # the first content again, after a change in between
    plan = plan_batch(existing, [[changed, again]], NOW + 1, {key: first.digest})
    assert created.digests[key] == first.digest
    (rec,) = existing.values()
    assert rec.annotations == {}  # `again` restored the first content: it was not skipped
    assert again._unpacked is not None
    assert plan.digests[key] == again.digest


def test_a_resolved_alert_is_never_repeated_from_its_digest() -> None:
    existing: dict = {}
    first = PackedSend.of(send())
    digests = {
        k: d for k, d in plan_batch(existing, [[first]], NOW, {}).digests.items() if d is not None
    }
    plan_batch(existing, [[send(at=NOW - 10, ends_at=NOW + 5)]], NOW + 10)  # resolves it
    refire = PackedSend.of(send(at=NOW + 20))
    plan = plan_batch(existing, [[refire]], NOW + 20, digests)
    assert plan.results[0][0].outcome is IngestOutcome.REFIRED
