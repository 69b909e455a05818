"""The Events API v2 body for one notification, as Alertmanager builds it."""

from __future__ import annotations

import json
from typing import Any

from core_alerts.domain.alert import AlertSeverity, parse_severity
from core_alerts.domain.notification import Notification
from core_alerts.notify.channels.base import DeliveryFailed
from core_alerts.notify.channels.pagerduty import defaults
from core_alerts.notify.channels.pagerduty.config import PagerDutyConfig
from core_alerts.notify.channels.sending import Render
from core_alerts.notify.channels.severity import worst_severity
from core_alerts.notify.channels.text import truncate

MAX_SUMMARY = 1024
"""PagerDuty's limit on `payload.summary`, in characters."""
MAX_EVENT_BYTES = 512_000
"""PagerDuty refuses larger events; custom details are dropped first, as Alertmanager does."""
SEVERITIES = ("critical", "error", "warning", "info")
_FROM_SEVERITY = {
    AlertSeverity.CRITICAL: "critical",
    AlertSeverity.HIGH: "error",
    AlertSeverity.MEDIUM: "warning",
    AlertSeverity.LOW: "warning",
    AlertSeverity.INFO: "info",
}


def event_severity(rendered: str, notification: Notification) -> str:
    """PagerDuty accepts four words: map ours (and aliases), else use the alerts' severity."""
    word = rendered.strip().lower()
    if word in SEVERITIES:
        return word
    fallback = worst_severity(notification)
    return _FROM_SEVERITY[parse_severity(word, fallback) if word else fallback]


def build_event(cfg: PagerDutyConfig, n: Notification, render: Render) -> dict[str, Any]:
    routing_key = render(cfg.routing_key, "routing_key").strip()
    if not routing_key:
        raise DeliveryFailed("routing_key is empty after rendering", retryable=False)
    client = render(cfg.client, "client").strip()
    summary = render(cfg.description, "description").strip()
    source = render(cfg.source, "source").strip() if cfg.source else client
    payload: dict[str, Any] = {
        "summary": truncate(summary or render(defaults.DESCRIPTION, "description"), MAX_SUMMARY),
        "source": source or defaults.CLIENT,  # required by PagerDuty
        "severity": event_severity(render(cfg.severity, "severity"), n),
    }
    for name, source in (("class", cfg.class_), ("component", cfg.component), ("group", cfg.group)):
        if value := render(source, name):
            payload[name] = value
    details = {k: render(v, f"details.{k}") for k, v in cfg.details.items()}
    if details:
        payload["custom_details"] = details
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "dedup_key": n.group_hash,
        "event_action": "resolve" if n.status == "resolved" else "trigger",
        "payload": payload,
    }
    if client:
        event["client"] = client
    if client_url := render(cfg.client_url, "client_url"):
        event["client_url"] = client_url
    _attach(event, cfg, render)
    return _within_size(event)


def _attach(event: dict[str, Any], cfg: PagerDutyConfig, render: Render) -> None:
    images = [
        {
            "src": render(i.src, "images.src"),
            "alt": render(i.alt, "images.alt"),
            "href": render(i.href, "images.href"),
        }
        for i in cfg.images
    ]
    links = [
        {"href": render(x.href, "links.href"), "text": render(x.text, "links.text")}
        for x in cfg.links
    ]
    if images := [i for i in images if i["src"]]:
        event["images"] = images
    if links := [x for x in links if x["href"]]:
        event["links"] = links


def _within_size(event: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(event, separators=(",", ":")).encode())
    if size > MAX_EVENT_BYTES and "custom_details" in event["payload"]:
        event["payload"]["custom_details"] = {
            "error": "Custom details have been removed because the original event exceeds "
            f"the maximum size of {MAX_EVENT_BYTES // 1000}kB"
        }
    return event
