"""The `core-alerts` command line: serve, send, alerts list|show|ack|unack|resolve.

Talks to a running service through core_alerts.client; only `serve` builds engines.
Must not import storage or bus backends.
"""
