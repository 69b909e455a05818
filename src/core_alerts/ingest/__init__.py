"""Ingestion: source formats and the AlertEngine write path.

decode (msgspec) -> validate -> normalize -> fingerprint -> dedup/persist (group commit)
-> publish AlertChanged. Must not import other capabilities or storage backends.

The names below load on first use, so a decode worker (`ingest.decodeworker`) imports the
decoders without the engine and what it needs (store, bus, crypto, telemetry).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "AlertEngine": "core_alerts.ingest.engine",
    "Explanation": "core_alerts.ingest.engine",
    "PostableAlert": "core_alerts.ingest.formats.alertmanager",
    "NativeAlert": "core_alerts.ingest.formats.native",
    "SourceContext": "core_alerts.ingest.normalize",
}

__all__ = ["AlertEngine", "Explanation", "NativeAlert", "PostableAlert", "SourceContext"]

if TYPE_CHECKING:
    from core_alerts.ingest.engine import AlertEngine, Explanation
    from core_alerts.ingest.formats.alertmanager import PostableAlert
    from core_alerts.ingest.formats.native import NativeAlert
    from core_alerts.ingest.normalize import SourceContext


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)
