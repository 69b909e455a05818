"""Every source format by name, as the API and the engine look them up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from core_alerts.domain.errors import ConfigError
from core_alerts.ingest.formats.alertmanager import decode_alertmanager_v2
from core_alerts.ingest.formats.alertmanager_webhook import decode_alertmanager_webhook
from core_alerts.ingest.formats.generic import FieldMapping, make_generic_decoder
from core_alerts.ingest.formats.grafana import decode_grafana
from core_alerts.ingest.formats.native import decode_native
from core_alerts.ingest.formats.pagerduty import decode_pagerduty
from core_alerts.ingest.formats.registry_types import Decoder

ALERTMANAGER = "alertmanager"
FORMATS: dict[str, Decoder] = {
    ALERTMANAGER: decode_alertmanager_v2,
    "alertmanager-webhook": decode_alertmanager_webhook,
    "grafana": decode_grafana,
    "pagerduty": decode_pagerduty,
    "native": decode_native,
}
GENERIC_PREFIX = "generic:"


def build_formats(generic: Mapping[str, Mapping[str, Any]]) -> dict[str, Decoder]:
    """The built-in formats plus one `generic:<name>` decoder per configured field mapping."""
    formats = dict(FORMATS)
    for name, raw in generic.items():
        try:
            mapping = msgspec.convert(raw, FieldMapping)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"receivers.generic.{name}: {exc}") from None
        formats[GENERIC_PREFIX + name] = make_generic_decoder(mapping)
    return formats
