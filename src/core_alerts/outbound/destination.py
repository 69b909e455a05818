"""Parse a URL into a destination the policy accepts, without resolving names."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from core_alerts.domain.errors import ValidationFailed
from core_alerts.outbound.addresses import decode_ipv4_spelling
from core_alerts.outbound.errors import BlockReason, OutboundBlocked
from core_alerts.outbound.hosts import (
    check_address,
    check_name,
    check_port,
    literal_address,
)
from core_alerts.outbound.policy import OutboundPolicy
from core_alerts.outbound.redaction import redact_text, redact_url

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Destination:
    """A URL that passed every check that needs no name resolution."""

    url: httpx.URL
    host: str  # ASCII (IDNA) host, IPv6 without brackets
    port: int

    @property
    def scheme(self) -> str:
        return self.url.scheme

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    @property
    def host_header(self) -> str:
        return self.url.netloc.decode("ascii")


def parse_destination(url: str | httpx.URL, policy: OutboundPolicy) -> Destination:
    """Check scheme, userinfo, host form, port and literal addresses; no DNS.

    Raises OutboundBlocked naming the reason, or ValidationFailed for a URL that does not parse.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise _unparseable(str(url), exc) from None
    if parsed.scheme not in _DEFAULT_PORTS:
        raise OutboundBlocked(
            f"scheme {parsed.scheme or '(none)'!r} is not allowed; use http or https",
            reason=BlockReason.SCHEME,
        )
    if parsed.userinfo:
        raise OutboundBlocked(
            "credentials in the URL (user@host) are not allowed; send them in a header",
            reason=BlockReason.USERINFO,
        )
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise OutboundBlocked("the URL has no host", reason=BlockReason.HOST)
    port = _DEFAULT_PORTS[parsed.scheme] if parsed.port is None else parsed.port
    check_port(port, policy)
    address = literal_address(host)
    if address is not None:
        check_address(address, host, policy)
    else:
        check_name(host, policy)
    return Destination(url=parsed, host=host, port=port)


def _unparseable(url: str, exc: httpx.InvalidURL) -> ValidationFailed:
    # The HTTP library rejects some IPv4 spellings (0177.0.0.1); say what they stand for.
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    decoded = decode_ipv4_spelling(host.removesuffix("."))
    if decoded is not None:
        try:
            literal_address(host)
        except OutboundBlocked as blocked:
            return blocked
    return ValidationFailed(
        f"{redact_url(url)} is not a valid URL: {redact_text(str(exc))}", field="url"
    )
