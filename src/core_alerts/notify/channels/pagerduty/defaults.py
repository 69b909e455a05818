"""PagerDuty's default templates: Alertmanager's defaults, written for our template variables."""

from __future__ import annotations

from core_alerts.notify.channels.template_parts import ALERT_DETAILS, SUBJECT

URL = "https://events.pagerduty.com/v2/enqueue"
CLIENT = "core-alerts"
CLIENT_URL = "{{ external_url }}"
DESCRIPTION = SUBJECT


def _instances(variable: str) -> str:
    """Alertmanager's `pagerduty.default.instances` over the alerts in `variable`."""
    return f"{{% for a in {variable} %}}" + ALERT_DETAILS + "{% endfor %}"


DETAILS: dict[str, str] = {
    "firing": _instances("firing"),
    "resolved": _instances("resolved"),
    "num_firing": "{{ firing | length }}",
    "num_resolved": "{{ resolved | length }}",
}
