"""Source formats: each turns one request body into validated, normalized sends.

A format is a function `(body: bytes, ctx: SourceContext) -> list[NormalizedAlert]` that
raises MalformedInput (unparseable) or ValidationFailed (naming the field and the index).
"""

from core_alerts.ingest.formats.alertmanager import decode_alertmanager_v2
from core_alerts.ingest.formats.alertmanager_webhook import decode_alertmanager_webhook
from core_alerts.ingest.formats.generic import FieldMapping, make_generic_decoder
from core_alerts.ingest.formats.grafana import decode_grafana
from core_alerts.ingest.formats.native import decode_native
from core_alerts.ingest.formats.pagerduty import decode_pagerduty
from core_alerts.ingest.formats.registry_types import Decoder

__all__ = [
    "Decoder",
    "FieldMapping",
    "decode_alertmanager_v2",
    "decode_alertmanager_webhook",
    "decode_grafana",
    "decode_native",
    "decode_pagerduty",
    "make_generic_decoder",
]
