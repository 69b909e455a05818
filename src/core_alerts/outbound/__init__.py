"""Outbound HTTP for every tenant-configured URL (webhooks, chat, paging, ITSM, remediation).

Owns SSRF defence (address policy, DNS pinning, re-checked redirects), timeouts, size caps and
redaction of credentials. Must not read the environment or configuration files: callers pass
an OutboundPolicy. Imports only the domain, the standard library and the HTTP stack.
"""

from core_alerts.outbound.client import OutboundClient
from core_alerts.outbound.destination import Destination, parse_destination
from core_alerts.outbound.errors import BlockReason, FailReason, OutboundBlocked, OutboundFailed
from core_alerts.outbound.guard import CheckedUrl, validate_url
from core_alerts.outbound.hostcheck import admit_host
from core_alerts.outbound.policy import AllowList, OutboundPolicy
from core_alerts.outbound.redaction import (
    is_sensitive_name,
    redact_headers,
    redact_text,
    redact_url,
)
from core_alerts.outbound.resolver import Resolver, SystemResolver
from core_alerts.outbound.response import OutboundResponse, parse_retry_after

__all__ = [
    "AllowList",
    "BlockReason",
    "CheckedUrl",
    "Destination",
    "FailReason",
    "OutboundBlocked",
    "OutboundClient",
    "OutboundFailed",
    "OutboundPolicy",
    "OutboundResponse",
    "Resolver",
    "SystemResolver",
    "admit_host",
    "is_sensitive_name",
    "parse_destination",
    "parse_retry_after",
    "redact_headers",
    "redact_text",
    "redact_url",
    "validate_url",
]
