"""Pipeline plumbing: the Stage protocol, combinators (Chain, Fanout), the Periodic
background job and the Batcher (group commit of items submitted one by one); no policy.

Capabilities implement stages; the composition root assembles them. Must not import
capabilities, backends or configuration.
"""

from core_alerts.pipeline.batcher import Batcher
from core_alerts.pipeline.periodic import Periodic
from core_alerts.pipeline.stage import Chain, Fanout, Stage

__all__ = ["Batcher", "Chain", "Fanout", "Periodic", "Stage"]
