"""Checks on one host and port, shared by save-time validation and connect time."""

from __future__ import annotations

import re

from core_alerts.outbound.addresses import address_block, decode_ipv4_spelling, parse_ip
from core_alerts.outbound.errors import BlockReason, OutboundBlocked
from core_alerts.outbound.policy import IPAddress, OutboundPolicy, normalize_host

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# A last label that is a number makes the name an IPv4 spelling (as in the WHATWG URL rules).
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")


def literal_address(host: str) -> IPAddress | None:
    """The address written in `host`, None for a name; refuses hosts that are neither.

    Only canonical forms count as addresses: any other IPv4 spelling is refused outright,
    because resolvers would read it as an address the reader does not see.
    """
    text = host.strip().lower()
    if ":" in text:
        if "%" in text:
            raise OutboundBlocked(
                f"host {host!r}: IPv6 zone identifiers are not allowed", reason=BlockReason.HOST
            )
        address = parse_ip(text)
        if address is None:
            raise OutboundBlocked(f"host {host!r} is not a valid address", reason=BlockReason.HOST)
        return address
    bare = text.removesuffix(".")
    address = parse_ip(bare)
    if address is not None:
        return address
    _refuse_ipv4_spelling(host, bare)
    labels = bare.split(".")
    if len(bare) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise OutboundBlocked(f"host {host!r} is not a valid host name", reason=BlockReason.HOST)
    return None


def _refuse_ipv4_spelling(host: str, bare: str) -> None:
    decoded = decode_ipv4_spelling(bare)
    if decoded is not None:
        block = address_block(decoded)
        kind = f" ({block.description})" if block else ""
        raise OutboundBlocked(
            f"host {host!r} is a non-standard spelling of {decoded}{kind}; "
            "write IPv4 addresses as four decimal numbers",
            reason=BlockReason.IPV4_SPELLING,
        )
    if _NUMERIC_LABEL.fullmatch(bare.rsplit(".", 1)[-1]):
        raise OutboundBlocked(
            f"host {host!r} is neither a valid IPv4 address nor a host name",
            reason=BlockReason.HOST,
        )


def check_port(port: int, policy: OutboundPolicy) -> None:
    if not 0 < port < 65536:
        raise OutboundBlocked(f"port {port} is not a valid port", reason=BlockReason.PORT)
    if not policy.permits_port(port):
        allowed = ", ".join(str(p) for p in sorted(policy.allowed_ports or ()))
        raise OutboundBlocked(
            f"port {port} is not allowed (allowed: {allowed})", reason=BlockReason.PORT
        )


def check_name(host: str, policy: OutboundPolicy) -> bool:
    """True when the name is allow-listed (its addresses are then not checked)."""
    if policy.allow.permits_host(host):
        return True
    name = normalize_host(host)
    if name == "localhost" or name.endswith(".localhost"):
        raise OutboundBlocked(
            f"host {host!r} names this machine (localhost)", reason=BlockReason.LOCAL_NAME
        )
    return False


def check_address(address: IPAddress, host: str, policy: OutboundPolicy) -> None:
    """Refuse `address` (what `host` stands for) unless it is public or allow-listed."""
    if policy.allow.permits_address(address):
        return
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None and policy.allow.permits_address(mapped):
        return
    block = address_block(address)
    if block is None:
        return
    where = str(address) if normalize_host(host) == str(address) else f"{host} ({address})"
    raise OutboundBlocked(
        f"destination {where} is {block.description}; add it to the outbound allow-list "
        "to permit it",
        reason=block.reason,
    )
