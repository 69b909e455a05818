"""The audit hash chain: sealing, canonical encoding, keyed hashing, and verification."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core_alerts.domain.audit import (
    CHAIN_FORMAT,
    GENESIS_HASH,
    AuditDraft,
    AuditEntry,
    AuditHead,
    ChainVerifier,
    TamperKind,
    canonical_bytes,
    chain_hash,
    seal_entries,
    verify_chain,
)
from core_alerts.domain.errors import ConfigError, LimitExceeded, ValidationFailed

KEY = b"unit-test-audit-key-0123456789ab"
NOW = 1_800_000_000.0
CONTENT_FIELDS = ("at", "actor", "action", "target_type", "target_id", "outcome", "details")


def draft(i: int = 0, **kw: Any) -> AuditDraft:
    fields: dict[str, Any] = {
        "actor": f"user:{i}",
        "action": "alert.ack",
        "target_type": "alert",
        "target_id": f"a{i}",
        "details": {"n": i, "ratio": i / 3, "ok": True, "none": None, "text": "é"},
    }
    return AuditDraft(**{**fields, **kw})


def chain(n: int, *, key: bytes | None = KEY, tenant: str = "acme") -> list[AuditEntry]:
    return seal_entries(key, tenant, None, [draft(i) for i in range(n)], now=NOW)


def head_of(entries: list[AuditEntry]) -> AuditHead:
    last = entries[-1]
    return AuditHead(tenant_id=last.tenant_id, seq=last.seq, hash=last.hash)


def changed(entry: AuditEntry, field: str) -> AuditEntry:
    """The entry with one field given another value of the same type."""
    old = getattr(entry, field)
    if field in ("prev_hash", "hash"):
        new: Any = ("1" if old[0] != "1" else "2") + old[1:]
    elif field == "details":
        new = {**old, "extra": 1}
    elif field == "at":
        new = old + 1.0
    elif field == "seq":
        new = old + 100
    else:
        new = old + "x"
    return msgspec.structs.replace(entry, **{field: new})


def swapped(entries: list[AuditEntry], i: int, j: int) -> list[AuditEntry]:
    """Positions i and j exchange everything but their seq: the rows were moved."""
    out = list(entries)
    out[i] = msgspec.structs.replace(entries[j], seq=entries[i].seq)
    out[j] = msgspec.structs.replace(entries[i], seq=entries[j].seq)
    return out


# -- sealing and hashing ------------------------------------------------------------------


def test_seal_numbers_from_one_and_links_each_entry_to_the_one_before() -> None:
    entries = chain(4)
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    for e in entries:
        assert e.hash == chain_hash(KEY, e.prev_hash, e)
        assert (e.tenant_id, e.at) == ("acme", NOW)


def test_seal_continues_after_the_head() -> None:
    first = chain(2)
    more = seal_entries(KEY, "acme", head_of(first), [draft(7)], now=NOW)
    assert (more[0].seq, more[0].prev_hash) == (3, first[-1].hash)
    assert verify_chain([*first, *more], head_of(more), key=KEY).ok


def test_seal_stores_an_integer_time_as_a_float() -> None:
    """A double column gives 5.0 back; an int would have been hashed as "5"."""
    [entry] = seal_entries(KEY, "acme", None, [draft(at=5)], now=NOW)
    assert isinstance(entry.at, float)
    assert entry.at == 5.0


def test_canonical_encoding_sorts_keys_and_leaves_out_the_hash() -> None:
    [entry] = chain(1)
    reordered = msgspec.structs.replace(entry, details=dict(reversed(entry.details.items())))
    encoded = canonical_bytes(entry)
    assert encoded == canonical_bytes(reordered)
    decoded = msgspec.json.decode(encoded)
    assert "hash" not in decoded
    assert list(decoded) == sorted(decoded)
    assert list(decoded["details"]) == sorted(decoded["details"])


def test_hash_is_an_hmac_under_the_key_and_plain_sha256_without_one() -> None:
    [entry] = chain(1)
    message = CHAIN_FORMAT + canonical_bytes(entry)
    assert chain_hash(KEY, entry.prev_hash, entry) == (
        hmac.new(KEY, message, hashlib.sha256).hexdigest()
    )
    assert chain_hash(None, entry.prev_hash, entry) == hashlib.sha256(message).hexdigest()
    assert chain_hash(KEY[::-1], entry.prev_hash, entry) != entry.hash


def test_hash_binds_the_given_predecessor() -> None:
    [entry] = chain(1)
    assert chain_hash(KEY, "a" * 64, entry) != chain_hash(KEY, GENESIS_HASH, entry)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        seal_entries(b"short", "acme", None, [draft()], now=NOW)
    with pytest.raises(ConfigError):
        ChainVerifier(key=b"")


# -- drafts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"actor": ""}, "actor"),
        ({"actor": "a\x00b"}, "actor"),
        ({"action": "Alert.Ack"}, "action"),
        ({"action": "alert..ack"}, "action"),
        ({"outcome": "maybe"}, "outcome"),
        ({"details": {"x": float("nan")}}, "details"),
        ({"details": {"x": {"nested": 1}}}, "details"),
        ({"details": {"x": [1, 2]}}, "details"),
        ({"at": float("inf")}, "at"),
        ({"at": -1.0}, "at"),
    ],
)
def test_a_draft_that_cannot_be_stored_is_refused(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        draft(**fields)
    assert caught.value.field == field


def test_oversized_details_are_refused() -> None:
    with pytest.raises(LimitExceeded):
        draft(details={f"k{i}": "v" * 100 for i in range(200)})


def test_seal_rechecks_details_changed_after_construction() -> None:
    good, bad = draft(1), draft(2)
    bad.details["x"] = float("nan")  # the dict stays mutable after validation
    with pytest.raises(ValidationFailed) as caught:
        seal_entries(KEY, "acme", None, [good, bad], now=NOW)
    assert caught.value.index == 1


def test_an_empty_tenant_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        seal_entries(KEY, "", None, [draft()], now=NOW)


# -- verification: each kind of tampering -------------------------------------------------


def test_an_intact_chain_verifies() -> None:
    entries = chain(5)
    report = verify_chain(entries, head_of(entries), key=KEY)
    assert (report.ok, report.checked, report.last_seq, report.bad_seq) == (True, 5, 5, None)


def test_an_empty_chain_verifies_with_or_without_a_head() -> None:
    assert verify_chain([], key=KEY).ok
    assert verify_chain([], AuditHead(tenant_id="acme", seq=0, hash=GENESIS_HASH), key=KEY).ok


@pytest.mark.parametrize("field", [*CONTENT_FIELDS, "tenant_id", "prev_hash", "hash"])
def test_editing_any_field_names_that_entry(field: str) -> None:
    entries = chain(6)
    entries[3] = changed(entries[3], field)
    report = verify_chain(entries, head_of(chain(6)), key=KEY, tenant_id="acme")
    assert (report.ok, report.bad_seq, report.kind) == (False, 4, TamperKind.EDITED)


def test_deleting_a_middle_entry_names_the_missing_seq() -> None:
    entries = chain(6)
    del entries[2]
    report = verify_chain(entries, head_of(entries), key=KEY)
    assert (report.bad_seq, report.kind) == (3, TamperKind.DELETED)
    assert "entry 3 is missing" in report.reason


def test_deleting_the_first_entry_is_a_gap_at_one() -> None:
    entries = chain(3)[1:]
    report = verify_chain(entries, head_of(entries), key=KEY)
    assert (report.bad_seq, report.kind) == (1, TamperKind.DELETED)


def test_deleting_the_last_entry_is_caught_by_the_head_only() -> None:
    entries = chain(5)
    head = head_of(entries)
    report = verify_chain(entries[:-1], head, key=KEY)
    assert (report.bad_seq, report.kind) == (5, TamperKind.TRUNCATED)
    # The documented limit: without a head, a shortened chain is still a valid chain.
    assert verify_chain(entries[:-1], key=KEY).ok


def test_a_head_that_names_another_last_hash_is_reported() -> None:
    entries = chain(3)
    head = AuditHead(tenant_id="acme", seq=3, hash="b" * 64)
    report = verify_chain(entries, head, key=KEY)
    assert (report.bad_seq, report.kind) == (3, TamperKind.TRUNCATED)


@pytest.mark.parametrize(("i", "j"), [(1, 4), (2, 3), (0, 5)])
def test_swapping_two_entries_is_a_reorder_at_the_first(i: int, j: int) -> None:
    entries = chain(6)
    report = verify_chain(swapped(entries, i, j), head_of(entries), key=KEY)
    assert (report.bad_seq, report.kind) == (i + 1, TamperKind.REORDERED)
    assert f"recorded as seq {j + 1}" in report.reason


def test_a_forged_entry_beyond_the_head_is_an_insert() -> None:
    entries = chain(4)
    head = head_of(entries)
    forged = seal_entries(None, "acme", head, [draft(9)], now=NOW)  # no key: a forgery
    report = verify_chain([*entries, *forged], head, key=KEY)
    assert (report.bad_seq, report.kind) == (5, TamperKind.INSERTED)


def test_a_second_entry_with_the_same_seq_is_an_insert() -> None:
    entries = chain(4)
    report = verify_chain([*entries, changed(entries[1], "actor")], head_of(entries), key=KEY)
    assert (report.bad_seq, report.kind) == (2, TamperKind.INSERTED)


def test_another_tenants_genuine_entry_is_an_insert() -> None:
    ours, theirs = chain(3), chain(3, tenant="globex")
    mixed = [ours[0], theirs[1], ours[2]]
    report = verify_chain(mixed, head_of(ours), key=KEY)
    assert (report.bad_seq, report.kind) == (2, TamperKind.INSERTED)
    assert "globex" in report.reason


def rewritten(entries: list[AuditEntry], seq: int) -> list[AuditEntry]:
    """What an attacker without the key does: edit entry `seq`, recompute every hash after it
    with plain SHA-256, and move the head along."""
    forged = entries[: seq - 1]
    for entry in entries[seq - 1 :]:
        content = changed(entry, "actor") if entry.seq == seq else entry
        prev = forged[-1].hash if forged else GENESIS_HASH
        unsealed = msgspec.structs.replace(content, prev_hash=prev)
        forged.append(msgspec.structs.replace(unsealed, hash=chain_hash(None, prev, unsealed)))
    return forged


def test_a_chain_rewritten_with_plain_sha256_fails_under_the_key() -> None:
    forged = rewritten(chain(5), 3)
    report = verify_chain(forged, head_of(forged), key=KEY)
    assert (report.bad_seq, report.kind) == (3, TamperKind.EDITED)
    assert "without the audit key" in report.reason


def test_without_a_key_a_rewritten_chain_verifies() -> None:
    """The documented limit of key=None: whoever can write the database can recompute it."""
    forged = rewritten(chain(5, key=None), 3)
    assert verify_chain(forged, head_of(forged), key=None).ok


def test_the_streaming_verifier_reports_out_of_order_input() -> None:
    entries = chain(4)
    verifier = ChainVerifier("acme", key=KEY)
    for entry in [entries[0], entries[2], entries[1], entries[3]]:
        verifier.feed(entry)
    report = verifier.finish(head_of(entries))
    assert (report.bad_seq, report.kind) == (2, TamperKind.DELETED)
    verifier = ChainVerifier("acme", key=KEY)
    for entry in [entries[0], entries[1], entries[0]]:
        verifier.feed(entry)
    assert verifier.finish().kind is TamperKind.REORDERED


def test_a_missing_head_fails_when_it_is_required() -> None:
    verifier = ChainVerifier("acme", key=KEY)
    for entry in chain(2):
        verifier.feed(entry)
    report = verifier.finish(None, head_required=True)
    assert (report.ok, report.kind, report.bad_seq) == (False, TamperKind.TRUNCATED, 3)


# -- property: any single mutation of a valid chain is detected ---------------------------

details_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=8),
)
drafts = st.builds(
    AuditDraft,
    actor=st.text(
        st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
        min_size=1,
        max_size=8,
    ),
    action=st.from_regex(r"[a-z][a-z0-9]{0,5}(\.[a-z0-9]{1,5}){0,2}", fullmatch=True),
    outcome=st.sampled_from(["ok", "denied", "error"]),
    details=st.dictionaries(st.text(min_size=1, max_size=4).filter(lambda s: "\x00" not in s),
                            details_values, max_size=3),
    at=st.one_of(st.none(), st.floats(min_value=0, max_value=4e9)),
)  # fmt: skip
ALL_FIELDS = (*CONTENT_FIELDS, "tenant_id", "seq", "prev_hash", "hash")
MUTATIONS = [*(f"edit:{f}" for f in ALL_FIELDS), "delete", "duplicate", "forge", "swap"]


def mutate(
    data: st.DataObject, entries: list[AuditEntry], name: str
) -> tuple[list[AuditEntry], int]:
    """Apply one mutation; returns the mutated chain and the seq it should be reported at."""
    n = len(entries)
    i = data.draw(st.integers(0, n - 1), label="index")
    out = list(entries)
    if name.startswith("edit:"):
        out[i] = changed(entries[i], name.removeprefix("edit:"))
    elif name == "delete":
        del out[i]
    elif name == "duplicate":
        out.insert(i, entries[i])
    elif name == "forge":
        forged = seal_entries(None, "acme", head_of(entries), [draft(99)], now=NOW)
        return out + forged, n + 1
    else:
        j = data.draw(st.integers(0, n - 2), label="other")
        j += j >= i  # any index but i
        return swapped(entries, i, j), min(i, j) + 1
    return out, i + 1


EXPECTED_KIND = {
    "delete": {TamperKind.DELETED, TamperKind.TRUNCATED},
    "duplicate": {TamperKind.INSERTED},
    "forge": {TamperKind.INSERTED},
    "swap": {TamperKind.REORDERED},
}


@pytest.mark.parametrize("name", MUTATIONS)
@settings(max_examples=60, deadline=None)
@given(
    batch=st.lists(drafts, min_size=1, max_size=7),
    key=st.sampled_from([KEY, None]),
    data=st.data(),
)
def test_any_single_mutation_of_a_valid_chain_is_detected(
    name: str, batch: list[AuditDraft], key: bytes | None, data: st.DataObject
) -> None:
    if name == "swap" and len(batch) < 2:
        batch = [*batch, draft(1)]
    entries = seal_entries(key, "acme", None, batch, now=NOW)
    head = head_of(entries)
    assert verify_chain(entries, head, key=key).ok
    mutated, seq = mutate(data, entries, name)
    report = verify_chain(mutated, head, key=key, tenant_id="acme")
    assert not report.ok
    if name == "edit:seq":
        return  # the entry leaves its place: reported where the chain first breaks
    assert report.bad_seq == seq, report
    assert report.kind in EXPECTED_KIND.get(name, {TamperKind.EDITED}), report
