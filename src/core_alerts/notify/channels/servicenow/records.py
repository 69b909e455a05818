"""The column values the channel writes: a new record, a work note, a resolution."""

from __future__ import annotations

import re
from typing import Any

from core_alerts.domain.alert import AlertSeverity
from core_alerts.domain.notification import Notification
from core_alerts.notify.channels.sending import Render
from core_alerts.notify.channels.servicenow.config import ServiceNowConfig
from core_alerts.notify.channels.severity import worst_severity
from core_alerts.notify.channels.text import truncate

CORRELATION_DISPLAY = "core-alerts"
# Column lengths of a standard incident table, in characters.
LIMITS = {"short_description": 160, "description": 4000, "work_notes": 4000, "close_notes": 4000}
# (impact, urgency) per severity: ServiceNow's priority matrix then gives P1 ... P5.
_LEVELS = {
    AlertSeverity.CRITICAL: (1, 1),
    AlertSeverity.HIGH: (1, 2),
    AlertSeverity.MEDIUM: (2, 2),
    AlertSeverity.LOW: (2, 3),
    AlertSeverity.INFO: (3, 3),
}
# Journal fields render [code]...[/code] as HTML; alert data must not open such a block.
_CODE_TAG = re.compile(r"\[(/?code)\]", re.IGNORECASE)


def defuse(value: Any) -> Any:
    """`value` with every `[code]` / `[/code]` in its strings broken by a zero-width space."""
    if isinstance(value, str):
        return _CODE_TAG.sub(lambda m: f"[\u200b{m.group(1)}]", value)
    if isinstance(value, dict):
        return {defuse(k): defuse(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [defuse(v) for v in value]
    return value


def _capped(fields: dict[str, str]) -> dict[str, str]:
    return {k: truncate(v, LIMITS[k]) if k in LIMITS else v for k, v in fields.items()}


def new_record(cfg: ServiceNowConfig, n: Notification, render: Render) -> dict[str, str]:
    """The columns of the record opened for a group; empty optional columns are left out."""
    impact, urgency = _LEVELS[worst_severity(n)]
    fields = {k: render(v, f"extra_fields.{k}") for k, v in cfg.extra_fields.items()}
    for name in ("assignment_group", "caller_id", "category", "subcategory"):
        fields[name] = render(getattr(cfg, name), name).strip()
    fields = {k: v for k, v in fields.items() if v}
    fields |= {
        "short_description": render(cfg.short_description, "short_description").strip(),
        "description": render(cfg.description, "description"),
        "urgency": str(cfg.urgency or urgency),
        "impact": str(cfg.impact or impact),
        "correlation_id": n.group_hash,
        "correlation_display": CORRELATION_DISPLAY,
    }
    return _capped(fields)


def work_note(cfg: ServiceNowConfig, render: Render) -> dict[str, str]:
    return _capped({"work_notes": render(cfg.work_notes, "work_notes")})


def resolution(cfg: ServiceNowConfig, render: Render) -> dict[str, str]:
    fields = {
        "state": str(cfg.resolve_state),
        "close_notes": render(cfg.close_notes, "close_notes"),
    }
    if cfg.close_code:
        fields["close_code"] = cfg.close_code
    return _capped(fields)
