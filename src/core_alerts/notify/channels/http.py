"""Sending over the outbound client, with its failures turned into DeliveryFailed."""

from __future__ import annotations

from collections.abc import Mapping

from core_alerts.notify.channels.base import ChannelContext, DeliveryFailed
from core_alerts.outbound import OutboundBlocked, OutboundFailed, OutboundResponse

TIMEOUT = 10.0
"""Seconds one HTTP delivery may take, unless the channel config sets less."""
_RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


async def send_http(
    ctx: ChannelContext,
    url: str,
    *,
    method: str = "POST",
    json: object = None,
    content: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT,  # noqa: ASYNC109 - the outbound client enforces it
) -> OutboundResponse:
    """One request; any answer other than 2xx raises DeliveryFailed.

    Retryable: timeouts, network errors, 408/425/429/5xx (with the Retry-After asked for).
    Not retryable: a refused destination (SSRF policy) and other 4xx (the request is wrong).
    """
    try:
        response = await ctx.http.request(
            method, url, headers=headers, json=json, content=content, total_timeout=timeout
        )
    except OutboundBlocked as exc:
        raise DeliveryFailed(exc.message, retryable=False) from None
    except OutboundFailed as exc:
        raise DeliveryFailed(
            exc.message, retryable=exc.retryable, retry_after=exc.retry_after, status=exc.status
        ) from None
    if 200 <= response.status < 300:
        return response
    retryable = response.status in _RETRYABLE_STATUS or response.status >= 500
    snippet = response.body[:200].decode("utf-8", "replace").strip()
    raise DeliveryFailed(
        f"answered {response.status}" + (f": {snippet}" if snippet else ""),
        retryable=retryable,
        retry_after=response.retry_after if retryable else None,
        status=response.status,
    )


async def post_json(
    ctx: ChannelContext,
    url: str,
    body: object,
    *,
    key: str,
    headers: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT,  # noqa: ASYNC109 - the outbound client enforces it
) -> OutboundResponse:
    """POST `body` as JSON with `key` as its Idempotency-Key, as `send_http` does."""
    sent = {"Content-Type": "application/json", "Idempotency-Key": key, **(headers or {})}
    return await send_http(ctx, url, json=body, headers=sent, timeout=timeout)
