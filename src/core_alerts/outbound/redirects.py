"""Redirects: each target is checked like the first URL, and may not downgrade https."""

from __future__ import annotations

import httpx

from core_alerts.outbound.destination import Destination, parse_destination
from core_alerts.outbound.errors import BlockReason, FailReason, OutboundBlocked, OutboundFailed
from core_alerts.outbound.policy import OutboundPolicy
from core_alerts.outbound.redaction import redact_url

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def redirect_target(current: Destination, location: str, policy: OutboundPolicy) -> Destination:
    try:
        joined = current.url.join(location)
    except httpx.InvalidURL:
        raise OutboundFailed(
            f"{redact_url(str(current.url))} redirected to an invalid URL",
            reason=FailReason.PROTOCOL,
            retryable=False,
        ) from None
    try:
        target = parse_destination(joined, policy)
    except OutboundBlocked as exc:
        raise OutboundBlocked(
            f"redirect from {redact_url(str(current.url))} refused: {exc.message}",
            reason=exc.reason,
        ) from None
    if current.scheme == "https" and target.scheme == "http":
        raise OutboundBlocked(
            f"{redact_url(str(current.url))} redirected from https to http",
            reason=BlockReason.DOWNGRADE,
        )
    return target


def rewrite_for_redirect(
    status: int, method: str, body: bytes, headers: dict[str, str]
) -> tuple[str, bytes, dict[str, str]]:
    """303, and 301/302 after POST, turn into a GET without a body, as browsers do."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        kept = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        return "GET", b"", kept
    return method, body, headers
