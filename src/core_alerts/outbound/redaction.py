"""Remove credentials from URLs, headers and free text before they reach a log or an error.

Over-redaction is accepted: a harmless value hidden costs less than a token shown. The text
may come from a hostile server (headers in debug logs), so every pattern runs in linear time:
runs are matched only from their first character, with possessive quantifiers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"
_MAX_NESTING = 3  # URLs inside query values inside URLs ...; deeper values are masked whole

_SENSITIVE_NAME = re.compile(
    r"auth|token|secret|passw|pwd|key|sig|cookie|session|credential|private", re.IGNORECASE
)
_AUTH_SCHEMES = frozenset({"bearer", "basic", "digest", "token", "geniekey", "ssws"})
# Paths whose tail is the credential: Slack (services, workflow triggers), Discord,
# Microsoft Teams connectors, Mattermost/Rocket.Chat incoming hooks.
_SECRET_PATH_TAILS = re.compile(
    r"(/services/|/triggers/|/webhookb2/|/hooks/|/api/webhooks/[^/?#]++/)[^?#]*+", re.IGNORECASE
)
_GENERATED_CHARS = re.compile(r"[A-Za-z0-9_\-.~+=]{20,}+")
_URL_IN_TEXT = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*+://[^\s'\"<>]++")
_TEXT_PAIR = re.compile(r"(?<![\w.\-])([\w.\-]++)=([^\s&;,'\"]*+)")
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic|digest|token|geniekey|ssws)\s++[\w.~+/=\-]++")
# "Name: value" in text, and ('Name', 'value') as HTTP libraries print header lists.
_HEADER_TEXT = re.compile(r"(?<![\w\-])([\w\-]++)(['\"]?\s*+[:,]\s*+b?['\"]?)([^\s'\",()\[\]]++)")


def is_sensitive_name(name: str) -> bool:
    """True for header and parameter names that usually carry credentials."""
    return bool(_SENSITIVE_NAME.search(name))


def redact_url(url: str) -> str:
    """`url` without userinfo, secret query values, webhook path tokens or long token segments.

    The result is percent-decoded, so a URL nested in a query value is redacted too.
    """
    return _redact_url(url, 0)


def redact_pairs(text: str) -> str:
    """`name=value` pairs (query strings, cookies) with sensitive names get their value masked."""
    return _redact_pairs(text, 0)


def redact_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
) -> dict[str, str]:
    """A copy fit for logs: sensitive headers masked, URLs in the others redacted."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {name: MASK if is_sensitive_name(name) else redact_text(value) for name, value in items}


def redact_text(text: str) -> str:
    """Free text (a message, a log line) with URLs, auth schemes and secret pairs redacted."""
    return _redact_text(text, 0)


def _redact_text(text: str, depth: int) -> str:
    text = _URL_IN_TEXT.sub(lambda m: _redact_url_in_text(m.group(0), depth), text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _TEXT_PAIR.sub(_mask_text_pair, text)
    return _HEADER_TEXT.sub(_mask_header_text, text)


def _redact_url_in_text(match: str, depth: int) -> str:
    url = match.rstrip(".,:;)")  # trailing punctuation belongs to the sentence
    return _redact_url(url, depth) + match[len(url) :]


def _redact_url(url: str, depth: int) -> str:
    url = _fully_unquoted(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return _redact_pairs(_redact_path(url), depth)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = _redact_pairs(parts.query, depth)
    fragment = _redact_pairs(parts.fragment, depth)
    return urlunsplit((parts.scheme, netloc, _redact_path(parts.path), query, fragment))


def _redact_path(path: str) -> str:
    path = _SECRET_PATH_TAILS.sub(lambda m: m.group(1) + MASK, path)
    return "/".join(MASK if _looks_generated(s) else s for s in path.split("/"))


def _looks_generated(segment: str) -> bool:
    """Long, and mixing letters with digits: a token, not a word."""
    return (
        _GENERATED_CHARS.fullmatch(segment) is not None
        and any(c.isdigit() for c in segment)
        and any(c.isalpha() for c in segment)
    )


def _fully_unquoted(text: str) -> str:
    for _ in range(3):  # percent-encoding nested a few times over hides nothing
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


def _redact_pairs(text: str, depth: int) -> str:
    pieces = re.split(r"([&;])", text)
    return "".join(_redact_pair(piece, depth) for piece in pieces)


def _redact_pair(piece: str, depth: int) -> str:
    name, equals, value = piece.partition("=")
    if not equals:
        return piece
    if is_sensitive_name(name):
        return f"{name}={MASK}"
    if "=" in value or "://" in value:  # a nested URL or query (?next=https://...?token=...)
        nested = _redact_text(value, depth + 1) if depth < _MAX_NESTING else MASK
        return f"{name}={nested}"
    return piece


def _mask_text_pair(match: re.Match[str]) -> str:
    name, value = match.group(1), match.group(2)
    if not value or not is_sensitive_name(name):
        return match.group(0)
    return f"{name}={MASK}" + (":" if value.endswith(":") else "")


def _mask_header_text(match: re.Match[str]) -> str:
    name, separator, value = match.groups()
    if not is_sensitive_name(name) or value == MASK or value.lower() in _AUTH_SCHEMES:
        return match.group(0)
    return f"{name}{separator}{MASK}"


class RedactingFilter(logging.Filter):
    """Rewrites each record's message through redact_text, with its arguments applied."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format
            message = f"{record.msg} {record.args}"
        record.msg = redact_text(message)
        record.args = None
        return True


# The HTTP library logs response headers at DEBUG; they may carry a token (Location, cookies).
_REDACTED_LOGGERS = (
    "core_alerts.outbound",
    "aiohttp.client",
    "aiohttp.internal",
)


def install_log_redaction() -> None:
    """Attach one RedactingFilter to the outbound loggers; calling it again changes nothing."""
    for name in _REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
