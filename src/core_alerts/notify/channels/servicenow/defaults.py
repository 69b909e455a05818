"""ServiceNow's default templates: plain text for incident fields and journal entries."""

from __future__ import annotations

from core_alerts.notify.channels.template_parts import GROUP_LABELS, OTHER_COMMON_LABELS, STATUS

TABLE = "incident"
RESOLVE_STATE = "6"
"""Incident state "Resolved" in a standard instance."""
CLOSE_CODE = "Solution provided"
"""A resolution code of the standard incident table (older releases use other wordings)."""

_SUBJECT = GROUP_LABELS + OTHER_COMMON_LABELS


def _alert_list(variable: str, heading: str) -> str:
    return (
        f"{{% if {variable} %}}{heading}:\n{{% for a in {variable} %}}\n"
        "- {{ a.labels.alertname }} (since {{ a.starts_at.strftime('%Y-%m-%d %H:%M:%S UTC') }})\n"
        "{% for k, v in a.labels | dictsort %}  {{ k }} = {{ v }}\n{% endfor %}"
        "{% for k, v in a.annotations | dictsort %}  {{ k }}: {{ v }}\n{% endfor %}"
        "{% if a.generator_url %}  Source: {{ a.generator_url }}\n{% endif %}"
        "{% endfor %}\n{% endif %}"
    )


SHORT_DESCRIPTION = (
    _SUBJECT + "{% if common_annotations.summary %}: {{ common_annotations.summary }}{% endif %}"
)
DESCRIPTION = (
    "Opened by core-alerts for receiver {{ receiver }}: {{ firing | length }} alert(s) firing.\n"
    "{% if external_url %}Alerts: {{ external_url }}\n{% endif %}\n"
    + _alert_list("firing", "Firing")
)
WORK_NOTES = (
    STATUS
    + _SUBJECT
    + "\n\n"
    + _alert_list("firing", "Firing")
    + _alert_list("resolved", "Resolved")
)
CLOSE_NOTES = "Resolved by core-alerts: every alert of this group has resolved.\n\n" + _alert_list(
    "resolved", "Resolved"
)
