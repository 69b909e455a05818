"""Fingerprints: the fast FNV-1a implementation equals the reference and Alertmanager's values."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core_alerts.domain.fingerprint import (
    fingerprint_labels,
    fingerprint_reference,
    identity_labels,
)

# Any Unicode text except lone surrogates, which no label can hold (not encodable as UTF-8).
_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
_LABELS = st.dictionaries(_TEXT, _TEXT, max_size=12)


@given(_LABELS)
def test_fast_equals_reference(labels: dict[str, str]) -> None:
    fp = fingerprint_labels(labels)
    assert fp == fingerprint_reference(labels)
    assert len(fp) == 16
    assert fp == fp.lower()


@given(_LABELS)
def test_independent_of_dict_order(labels: dict[str, str]) -> None:
    reordered = dict(reversed(list(labels.items())))
    assert fingerprint_labels(reordered) == fingerprint_labels(labels)


def test_known_values() -> None:
    assert fingerprint_labels({}) == "cbf29ce484222325"  # the FNV-1a 64 offset basis
    assert fingerprint_labels({"alertname": "x"}) == "d240efc3896bf266"
    # prometheus/common model TestMetricToFingerprint: 5799056148416392346.
    fear = {"name": "garland, briggs", "fear": "love is not enough"}
    assert fingerprint_labels(fear) == f"{5799056148416392346:016x}" == "507a62d79ee76c9a"


def test_separator_separates() -> None:
    assert fingerprint_labels({"a": "bc"}) != fingerprint_labels({"ab": "c"})
    assert fingerprint_labels({"a": "b", "c": "d"}) != fingerprint_labels({"a": "bc", "": "d"})


def test_non_ascii_is_hashed_as_utf8() -> None:
    labels = {"région": "Zürich", "名前": "値"}
    assert fingerprint_labels(labels) == fingerprint_reference(labels)
    assert fingerprint_labels(labels) != fingerprint_labels({"region": "Zurich", "名前": "値"})


def test_dedup_key_wins_over_labels() -> None:
    assert identity_labels({"a": "1"}, "k") == {"dedup_key": "k"}
    assert identity_labels({"a": "1"}, None) == {"a": "1"}
