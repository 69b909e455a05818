"""`core-alerts send`: one alert from flags, or alerts from a JSON file in the native format."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer

from core_alerts.cli.options import (
    Conn,
    Output,
    OutputOpt,
    TenantOpt,
    TokenOpt,
    UrlOpt,
    parse_pairs,
)
from core_alerts.cli.output import print_ingest, print_json
from core_alerts.cli.remote import call
from core_alerts.client import DEFAULT_URL

Pairs = list[str] | None


def load_file(path: Path) -> list[dict[str, Any]]:
    """One alert object or a list of them; `-` reads stdin. Problems are usage errors (exit 2)."""
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
        data = msgspec.json.decode(raw)
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot read {path}: {exc.strerror}", param_hint="--file"
        ) from None
    except msgspec.DecodeError as exc:
        raise typer.BadParameter(f"{path} is not valid JSON: {exc}", param_hint="--file") from None
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(item, dict) for item in items):
        raise typer.BadParameter(
            f"{path} must hold an alert object or a non-empty list of them", param_hint="--file"
        )
    return items


def alert_from_flags(
    title: str,
    description: str,
    severity: str | None,
    labels: dict[str, str],
    annotations: dict[str, str],
    resolved: bool,
    dedup_key: str | None,
) -> dict[str, Any]:
    if not title and not labels:
        raise typer.BadParameter("give --title or at least one --label, or --file")
    alert: dict[str, Any] = {
        "title": title,
        "description": description,
        "labels": labels,
        "annotations": annotations,
    }
    if severity:
        alert["severity"] = severity
    if resolved:
        alert["status"] = "resolved"
    if dedup_key:
        alert["dedup_key"] = dedup_key
    return alert


TitleOpt = Annotated[str, typer.Option(help="Short summary.")]
DescriptionOpt = Annotated[str, typer.Option(help="Longer text.")]
SeverityOpt = Annotated[
    str | None,
    typer.Option(help="critical, high, medium, low or info (aliases like warning work)."),
]
LabelOpt = Annotated[
    Pairs, typer.Option("--label", "-l", metavar="K=V", help="A label; repeat for more.")
]
AnnotationOpt = Annotated[
    Pairs, typer.Option("--annotation", "-a", metavar="K=V", help="An annotation; repeatable.")
]
ResolvedOpt = Annotated[bool, typer.Option("--resolved", help="Send as resolved.")]
DedupKeyOpt = Annotated[str | None, typer.Option(help="Identity for dedup, instead of the labels.")]
FileOpt = Annotated[
    Path | None,
    typer.Option(
        "--file", "-f", help="JSON file: one alert or a list, native format; - reads stdin."
    ),
]


def send(
    title: TitleOpt = "",
    description: DescriptionOpt = "",
    severity: SeverityOpt = None,
    label: LabelOpt = None,
    annotation: AnnotationOpt = None,
    resolved: ResolvedOpt = False,
    dedup_key: DedupKeyOpt = None,
    file: FileOpt = None,
    url: UrlOpt = DEFAULT_URL,
    tenant: TenantOpt = None,
    token: TokenOpt = None,
    output: OutputOpt = Output.TABLE,
) -> None:
    """Send alerts; all are committed, or none. Prints what happened to each."""
    flags_used = title or description or severity or label or annotation or resolved or dedup_key
    if file is not None:
        if flags_used:
            raise typer.BadParameter("--file cannot be combined with alert flags")
        alerts = load_file(file)
    else:
        alerts = [
            alert_from_flags(
                title,
                description,
                severity,
                parse_pairs(label, "--label"),
                parse_pairs(annotation, "--annotation"),
                resolved,
                dedup_key,
            )
        ]
    response = call(Conn(url, tenant, token), lambda c: c.send(alerts))
    if output is Output.JSON:
        print_json(response)
    else:
        print_ingest(response)
