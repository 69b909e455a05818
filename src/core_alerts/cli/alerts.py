"""`core-alerts alerts`: list, show, explain, acknowledge and resolve stored alerts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from core_alerts.cli.options import (
    ActorOpt,
    CommentOpt,
    Conn,
    Output,
    OutputOpt,
    TenantOpt,
    TokenOpt,
    UrlOpt,
    login_name,
)
from core_alerts.cli.output import err, note, out, print_alerts, print_detail, print_json
from core_alerts.cli.remote import call
from core_alerts.client import DEFAULT_URL, Alert, AlertPage, AlertsClient
from core_alerts.domain import AlertSeverity, AlertStatus

app = typer.Typer(help="List, show, explain, acknowledge and resolve alerts.", no_args_is_help=True)

StatusOpt = Annotated[
    list[AlertStatus] | None,
    typer.Option("--status", "-s", help="Only this status; repeatable.", case_sensitive=False),
]
SeverityOpt = Annotated[
    list[AlertSeverity] | None,
    typer.Option("--severity", help="Only this severity; repeatable.", case_sensitive=False),
]
FilterOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--filter",
        metavar="MATCHER",
        help='Label matcher such as team="db" or env=~"prod.*"; repeatable, all must match.',
    ),
]
LimitOpt = Annotated[
    int, typer.Option("--limit", "-n", min=1, max=1000, help="Alerts per page (1-1000).")
]
AllOpt = Annotated[bool, typer.Option("--all", help="Follow the cursors: fetch every match.")]
CursorOpt = Annotated[
    str | None,
    typer.Option("--cursor", help="Start after this page (a next_cursor from JSON output)."),
]
IdArg = Annotated[str, typer.Argument(metavar="ID", help="The alert's id.", show_default=False)]
Action = Callable[[AlertsClient], Awaitable[Alert]]


async def fetch_all(
    client: AlertsClient,
    status: list[AlertStatus] | None,
    severity: list[AlertSeverity] | None,
    filters: list[str] | None,
    limit: int,
    cursor: str | None,
) -> AlertPage:
    items: list[Alert] = []
    # On stderr and transient: the count is for people; stdout stays the result.
    progress = Progress(
        SpinnerColumn(),
        TextColumn("fetching alerts: {task.completed}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with progress:
        task = progress.add_task("fetch", total=None)
        async for alert in client.iterate(status, severity, filters, limit=limit, cursor=cursor):
            items.append(alert)
            progress.update(task, completed=len(items))
    return AlertPage(items=items, next_cursor=None)


@app.command("list")
def list_alerts(
    status: StatusOpt = None,
    severity: SeverityOpt = None,
    filters: FilterOpt = None,
    limit: LimitOpt = 100,
    all_pages: AllOpt = False,
    cursor: CursorOpt = None,
    url: UrlOpt = DEFAULT_URL,
    tenant: TenantOpt = None,
    token: TokenOpt = None,
    output: OutputOpt = Output.TABLE,
) -> None:
    """List alerts, newest first: one page, or every page with --all."""
    conn = Conn(url, tenant, token)
    if all_pages:
        page = call(conn, lambda c: fetch_all(c, status, severity, filters, limit, cursor))
    else:
        page = call(conn, lambda c: c.list(status, severity, filters, limit=limit, cursor=cursor))
    if output is Output.JSON:
        print_json(page)
        return
    print_alerts(page.items)
    if page.next_cursor:
        note(f"more alerts match: add --all, or --cursor {page.next_cursor} for the next page")


@app.command("show")
def show(
    alert_id: IdArg,
    url: UrlOpt = DEFAULT_URL,
    tenant: TenantOpt = None,
    token: TokenOpt = None,
    output: OutputOpt = Output.TABLE,
) -> None:
    """Show one alert and its history."""
    detail = call(Conn(url, tenant, token), lambda c: c.get(alert_id))
    if output is Output.JSON:
        print_json(detail)
    else:
        print_detail(detail)


@app.command("explain")
def explain(
    alert_id: IdArg,
    url: UrlOpt = DEFAULT_URL,
    tenant: TenantOpt = None,
    token: TokenOpt = None,
) -> None:
    """Print the alert's decision record as JSON: fingerprint, merges, transitions."""
    print_json(call(Conn(url, tenant, token), lambda c: c.explain(alert_id)))


def _act(conn: Conn, action: Action, output: Output) -> None:
    alert = call(conn, action)
    if output is Output.JSON:
        print_json(alert)
    else:
        out.print(f"alert {alert.id} is now [bold]{alert.status}[/bold]")


def _register_action(name: str, summary: str) -> None:
    """One command per lifecycle action; they differ only in the client method they call."""

    def command(
        alert_id: IdArg,
        comment: CommentOpt = "",
        actor: ActorOpt = None,
        url: UrlOpt = DEFAULT_URL,
        tenant: TenantOpt = None,
        token: TokenOpt = None,
        output: OutputOpt = Output.TABLE,
    ) -> None:
        who = actor or login_name()
        _act(
            Conn(url, tenant, token),
            lambda c: getattr(c, name)(alert_id, actor=who, comment=comment),
            output,
        )

    command.__doc__ = summary
    app.command(name)(command)


_register_action("ack", "Acknowledge a firing alert: someone is on it.")
_register_action("unack", "Withdraw an acknowledgement; the alert fires again.")
_register_action(
    "resolve", "Resolve an alert by hand; it fires again if its source sends it again."
)
