"""The `webhook_configs` entry, with Alertmanager's field names and defaults."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec

from core_alerts.notify.channels.base import ChannelConfig
from core_alerts.notify.channels.fields import AttemptTimeout, SendResolved, check_url
from core_alerts.notify.channels.http import TIMEOUT
from core_alerts.notify.channels.httpconfig import HTTP_CONFIG_SECRETS, HttpConfig


class WebhookConfig(ChannelConfig, kw_only=True, forbid_unknown_fields=True):
    """POST Alertmanager's webhook payload (version 4) to a URL."""

    SECRETS: ClassVar[frozenset[str]] = frozenset({"url"}) | HTTP_CONFIG_SECRETS

    url: Annotated[
        str,
        msgspec.Meta(
            description="Secret: the http(s) URL the payload is POSTed to (it often "
            "carries a token)."
        ),
    ]
    send_resolved: SendResolved = True
    max_alerts: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            description="At most this many alerts in `alerts`; the rest are counted in "
            "`truncatedAlerts`. 0 sends all.",
        ),
    ] = 0
    timeout: AttemptTimeout = TIMEOUT
    http_config: Annotated[
        HttpConfig | None,
        msgspec.Meta(
            description="How requests authenticate (authorization, basic_auth or bearer_token)."
        ),
    ] = None

    def __post_init__(self) -> None:
        check_url(self.url, "url")
