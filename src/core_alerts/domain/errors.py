"""The one exception root. Only api/ maps these to HTTP status codes."""

from __future__ import annotations


class CoreAlertsError(Exception):
    """Root of every error core-alerts raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(CoreAlertsError):
    """Input is well-formed but not acceptable (a value out of range, a missing field)."""

    code = "validation_failed"

    def __init__(self, message: str, *, field: str | None = None, index: int | None = None):
        super().__init__(message, field=field)
        self.index = index


class MalformedInput(CoreAlertsError):
    """The payload cannot be parsed at all (bad JSON, bad encoding)."""

    code = "malformed_input"


class LimitExceeded(ValidationFailed):
    """Input exceeds a configured size limit (body, batch, labels)."""

    code = "limit_exceeded"


class NotFound(CoreAlertsError):
    """The object does not exist in the caller's tenant (or is not theirs to see)."""

    code = "not_found"


class AlertNotFound(NotFound):
    code = "not_found"


class Unauthenticated(CoreAlertsError):
    """No credentials, or credentials that are invalid, expired or revoked."""

    code = "unauthenticated"


class Forbidden(CoreAlertsError):
    """Valid credentials that do not hold the scope the action needs."""

    code = "forbidden"

    def __init__(self, message: str, *, scope: str | None = None) -> None:
        super().__init__(message)
        self.scope = scope


class InvalidTransition(CoreAlertsError):
    """A lifecycle change that the state machine does not allow."""

    code = "invalid_transition"


class ConflictError(CoreAlertsError):
    code = "conflict"


class Overloaded(CoreAlertsError):
    """The service sheds load; the caller should retry after `retry_after` seconds."""

    code = "overloaded"

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(Overloaded):
    """Too many requests (or failed logins) from one caller; answered 429 with Retry-After."""

    code = "rate_limited"


class StorageUnavailable(Overloaded):
    """The database cannot be reached or refuses writes; nothing was committed."""

    code = "storage_unavailable"


class ConfigError(CoreAlertsError):
    """A configuration value is invalid; the message names the key and what is allowed."""

    code = "config_error"
