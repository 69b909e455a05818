"""The Slack message Alertmanager sends: one legacy attachment, empty fields left out."""

from __future__ import annotations

from typing import Any

from core_alerts.notify.channels.sending import Render
from core_alerts.notify.channels.slack.config import SlackAction, SlackConfig
from core_alerts.notify.channels.text import truncate

MAX_TITLE = 1024
"""Characters Slack shows of an attachment title."""
DEFAULT_MRKDWN_IN = ["fallback", "pretext", "text"]


def _put(target: dict[str, Any], key: str, value: str) -> None:
    # Go's `omitempty`: Alertmanager leaves empty strings out of the JSON.
    if value:
        target[key] = value


def _action(action: SlackAction, render: Render, index: int) -> dict[str, Any]:
    at = f"actions[{index}]"
    out: dict[str, Any] = {
        "type": render(action.type, f"{at}.type", "none"),
        "text": render(action.text, f"{at}.text", "slack"),
    }
    for key in ("url", "style", "name", "value"):
        _put(out, key, render(getattr(action, key), f"{at}.{key}", "none"))
    if action.confirm is not None:
        confirm = {"text": render(action.confirm.text, f"{at}.confirm.text", "slack")}
        for key in ("title", "ok_text", "dismiss_text"):
            value = getattr(action.confirm, key)
            _put(confirm, key, render(value, f"{at}.confirm.{key}", "slack"))
        out["confirm"] = confirm
    return out


def _attachment(config: SlackConfig, render: Render) -> dict[str, Any]:
    att: dict[str, Any] = {}
    _put(att, "title", truncate(render(config.title, "title", "slack"), MAX_TITLE))
    _put(att, "title_link", render(config.title_link, "title_link", "none"))
    _put(att, "pretext", render(config.pretext, "pretext", "slack"))
    att["text"] = render(config.text, "text", "slack")
    att["fallback"] = render(config.fallback, "fallback", "slack")
    att["callback_id"] = render(config.callback_id, "callback_id", "none")
    if config.fields:
        att["fields"] = [
            {
                "title": render(f.title, f"fields[{i}].title", "slack"),
                "value": render(f.value, f"fields[{i}].value", "slack"),
                "short": config.short_fields if f.short is None else f.short,
            }
            for i, f in enumerate(config.fields)
        ]
    if config.actions:
        att["actions"] = [_action(a, render, i) for i, a in enumerate(config.actions)]
    _put(att, "image_url", render(config.image_url, "image_url", "none"))
    _put(att, "thumb_url", render(config.thumb_url, "thumb_url", "none"))
    att["footer"] = render(config.footer, "footer", "slack")
    _put(att, "color", render(config.color, "color", "none"))
    att["mrkdwn_in"] = list(config.mrkdwn_in) or DEFAULT_MRKDWN_IN
    return att


def slack_message(config: SlackConfig, render: Render) -> dict[str, Any]:
    """The JSON body for an incoming webhook or chat.postMessage (the same shape)."""
    message: dict[str, Any] = {}
    _put(message, "channel", render(config.channel, "channel", "none"))
    _put(message, "username", render(config.username, "username", "none"))
    _put(message, "icon_emoji", render(config.icon_emoji, "icon_emoji", "none"))
    _put(message, "icon_url", render(config.icon_url, "icon_url", "none"))
    if config.link_names:
        message["link_names"] = True
    message["attachments"] = [_attachment(config, render)]
    return message
