"""The `opsgenie_configs` entry: Alertmanager's fields, with `api_key` given inline."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

import msgspec

from core_alerts.notify.channels.base import ChannelConfig
from core_alerts.notify.channels.fields import LimitedTimeout, is_header_token, require_http_url
from core_alerts.notify.channels.http import TIMEOUT
from core_alerts.notify.channels.opsgenie import defaults

RESPONDER_TYPES = ("team", "teams", "user", "escalation", "schedule")
PRIORITY = re.compile(r"P[1-5]")
TemplateList = Annotated[
    str | list[str],
    msgspec.Meta(
        description="Comma-separated template (as Alertmanager), or a list of templates; "
        "empty entries are dropped."
    ),
]


def _is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


class OpsgenieResponder(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Who is notified. Responders whose fields all render empty are dropped; a `teams`
    responder's `name` is a comma-separated list of team names."""

    type: Annotated[
        str,
        msgspec.Meta(description="team, teams, user, escalation or schedule (or a template)."),
    ]
    id: Annotated[str, msgspec.Meta(description="Opsgenie id of the responder (template).")] = ""
    name: Annotated[str, msgspec.Meta(description="Name of the responder (template).")] = ""
    username: Annotated[str, msgspec.Meta(description="User name, for type user (template).")] = ""

    def __post_init__(self) -> None:
        if not (self.id or self.name or self.username):
            raise ValueError("responders: each responder needs one of id, name or username")
        if _is_template(self.type):
            return
        self.type = self.type.strip().lower()
        if self.type not in RESPONDER_TYPES:
            raise ValueError(
                f"responders: type {self.type!r} is not one of {', '.join(RESPONDER_TYPES)}"
            )


class OpsgenieConfig(ChannelConfig, kw_only=True, forbid_unknown_fields=True):
    """One Opsgenie integration (Alert API v2)."""

    SECRETS: ClassVar[frozenset[str]] = frozenset({"api_key"})

    api_key: Annotated[
        str,
        msgspec.Meta(
            description="API key of an Opsgenie API integration (secret; global "
            "`opsgenie_api_key`)."
        ),
    ]
    api_url: Annotated[
        str,
        msgspec.Meta(
            description="Opsgenie API base URL (global `opsgenie_api_url`); "
            f"default {defaults.API_URL}, EU: https://api.eu.opsgenie.com/."
        ),
    ] = defaults.API_URL
    message: Annotated[
        str, msgspec.Meta(description="Alert message (template); cut to 130 characters.")
    ] = defaults.MESSAGE
    description: Annotated[
        str, msgspec.Meta(description="Alert description (template); cut to 15000 characters.")
    ] = defaults.DESCRIPTION
    source: Annotated[
        str, msgspec.Meta(description="Source of the alert (template); cut to 100 characters.")
    ] = defaults.SOURCE
    details: Annotated[
        dict[str, str],
        msgspec.Meta(
            description="Extra properties: name -> template, added to (and "
            "overriding) the group's common labels."
        ),
    ] = msgspec.field(default_factory=dict)
    entity: Annotated[str, msgspec.Meta(description="Entity the alert is about (template).")] = ""
    responders: Annotated[
        list[OpsgenieResponder],
        msgspec.Meta(description="Teams, users, escalations or schedules to notify."),
    ] = msgspec.field(default_factory=list)
    tags: TemplateList = ""
    note: Annotated[
        str, msgspec.Meta(description="Note added when creating the alert (template).")
    ] = ""
    priority: Annotated[
        str,
        msgspec.Meta(
            description="P1 to P5 (or a template rendering one). Empty, or a value "
            "that renders to something else: taken from the most severe alert "
            "(critical P1, high P2, medium P3, low P4, info P5)."
        ),
    ] = ""
    actions: TemplateList = ""
    update_alerts: Annotated[
        bool,
        msgspec.Meta(
            description="Also update the message and description of an alert that "
            "is already open (two more requests per notification)."
        ),
    ] = False
    timeout: Annotated[
        LimitedTimeout, msgspec.Meta(description="Seconds each request may take (at most 120).")
    ] = TIMEOUT
    send_resolved: Annotated[
        bool, msgspec.Meta(description="Close the alert when every alert has resolved.")
    ] = True

    def __post_init__(self) -> None:
        if not is_header_token(self.api_key):
            raise ValueError("api_key: must be non-empty printable ASCII without spaces")
        parts = require_http_url(
            self.api_url, "api_url: must be an http:// or https:// URL with a host"
        )
        if parts.query or parts.fragment:
            raise ValueError("api_url: must not have a query or fragment")
        priority = self.priority.strip()
        if priority and not _is_template(priority) and not PRIORITY.fullmatch(priority):
            raise ValueError("priority: must be P1, P2, P3, P4 or P5 (or a template)")
