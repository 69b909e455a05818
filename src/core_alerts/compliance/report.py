"""ComplianceManager: the compliance report (JSON and HTML) from the checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable

import jinja2
import msgspec

from core_alerts.compliance.checks import CheckResult, Facts, evaluate
from core_alerts.config import Settings
from core_alerts.domain.clock import Clock

FRAMEWORKS = {"soc2": "SOC 2", "iso27001": "ISO/IEC 27001:2022", "gdpr": "GDPR",
              "hipaa": "HIPAA Security Rule"}  # fmt: skip


class ComplianceReport(msgspec.Struct, kw_only=True):
    generated_at: float
    version: str
    summary: dict[str, int]
    """Checks per status: pass, fail, warn, declared."""
    frameworks: dict[str, dict[str, int]]
    """Per framework, checks per status among those that map to it."""
    checks: list[CheckResult]


class ComplianceManager:
    def __init__(
        self, settings: Settings, clock: Clock, gather: Callable[[], Awaitable[Facts]], version: str
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._gather = gather
        self._version = version

    async def report(self) -> ComplianceReport:
        results = evaluate(self.settings, await self._gather())
        frameworks = {
            name: dict(Counter(str(r.status) for r in results if getattr(r.controls, name)))
            for name in FRAMEWORKS
        }
        return ComplianceReport(
            generated_at=self.clock.now(), version=self._version,
            summary=dict(Counter(str(r.status) for r in results)), frameworks=frameworks,
            checks=results,
        )  # fmt: skip


_HTML = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>core-alerts compliance report</title>
<style>body{font:14px sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px 8px;
vertical-align:top}table{border-collapse:collapse}.pass{color:#176f2c}.fail{color:#b00020}
.warn{color:#a66300}.declared{color:#1f4e9c}</style></head><body>
<h1>Compliance report</h1>
<p>core-alerts {{ r.version }}, generated {{ generated }} (UTC).
{% for status, n in r.summary.items() %}<span class="{{ status }}">{{ n }} {{ status }}</span>
{% endfor %}</p>
<table><tr><th>Framework</th><th>pass</th><th>fail</th><th>warn</th><th>declared</th></tr>
{% for key, name in frameworks.items() %}<tr><td>{{ name }}</td>
{% for s in ["pass", "fail", "warn", "declared"] %}<td>{{ r.frameworks[key].get(s, 0) }}</td>
{% endfor %}</tr>{% endfor %}</table>
<h2>Checks</h2>
<table><tr><th>Check</th><th>Status</th><th>Evidence</th><th>Remediation</th><th>Controls</th></tr>
{% for c in r.checks %}<tr><td>{{ c.title }}</td><td class="{{ c.status }}">{{ c.status }}</td>
<td>{{ c.evidence }}</td><td>{{ c.remediation }}</td><td>SOC 2 {{ c.controls.soc2|join(", ") }};
ISO 27001 {{ c.controls.iso27001|join(", ") }}; GDPR {{ c.controls.gdpr|join(", ") }};
HIPAA {{ c.controls.hipaa|join(", ") }}</td></tr>
{% endfor %}</table></body></html>
"""
)


def render_html(report: ComplianceReport) -> str:
    from datetime import UTC, datetime

    generated = datetime.fromtimestamp(report.generated_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return _HTML.render(r=report, frameworks=FRAMEWORKS, generated=generated)
