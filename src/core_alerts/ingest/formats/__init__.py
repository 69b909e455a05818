"""Source formats: each turns one request body into validated, normalized sends.

A format is a function `(body: bytes, ctx: SourceContext) -> list[NormalizedAlert]` that
raises MalformedInput (unparseable) or ValidationFailed (naming the field and the index).
"""

from collections.abc import Callable

from core_alerts.domain.ingest import NormalizedAlert
from core_alerts.ingest.formats.alertmanager import decode_alertmanager_v2
from core_alerts.ingest.formats.native import decode_native
from core_alerts.ingest.normalize import SourceContext

Decoder = Callable[[bytes, SourceContext], list[NormalizedAlert]]

__all__ = ["Decoder", "decode_alertmanager_v2", "decode_native"]
