"""In-process bus: one asyncio queue and consumer task per subscriber.

Imported only by the composition root. A slow subscriber delays only itself.
"""

from core_alerts.bus.inproc.bus import InProcessBus

__all__ = ["InProcessBus"]
