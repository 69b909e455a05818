"""What moves between grouping (routing) and delivery (notify): flushes and notifications."""

from __future__ import annotations

import hashlib

import msgspec


class GroupMember(msgspec.Struct, frozen=True, kw_only=True):
    """One alert in an aggregation group, as the dispatcher tracks it (no content)."""

    alert_id: str
    fingerprint: str
    resolved: bool


class GroupFlush(msgspec.Struct, frozen=True, kw_only=True):
    """An aggregation group's tick: every alert of the group, firing and resolved.

    Whether it becomes a notification is decided per integration by the notification log
    (Alertmanager's DedupStage).
    """

    tenant_id: str
    group_key: str
    """Alertmanager's group key `<route key>:<group labels>`: `{}/{team="db"}:{env="prod"}`."""
    route_key: str
    receiver: str
    group_labels: dict[str, str]
    members: tuple[GroupMember, ...]
    repeat_interval: float
    at: float


class NotifiedAlert(msgspec.Struct, frozen=True, kw_only=True):
    """One alert as a notification carries it: a snapshot taken when the group flushed."""

    alert_id: str
    fingerprint: str
    status: str
    """"firing" or "resolved"."""
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float
    ends_at: float | None = None
    generator_url: str = ""
    severity: str = "medium"
    title: str = ""
    description: str = ""


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    """What one integration of one receiver is told about one group at one flush.

    `id` is the idempotency key of this delivery: retries and re-deliveries after a crash
    carry the same value.
    """

    id: str
    tenant_id: str
    receiver: str
    integration: str
    """The integration's key in its receiver, e.g. `webhook[0]`, `slack[1]`."""
    group_key: str
    group_labels: dict[str, str]
    alerts: tuple[NotifiedAlert, ...]
    created_at: float
    external_url: str = ""
    truncated_alerts: int = 0

    @property
    def status(self) -> str:
        return "firing" if any(a.status == "firing" for a in self.alerts) else "resolved"

    @property
    def firing(self) -> list[NotifiedAlert]:
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def resolved(self) -> list[NotifiedAlert]:
        return [a for a in self.alerts if a.status == "resolved"]

    @property
    def common_labels(self) -> dict[str, str]:
        return _common([a.labels for a in self.alerts])

    @property
    def common_annotations(self) -> dict[str, str]:
        return _common([a.annotations for a in self.alerts])

    @property
    def group_hash(self) -> str:
        """A stable key for the group across notifications (PagerDuty `dedup_key`, Opsgenie
        `alias`): SHA-256 of tenant and group key, as Alertmanager hashes the group key."""
        digest = hashlib.sha256(f"{self.tenant_id}\x00{self.group_key}".encode())
        return digest.hexdigest()


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first, *rest = maps
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in rest)}
