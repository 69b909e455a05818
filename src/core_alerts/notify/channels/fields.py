"""What several channel configs declare and check alike: field types with their descriptions,
and the checks on URLs and header values."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import SplitResult, urlsplit

import msgspec

SendResolved = Annotated[
    bool, msgspec.Meta(description="Also notify when the group's alerts are resolved.")
]
AttemptTimeout = Annotated[
    float, msgspec.Meta(gt=0, description="Seconds one delivery attempt may take.")
]
LimitedTimeout = Annotated[float, msgspec.Meta(gt=0, le=120)]
"""Seconds for the API channels, which add their own description."""

_HEADER_TOKEN = re.compile(r"[\x21-\x7e]+")


def check_header_value(value: str, field: str) -> None:
    """Header values must be printable ASCII: the outbound client refuses anything else."""
    if not value.isascii() or any(c in value for c in "\r\n\x00"):
        raise ValueError(f"{field} must be printable ASCII without line breaks")


def is_header_token(value: str) -> bool:
    """Non-empty printable ASCII without spaces: a key or token sent in a header."""
    return _HEADER_TOKEN.fullmatch(value) is not None


def check_url(value: str, field: str) -> None:
    """An absolute http(s) URL with a host and no embedded credentials."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise ValueError(f"{field} is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{field} must be an http or https URL")
    if not host:
        raise ValueError(f"{field} must name a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{field} must not contain credentials; use http_config instead")


def require_http_url(value: str, message: str) -> SplitResult:
    """The parts of an http(s) URL with a host; ValueError(message) for anything else."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise ValueError(message) from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(message)
    return parts
