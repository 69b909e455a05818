"""HTTP interface: REST v1, Alertmanager API v2, sender receivers, health and metrics.

Maps domain errors to HTTP (problem+json). Talks only to the composition root's engines;
must not import storage or bus backends.
"""

from core_alerts.api.app import create_app

__all__ = ["create_app"]
