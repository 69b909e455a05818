"""Entry point of the `core-alerts` console script."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core_alerts.cli import alerts
from core_alerts.cli.send import send

app = typer.Typer(
    help="core-alerts: durable alert ingestion, dedup and lifecycle.", no_args_is_help=True
)


@app.callback()
def main() -> None:
    """core-alerts: durable alert ingestion, dedup and lifecycle."""


@app.command()
def serve(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="YAML file rooted at core_alerts:.")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Listen address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default 8080).")] = None,
) -> None:
    """Run the service in the foreground until SIGTERM or Ctrl-C."""
    from core_alerts.app import EngineOrchestrator
    from core_alerts.cli.serve import serve as run_server

    overrides: dict[str, dict[str, object]] = {}
    if host:
        overrides.setdefault("server", {})["host"] = host
    if port:
        overrides.setdefault("server", {})["port"] = port
    orch = EngineOrchestrator(overrides, config_file=str(config) if config else None)
    s = orch.settings.server
    url = f"http://{s.host}:{s.port}"
    run_server(orch, on_ready=_next_steps(url))


def _next_steps(url: str) -> str:
    return f"""core-alerts ready on {url} (Ctrl-C to stop)

Send an alert:
  curl -s -XPOST {url}/api/v2/alerts -H 'content-type: application/json' \\
    -d '[{{"labels": {{"alertname": "DiskFull", "team": "db"}}}}]'
  core-alerts send --url {url} --title "High CPU" --severity high --label host=web-1
See them:
  core-alerts alerts list --url {url}
API docs: {url}/docs"""


# Client commands: they talk to a running service through core_alerts.client.
app.command("send")(send)
app.add_typer(alerts.app, name="alerts")


def run() -> None:
    app()
