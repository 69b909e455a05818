"""Pieces of Alertmanager's default templates (`__subject`, `__text_alert_list`) that several
channels' default templates are built from, written for `notification_data()`."""

from __future__ import annotations

STATUS = '[{{ status | upper }}{% if status == "firing" %}:{{ firing | length }}{% endif %}] '
"""`[FIRING:2] ` or `[RESOLVED] `."""

GROUP_LABELS = '{{ group_labels | dictsort | map(attribute=1) | join(" ") }}'
"""The values of the group labels, in label name order."""

OTHER_COMMON_LABELS = (
    "{% for name, value in common_labels | dictsort if name not in group_labels %}"
    "{% if loop.first %} ({% endif %}{{ value }}{% if loop.last %}){% else %} {% endif %}"
    "{% endfor %}"
)
"""` (<values of the other common labels>)`, nothing when there are none."""

SUBJECT = STATUS + GROUP_LABELS + OTHER_COMMON_LABELS
"""Alertmanager's `__subject`: status, count, group label values, other common label values."""

ALERT_DETAILS = (
    "Labels:\n"
    "{% for k, v in a.labels | dictsort %} - {{ k }} = {{ v }}\n{% endfor %}"
    "Annotations:\n"
    "{% for k, v in a.annotations | dictsort %} - {{ k }} = {{ v }}\n{% endfor %}"
    "Source: {{ a.generator_url }}\n"
)
"""One alert `a` as Alertmanager's `__text_alert_list` lists it: labels, annotations, source."""
