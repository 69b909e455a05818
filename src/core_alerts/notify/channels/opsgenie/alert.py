"""The Alert API v2 bodies for one notification, as Alertmanager builds them."""

from __future__ import annotations

from typing import Any

from core_alerts.domain.alert import AlertSeverity
from core_alerts.domain.notification import Notification
from core_alerts.notify.channels.opsgenie.config import PRIORITY, OpsgenieConfig
from core_alerts.notify.channels.opsgenie.defaults import MESSAGE
from core_alerts.notify.channels.sending import Render
from core_alerts.notify.channels.severity import worst_severity
from core_alerts.notify.channels.text import truncate

# Opsgenie's documented field limits, in characters.
LIMITS = {"message": 130, "description": 15000, "source": 100, "entity": 512, "note": 25000}
_PRIORITY = {
    AlertSeverity.CRITICAL: "P1",
    AlertSeverity.HIGH: "P2",
    AlertSeverity.MEDIUM: "P3",
    AlertSeverity.LOW: "P4",
    AlertSeverity.INFO: "P5",
}


def priority(rendered: str, notification: Notification) -> str:
    word = rendered.strip().upper()
    return word if PRIORITY.fullmatch(word) else _PRIORITY[worst_severity(notification)]


def split_list(name: str, value: str | list[str], render: Render) -> list[str]:
    """A list field: comma-separated in one template (Alertmanager) or one template each."""
    if isinstance(value, str):
        items = render(value, name).split(",")
    else:
        items = [render(item, name) for item in value]
    return [item.strip() for item in items if item.strip()]


def responders(cfg: OpsgenieConfig, render: Render) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for r in cfg.responders:
        rendered = {
            "id": render(r.id, "responders.id").strip(),
            "name": render(r.name, "responders.name").strip(),
            "username": render(r.username, "responders.username").strip(),
            "type": render(r.type, "responders.type").strip().lower(),
        }
        if not any(rendered.values()):
            continue  # filled from labels that this group does not have
        if rendered["type"] == "teams":
            teams = [t.strip() for t in rendered["name"].split(",") if t.strip()]
            found.extend({"name": team, "type": "team"} for team in teams)
            continue
        found.append({k: v for k, v in rendered.items() if v or k == "type"})
    return found


def create_body(cfg: OpsgenieConfig, n: Notification, render: Render) -> dict[str, Any]:
    """POST v2/alerts: create the group's alert, or count one more on the open one."""
    body: dict[str, Any] = {
        "alias": n.group_hash,
        "message": render(cfg.message, "message").strip() or render(MESSAGE, "message"),
        "details": {**n.common_labels}
        | {k: render(v, f"details.{k}") for k, v in cfg.details.items()},
        "source": render(cfg.source, "source"),
        "priority": priority(render(cfg.priority, "priority"), n),
    }
    for name in ("description", "note", "entity"):
        if value := render(getattr(cfg, name), name):
            body[name] = value
    for name, items in (
        ("responders", responders(cfg, render)),
        ("tags", split_list("tags", cfg.tags, render)),
        ("actions", split_list("actions", cfg.actions, render)),
    ):
        if items:
            body[name] = items
    for name, limit in LIMITS.items():
        if name in body:
            body[name] = truncate(body[name], limit)
    return body
