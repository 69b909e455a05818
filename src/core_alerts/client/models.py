"""Typed results: msgspec Structs mirroring the API's views (core_alerts.api.views), and ApiError.

Unknown fields are ignored on decode, so a newer server does not break an older client.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import httpx
import msgspec

from core_alerts.domain import AlertSeverity, AlertStatus, IngestOutcome


class Alert(msgspec.Struct, kw_only=True):
    """One stored alert (`GET /api/v1/alerts` items, and the answer of ack/unack/resolve)."""

    id: str
    fingerprint: str
    status: AlertStatus
    severity: AlertSeverity
    title: str
    description: str
    source: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    first_seen: datetime
    last_seen: datetime
    updated_at: datetime
    occurrences: int
    generator_url: str
    dedup_key: str | None
    acked_by: str | None
    acked_at: datetime | None
    resolved_at: datetime | None


class Transition(msgspec.Struct, kw_only=True):
    """One status change in an alert's history; `from_status` is None for the creation."""

    at: datetime
    from_status: AlertStatus | None
    to_status: AlertStatus
    actor: str
    reason: str
    comment: str


class AlertDetail(Alert, kw_only=True):
    """An alert with its history, oldest change first (`GET /api/v1/alerts/{id}`)."""

    history: list[Transition]


class AlertPage(msgspec.Struct, kw_only=True):
    """One page of alerts, newest first; pass `next_cursor` to get the next page."""

    items: list[Alert]
    next_cursor: str | None


class IngestResult(msgspec.Struct, kw_only=True):
    """What happened to one sent alert; `alert_id` and `status` are None when it was ignored."""

    alert_id: str | None
    fingerprint: str
    outcome: IngestOutcome
    status: str | None
    occurrences: int
    reason: str = ""


class IngestResponse(msgspec.Struct, kw_only=True):
    """The answer to a send: one result per alert, in the order sent."""

    accepted: int
    results: list[IngestResult]


_MAX_TEXT = 500


class ApiError(Exception):
    """The service answered with a non-2xx status (RFC 9457 problem details when it could)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        field: str | None = None,
        *,
        index: int | None = None,
        type: str = "about:blank",  # RFC 9457's member name
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field
        self.index = index
        self.type = type

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        """Read the problem+json body; fall back to the text (proxies answer HTML)."""
        body: Any = None
        with contextlib.suppress(msgspec.DecodeError):
            body = msgspec.json.decode(response.content)
        reason = response.reason_phrase or "HTTP error"
        if not isinstance(body, dict) or not ("detail" in body or "title" in body):
            text = response.text.strip()[:_MAX_TEXT]
            return cls(response.status_code, reason, text or reason)
        field, index = body.get("field"), body.get("index")
        return cls(
            response.status_code,
            str(body.get("title") or reason),
            str(body.get("detail") or body.get("title") or reason),
            field if isinstance(field, str) else None,
            index=index if isinstance(index, int) else None,
            type=str(body.get("type") or "about:blank"),
        )
