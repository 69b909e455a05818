"""The `msteams_configs` (Alertmanager 0.26) and `msteamsv2_configs` (0.28) entries."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec

from core_alerts.notify.channels.base import ChannelConfig
from core_alerts.notify.channels.fields import AttemptTimeout, SendResolved, check_url
from core_alerts.notify.channels.http import TIMEOUT
from core_alerts.notify.channels.httpconfig import HTTP_CONFIG_SECRETS, HttpConfig
from core_alerts.notify.channels.msteams import defaults

TeamsHttpConfig = Annotated[
    HttpConfig | None,
    msgspec.Meta(description="How requests authenticate (rarely needed for Teams)."),
]


class MSTeamsConfig(ChannelConfig, kw_only=True, forbid_unknown_fields=True):
    """A MessageCard to an Office 365 connector (incoming webhook) of a Teams channel."""

    SECRETS: ClassVar[frozenset[str]] = frozenset({"webhook_url"}) | HTTP_CONFIG_SECRETS

    webhook_url: Annotated[
        str, msgspec.Meta(description="Secret: the incoming webhook URL of the Teams channel.")
    ]
    send_resolved: SendResolved = True
    title: Annotated[str, msgspec.Meta(description="Card title (template).")] = defaults.TITLE
    summary: Annotated[
        str, msgspec.Meta(description="Plain-text summary shown in notifications (template).")
    ] = defaults.SUMMARY
    text: Annotated[str, msgspec.Meta(description="Card text, Markdown (template).")] = (
        defaults.TEXT
    )
    http_config: TeamsHttpConfig = None
    timeout: AttemptTimeout = TIMEOUT

    def __post_init__(self) -> None:
        check_url(self.webhook_url, "webhook_url")


class MSTeamsV2Config(ChannelConfig, kw_only=True, forbid_unknown_fields=True):
    """An Adaptive Card message to a Power Automate workflow ("Workflows" app) webhook."""

    SECRETS: ClassVar[frozenset[str]] = frozenset({"webhook_url"}) | HTTP_CONFIG_SECRETS

    webhook_url: Annotated[
        str,
        msgspec.Meta(description="Secret: the HTTP trigger URL of the Power Automate flow."),
    ]
    send_resolved: SendResolved = True
    title: Annotated[str, msgspec.Meta(description="Heading of the card, Markdown (template).")] = (
        defaults.TITLE
    )
    text: Annotated[str, msgspec.Meta(description="Body of the card, Markdown (template).")] = (
        defaults.TEXT
    )
    http_config: TeamsHttpConfig = None
    timeout: AttemptTimeout = TIMEOUT

    def __post_init__(self) -> None:
        check_url(self.webhook_url, "webhook_url")
