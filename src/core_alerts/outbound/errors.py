"""Why an outbound call was refused (OutboundBlocked) or did not complete (OutboundFailed)."""

from __future__ import annotations

from enum import StrEnum

from core_alerts.domain.errors import CoreAlertsError, ValidationFailed


class BlockReason(StrEnum):
    """Why a destination is refused before any connection is made."""

    SCHEME = "scheme"
    USERINFO = "userinfo"
    PORT = "port"
    HOST = "host"
    IPV4_SPELLING = "ipv4_spelling"
    LOCAL_NAME = "local_name"
    LOOPBACK = "loopback"
    UNSPECIFIED = "unspecified"
    METADATA = "cloud_metadata"
    LINK_LOCAL = "link_local"
    PRIVATE = "private"
    SHARED = "shared_address_space"
    MULTICAST = "multicast"
    BROADCAST = "broadcast"
    RESERVED = "reserved"
    NOT_GLOBAL = "not_globally_routable"
    DOWNGRADE = "https_downgrade"


class FailReason(StrEnum):
    """Why an allowed call did not produce a usable response."""

    TIMEOUT = "timeout"
    UNRESOLVABLE = "unresolvable"
    CONNECT = "connect"
    PROTOCOL = "protocol"
    REQUEST_TOO_LARGE = "request_too_large"
    RESPONSE_TOO_LARGE = "response_too_large"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    HTTP_STATUS = "http_status"


class OutboundBlocked(ValidationFailed):
    """The destination is not allowed by the outbound policy; nothing was sent."""

    code = "outbound_blocked"

    def __init__(self, message: str, *, reason: BlockReason) -> None:
        super().__init__(message, field="url")
        self.reason = reason


class OutboundFailed(CoreAlertsError):
    """The call was allowed but failed; `retryable` tells delivery code whether to try again.

    `retry_after` is the delay in seconds the server asked for (Retry-After on 429/503), if any.
    Messages and attributes never hold credentials: URLs in them are redacted.
    """

    code = "outbound_failed"

    def __init__(
        self,
        message: str,
        *,
        reason: FailReason,
        retryable: bool,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, field="url")
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status
