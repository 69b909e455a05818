"""`core-alerts dlq`, `config` and `template`: dead letters, the routing config, previews."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.table import Table

from core_alerts.cli.options import Conn, Output, OutputOpt, TenantOpt, TokenOpt, UrlOpt
from core_alerts.cli.output import fail, note, out, print_json, when
from core_alerts.cli.remote import call
from core_alerts.client import DEFAULT_URL, AlertsClient
from core_alerts.domain.errors import CoreAlertsError
from core_alerts.domain.notification import Notification, NotifiedAlert
from core_alerts.notify import TemplateEngine, TemplateError, channel_specs, notification_data

dlq = typer.Typer(help="List and replay notifications that could not be delivered.",
                  no_args_is_help=True)  # fmt: skip
config = typer.Typer(help="Show or replace the tenant's alertmanager.yml.", no_args_is_help=True)
template = typer.Typer(help="Preview notification templates.", no_args_is_help=True)


def _conn(url: str, tenant: str | None, token: str | None) -> Conn:
    return Conn(url, tenant, token)


@dlq.command("list")
def dlq_list(
    url: UrlOpt = DEFAULT_URL,
    tenant: TenantOpt = None,
    token: TokenOpt = None,
    output: OutputOpt = Output.TABLE,
) -> None:
    """Every dead letter of the tenant, oldest first, with the reason it failed."""

    async def fetch(client: AlertsClient) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        after = None
        while True:
            page = await client.notifications(state="dead", after=after, limit=1000)
            entries.extend(page["entries"])
            after = page.get("next_after")
            if after is None:
                return entries

    entries = call(_conn(url, tenant, token), fetch)
    if output is Output.JSON:
        print_json(entries)
        return
    if not entries:
        note("no dead letters")
        return
    table = Table("ID", "RECEIVER", "INTEGRATION", "ALERTS", "ATTEMPTS", "FAILED", "REASON")
    for e in entries:
        n = e["notification"]
        table.add_row(
            n["id"], n["receiver"], n["integration"], str(len(n["alerts"])),
            str(e["attempts"]), when(_datetime(e["updated_at"])), e["last_error"],
        )  # fmt: skip
    out.print(table)


@dlq.command("replay")
def dlq_replay(
    ids: Annotated[list[str] | None, typer.Argument(help="Dead letters to send again.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Replay every dead letter.")] = False,
    url: UrlOpt = DEFAULT_URL,
    tenant: TenantOpt = None,
    token: TokenOpt = None,
) -> None:
    """Queue dead letters for delivery again, attempts reset (same idempotency keys)."""
    if bool(ids) == all_:
        fail("give the ids of the dead letters to replay, or --all")
    moved = call(_conn(url, tenant, token), lambda c: c.replay(None if all_ else ids))
    note(f"{moved} notification(s) queued again")


@config.command("show")
def config_show(
    url: UrlOpt = DEFAULT_URL, tenant: TenantOpt = None, token: TokenOpt = None
) -> None:
    """Print the alertmanager.yml in force (secrets shown as <secret>)."""
    shown = call(_conn(url, tenant, token), lambda c: c.get_config())
    out.print(shown["config"], end="", markup=False, highlight=False)


@config.command("check")
def config_check(
    file: Annotated[Path, typer.Argument(help="The alertmanager.yml to check.")],
    matcher_syntax: Annotated[
        str, typer.Option("--matcher-syntax", help="classic, fallback or utf8.")
    ] = "classic",
) -> None:
    """Check FILE offline as the service would (routes, receivers, every integration's fields,
    time intervals), like `amtool check-config`; exit 1 naming the line at fault."""
    from core_alerts.app import parse_routing

    if matcher_syntax not in ("classic", "fallback", "utf8"):
        fail("--matcher-syntax must be classic, fallback or utf8")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}")
    try:
        routing = parse_routing(text, syntax=matcher_syntax)  # type: ignore[arg-type]
    except CoreAlertsError as exc:
        fail(f"{file}: {exc.message}")
    integrations = sum(len(c) for c in routing.integrations.values())
    note(f"{file}: OK, {len(routing.integrations)} receiver(s), {integrations} integration(s)")


@config.command("apply")
def config_apply(
    file: Annotated[Path, typer.Argument(help="The alertmanager.yml to put in force.")],
    url: UrlOpt = DEFAULT_URL,
    tenant: TenantOpt = None,
    token: TokenOpt = None,
) -> None:
    """Check and save FILE as the tenant's config; a bad file changes nothing."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}")
    saved = call(_conn(url, tenant, token), lambda c: c.put_config(text))
    note(f"config version {saved['version']} in force")


_SAMPLE = NotifiedAlert(
    alert_id="sample",
    fingerprint="1a2b3c4d5e6f7a8b",
    status="firing",
    labels={"alertname": "DiskFull", "team": "db", "instance": "db-1:9100"},
    annotations={"summary": "Disk /var is 97% full", "runbook_url": "https://runbooks/disk"},
    starts_at=0.0,
    severity="high",
)


@template.command("render")
def render(
    text: Annotated[str | None, typer.Option("--template", "-t", help="Template source.")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Template file.")] = None,
    channel: Annotated[
        str | None,
        typer.Option("--channel", help="Use a channel's default template (e.g. slack_configs)."),
    ] = None,
    field: Annotated[
        str | None, typer.Option("--field", help="Which templated field of --channel.")
    ] = None,
    escape: Annotated[
        str, typer.Option("--escape", help="none, html, slack or markdown.")
    ] = "none",
    alert_id: Annotated[
        str | None, typer.Option("--alert", help="Render against this stored alert.")
    ] = None,
    status: Annotated[str, typer.Option(help="firing or resolved (sample alert).")] = "firing",
    url: UrlOpt = DEFAULT_URL,
    tenant: TenantOpt = None,
    token: TokenOpt = None,
) -> None:
    """Render a template against a sample alert or a stored one, as a channel would."""
    source = _source(text, file, channel, field)
    alert = _SAMPLE if alert_id is None else _stored(_conn(url, tenant, token), alert_id)
    if status == "resolved":
        alert = msgspec.structs.replace(alert, status="resolved", ends_at=time.time())
    notification = Notification(
        id="preview", tenant_id=tenant or "default", receiver="preview",
        integration=channel or "preview", group_key="{}:{}", group_labels={},
        alerts=(msgspec.structs.replace(alert, starts_at=alert.starts_at or time.time()),),
        created_at=time.time(),
    )  # fmt: skip
    if escape not in ("none", "html", "slack", "markdown"):
        fail("--escape must be none, html, slack or markdown")
    try:
        rendered = TemplateEngine().render(
            source, notification_data(notification),
            escape=escape,  # type: ignore[arg-type]
        )  # fmt: skip
    except TemplateError as exc:
        fail(exc.message)
    out.print(rendered, markup=False, highlight=False)


def _source(text: str | None, file: Path | None, channel: str | None, field: str | None) -> str:
    given = [x for x in (text, file, channel) if x is not None]
    if len(given) != 1:
        fail("give exactly one of --template, --file or --channel")
    if text is not None:
        return text
    if file is not None:
        try:
            return file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read {file}: {exc}")
    spec = channel_specs().get(channel or "")
    if spec is None:
        fail(f"unknown channel {channel}; known: {', '.join(sorted(channel_specs()))}")
    templated = {
        f.name: f.default
        for f in msgspec.structs.fields(spec.config_type)
        if isinstance(f.default, str) and "{{" in f.default
    }
    if field not in templated:
        fail(f"--field must be one of: {', '.join(sorted(templated)) or '(none)'}")
    return templated[field]


def _stored(conn: Conn, alert_id: str) -> NotifiedAlert:
    a = call(conn, lambda c: c.get(alert_id))
    return NotifiedAlert(
        alert_id=a.id, fingerprint=a.fingerprint,
        status="resolved" if a.status == "resolved" else "firing",
        labels=a.labels, annotations=a.annotations, starts_at=a.starts_at.timestamp(),
        ends_at=a.ends_at.timestamp() if a.ends_at else None, generator_url=a.generator_url,
        severity=str(a.severity), title=a.title, description=a.description,
    )  # fmt: skip


def _datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
