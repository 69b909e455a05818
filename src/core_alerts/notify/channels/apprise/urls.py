"""Apprise URLs: parse-checked without sending, and the host each one connects to.

Apprise opens its own connections, so the outbound client cannot pin them. The host a URL
names is checked against the outbound policy right before the send; a DNS answer that
changes between that check and Apprise's own lookup is not covered, and HTTP redirects are
not followed. Services reached at a fixed public endpoint (discord://, tgram://, ...) name
no host and are not checked.
"""

from __future__ import annotations

import logging
import re

from apprise import Apprise, AppriseAsset
from apprise.plugins.base import NotifyBase

# These notify the machine core-alerts runs on (desktop, syslog, USB), not a remote service.
LOCAL_SCHEMES = frozenset(
    {"dbus", "kde", "qt", "glib", "gio", "gnome", "macosx", "windows", "syslog", "blink1"}
)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,31})://")
_URL_IN_TEXT = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,31})://[^\s'\"<>]*")


class _HideUrls(logging.Filter):
    """Apprise logs an unparseable URL whole; keep only its scheme in our logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = _URL_IN_TEXT.sub(r"\1://***", message)
        record.args = None
        return True


def hide_urls_in_apprise_logs() -> None:
    """Attach the filter to Apprise's logger once."""
    logger = logging.getLogger("apprise")
    if not any(isinstance(f, _HideUrls) for f in logger.filters):
        logger.addFilter(_HideUrls())


hide_urls_in_apprise_logs()


def scheme_of(url: str) -> str:
    """The scheme only (safe to show: the rest of an Apprise URL may hold a token)."""
    match = _SCHEME.match(url.strip())
    return match.group(1).lower() if match else "?"


def asset() -> AppriseAsset:
    # In-memory state only, URLs masked in Apprise's own log lines, no redirects followed.
    return AppriseAsset(storage_mode="memory", secure_logging=True, http_redirects=False)


def instantiate(url: str, index: int) -> NotifyBase:
    """The plugin for `url`, or ValueError naming `urls[index]` and the scheme only."""
    scheme = scheme_of(url)
    if scheme in LOCAL_SCHEMES:
        raise ValueError(
            f"urls[{index}]: {scheme}:// notifies the core-alerts host itself and is not allowed"
        )
    plugin = Apprise.instantiate(url, asset=asset())
    if plugin is None:
        raise ValueError(
            f"urls[{index}]: not a valid or not an available Apprise URL (scheme {scheme!r})"
        )
    # A redirect target is never checked against the policy, so none is followed, whatever
    # the URL's own `redirect=` says.
    plugin.redirects = False
    return plugin


def destination(plugin: NotifyBase) -> tuple[str, int] | None:
    """(host, port) the plugin connects to when the URL names it; None for fixed services."""
    if "host" not in getattr(type(plugin), "template_tokens", {}):
        return None
    host = getattr(plugin, "smtp_host", None) or plugin.host
    if not host:
        return None  # e.g. ntfy://topic: the public ntfy.sh
    return str(host), _port(plugin)


def _port(plugin: NotifyBase) -> int:
    if plugin.port:
        return int(plugin.port)
    secure = bool(plugin.secure)
    names = ("default_secure_port" if secure else "default_insecure_port", "default_port")
    candidates = [getattr(plugin, name, None) for name in names]
    token = getattr(type(plugin), "template_tokens", {}).get("port")
    if isinstance(token, dict):
        candidates.append(token.get("default"))
    for value in candidates:
        if isinstance(value, int) and value > 0:
            return value
    # The address check is what matters; the port is a best guess for allowed_ports.
    return 443 if secure else 80
