"""Alert lifecycle: human actions (ack, unack, resolve) and auto-resolve on endsAt.

Rules live in domain.lifecycle; this package runs them against the store and publishes
the changes. Must not import other capabilities or storage backends.
"""

from core_alerts.state.manager import StateManager

__all__ = ["StateManager"]
