"""Text cut to fit a receiver's field limit."""

from __future__ import annotations

ELLIPSIS = "…"


def truncate(text: str, limit: int) -> str:
    """`text` when it fits in `limit` characters, else its start and `…` in exactly `limit`."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS
