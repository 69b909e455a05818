"""The NotifyStore port: routing configs, aggregation-group timers, the notification log and
the delivery outbox (with its dead-letter state), all per tenant and durable."""

from __future__ import annotations

import abc
import builtins
from collections.abc import Sequence
from typing import Literal, Protocol

import msgspec

from core_alerts.domain.notification import Notification

OutboxState = Literal["pending", "delivered", "dead"]


class StoredConfig(msgspec.Struct, frozen=True, kw_only=True):
    """A tenant's `alertmanager.yml`, as last saved through the API."""

    tenant_id: str
    text: str
    version: int
    updated_at: float
    updated_by: str


class GroupState(msgspec.Struct, frozen=True, kw_only=True):
    """An aggregation group's timer; its members are rebuilt from the alerts on restart."""

    tenant_id: str
    group_key: str
    route_key: str
    receiver: str
    group_labels: dict[str, str]
    created_at: float
    next_flush_at: float
    flushed: bool
    """True once the group has had its first flush (group_wait is over)."""


class LogEntry(msgspec.Struct, frozen=True, kw_only=True):
    """The last notification enqueued for (group, receiver, integration): Alertmanager's nflog."""

    tenant_id: str
    group_key: str
    receiver: str
    integration: str
    firing: builtins.list[str]
    """Alert ids that were firing in it."""
    resolved: builtins.list[str]
    """Alert ids that were resolved in it."""
    at: float
    expires_at: float


class Lease(msgspec.Struct, frozen=True):
    """A claim on outbox entries: `owner` may deliver them until `until` (epoch seconds)."""

    owner: str
    until: float


class OutboxEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One delivery of one notification to one integration, and how it went so far."""

    notification: Notification
    state: OutboxState
    attempts: int
    next_attempt_at: float
    updated_at: float
    last_error: str = ""
    delivered_at: float | None = None

    @property
    def id(self) -> str:
        return self.notification.id

    @property
    def tenant_id(self) -> str:
        return self.notification.tenant_id


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """How one delivery attempt ended, to be recorded with others in one transaction."""

    notification_id: str
    state: OutboxState
    """"delivered", "dead", or "pending" (try again at `next_attempt_at`)."""
    attempts: int
    at: float
    next_attempt_at: float = 0.0
    error: str = ""


class OutboxPage(msgspec.Struct, frozen=True, kw_only=True):
    entries: builtins.list[OutboxEntry]
    next_after: str | None
    """Pass as `after` for the next page (ids ascend); None when this page is the last."""


class OutcomeShortcuts(abc.ABC):
    """`mark_delivered`, `retry_later` and `mark_dead` of a store, all through `record`."""

    @abc.abstractmethod
    async def record(self, outcomes: Sequence[Outcome]) -> None: ...

    async def mark_delivered(self, notification_id: str, attempts: int, at: float) -> None:
        await self.record([Outcome(notification_id=notification_id, state="delivered",
                                   attempts=attempts, at=at)])  # fmt: skip

    async def retry_later(
        self, notification_id: str, attempts: int, next_attempt_at: float, error: str, at: float
    ) -> None:
        await self.record([Outcome(notification_id=notification_id, state="pending",
                                   attempts=attempts, at=at, next_attempt_at=next_attempt_at,
                                   error=error)])  # fmt: skip

    async def mark_dead(self, notification_id: str, attempts: int, error: str, at: float) -> None:
        await self.record([Outcome(notification_id=notification_id, state="dead",
                                   attempts=attempts, at=at, error=error)])  # fmt: skip


class NotifyStore(Protocol):
    """Durable state of notification delivery. Every write commits before it returns."""

    async def open(self) -> None:
        """Connect and apply schema migrations."""
        ...

    async def close(self) -> None: ...

    # -- routing configuration ---------------------------------------------------------

    async def get_config(self, tenant_id: str) -> StoredConfig | None: ...

    async def put_config(self, tenant_id: str, text: str, by: str, at: float) -> StoredConfig:
        """Save a new version (the previous version + 1, or 1)."""
        ...

    async def config_versions(self) -> dict[str, int]:
        """Tenant -> version of its saved config: how other processes notice a change."""
        ...

    # -- aggregation groups --------------------------------------------------------------

    async def save_groups(self, groups: Sequence[GroupState]) -> None:
        """Insert or replace by (tenant_id, group_key, receiver)."""
        ...

    async def delete_groups(self, tenant_id: str, keys: Sequence[tuple[str, str]]) -> None:
        """Delete by (group_key, receiver)."""
        ...

    async def load_groups(self) -> builtins.list[GroupState]:
        """Every tenant's groups (for a restart)."""
        ...

    # -- notification log and outbox -------------------------------------------------------

    async def read_log(
        self, tenant_id: str, group_key: str, receiver: str
    ) -> builtins.list[LogEntry]:
        """The log entries of every integration of this receiver for this group."""
        ...

    async def read_logs(
        self, tenant_id: str, keys: Sequence[tuple[str, str]]
    ) -> builtins.list[LogEntry]:
        """read_log for many (group_key, receiver) at once (one round trip)."""
        ...

    async def log_alert_ids(self, tenant_id: str) -> builtins.list[tuple[str, str, str]]:
        """(group_key, receiver, alert_id) for every alert firing in an unexpired log entry:
        on restart, the alerts whose resolve may still be owed."""
        ...

    async def enqueue(
        self,
        notifications: Sequence[Notification],
        log: Sequence[LogEntry],
        lease: Lease | None = None,
    ) -> builtins.list[OutboxEntry]:
        """In one transaction: add each notification as a pending outbox entry (due at its
        `created_at`), index it under each of its alert ids, and upsert the log entries.
        A notification whose id is already stored is left as it is (idempotent).

        With a `lease` the entries added are claimed for its owner in the same transaction
        and returned (as `claim_due` returns them), so the worker that made them need not
        claim them again; without one nothing is returned."""
        ...

    async def claim_due(
        self, now: float, limit: int, lease: float, owner: str
    ) -> builtins.list[OutboxEntry]:
        """Pending entries due at `now` and not leased by another owner, oldest due first;
        each is leased to `owner` until `now + lease` (a crashed owner's lease expires)."""
        ...

    async def next_due(self) -> float | None:
        """When the earliest pending entry is due (None: nothing pending)."""
        ...

    async def record(self, outcomes: Sequence[Outcome]) -> None:
        """Record many outcomes in one transaction, each as mark_delivered, retry_later or
        mark_dead would; an entry no longer pending is left as it is."""
        ...

    async def mark_delivered(self, notification_id: str, attempts: int, at: float) -> None: ...

    async def retry_later(
        self, notification_id: str, attempts: int, next_attempt_at: float, error: str, at: float
    ) -> None:
        """Keep pending, release the lease, due again at `next_attempt_at`."""
        ...

    async def mark_dead(self, notification_id: str, attempts: int, error: str, at: float) -> None:
        """Move to the dead-letter state with the reason."""
        ...

    async def list_outbox(
        self,
        tenant_id: str,
        *,
        state: OutboxState | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> OutboxPage: ...

    async def get_outbox(self, tenant_id: str, notification_id: str) -> OutboxEntry | None: ...

    async def replay(self, tenant_id: str, ids: Sequence[str] | None, at: float) -> int:
        """Dead entries (all of the tenant's when `ids` is None) back to pending, attempts
        reset, due at `at`; returns how many moved."""
        ...

    async def for_alert(self, tenant_id: str, alert_id: str) -> builtins.list[OutboxEntry]:
        """Every outbox entry that carried this alert, oldest first."""
        ...

    async def counts(self) -> dict[tuple[str, str], int]:
        """(tenant_id, state) -> number of outbox entries."""
        ...

    async def purge(self, before: float) -> int:
        """Delete delivered outbox entries updated before `before` and log entries expired
        before it; returns how many outbox entries went."""
        ...
