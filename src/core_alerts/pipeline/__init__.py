"""Pipeline plumbing: the Stage protocol, combinators (Chain, Fanout) and the Periodic
background job; no policy.

Capabilities implement stages; the composition root assembles them. Must not import
capabilities, backends or configuration.
"""

from core_alerts.pipeline.periodic import Periodic
from core_alerts.pipeline.stage import Chain, Fanout, Stage

__all__ = ["Chain", "Fanout", "Periodic", "Stage"]
