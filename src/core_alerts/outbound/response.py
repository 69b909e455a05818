"""What an outbound call returns: status, headers, a size-capped body, and retry advice."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from core_alerts.domain.errors import MalformedInput
from core_alerts.outbound.errors import FailReason, OutboundFailed
from core_alerts.outbound.redaction import redact_url

# Statuses after which the same request may succeed later (RFC 9110, RFC 6585).
_RETRYABLE_CLIENT_STATUSES = frozenset({408, 425, 429})
_RETRY_AFTER_STATUSES = frozenset({429, 503})


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date); None if invalid."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None  # HTTP-dates are always GMT; a zone-less date is not one
    return max(0.0, when.timestamp() - now)


def retry_after_for(status: int, headers: Mapping[str, str], now: float) -> float | None:
    if status not in _RETRY_AFTER_STATUSES:
        return None
    return parse_retry_after(headers.get("retry-after"), now)


@dataclass(frozen=True, slots=True, repr=False)
class OutboundResponse:
    """A complete response. `headers` is case-insensitive; `elapsed` is seconds, redirects
    included; `final_url` is the URL that answered; `retry_after` is set on 429/503."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed: float
    final_url: str
    redirects: int = 0
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise MalformedInput(
                f"{redact_url(self.final_url)} answered {self.status} with a body that is not JSON"
            ) from None

    def raise_for_status(self) -> OutboundResponse:
        """Self when the status is below 400; else OutboundFailed with retry advice."""
        if self.status < 400:
            return self
        raise OutboundFailed(
            f"{redact_url(self.final_url)} answered {self.status}",
            reason=FailReason.HTTP_STATUS,
            retryable=self.status >= 500 or self.status in _RETRYABLE_CLIENT_STATUSES,
            retry_after=self.retry_after,
            status=self.status,
        )

    def __repr__(self) -> str:
        return (
            f"OutboundResponse(status={self.status}, body={len(self.body)} bytes, "
            f"final_url={redact_url(self.final_url)!r})"
        )
