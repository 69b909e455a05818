"""Ingestion: source formats and the AlertEngine write path.

decode (msgspec) -> validate -> normalize -> fingerprint -> dedup/persist (group commit)
-> publish AlertChanged. Must not import other capabilities or storage backends.
"""

from core_alerts.ingest.engine import AlertEngine, Explanation
from core_alerts.ingest.formats.alertmanager import PostableAlert
from core_alerts.ingest.formats.native import NativeAlert
from core_alerts.ingest.normalize import SourceContext

__all__ = ["AlertEngine", "Explanation", "NativeAlert", "PostableAlert", "SourceContext"]
