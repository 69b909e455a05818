"""Default Slack templates, after Alertmanager's `slack.default.*` (variables of
`notification_data()`; values are escaped for Slack mrkdwn when rendered)."""

from __future__ import annotations

from core_alerts.notify.channels.template_parts import GROUP_LABELS, STATUS

SUBJECT = (
    STATUS + GROUP_LABELS + "{% if common_labels | length > group_labels | length %} ("
    "{% for name, value in common_labels | dictsort if name not in group_labels %}"
    "{{ value }}{% if not loop.last %} {% endif %}{% endfor %}){% endif %}"
)
"""`[FIRING:2] <group label values> (<other common label values>)`, as Alertmanager's
`__subject`."""

TITLE = SUBJECT

_LINK = "{{ external_url }}/#/alerts?receiver={{ receiver | urlencode }}"

TITLE_LINK = "{% if external_url %}" + _LINK + "{% endif %}"
"""The alert list of this receiver on the external URL (nothing when none is set)."""

FALLBACK = SUBJECT + "{% if external_url %} | " + _LINK + "{% endif %}"

TEXT = (
    "{% for alert in alerts %}"
    "*{{ alert.status | upper }}* {{ alert.labels.get('alertname', '') }}"
    "{% if alert.annotations.get('summary') %} - {{ alert.annotations.get('summary') }}"
    "{% endif %}\n"
    "{% if alert.annotations.get('description') %}"
    "{{ alert.annotations.get('description') }}\n{% endif %}"
    "{% for name, value in alert.labels | dictsort %}"
    "• {{ name }}: {{ value }}\n{% endfor %}"
    "{% if alert.generator_url %}<{{ alert.generator_url }}|Source>\n{% endif %}"
    "{% endfor %}"
)
"""One block per alert: status, alertname and summary, description, labels, source link."""

COLOR = '{% if status == "firing" %}danger{% else %}good{% endif %}'

USERNAME = "core-alerts"
