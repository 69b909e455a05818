"""The `slack_configs` entry, with Alertmanager's field names and defaults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit

import msgspec

from core_alerts.notify.channels.base import ChannelConfig
from core_alerts.notify.channels.fields import (
    AttemptTimeout,
    SendResolved,
    check_header_value,
    check_url,
)
from core_alerts.notify.channels.http import TIMEOUT
from core_alerts.notify.channels.httpconfig import (
    HTTP_CONFIG_SECRETS,
    HttpConfig,
    auth_headers,
    global_http_config,
)
from core_alerts.notify.channels.slack import defaults

POST_MESSAGE_PATH = "/api/chat.postMessage"


def _template(description: str) -> msgspec.Meta:
    return msgspec.Meta(description=description + " (template)")


class SlackField(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One attachment field."""

    title: Annotated[str, _template("Field title")]
    value: Annotated[str, _template("Field value")]
    short: Annotated[
        bool | None,
        msgspec.Meta(description="Show side by side with other short fields; unset: short_fields."),
    ] = None

    def __post_init__(self) -> None:
        if not self.title or not self.value:
            raise ValueError("every entry of fields needs a non-empty title and value")


class SlackConfirm(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A confirmation dialog shown before an action button acts."""

    text: Annotated[str, _template("Dialog text")]
    title: Annotated[str, _template("Dialog title")] = ""
    ok_text: Annotated[str, _template("Label of the confirm button")] = ""
    dismiss_text: Annotated[str, _template("Label of the cancel button")] = ""


class SlackAction(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A legacy attachment button."""

    type: Annotated[str, _template("Action type, usually `button`")]
    text: Annotated[str, _template("Button label")]
    url: Annotated[str, _template("Link the button opens")] = ""
    style: Annotated[str, _template("`default`, `primary` or `danger`")] = ""
    name: Annotated[str, _template("Name sent to an interactive app")] = ""
    value: Annotated[str, _template("Value sent to an interactive app")] = ""
    confirm: Annotated[SlackConfirm | None, msgspec.Meta(description="Confirmation dialog.")] = None

    def __post_init__(self) -> None:
        if not self.type or not self.text:
            raise ValueError("every entry of actions needs a non-empty type and text")
        if not self.url and not self.name:
            raise ValueError("every entry of actions needs a url or a name")


class SlackConfig(ChannelConfig, kw_only=True, forbid_unknown_fields=True):
    """A message with one attachment, to an incoming webhook or chat.postMessage."""

    SECRETS: ClassVar[frozenset[str]] = frozenset({"api_url", "token"}) | HTTP_CONFIG_SECRETS

    api_url: Annotated[
        str,
        msgspec.Meta(
            description="Secret: an incoming webhook URL, or "
            "https://slack.com/api/chat.postMessage with a bot token. Default: global "
            "slack_api_url."
        ),
    ]
    token: Annotated[
        str | None,
        msgspec.Meta(description="Secret: bot token for chat.postMessage (sent as Bearer)."),
    ] = None
    http_config: Annotated[
        HttpConfig | None,
        msgspec.Meta(
            description="How requests authenticate; authorization.credentials may "
            "hold the bot token."
        ),
    ] = None
    send_resolved: SendResolved = False
    channel: Annotated[str, _template("Channel or user to post to")] = ""
    username: Annotated[str, _template("Name the message is posted as")] = defaults.USERNAME
    color: Annotated[str, _template("Attachment colour: good, warning, danger or #hex")] = (
        defaults.COLOR
    )
    title: Annotated[str, _template("Attachment title, cut at 1024 characters")] = defaults.TITLE
    title_link: Annotated[str, _template("URL the title links to")] = defaults.TITLE_LINK
    pretext: Annotated[str, _template("Text above the attachment")] = ""
    text: Annotated[str, _template("Attachment text")] = defaults.TEXT
    fallback: Annotated[str, _template("Plain summary for notifications")] = defaults.FALLBACK
    callback_id: Annotated[str, _template("Callback id for interactive apps")] = ""
    footer: Annotated[str, _template("Attachment footer")] = ""
    icon_emoji: Annotated[str, _template("Emoji used as the icon, e.g. :fire:")] = ""
    icon_url: Annotated[str, _template("Image URL used as the icon")] = ""
    image_url: Annotated[str, _template("Image shown in the attachment")] = ""
    thumb_url: Annotated[str, _template("Thumbnail shown in the attachment")] = ""
    link_names: Annotated[
        bool, msgspec.Meta(description="Link @mentions and #channels in the text.")
    ] = False
    short_fields: Annotated[
        bool, msgspec.Meta(description="Default of `short` for fields that do not set it.")
    ] = False
    mrkdwn_in: Annotated[
        list[str],
        msgspec.Meta(
            description="Attachment parts Slack formats as mrkdwn; empty: "
            "fallback, pretext and text."
        ),
    ] = msgspec.field(default_factory=list)
    fields: Annotated[list[SlackField], msgspec.Meta(description="Attachment fields.")] = (
        msgspec.field(default_factory=list)
    )
    actions: Annotated[list[SlackAction], msgspec.Meta(description="Attachment buttons.")] = (
        msgspec.field(default_factory=list)
    )
    timeout: AttemptTimeout = TIMEOUT

    def __post_init__(self) -> None:
        check_url(self.api_url, "api_url")
        http_auth = self.http_config is not None and self.http_config.has_auth
        if self.token is not None:
            if not self.token:
                raise ValueError("token must not be empty")
            check_header_value(self.token, "token")
            if http_auth:
                raise ValueError("set the bot token in token or in http_config, not both")
        if self.uses_web_api:
            if self.token is None and not http_auth:
                raise ValueError(
                    "api_url is chat.postMessage: set token (or "
                    "http_config.authorization.credentials) to a bot token"
                )
            if not self.channel:
                raise ValueError("api_url is chat.postMessage: set channel")

    @property
    def uses_web_api(self) -> bool:
        """Whether api_url is Slack's chat.postMessage rather than an incoming webhook."""
        return urlsplit(self.api_url).path.rstrip("/").endswith(POST_MESSAGE_PATH)

    def auth_headers(self) -> dict[str, str]:
        if self.token is not None:
            return {"Authorization": f"Bearer {self.token}"}
        return auth_headers(self.http_config)


def slack_defaults(global_: Mapping[str, Any]) -> dict[str, Any]:
    """Global `slack_api_url` and `http_config` become field defaults."""
    found = global_http_config(global_)
    if global_.get("slack_api_url") is not None:
        found["api_url"] = global_["slack_api_url"]
    return found
