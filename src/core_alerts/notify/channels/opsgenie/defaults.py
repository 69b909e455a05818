"""Opsgenie's default templates: Alertmanager's defaults, written for our template variables."""

from __future__ import annotations

from core_alerts.notify.channels.template_parts import ALERT_DETAILS, SUBJECT

API_URL = "https://api.opsgenie.com/"
MESSAGE = SUBJECT


def _alert_list(variable: str, heading: str) -> str:
    """Alertmanager's `__text_alert_list` under a heading, when `variable` has alerts."""
    return (
        f"{{% if {variable} %}}{heading}:\n{{% for a in {variable} %}}"
        + ALERT_DETAILS
        + "\n{% endfor %}{% endif %}"
    )


DESCRIPTION = (
    MESSAGE
    + "\n"
    + _alert_list("firing", "Alerts Firing")
    + _alert_list("resolved", "Alerts Resolved")
)
SOURCE = "{% if external_url %}{{ external_url }}{% else %}core-alerts{% endif %}"
