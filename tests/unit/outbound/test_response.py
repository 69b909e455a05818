"""Responses: Retry-After parsing, which statuses are retryable, and redacted reprs."""

from __future__ import annotations

import httpx
import pytest

from core_alerts.domain.clock import FixedClock
from core_alerts.domain.errors import MalformedInput
from core_alerts.outbound import FailReason, OutboundFailed, OutboundResponse, parse_retry_after

NOW = FixedClock(1_784_000_000.0).now()  # 2026-07-14T03:33:20Z


def response(status: int, body: bytes = b"", retry_after: float | None = None) -> OutboundResponse:
    return OutboundResponse(
        status=status,
        headers=httpx.Headers({"Content-Type": "application/json"}),
        body=body,
        elapsed=0.01,
        final_url="https://hooks.example.com/services/T1/B2/SECRETPART?token=SECRETTOKEN",
        retry_after=retry_after,
    )


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Tue, 14 Jul 2026 03:34:20 GMT", 60.0),
        ("Tue, 14 Jul 2026 03:00:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        ("Tue, 14 Jul 2026 03:34:20", None),
        (None, None),
    ],
)
def test_retry_after_accepts_seconds_and_http_dates(
    value: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(value, NOW) == seconds


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(429, True), (503, True), (500, True), (408, True), (400, False), (404, False), (410, False)],
)
def test_raise_for_status_says_whether_to_retry(status: int, retryable: bool) -> None:
    with pytest.raises(OutboundFailed) as info:
        response(status, retry_after=30.0 if status in (429, 503) else None).raise_for_status()
    assert info.value.reason is FailReason.HTTP_STATUS
    assert info.value.status == status
    assert info.value.retryable is retryable
    assert "SECRETTOKEN" not in str(info.value)
    assert "SECRETPART" not in str(info.value)


def test_retry_after_travels_with_the_failure() -> None:
    with pytest.raises(OutboundFailed) as info:
        response(429, retry_after=30.0).raise_for_status()
    assert info.value.retry_after == 30.0


def test_success_and_redirect_statuses_do_not_raise() -> None:
    ok = response(202, b'{"status":"accepted"}')
    assert ok.raise_for_status() is ok
    assert ok.ok
    assert ok.json() == {"status": "accepted"}
    assert response(304).raise_for_status().status == 304


def test_repr_hides_the_url_credentials() -> None:
    text = repr(response(200))
    assert "SECRETTOKEN" not in text
    assert "SECRETPART" not in text
    assert "status=200" in text


def test_non_json_body_is_malformed_input_without_the_secret() -> None:
    with pytest.raises(MalformedInput) as info:
        response(200, b"<html>").json()
    assert "SECRETTOKEN" not in str(info.value)
