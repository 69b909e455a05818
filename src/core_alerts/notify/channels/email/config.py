"""The `email_configs` entry, with Alertmanager's field names and defaults."""

from __future__ import annotations

import re
import ssl
from email.utils import getaddresses, parseaddr
from typing import Annotated, ClassVar

import msgspec

from core_alerts.notify.channels.base import ChannelConfig
from core_alerts.notify.channels.email import defaults
from core_alerts.notify.channels.fields import AttemptTimeout, SendResolved

IMPLICIT_TLS_PORT = 465
# Set by the channel itself: a template must not forge the idempotency or MIME structure.
RESERVED_HEADERS = frozenset(
    {
        "message-id",
        "x-idempotency-key",
        "date",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "bcc",
    }
)
_HEADER_NAME = re.compile(r"[!-9;-~]+")
_HELLO = re.compile(r"[A-Za-z0-9.\-\[\]:]+")


class TlsConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How the SMTP server's certificate is checked (STARTTLS or implicit TLS)."""

    insecure_skip_verify: Annotated[
        bool,
        msgspec.Meta(description="Do not verify the server certificate (testing only)."),
    ] = False
    ca: Annotated[
        str,
        msgspec.Meta(
            description="PEM text of the CA certificates to trust instead of the public CA bundle."
        ),
    ] = ""
    server_name: Annotated[
        str,
        msgspec.Meta(description="Name the certificate must carry; default: the smarthost's host."),
    ] = ""

    def __post_init__(self) -> None:
        if self.ca:
            try:
                ssl.create_default_context(cadata=self.ca)
            except (ssl.SSLError, ValueError):
                raise ValueError("tls_config.ca is not valid PEM certificate text") from None
        if any(c.isspace() for c in self.server_name):
            raise ValueError("tls_config.server_name must not contain whitespace")


def split_hostport(value: str) -> tuple[str, int]:
    """`host:port` or `[IPv6]:port` -> (host, port); raises ValueError naming `smarthost`."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"smarthost must be host:port, got {value!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"smarthost: write an IPv6 address in brackets, got {value!r}")
    if not host or any(c.isspace() or c in "[]/@" for c in host):
        raise ValueError(f"smarthost has an invalid host, got {value!r}")
    return host, int(port)


def mailboxes(value: str, field: str) -> list[str]:
    """The addresses of a comma-separated list; raises ValueError naming `field`."""
    pairs = getaddresses([value])
    found = [address for _, address in pairs]
    if not found or any(not _is_mailbox(address) for address in found):
        raise ValueError(f"{field} must be a comma-separated list of email addresses")
    return found


def _is_mailbox(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return bool(local and at and domain) and not any(c.isspace() for c in address)


class EmailConfig(ChannelConfig, kw_only=True, forbid_unknown_fields=True):
    """Send each notification as a multipart (text and HTML) email over SMTP."""

    SECRETS: ClassVar[frozenset[str]] = frozenset({"auth_password", "auth_secret"})

    to: Annotated[
        str,
        msgspec.Meta(description="Recipients: comma-separated email addresses (not a template)."),
    ]
    from_: Annotated[
        str,
        msgspec.Meta(
            description="Sender address (From and envelope sender); default: global smtp_from."
        ),
    ] = msgspec.field(default="", name="from")
    smarthost: Annotated[
        str,
        msgspec.Meta(
            description="SMTP server as host:port; port 465 means implicit TLS. Default: "
            "global smtp_smarthost."
        ),
    ] = ""
    hello: Annotated[str, msgspec.Meta(description="Host name sent in EHLO/HELO.")] = "localhost"
    auth_username: Annotated[
        str, msgspec.Meta(description="User name for SMTP AUTH; empty: no authentication.")
    ] = ""
    auth_password: Annotated[
        str, msgspec.Meta(description="Secret: password for AUTH PLAIN or LOGIN.")
    ] = ""
    auth_identity: Annotated[
        str, msgspec.Meta(description="Authorization identity for AUTH PLAIN (usually empty).")
    ] = ""
    auth_secret: Annotated[
        str, msgspec.Meta(description="Secret: shared secret for AUTH CRAM-MD5.")
    ] = ""
    require_tls: Annotated[
        bool,
        msgspec.Meta(
            description="Require STARTTLS and fail when the server does not offer it; "
            "false sends in clear text. Ignored on port 465 (always TLS)."
        ),
    ] = True
    tls_config: Annotated[
        TlsConfig | None, msgspec.Meta(description="How the server certificate is checked.")
    ] = None
    headers: Annotated[
        dict[str, str],
        msgspec.Meta(
            description="Extra or replaced headers; values are templates. Subject, To and "
            "From default to the subject template and the to/from fields."
        ),
    ] = msgspec.field(default_factory=dict)
    html: Annotated[
        str, msgspec.Meta(description="Template of the HTML part (values HTML-escaped).")
    ] = defaults.HTML
    text: Annotated[str, msgspec.Meta(description="Template of the plain-text part.")] = (
        defaults.TEXT
    )
    send_resolved: SendResolved = False
    timeout: AttemptTimeout = defaults.TIMEOUT

    def __post_init__(self) -> None:
        mailboxes(self.to, "to")
        if not self.from_:
            raise ValueError("from is required (set it here or as global smtp_from)")
        if not _is_mailbox(parseaddr(self.from_)[1]):
            raise ValueError("from must be an email address")
        if not self.smarthost:
            raise ValueError("smarthost is required (set it here or as global smtp_smarthost)")
        split_hostport(self.smarthost)
        if not _HELLO.fullmatch(self.hello):
            raise ValueError("hello must be a host name or address literal")
        if not self.html and not self.text:
            raise ValueError("at least one of html and text must be set")
        for name in self.headers:
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"headers: {name!r} is not a valid header name")
            if name.lower() in RESERVED_HEADERS:
                raise ValueError(f"headers: {name} is set by core-alerts and cannot be changed")
        if self.auth_username and not (self.auth_password or self.auth_secret):
            raise ValueError("auth_username needs auth_password (PLAIN/LOGIN) or auth_secret")

    @property
    def host_port(self) -> tuple[str, int]:
        return split_hostport(self.smarthost)

    @property
    def recipients(self) -> list[str]:
        return mailboxes(self.to, "to")

    @property
    def sender(self) -> str:
        return parseaddr(self.from_)[1]
