"""The service's own telemetry: Prometheus metrics (MetricsCollector) and structured logs.

Must not import capabilities; they receive a MetricsCollector from the composition root.
"""

from core_alerts.telemetry.logging import configure_logging
from core_alerts.telemetry.metrics import MetricsCollector

__all__ = ["MetricsCollector", "configure_logging"]
