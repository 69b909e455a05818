"""`core-alerts routes test`: which receivers an `alertmanager.yml` routes a label set to.

Same arguments and output as `amtool config routes test`, plus `--jsonl` for batches.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, NoReturn, TextIO

import typer

from core_alerts.domain.errors import ConfigError
from core_alerts.domain.matchers import MatchOp, parse_matcher
from core_alerts.routing import LABEL_NAME, RoutingTree, load_config_file

app = typer.Typer(help="Test an Alertmanager routing tree.", no_args_is_help=True)


class LabelError(ValueError):
    """A label argument or JSON line that is not a plain name=value pair."""


@app.command("test")
def routes_test(
    config_file: Annotated[
        str, typer.Option("--config.file", help="The alertmanager.yml to load.")
    ],
    labels: Annotated[
        list[str] | None, typer.Argument(help="Labels as name=value (quote values to keep spaces).")
    ] = None,
    jsonl: Annotated[
        bool,
        typer.Option("--jsonl", help="Read one JSON label object per stdin line; write results."),
    ] = False,
    verify_receivers: Annotated[
        str | None,
        typer.Option("--verify.receivers", help="Exit 1 unless the receivers printed equal this."),
    ] = None,
) -> None:
    """Print the receivers the label set is routed to, comma-separated, in tree order."""
    try:
        tree = RoutingTree.from_config(load_config_file(config_file))
    except ConfigError as exc:
        _fail(exc.message)
    if jsonl:
        _route_lines(tree, sys.stdin, sys.stdout)
        return
    try:
        label_set = parse_label_args(labels or [])
    except LabelError as exc:
        _fail(f"Failed to parse labels: {exc}")
    slug = ",".join(tree.receivers(label_set))
    typer.echo(slug)
    if verify_receivers is not None and verify_receivers != slug:
        typer.echo("WARNING: Expected receivers did not match resolved receivers.")
        raise typer.Exit(1)


def parse_label_args(args: list[str]) -> dict[str, str]:
    """`name=value` arguments parsed as amtool does (a repeated name keeps the last value)."""
    label_set: dict[str, str] = {}
    for arg in args:
        try:
            matcher = parse_matcher(arg)
        except ValueError as exc:
            raise LabelError(str(exc)) from None
        if matcher.op is not MatchOp.EQ:
            raise LabelError("labels must be specified as key=value pairs")
        label_set[matcher.name] = matcher.value
    return label_set


def route_json_line(tree: RoutingTree, line: str) -> str:
    """One `{"labels": {...}, "receivers": [...]}` line (or `"error"`), keys sorted."""
    labels = json.loads(line)
    result: dict[str, object] = {"labels": labels}
    try:
        result["receivers"] = tree.receivers(_checked_labels(labels))
    except LabelError as exc:
        result["error"] = f"Failed to parse labels: {exc}"
    return json.dumps(result, ensure_ascii=False, sort_keys=True)


def _checked_labels(labels: object) -> dict[str, str]:
    if not isinstance(labels, dict):
        raise LabelError("each line must be a JSON object of labels")
    for name, value in labels.items():
        if not LABEL_NAME.match(name) or not isinstance(value, str):
            raise LabelError(f"bad label: {name}={value!r}")
    return labels


def _route_lines(tree: RoutingTree, source: TextIO, sink: TextIO) -> None:
    for line in source:
        if line.strip():
            sink.write(route_json_line(tree, line.strip()) + "\n")


def _fail(message: str) -> NoReturn:
    typer.echo(f"core-alerts: error: {message}", err=True)
    raise typer.Exit(1)
