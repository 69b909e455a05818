"""Prometheus duration strings (`30s`, `5m`, `1h30m`, `1d`) as Alertmanager's config reads them."""

from __future__ import annotations

import re

# Units in fixed descending order, each at most once, integers only (prometheus/common model).
_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_UNIT_SECONDS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)


def parse_prometheus_duration(text: str) -> float:
    """Seconds; raises ValueError with Alertmanager's wording for a bad string."""
    if text == "":
        raise ValueError("empty duration string")
    if text == "0":
        return 0.0
    found = _DURATION.match(text)
    if found is None:
        raise ValueError(f"not a valid duration string: {text!r}")
    return float(
        sum(
            int(part) * unit
            for part, unit in zip(found.groups(), _UNIT_SECONDS, strict=True)
            if part
        )
    )


def format_duration(seconds: float) -> str:
    """The shortest Prometheus spelling, e.g. 5400 -> `1h30m` (0 -> `0s`)."""
    millis = round(seconds * 1000)
    if millis == 0:
        return "0s"
    parts: list[str] = []
    for unit, size in (
        ("y", 31_536_000_000),
        ("w", 604_800_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
    ):
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    secs, millis = divmod(millis, 1000)
    if secs:
        parts.append(f"{secs}s")
    if millis:
        parts.append(f"{millis}ms")
    return "".join(parts)
