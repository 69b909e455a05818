"""Errors of field encryption, each a subclass of the closest class in domain/errors.py."""

from __future__ import annotations

from core_alerts.domain.errors import ConfigError, CoreAlertsError, MalformedInput


class MalformedToken(MalformedInput):
    """A value given as a token is not a well-formed `enc:v1:` token."""

    code = "malformed_token"


class DecryptionFailed(CoreAlertsError):
    """A token does not authenticate: it was altered, or copied from another field or tenant."""

    code = "decryption_failed"


class DataKeyUnavailable(DecryptionFailed):
    """The data key a token names does not exist for that tenant or subject."""

    code = "data_key_unavailable"


class DataKeyDestroyed(DataKeyUnavailable):
    """The data key a token names was destroyed (crypto-shredded); its data is gone for good."""

    code = "data_key_destroyed"


class MasterKeyNotConfigured(ConfigError):
    """A data key is wrapped by a master key that is not in the configured key list."""

    code = "master_key_not_configured"
