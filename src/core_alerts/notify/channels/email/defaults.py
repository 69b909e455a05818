"""The email channel's default templates (Jinja2 over `notification_data()`).

They follow Alertmanager's `email.default.*` templates: a subject naming the status, the
number of firing alerts and the group, a text body and an HTML body listing every alert.
Links are written only for http(s) URLs, so alert data cannot plant a `javascript:` link.
"""

from __future__ import annotations

TIMEOUT = 10.0
"""Seconds one delivery (connect, TLS, auth and the message) may take by default."""

SUBJECT = (
    '[{{ status|upper }}{% if status == "firing" %}:{{ firing|length }}{% endif %}] '
    '{{ group_labels|dictsort|map(attribute=1)|join(" ") }}'
    "{% for k, v in common_labels|dictsort if k not in group_labels %}"
    "{% if loop.first %} ({% endif %}{{ v }}{% if loop.last %}){% else %} {% endif %}"
    "{% endfor %}"
)

TEXT = """\
{{ status|upper }}: {{ firing|length }} firing, {{ resolved|length }} resolved
Receiver: {{ receiver }}
Group: {% for k, v in group_labels|dictsort %}{{ k }}={{ v }} {% endfor %}
{% for a in alerts %}
[{{ a.status|upper }}] {{ a.title or a.labels.alertname }}
{% if a.description %}{{ a.description }}
{% endif %}Labels:
{% for k, v in a.labels|dictsort %}  {{ k }} = {{ v }}
{% endfor %}{% if a.annotations %}Annotations:
{% for k, v in a.annotations|dictsort %}  {{ k }} = {{ v }}
{% endfor %}{% endif %}Started: {{ a.starts_at.strftime("%Y-%m-%d %H:%M:%S UTC") }}
{% if a.generator_url %}Source: {{ a.generator_url }}
{% endif %}{% endfor %}{% if truncated_alerts %}
{{ truncated_alerts }} more alerts are not listed.
{% endif %}{% if external_url %}
{{ external_url }}
{% endif %}"""

HTML = """\
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{ status|upper }}</title></head>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="color: {% if status == "firing" %}#c0392b{% else %}#27ae60{% endif %};">\
{{ status|upper }}: {{ firing|length }} firing, {{ resolved|length }} resolved</h2>
<p>Receiver <b>{{ receiver }}</b>, group \
{% for k, v in group_labels|dictsort %}<code>{{ k }}={{ v }}</code> {% endfor %}</p>
{% for a in alerts %}
<table style="border-collapse: collapse; margin-bottom: 16px; width: 100%;">
<tr><th colspan="2" style="text-align: left; padding: 6px; background: \
{% if a.status == "firing" %}#fdecea{% else %}#eafaf1{% endif %};">\
[{{ a.status|upper }}] {{ a.title or a.labels.alertname }}</th></tr>
{% if a.description %}<tr><td colspan="2" style="padding: 6px;">{{ a.description }}</td></tr>
{% endif %}{% for k, v in a.labels|dictsort %}\
<tr><td style="padding: 2px 6px;">{{ k }}</td><td style="padding: 2px 6px;">{{ v }}</td></tr>
{% endfor %}{% for k, v in a.annotations|dictsort %}\
<tr><td style="padding: 2px 6px;"><i>{{ k }}</i></td><td style="padding: 2px 6px;">{{ v }}</td></tr>
{% endfor %}<tr><td style="padding: 2px 6px;">started</td><td style="padding: 2px 6px;">\
{{ a.starts_at.strftime("%Y-%m-%d %H:%M:%S UTC") }}</td></tr>
{% if a.generator_url.startswith(("http://", "https://")) %}\
<tr><td colspan="2" style="padding: 2px 6px;"><a href="{{ a.generator_url }}">Source</a></td></tr>
{% endif %}</table>
{% endfor %}{% if truncated_alerts %}<p>{{ truncated_alerts }} more alerts are not listed.</p>
{% endif %}{% if external_url.startswith(("http://", "https://")) %}\
<p><a href="{{ external_url }}">Open core-alerts</a></p>
{% endif %}</body></html>
"""
