"""Pure values of the alert domain: alerts, severities, statuses, labels, matchers, events.

Owns the vocabulary every other package speaks. Must not do I/O, read configuration or
import any other core_alerts package.
"""

from core_alerts.domain.alert import (
    Alert,
    AlertMetadata,
    AlertSeverity,
    AlertStatus,
    parse_severity,
)
from core_alerts.domain.clock import Clock, FixedClock, SystemClock
from core_alerts.domain.errors import (
    AlertNotFound,
    ConflictError,
    CoreAlertsError,
    Forbidden,
    InvalidTransition,
    LimitExceeded,
    MalformedInput,
    NotFound,
    Overloaded,
    RateLimited,
    StorageUnavailable,
    Unauthenticated,
    ValidationFailed,
)
from core_alerts.domain.events import AlertChanged
from core_alerts.domain.fingerprint import FINGERPRINT_STRATEGY, fingerprint_labels
from core_alerts.domain.ingest import IngestOutcome, IngestResult, NormalizedAlert
from core_alerts.domain.matchers import Matcher, MatchOp, parse_matchers

__all__ = [
    "FINGERPRINT_STRATEGY",
    "Alert",
    "AlertChanged",
    "AlertMetadata",
    "AlertNotFound",
    "AlertSeverity",
    "AlertStatus",
    "Clock",
    "ConflictError",
    "CoreAlertsError",
    "FixedClock",
    "Forbidden",
    "IngestOutcome",
    "IngestResult",
    "InvalidTransition",
    "LimitExceeded",
    "MalformedInput",
    "MatchOp",
    "Matcher",
    "NormalizedAlert",
    "NotFound",
    "Overloaded",
    "RateLimited",
    "StorageUnavailable",
    "SystemClock",
    "Unauthenticated",
    "ValidationFailed",
    "fingerprint_labels",
    "parse_matchers",
    "parse_severity",
]
