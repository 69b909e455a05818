"""Composition root: builds every engine from Settings and wires backends to ports.

The only package that imports storage and bus backends. Read orchestrator.py to see the
whole system: which store, which bus, which engines, and how they are started and stopped.
"""

from core_alerts.app.notifications import Notifications, TenantRouting, parse_routing
from core_alerts.app.orchestrator import EngineOrchestrator

__all__ = ["EngineOrchestrator", "Notifications", "TenantRouting", "parse_routing"]
