"""Options every client command shares: where the service is, whom to act as, how to print."""

from __future__ import annotations

import enum
import getpass
from dataclasses import dataclass
from typing import Annotated

import typer

from core_alerts.client import DEFAULT_URL, AlertsClient

_PANEL = "Connection"


class Output(enum.StrEnum):
    TABLE = "table"
    JSON = "json"


UrlOpt = Annotated[
    str,
    typer.Option(
        "--url", envvar="CORE_ALERTS_URL", help="Base URL of the service.", rich_help_panel=_PANEL
    ),
]
TenantOpt = Annotated[
    str | None,
    typer.Option(
        "--tenant",
        envvar="CORE_ALERTS_TENANT",
        help="Tenant to act on (X-Tenant-ID); the server's default tenant when unset.",
        rich_help_panel=_PANEL,
    ),
]
TokenOpt = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="CORE_ALERTS_TOKEN",
        help="Bearer token sent as the Authorization header.",
        rich_help_panel=_PANEL,
    ),
]
OutputOpt = Annotated[
    Output,
    typer.Option("--output", "-o", help="table for people, json for scripts."),
]
ActorOpt = Annotated[
    str | None,
    typer.Option(
        "--actor",
        envvar="CORE_ALERTS_ACTOR",
        help="Who acts, kept in the history; your login name when unset.",
        show_default=False,
    ),
]
CommentOpt = Annotated[str, typer.Option("--comment", "-m", help="Why; kept in the history.")]


@dataclass(frozen=True, slots=True)
class Conn:
    """How to reach the service; one per command run."""

    url: str = DEFAULT_URL
    tenant: str | None = None
    token: str | None = None

    def client(self) -> AlertsClient:
        return AlertsClient(self.url, tenant=self.tenant, token=self.token)


def login_name() -> str:
    """The user's login name; "cli" where there is none (containers without a passwd entry)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "cli"


def parse_pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """`K=V` strings to a dict (the last repeat of a key wins); BadParameter names the option."""
    pairs: dict[str, str] = {}
    for text in values or []:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected K=V, got {text!r}", param_hint=option)
        pairs[key.strip()] = value
    return pairs
