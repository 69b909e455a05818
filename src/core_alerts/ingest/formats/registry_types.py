"""The type of a format decoder."""

from collections.abc import Callable

from core_alerts.domain.ingest import NormalizedAlert
from core_alerts.ingest.normalize import SourceContext

Decoder = Callable[[bytes, SourceContext], list[NormalizedAlert]]
