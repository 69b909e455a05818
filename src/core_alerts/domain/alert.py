"""The alert as users build it in Python (the seed's public model) and its enums."""

from __future__ import annotations

import enum
import os
import time
from datetime import datetime

import msgspec


class AlertSeverity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


class AlertStatus(enum.StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    SUPPRESSED = "suppressed"

    @property
    def is_active(self) -> bool:
        return self is not AlertStatus.RESOLVED


# Severity words seen in the wild (Prometheus rules, Grafana, PagerDuty, syslog) -> our enum.
_SEVERITY_ALIASES: dict[str, AlertSeverity] = {
    "critical": AlertSeverity.CRITICAL,
    "crit": AlertSeverity.CRITICAL,
    "fatal": AlertSeverity.CRITICAL,
    "emergency": AlertSeverity.CRITICAL,
    "page": AlertSeverity.CRITICAL,
    "p1": AlertSeverity.CRITICAL,
    "high": AlertSeverity.HIGH,
    "error": AlertSeverity.HIGH,
    "major": AlertSeverity.HIGH,
    "p2": AlertSeverity.HIGH,
    "medium": AlertSeverity.MEDIUM,
    "warning": AlertSeverity.MEDIUM,
    "warn": AlertSeverity.MEDIUM,
    "p3": AlertSeverity.MEDIUM,
    "low": AlertSeverity.LOW,
    "minor": AlertSeverity.LOW,
    "p4": AlertSeverity.LOW,
    "info": AlertSeverity.INFO,
    "informational": AlertSeverity.INFO,
    "notice": AlertSeverity.INFO,
    "debug": AlertSeverity.INFO,
    "none": AlertSeverity.INFO,
    "p5": AlertSeverity.INFO,
}


def parse_severity(value: str | None, default: AlertSeverity | None = None) -> AlertSeverity:
    """Map a severity word (case-insensitive, common aliases) to AlertSeverity.

    Raises ValueError naming the allowed values when the word is unknown and no default is set.
    """
    if value is None or value == "":
        if default is not None:
            return default
        raise ValueError("severity is required")
    found = _SEVERITY_ALIASES.get(value.strip().lower())
    if found is not None:
        return found
    if default is not None:
        return default
    allowed = ", ".join(s.value for s in AlertSeverity)
    raise ValueError(f"unknown severity {value!r}; allowed: {allowed} (or a common alias)")


_RAND_B = (1 << 62) - 1
_RANDOM_BATCH = 256
_random_pool: list[int] = []
# A forked child must not hand out the values its parent will also use.
os.register_at_fork(after_in_child=_random_pool.clear)


def _random80() -> int:
    """80 random bits from the OS's CSPRNG, read in batches: one system call per id would
    also hand the GIL to other threads each time, which costs a write path that creates
    many alerts far more than the call. `list.pop` hands each value out once, also across
    threads."""
    try:
        return _random_pool.pop()
    except IndexError:
        raw = os.urandom(10 * _RANDOM_BATCH)
        _random_pool.extend(int.from_bytes(raw[i : i + 10], "big") for i in range(0, len(raw), 10))
        return _random_pool.pop()


def new_alert_id() -> str:
    """A UUIDv7 (RFC 9562) as 32 hex digits: 74 random bits make it unguessable, and the
    millisecond prefix makes new ids sort last, so indexing them appends to one edge of the
    B-tree instead of touching random pages."""
    ms = time.time_ns() // 1_000_000 & 0xFFFF_FFFF_FFFF
    rand = _random80()
    value = ms << 80 | 0x7 << 76 | (rand >> 62 & 0xFFF) << 64 | 0b10 << 62 | rand & _RAND_B
    return f"{value:032x}"


class AlertMetadata(msgspec.Struct, kw_only=True):
    """Who owns an alert and where it came from."""

    tenant_id: str = "default"
    alert_id: str = msgspec.field(default_factory=new_alert_id)
    source: str = "api"
    fingerprint: str = ""
    dedup_key: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Alert(msgspec.Struct, kw_only=True):
    """One alert as built by a user of the Python API (the seed's example works as written)."""

    metadata: AlertMetadata = msgspec.field(default_factory=AlertMetadata)
    title: str = ""
    description: str = ""
    severity: AlertSeverity = AlertSeverity.MEDIUM
    status: AlertStatus = AlertStatus.FIRING
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    generator_url: str = ""
