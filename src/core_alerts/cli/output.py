"""Rendering: rich tables for people, plain JSON for scripts, red one-line errors on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

import msgspec
import typer
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from core_alerts.client import Alert, AlertDetail, IngestResponse

# soft_wrap: never break a message or a JSON line at the terminal width.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

STATUS_STYLE = {
    "firing": "bold red",
    "acknowledged": "yellow",
    "resolved": "green",
    "suppressed": "dim",
}
_WIDE = 120  # below this, the alerts table leaves out the labels
SEVERITY_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def fail(message: str) -> NoReturn:
    err.print(Text(f"error: {message}", style="red"))
    raise typer.Exit(1)


def note(message: str) -> None:
    """A remark for people on stderr, so stdout stays parseable."""
    err.print(Text(message, style="dim"))


def print_json(value: Any) -> None:
    """Indented JSON on stdout; plain write, so rich neither wraps nor colours it."""
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value), indent=2).decode() + "\n")


def when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def styled(value: str, styles: Mapping[str, str]) -> Text:
    return Text(value, style=styles.get(value, ""))


def pairs(values: Mapping[str, str]) -> Text:
    # Text, not a str: user content must not be read as rich markup.
    return Text(", ".join(f"{k}={v}" for k, v in values.items()) or "-")


def age(value: datetime, now: datetime) -> str:
    """How long ago, in the largest whole unit: 45s, 12m, 3h, 9d."""
    seconds = max(0, int((now - value).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def alerts_table(alerts: Iterable[Alert], width: int) -> Table:
    """One line per alert; labels only where there is room (json has everything)."""
    wide = width >= _WIDE
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("ID", no_wrap=True, min_width=32)  # never cut: it is what you act on
    for name in ("STATUS", "SEVERITY", "COUNT", "SEEN"):
        table.add_column(name, no_wrap=True, justify="right" if name == "COUNT" else "left")
    table.add_column("TITLE", no_wrap=True, overflow="ellipsis", min_width=10, ratio=1)
    if wide:
        table.add_column("LABELS", no_wrap=True, overflow="ellipsis", ratio=1)
    now = datetime.now(UTC)
    for a in alerts:
        row: list[RenderableType] = [
            a.id,
            styled(a.status, STATUS_STYLE),
            styled(a.severity, SEVERITY_STYLE),
            str(a.occurrences),
            age(a.last_seen, now),
            Text(a.title),
        ]
        if wide:
            row.append(pairs(a.labels))
        table.add_row(*row)
    return table


def print_alerts(alerts: list[Alert]) -> None:
    if not alerts:
        note("no alerts")
        return
    out.print(alerts_table(alerts, out.width))


def _fields(a: Alert) -> list[tuple[str, str | Text]]:
    return [
        ("id", a.id),
        ("title", Text(a.title)),
        ("status", styled(a.status, STATUS_STYLE)),
        ("severity", styled(a.severity, SEVERITY_STYLE)),
        ("description", Text(a.description or "-")),
        ("labels", pairs(a.labels)),
        ("annotations", pairs(a.annotations)),
        ("fingerprint", a.fingerprint),
        ("dedup key", Text(a.dedup_key or "-")),
        ("source", Text(a.source)),
        ("occurrences", str(a.occurrences)),
        ("starts at", when(a.starts_at)),
        ("ends at", when(a.ends_at)),
        ("first seen", when(a.first_seen)),
        ("last seen", when(a.last_seen)),
        ("acked by", Text(f"{a.acked_by} at {when(a.acked_at)}" if a.acked_by else "-")),
        ("resolved at", when(a.resolved_at)),
    ]


def print_detail(alert: AlertDetail) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in _fields(alert):
        grid.add_row(name, value)
    out.print(grid)
    history = Table(title="History", title_justify="left", box=None, header_style="bold")
    for name in ("AT", "FROM", "TO"):
        history.add_column(name, no_wrap=True)
    for name in ("ACTOR", "REASON", "COMMENT"):
        history.add_column(name, overflow="fold")
    for t in alert.history:
        history.add_row(
            when(t.at),
            styled(t.from_status or "-", STATUS_STYLE),
            styled(t.to_status, STATUS_STYLE),
            Text(t.actor),
            Text(t.reason),
            Text(t.comment),
        )
    out.print()
    out.print(history)


def print_ingest(response: IngestResponse) -> None:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("ALERT ID", "OUTCOME", "STATUS", "COUNT", "FINGERPRINT"):
        table.add_column(name, no_wrap=True)
    for r in response.results:
        table.add_row(
            r.alert_id or "-", r.outcome, styled(r.status or "-", STATUS_STYLE),
            str(r.occurrences), r.fingerprint,
        )  # fmt: skip
    out.print(table)
    out.print(f"accepted {response.accepted}")
