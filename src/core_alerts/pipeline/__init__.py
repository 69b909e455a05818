"""Pipeline plumbing: the Stage protocol and combinators (Chain, Fanout), no policy.

Capabilities implement stages; the composition root assembles them. Must not import
capabilities, backends or configuration.
"""

from core_alerts.pipeline.stage import Chain, Fanout, Stage

__all__ = ["Chain", "Fanout", "Stage"]
