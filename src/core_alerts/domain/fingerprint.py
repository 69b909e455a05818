"""Alert fingerprints, identical to Alertmanager's for the same label set.

Alertmanager (prometheus/common `LabelSet.Fingerprint`) hashes the label names in sorted
order with 64-bit FNV-1a, each name and value followed by the separator byte 0xff, and
prints the result as 16 lowercase hex digits. We compute the same value, so one alert has
one id in both systems. Tenancy is kept apart by storing (tenant_id, fingerprint) as the key.
"""

from __future__ import annotations

from collections.abc import Mapping

from fnv_c import fnv1a_64

FINGERPRINT_STRATEGY = "am-fnv1a64-v1"
"""Versioned name of the strategy, named in every explanation; a new strategy gets a new name."""

_SEP = b"\xff"
_OFFSET64 = 14695981039346656037
_PRIME64 = 1099511628211
_MASK64 = (1 << 64) - 1


def _label_bytes(labels: Mapping[str, str]) -> bytes:
    parts: list[bytes] = []
    for name in sorted(labels):
        parts.append(name.encode())
        parts.append(_SEP)
        parts.append(labels[name].encode())
        parts.append(_SEP)
    return b"".join(parts)


_CACHE: dict[tuple[tuple[str, str], ...], str] = {}
_CACHE_LIMIT = 10_000  # the hot set of a storm; about 15 MB at most


def fingerprint_labels(labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint of a label set, as 16 hex digits.

    Repeats of a label set (a storm) are looked up, not hashed again: a senders' repeat
    arrives with its labels in the same order, so the items themselves are the key.
    """
    key = tuple(labels.items())
    found = _CACHE.get(key)
    if found is None:
        found = f"{fnv1a_64(_label_bytes(labels)):016x}"
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = found
    return found


def fnv1a_64_reference(data: bytes) -> int:
    """Plain-Python FNV-1a 64, the specification the fast implementation is tested against."""
    h = _OFFSET64
    for byte in data:
        h = ((h ^ byte) * _PRIME64) & _MASK64
    return h


def fingerprint_reference(labels: Mapping[str, str]) -> str:
    return f"{fnv1a_64_reference(_label_bytes(labels)):016x}"


def identity_labels(labels: Mapping[str, str], dedup_key: str | None) -> Mapping[str, str]:
    """The labels an alert's identity is computed from.

    A sender's explicit dedup key (PagerDuty `dedup_key`, Opsgenie `alias`) wins over labels,
    so a trigger and its later resolve meet even when their other fields differ.
    """
    if dedup_key:
        return {"dedup_key": dedup_key}
    return labels


def explain_fingerprint(labels: Mapping[str, str], dedup_key: str | None) -> dict[str, object]:
    ident = identity_labels(labels, dedup_key)
    return {
        "strategy": FINGERPRINT_STRATEGY,
        "fingerprint": fingerprint_labels(ident),
        "identity_labels": dict(sorted(ident.items())),
        "from": "dedup_key" if dedup_key else "labels",
        "how": "FNV-1a 64 over sorted label names and values, each followed by 0xff "
        "(Alertmanager's algorithm); unique within the tenant",
    }
