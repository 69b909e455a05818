"""Credentials are removed from URLs, headers, free text and log records."""

from __future__ import annotations

import logging

import pytest

from core_alerts.outbound import is_sensitive_name, redact_headers, redact_text, redact_url
from core_alerts.outbound.redaction import RedactingFilter

SECRET = "S3cr3tValue"


@pytest.mark.parametrize(
    "url",
    [
        f"https://hooks.slack.com/services/T0000/B0000/{SECRET}",
        f"https://hooks.slack.com/triggers/T0/1/{SECRET}",
        f"https://discord.com/api/webhooks/1234/{SECRET}",
        f"https://x.webhook.office.com/webhookb2/{SECRET}@tenant/IncomingWebhook/a/b",
        f"https://chat.example.com/hooks/{SECRET}",
        f"https://example.com/hook?token={SECRET}",
        f"https://example.com/hook?a=1&api_key={SECRET}&b=2",
        f"https://example.com/hook?secret={SECRET}",
        f"https://example.com/hook?key={SECRET}",
        f"https://example.com/hook?X-Amz-Signature={SECRET}",
        f"https://example.com/hook?sig={SECRET}",
        f"https://example.com/hook#access_token={SECRET}",
        f"https://user:{SECRET}@example.com/",
        f"https://{SECRET}@example.com/",
        "https://events.example.com/v2/integration/a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6/enqueue",
    ],
)
def test_redact_url_removes_the_credential(url: str) -> None:
    redacted = redact_url(url)
    assert SECRET not in redacted
    assert "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6" not in redacted
    assert "***" in redacted


def test_redact_url_keeps_what_is_needed_to_debug() -> None:
    redacted = redact_url(f"https://hooks.example.com:8443/api/v1/alerts?team=ops&token={SECRET}")
    assert redacted == "https://hooks.example.com:8443/api/v1/alerts?team=ops&token=***"


def test_redact_headers_masks_credentials_and_urls_in_values() -> None:
    headers = {
        "Authorization": f"Bearer {SECRET}",
        "X-Api-Key": SECRET,
        "X-Routing-Key": SECRET,
        "Cookie": f"session={SECRET}",
        "Location": f"https://example.com/?token={SECRET}",
        "Content-Type": "application/json",
    }
    redacted = redact_headers(headers)
    assert SECRET not in repr(redacted)
    assert redacted["Content-Type"] == "application/json"
    assert redacted["Authorization"] == "***"


@pytest.mark.parametrize(
    "text",
    [
        f"POST https://example.com/?token={SECRET} failed",
        f"Authorization: Bearer {SECRET}",
        f"authorization: GenieKey {SECRET}",
        f"X-Api-Key: {SECRET}",
        f"{{'x-api-key': '{SECRET}'}}",
        f"[(b'Set-Cookie', b'sid={SECRET}; Path=/')]",
        f"password={SECRET}",
    ],
)
def test_redact_text_removes_credentials_from_free_text(text: str) -> None:
    assert SECRET not in redact_text(text)


@pytest.mark.parametrize("name", ["Authorization", "X-Api-Key", "api_key", "access_token"])
def test_credential_names_are_sensitive(name: str) -> None:
    assert is_sensitive_name(name)


@pytest.mark.parametrize("name", ["Content-Type", "User-Agent", "Keep-Alive", "team"])
def test_ordinary_names_are_not_sensitive(name: str) -> None:
    assert not is_sensitive_name(name)


def test_log_filter_redacts_the_formatted_message() -> None:
    record = logging.LogRecord(
        "core_alerts.outbound",
        logging.INFO,
        __file__,
        1,
        "sent %s",
        (f"https://a/?key={SECRET}",),
        None,
    )
    assert RedactingFilter().filter(record)
    assert SECRET not in record.getMessage()


@pytest.mark.parametrize(
    "shape", ["a", "key", "a-", "a1", "x=", "a://", "token: ", "Bearer ", "http://a/?x=", "%25"]
)
def test_hostile_input_is_redacted_in_linear_time(shape: str) -> None:
    """A server controls the headers that reach debug logs; a backtracking pattern would
    stall the process on this input for hours, a linear one takes milliseconds."""
    filler = shape * (100_000 // len(shape))
    assert SECRET not in redact_text(f"{filler} token={SECRET}")
    assert SECRET not in redact_url(f"http://h/{filler}?token={SECRET}")
