"""Entry point of the `core-alerts` console script."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from core_alerts.app import EngineOrchestrator

from core_alerts.cli import access, alerts, governance, notifications, routes
from core_alerts.cli.output import fail
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
    if orch.field_cipher is None:
        fail(
            "no master key for field encryption: set ALERTS_ENCRYPTION_KEY to 32 random bytes "
            'in base64 (python -c "import secrets,base64;'
            'print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"), '
            "or security.dev_mode: true for a local experiment"
        )
    s = orch.settings.server
    url = f"http://{s.host}:{s.port}"
    run_server(orch, on_ready=lambda: _next_steps(url, orch))


def _next_steps(url: str, orch: EngineOrchestrator) -> str:
    """What to do next; with authentication on, a fresh platform-admin token (shown once)."""
    security = orch.security_manager
    dev = ""
    if security.settings.dev_mode:
        dev = "DEV MODE: weak or missing keys are allowed; never use it in production.\n"
    if security.enabled:
        hours = security.settings.admin_token_ttl / 3600
        access = f"""Admin token (platform admin, valid {hours:g} h, shown only here):
  export CORE_ALERTS_TOKEN={security.admin_token()}
"""
        auth = ' -H "Authorization: Bearer $CORE_ALERTS_TOKEN"'
        key = "A key for Prometheus or another sender (use it as bearer credentials):\n"
        key += "  core-alerts keys create --name prometheus --role ingest\n"
    else:
        access = "Authentication is OFF (security.auth_enabled: false): anyone can call the API.\n"
        auth = key = ""
    return f"""core-alerts ready on {url} (Ctrl-C to stop)

{dev}{access}
Send an alert:
  curl -s -XPOST {url}/api/v2/alerts{auth} -H 'content-type: application/json' \\
    -d '[{{"labels": {{"alertname": "DiskFull", "team": "db"}}}}]'
  core-alerts send --url {url} --title "High CPU" --severity high --label host=web-1
See them:
  core-alerts alerts list --url {url}
{key}API docs: {url}/docs"""


# Client commands: they talk to a running service through core_alerts.client.
app.command("send")(send)
app.add_typer(alerts.app, name="alerts")
app.add_typer(access.tokens, name="tokens")
app.add_typer(access.keys, name="keys")
app.add_typer(access.tenants, name="tenants")
app.add_typer(governance.audit, name="audit")
app.add_typer(governance.compliance, name="compliance")
app.add_typer(routes.app, name="routes")
app.add_typer(notifications.dlq, name="dlq")
app.add_typer(notifications.config, name="config")
app.add_typer(notifications.template, name="template")


def run() -> None:
    app()
