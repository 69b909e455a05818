"""Default Microsoft Teams templates, after Alertmanager's `msteams.default.*` (variables of
`notification_data()`; values are escaped for Markdown when rendered)."""

from __future__ import annotations

from core_alerts.notify.channels.slack.defaults import SUBJECT

TITLE = SUBJECT
"""`[FIRING:2] <group label values> (<other common label values>)`."""

SUMMARY = ""

TEXT = (
    '{% for heading, group in [("Firing", firing), ("Resolved", resolved)] if group %}'
    "# Alerts {{ heading }}:\n"
    "{% for alert in group %}\nLabels\n"
    "{% for name, value in alert.labels | dictsort %}  - {{ name }} = {{ value }}\n"
    "{% endfor %}Annotations\n"
    "{% for name, value in alert.annotations | dictsort %}  - {{ name }} = {{ value }}\n"
    "{% endfor %}Source: {{ alert.generator_url }}\n"
    "{% endfor %}\n{% endfor %}"
)
"""Firing, then resolved alerts, each with its labels, annotations and source, as
Alertmanager's `__text_alert_list_markdown`."""
