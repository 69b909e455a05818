"""Publish/subscribe ports. Backends: inproc/ (asyncio, the embedded default).

Events are published only after their effect is committed. Must not import capabilities.
"""

from core_alerts.bus.ports import EventBus, Handler

__all__ = ["EventBus", "Handler"]
