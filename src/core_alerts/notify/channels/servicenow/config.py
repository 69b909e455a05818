"""The `servicenow_configs` entry: one ServiceNow table (incident by default) per integration."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

import msgspec

from core_alerts.notify.channels.base import ChannelConfig
from core_alerts.notify.channels.fields import LimitedTimeout, is_header_token, require_http_url
from core_alerts.notify.channels.http import TIMEOUT
from core_alerts.notify.channels.servicenow import defaults

COLUMN = re.compile(r"[a-z][a-z0-9_]{0,79}")
"""A ServiceNow table or column name (lower case, as the dictionary stores them)."""
MANAGED = frozenset({"sys_id", "active", "state", "correlation_id", "correlation_display"})
"""Columns the channel sets itself; `extra_fields` may not set them."""
COLUMN_FIELDS = frozenset(
    {
        "short_description",
        "description",
        "work_notes",
        "assignment_group",
        "caller_id",
        "category",
        "subcategory",
        "urgency",
        "impact",
        "close_code",
        "close_notes",
    }
)
"""Config fields that are columns themselves; `extra_fields` must use them instead."""
_STATE = re.compile(r"[A-Za-z0-9_]{1,40}")

Level = Annotated[int, msgspec.Meta(ge=1, le=3)]


def _text(description: str) -> msgspec.Meta:
    return msgspec.Meta(description=description)


class ServiceNowConfig(ChannelConfig, kw_only=True, forbid_unknown_fields=True):
    """One ServiceNow instance and table, reached through the Table API."""

    SECRETS: ClassVar[frozenset[str]] = frozenset({"password", "token"})

    instance_url: Annotated[str, _text("Instance URL, e.g. https://acme.service-now.com.")]
    table: Annotated[str, _text("Table records are created in.")] = defaults.TABLE
    username: Annotated[
        str, _text("User for basic auth (needs the itil role or write access to the table).")
    ] = ""
    password: Annotated[str, _text("Password for basic auth (secret).")] = ""
    token: Annotated[
        str, _text("OAuth access token, sent as Bearer (secret); instead of username and password.")
    ] = ""
    short_description: Annotated[
        str, _text("Short description of a new record (template); cut to 160 characters.")
    ] = defaults.SHORT_DESCRIPTION
    description: Annotated[
        str, _text("Description of a new record (template); cut to 4000 characters.")
    ] = defaults.DESCRIPTION
    work_notes: Annotated[
        str, _text("Work note added to the open record on each later notification (template).")
    ] = defaults.WORK_NOTES
    assignment_group: Annotated[str, _text("Assignment group: sys_id or name (template).")] = ""
    caller_id: Annotated[str, _text("Caller: sys_id or user name (template).")] = ""
    category: Annotated[str, _text("Category (template).")] = ""
    subcategory: Annotated[str, _text("Subcategory (template).")] = ""
    urgency: Annotated[
        Level | None,
        _text(
            "Urgency 1 (high) to 3 (low). Default from the "
            "most severe alert: critical 1, high/medium 2, "
            "low/info 3."
        ),
    ] = None
    impact: Annotated[
        Level | None,
        _text(
            "Impact 1 (high) to 3 (low). Default from the "
            "most severe alert: critical/high 1, medium/low 2, "
            "info 3."
        ),
    ] = None
    extra_fields: Annotated[
        dict[str, str],
        _text("More columns of a new record: column name -> template (e.g. u_service, cmdb_ci)."),
    ] = msgspec.field(default_factory=dict)
    resolve_state: Annotated[
        str | int, _text("State value set when the group resolves (6 = Resolved).")
    ] = defaults.RESOLVE_STATE
    close_code: Annotated[str, _text("Resolution code set when the group resolves.")] = (
        defaults.CLOSE_CODE
    )
    close_notes: Annotated[
        str, _text("Resolution notes set when the group resolves (template).")
    ] = defaults.CLOSE_NOTES
    timeout: Annotated[LimitedTimeout, _text("Seconds each request may take (at most 120).")] = (
        TIMEOUT
    )
    send_resolved: Annotated[bool, _text("Resolve the record when every alert has resolved.")] = (
        True
    )

    def __post_init__(self) -> None:
        _check_instance_url(self.instance_url)
        if not COLUMN.fullmatch(self.table):
            raise ValueError(f"table: {self.table!r} is not a ServiceNow table name")
        _check_auth(self)
        for column in self.extra_fields:
            if not COLUMN.fullmatch(column):
                raise ValueError(f"extra_fields: {column!r} is not a ServiceNow column name")
            if column in MANAGED:
                raise ValueError(f"extra_fields: {column} is set by the channel itself")
            if column in COLUMN_FIELDS:
                raise ValueError(f"extra_fields: set the {column} field instead")
        if not _STATE.fullmatch(str(self.resolve_state)):
            raise ValueError("resolve_state: must be a state value such as 6")


def _check_instance_url(url: str) -> None:
    parts = require_http_url(url, "instance_url: must be an https:// URL with a host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("instance_url: must not carry credentials, a query or a fragment")


def _check_auth(config: ServiceNowConfig) -> None:
    basic = bool(config.username or config.password)
    if config.token and basic:
        raise ValueError("token: set either token or username and password, not both")
    if config.token:
        if not is_header_token(config.token):
            raise ValueError("token: must be printable ASCII without spaces")
        return
    if not (config.username and config.password):
        raise ValueError(
            "username, password: set both (basic auth), or token (OAuth bearer) instead"
        )
    if ":" in config.username:
        raise ValueError("username: must not contain ':' (basic auth separates with it)")
