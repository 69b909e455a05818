"""The `pagerduty_configs` entry: Alertmanager's fields, Events API v2 only."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec

from core_alerts.notify.channels.base import ChannelConfig
from core_alerts.notify.channels.fields import LimitedTimeout, require_http_url
from core_alerts.notify.channels.http import TIMEOUT
from core_alerts.notify.channels.pagerduty import defaults


class PagerDutyImage(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An image attached to the incident; entries whose `src` renders empty are dropped."""

    src: Annotated[str, msgspec.Meta(description="Image URL (template).")]
    alt: Annotated[str, msgspec.Meta(description="Alternative text (template).")] = ""
    href: Annotated[str, msgspec.Meta(description="Link opened by the image (template).")] = ""


class PagerDutyLink(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A link attached to the incident; entries whose `href` renders empty are dropped."""

    href: Annotated[str, msgspec.Meta(description="Link URL (template).")]
    text: Annotated[str, msgspec.Meta(description="Link text (template).")] = ""


class PagerDutyConfig(ChannelConfig, kw_only=True, forbid_unknown_fields=True):
    """One PagerDuty service integration (Events API v2)."""

    SECRETS: ClassVar[frozenset[str]] = frozenset({"routing_key"})

    routing_key: Annotated[
        str,
        msgspec.Meta(
            description="Events API v2 integration key of the PagerDuty service (secret; "
            "rendered as a template, so it may be chosen per group)."
        ),
    ]
    service_key: Annotated[
        str | None,
        msgspec.Meta(
            description="Events API v1 integration key: not supported, rejected. "
            "Create an Events API v2 integration and set routing_key."
        ),
    ] = None
    url: Annotated[
        str,
        msgspec.Meta(
            description=f"Events API v2 endpoint (global `pagerduty_url`); default {defaults.URL}."
        ),
    ] = defaults.URL
    client: Annotated[
        str,
        msgspec.Meta(description="Name of the monitoring client shown in PagerDuty (template)."),
    ] = defaults.CLIENT
    client_url: Annotated[
        str, msgspec.Meta(description="Link to the monitoring client (template).")
    ] = defaults.CLIENT_URL
    description: Annotated[
        str,
        msgspec.Meta(
            description="Incident summary (template); cut to 1024 characters, ending with '…'."
        ),
    ] = defaults.DESCRIPTION
    severity: Annotated[
        str,
        msgspec.Meta(
            description="critical, error, warning or info (template). Empty: taken from the "
            "most severe alert (critical->critical, high->error, medium/low->warning, "
            "info->info)."
        ),
    ] = ""
    class_: Annotated[str, msgspec.Meta(description="Class/type of the event (template).")] = (
        msgspec.field(default="", name="class")
    )
    component: Annotated[
        str, msgspec.Meta(description="Component responsible for the event (template).")
    ] = ""
    group: Annotated[
        str, msgspec.Meta(description="Logical grouping of components (template).")
    ] = ""
    source: Annotated[
        str,
        msgspec.Meta(description="Affected system (template). Empty: the rendered `client`."),
    ] = ""
    details: Annotated[
        dict[str, str],
        msgspec.Meta(
            description="Custom details: name -> template. Default: firing, resolved, "
            "num_firing, num_resolved (as Alertmanager)."
        ),
    ] = msgspec.field(default_factory=lambda: dict(defaults.DETAILS))
    images: Annotated[
        list[PagerDutyImage], msgspec.Meta(description="Images attached to the incident.")
    ] = msgspec.field(default_factory=list)
    links: Annotated[
        list[PagerDutyLink], msgspec.Meta(description="Links attached to the incident.")
    ] = msgspec.field(default_factory=list)
    timeout: Annotated[
        LimitedTimeout, msgspec.Meta(description="Seconds one delivery may take (at most 120).")
    ] = TIMEOUT
    send_resolved: Annotated[
        bool, msgspec.Meta(description="Resolve the incident when every alert has resolved.")
    ] = True

    def __post_init__(self) -> None:
        if self.service_key is not None:
            raise ValueError(
                "service_key: the PagerDuty Events API v1 is not supported; "
                "create an Events API v2 integration and set routing_key instead"
            )
        if not self.routing_key.strip():
            raise ValueError("routing_key: must not be empty")
        require_http_url(self.url, "url: must be an http:// or https:// URL with a host")
