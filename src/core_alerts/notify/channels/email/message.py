"""Render a notification into a MIME message: headers, a text part and an HTML part."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate

from core_alerts.domain.notification import Notification
from core_alerts.notify.channels.base import ChannelContext, DeliveryFailed
from core_alerts.notify.channels.email import defaults
from core_alerts.notify.channels.email.config import EmailConfig
from core_alerts.notify.channels.sending import Render, Renderer

_MSGID_UNSAFE = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]")


def message_id(notification: Notification) -> str:
    """`<id@core-alerts>`: the same for every retry, so receivers can spot duplicates."""
    return f"<{_MSGID_UNSAFE.sub('-', notification.id)}@core-alerts>"


def build_message(
    cfg: EmailConfig, notification: Notification, ctx: ChannelContext
) -> EmailMessage:
    """The message to send; a template that fails raises DeliveryFailed (not retryable)."""
    render = Renderer.for_notification(ctx.templates, notification, prefix="template ")
    msg = EmailMessage(policy=SMTP)
    for name, value in _headers(cfg, render).items():
        try:
            msg[name] = value
        except (ValueError, TypeError) as exc:
            raise DeliveryFailed(f"header {name}: {exc}", retryable=False) from None
    msg["Date"] = formatdate(ctx.clock.now(), usegmt=True)
    msg["Message-ID"] = message_id(notification)
    msg["X-Idempotency-Key"] = notification.id
    text = render(cfg.text, "text")
    html = render(cfg.html, "html", "html")
    if cfg.text:
        msg.set_content(text, subtype="plain", charset="utf-8")
        if cfg.html:
            msg.add_alternative(html, subtype="html", charset="utf-8")
    else:
        msg.set_content(html, subtype="html", charset="utf-8")
    return msg


def _headers(cfg: EmailConfig, render: Render) -> dict[str, str]:
    # Configured headers replace the defaults whatever their case, as in Alertmanager.
    chosen = {k.lower(): (k, v) for k, v in cfg.headers.items()}
    out = {"From": cfg.from_, "To": cfg.to}
    out = {k: v for k, v in out.items() if k.lower() not in chosen}
    if "subject" not in chosen:
        chosen["subject"] = ("Subject", defaults.SUBJECT)
    for name, source in chosen.values():
        rendered = render(source, f"headers.{name}")
        # Alert data may hold line breaks; in a header they would start a new header.
        out[name] = " ".join(rendered.split())
    return out
