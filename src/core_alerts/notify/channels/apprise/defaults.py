"""The Apprise channel's default templates (Jinja2 over `notification_data()`)."""

from __future__ import annotations

TIMEOUT = 30.0
"""Seconds one delivery to all URLs may take by default (Apprise may retry inside)."""

TITLE = (
    '[{{ status|upper }}{% if status == "firing" %}:{{ firing|length }}{% endif %}] '
    '{{ group_labels|dictsort|map(attribute=1)|join(" ") }}'
)

BODY = """\
{% for a in alerts %}[{{ a.status|upper }}] {{ a.title or a.labels.alertname }}\
{% if a.description %}: {{ a.description }}{% endif %}
{% endfor %}{% if truncated_alerts %}{{ truncated_alerts }} more alerts are not listed.
{% endif %}"""

HTML_BODY = """\
<ul>{% for a in alerts %}<li><b>[{{ a.status|upper }}]</b> \
{{ a.title or a.labels.alertname }}{% if a.description %}: {{ a.description }}{% endif %}\
</li>{% endfor %}</ul>{% if truncated_alerts %}\
<p>{{ truncated_alerts }} more alerts are not listed.</p>{% endif %}"""
"""Used instead of BODY when `body_format` is html and `body` is left at its default."""
