"""The typed async Python SDK for the core-alerts REST API.

`AlertsClient` wraps httpx; results are msgspec Structs mirroring the API's JSON, and every
non-2xx answer raises `ApiError`. Imports nothing of core_alerts but core_alerts.domain.
"""

from core_alerts.client.client import DEFAULT_URL, AlertsClient
from core_alerts.client.models import (
    Alert,
    AlertDetail,
    AlertPage,
    ApiError,
    IngestResponse,
    IngestResult,
    Transition,
)

__all__ = [
    "DEFAULT_URL",
    "Alert",
    "AlertDetail",
    "AlertPage",
    "AlertsClient",
    "ApiError",
    "IngestResponse",
    "IngestResult",
    "Transition",
]
