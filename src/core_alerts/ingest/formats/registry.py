"""Every source format by name, as the API and the engine look them up."""

from __future__ import annotations

from core_alerts.ingest.formats.alertmanager import decode_alertmanager_v2
from core_alerts.ingest.formats.native import decode_native
from core_alerts.ingest.formats.registry_types import Decoder

FORMATS: dict[str, Decoder] = {
    "alertmanager": decode_alertmanager_v2,
    "native": decode_native,
}
