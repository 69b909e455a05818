"""Configuration: the ONLY package that reads the environment and config files.

Merges the Python dict, the `core_alerts:` YAML document and ALERTS_* variables into one
frozen Settings object, validated once at start. Must not import capabilities.
"""

from core_alerts.config.loader import load_settings
from core_alerts.config.settings import (
    AnalyticsSettings,
    DatabaseSettings,
    LimitSettings,
    NotificationSettings,
    ProcessingSettings,
    RetentionSettings,
    SecuritySettings,
    ServerSettings,
    Settings,
)

__all__ = [
    "AnalyticsSettings",
    "DatabaseSettings",
    "LimitSettings",
    "NotificationSettings",
    "ProcessingSettings",
    "RetentionSettings",
    "SecuritySettings",
    "ServerSettings",
    "Settings",
    "load_settings",
]
