"""The `apprise_configs` entry: Apprise URLs and the message's templates."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import msgspec

from core_alerts.notify.channels.apprise import defaults
from core_alerts.notify.channels.apprise.urls import instantiate
from core_alerts.notify.channels.base import ChannelConfig
from core_alerts.notify.channels.fields import SendResolved

BodyFormat = Literal["text", "markdown", "html"]


class AppriseConfig(ChannelConfig, kw_only=True, forbid_unknown_fields=True):
    """Send through Apprise to any of the services it supports (one message per URL)."""

    SECRETS: ClassVar[frozenset[str]] = frozenset({"urls"})

    urls: Annotated[
        list[str],
        msgspec.Meta(
            min_length=1,
            description="Secret: Apprise URLs (e.g. tgram://token/chat, json://host/path); "
            "they usually carry tokens.",
        ),
    ]
    title: Annotated[str, msgspec.Meta(description="Template of the title.")] = defaults.TITLE
    body: Annotated[
        str,
        msgspec.Meta(
            description="Template of the body; left at its default with body_format html, "
            "an HTML list is sent instead."
        ),
    ] = defaults.BODY
    body_format: Annotated[
        BodyFormat,
        msgspec.Meta(
            description="Format of title and body (text, markdown or html); alert values "
            "are escaped for it and Apprise converts it for each service."
        ),
    ] = "text"
    send_resolved: SendResolved = True
    timeout: Annotated[
        float, msgspec.Meta(gt=0, description="Seconds one delivery to all URLs may take.")
    ] = defaults.TIMEOUT

    def __post_init__(self) -> None:
        if not self.body:
            raise ValueError("body must not be empty")
        for index, url in enumerate(self.urls):
            instantiate(url, index)
