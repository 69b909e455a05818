"""Which IP addresses an outbound call must never reach, and the odd spellings of IPv4.

Rules are explicit networks first (so a message can name the class), then "not globally
routable" as the catch-all. IPv6 forms that carry an IPv4 address are judged by that address.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from core_alerts.outbound.errors import BlockReason
from core_alerts.outbound.policy import IPAddress


@dataclass(frozen=True, slots=True)
class AddressBlock:
    reason: BlockReason
    description: str


_DESCRIPTIONS: dict[BlockReason, str] = {
    BlockReason.UNSPECIFIED: "the unspecified address",
    BlockReason.LOOPBACK: "a loopback address",
    BlockReason.METADATA: "the cloud metadata service",
    BlockReason.LINK_LOCAL: "a link-local address",
    BlockReason.PRIVATE: "a private address",
    BlockReason.SHARED: "a shared (carrier-grade NAT) address",
    BlockReason.MULTICAST: "a multicast address",
    BlockReason.BROADCAST: "the broadcast address",
    BlockReason.RESERVED: "a reserved address",
    BlockReason.NOT_GLOBAL: "not a globally routable address",
}

_V4_RULES: tuple[tuple[IPv4Network, BlockReason], ...] = tuple(
    (IPv4Network(cidr), reason)
    for cidr, reason in (
        ("0.0.0.0/32", BlockReason.UNSPECIFIED),
        ("0.0.0.0/8", BlockReason.RESERVED),  # "this network": Linux connects it to the host
        ("127.0.0.0/8", BlockReason.LOOPBACK),
        ("169.254.169.254/32", BlockReason.METADATA),
        ("169.254.0.0/16", BlockReason.LINK_LOCAL),
        ("10.0.0.0/8", BlockReason.PRIVATE),
        ("172.16.0.0/12", BlockReason.PRIVATE),
        ("192.168.0.0/16", BlockReason.PRIVATE),
        ("100.64.0.0/10", BlockReason.SHARED),
        ("224.0.0.0/4", BlockReason.MULTICAST),
        ("255.255.255.255/32", BlockReason.BROADCAST),
        ("240.0.0.0/4", BlockReason.RESERVED),
    )
)

_V6_RULES: tuple[tuple[IPv6Network, BlockReason], ...] = tuple(
    (IPv6Network(cidr), reason)
    for cidr, reason in (
        ("::/128", BlockReason.UNSPECIFIED),
        ("::1/128", BlockReason.LOOPBACK),
        ("fd00:ec2::254/128", BlockReason.METADATA),
        ("fe80::/10", BlockReason.LINK_LOCAL),
        ("fec0::/10", BlockReason.PRIVATE),  # deprecated site-local
        ("fc00::/7", BlockReason.PRIVATE),
        ("ff00::/8", BlockReason.MULTICAST),
        ("64:ff9b:1::/48", BlockReason.PRIVATE),  # local-use NAT64, embedding not fixed
    )
)

# Prefixes whose last 32 bits are an IPv4 address the packet ends up at.
_LOW32_EMBEDDING = (
    IPv6Network("64:ff9b::/96"),  # NAT64 well-known prefix
    IPv6Network("::ffff:0:0:0/96"),  # SIIT IPv4-translated
    IPv6Network("::/96"),  # deprecated IPv4-compatible
)


def address_block(address: IPAddress) -> AddressBlock | None:
    """Why `address` must not be reached, or None when it is a public unicast address."""
    if isinstance(address, IPv4Address):
        rules: tuple[tuple[IPv4Network | IPv6Network, BlockReason], ...] = _V4_RULES
    else:
        rules = _V6_RULES
    for network, reason in rules:
        if address in network:
            return AddressBlock(reason, _DESCRIPTIONS[reason])
    if isinstance(address, IPv6Address):
        inner = embedded_ipv4(address)
        block = address_block(inner) if inner is not None else None
        if block is not None:
            return AddressBlock(block.reason, f"an address embedding {inner}, {block.description}")
    if not address.is_global:
        return AddressBlock(BlockReason.NOT_GLOBAL, _DESCRIPTIONS[BlockReason.NOT_GLOBAL])
    return None


def embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address carried by a mapped, compatible, 6to4, NAT64 or Teredo address."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in prefix for prefix in _LOW32_EMBEDDING):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


# One part of an inet_aton() spelling: hex (0x..), octal (leading 0) or decimal.
_IPV4_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")


def decode_ipv4_spelling(text: str) -> IPv4Address | None:
    """The address that inet_aton() reads in `text` ('127.1', '0x7f.1', '2130706433' ...).

    Returns None when `text` is not such a spelling. Resolvers accept these forms, so a host
    written this way reaches the address even though it does not look like one.
    """
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_IPV4_PART.fullmatch(p) for p in parts):
        return None
    values = [_part_value(p) for p in parts]
    last_bits = 8 * (5 - len(parts))
    if any(v > 255 for v in values[:-1]) or values[-1] >= 1 << last_bits:
        return None
    number = 0
    for value in values[:-1]:
        number = number << 8 | value
    return IPv4Address(number << last_bits | values[-1])


def _part_value(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part)


def parse_ip(text: str) -> IPAddress | None:
    """A canonical IPv4 dotted quad or an IPv6 address, else None."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
