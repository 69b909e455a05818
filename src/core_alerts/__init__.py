"""core-alerts: self-hosted, multi-tenant alert management.

The seed's public names import from here: Alert, AlertMetadata, AlertSeverity, AlertStatus,
AlertEngine, StateManager, NotificationHub, MetricsCollector, EngineOrchestrator,
start_alerts_engines.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Alert": "core_alerts.domain",
    "AlertMetadata": "core_alerts.domain",
    "AlertSeverity": "core_alerts.domain",
    "AlertStatus": "core_alerts.domain",
    "AlertEngine": "core_alerts.ingest",
    "StateManager": "core_alerts.state",
    "NotificationHub": "core_alerts.notify",
    "MetricsCollector": "core_alerts.telemetry",
    "EngineOrchestrator": "core_alerts.app",
    "start_alerts_engines": "core_alerts.cli.serve",
}

__all__ = [
    "Alert",
    "AlertEngine",
    "AlertMetadata",
    "AlertSeverity",
    "AlertStatus",
    "EngineOrchestrator",
    "MetricsCollector",
    "NotificationHub",
    "StateManager",
    "__version__",
    "start_alerts_engines",
]

if TYPE_CHECKING:
    from core_alerts.app import EngineOrchestrator
    from core_alerts.cli.serve import start_alerts_engines
    from core_alerts.domain import Alert, AlertMetadata, AlertSeverity, AlertStatus
    from core_alerts.ingest import AlertEngine
    from core_alerts.notify import NotificationHub
    from core_alerts.state import StateManager
    from core_alerts.telemetry import MetricsCollector


def __getattr__(name: str) -> Any:
    """Import public names on first use, so the CLI starts fast."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'core_alerts' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
