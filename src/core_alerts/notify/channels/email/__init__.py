"""The email channel (`email_configs`): multipart text and HTML mail over SMTP.

Owns its config, default templates and SMTP session (STARTTLS or implicit TLS, AUTH).
Must not connect anywhere the outbound policy refuses: the smarthost is resolved, checked
and pinned before the connection is made.
"""

from __future__ import annotations

from core_alerts.notify.channels.base import ChannelSpec, from_global
from core_alerts.notify.channels.email.channel import EmailChannel
from core_alerts.notify.channels.email.config import EmailConfig, TlsConfig

# Alertmanager's `global:` keys for email -> the email_configs field they default.
_GLOBAL_FIELDS = {
    "smtp_from": "from",
    "smtp_smarthost": "smarthost",
    "smtp_hello": "hello",
    "smtp_auth_username": "auth_username",
    "smtp_auth_password": "auth_password",
    "smtp_auth_identity": "auth_identity",
    "smtp_auth_secret": "auth_secret",
    "smtp_require_tls": "require_tls",
    "smtp_tls_config": "tls_config",
}
global_defaults = from_global(_GLOBAL_FIELDS)
"""Field defaults from the `global:` section (e.g. `smtp_smarthost` -> `smarthost`)."""


SPEC = ChannelSpec(
    config_key="email_configs",
    integration="email",
    description="Email over SMTP: a multipart message with a text and an HTML part.",
    config_type=EmailConfig,
    build=EmailChannel,
    defaults=global_defaults,
)

__all__ = ["SPEC", "EmailChannel", "EmailConfig", "TlsConfig", "global_defaults"]
