"""What outbound calls may reach and how much they may cost: built by the caller, never from env."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from core_alerts.domain.errors import ConfigError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def normalize_host(host: str) -> str:
    """Lower-case, without the trailing dot of a fully qualified name."""
    return host.strip().lower().rstrip(".")


@dataclass(frozen=True, slots=True)
class AllowList:
    """Destinations exempt from the address checks: networks, exact names, `*.suffix` names."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """Build from strings: CIDRs or addresses ('127.0.0.1/32', '::1'), names, '*.corp'."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for raw in entries:
            entry = raw.strip()
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            name = normalize_host(entry)
            bare = name.removeprefix("*.")
            if not bare or not all(part and _is_label(part) for part in bare.split(".")):
                raise ConfigError(
                    f"outbound allow-list entry {raw!r} is neither a CIDR nor a host name",
                    field="allow",
                )
            hosts.add(name)
        return cls(networks=tuple(networks), hosts=frozenset(hosts))

    def permits_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)

    def permits_host(self, host: str) -> bool:
        name = normalize_host(host)
        if name in self.hosts:
            return True
        labels = name.split(".")
        # '*.corp.example' matches any name below corp.example, not corp.example itself.
        return any("*." + ".".join(labels[i:]) in self.hosts for i in range(1, len(labels)))


def _is_label(label: str) -> bool:
    return len(label) <= 63 and all(c.isascii() and (c.isalnum() or c in "-_") for c in label)


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """Rules for every outbound call. Sizes are bytes, durations seconds.

    `allowed_ports` None means any port; `max_redirects` 0 means a redirect is an error.
    """

    allow: AllowList = field(default_factory=AllowList)
    allowed_ports: frozenset[int] | None = None
    max_redirects: int = 3
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    max_request_bytes: int = 1024 * 1024
    max_response_bytes: int = 1024 * 1024
    max_connections: int = 100

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "total_timeout"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} must be a positive number of seconds", field=name)
        for name in ("max_request_bytes", "max_response_bytes", "max_connections"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1", field=name)
        if self.max_redirects < 0:
            raise ConfigError("max_redirects must be 0 or more", field="max_redirects")
        if self.allowed_ports is not None and not all(0 < p < 65536 for p in self.allowed_ports):
            raise ConfigError("allowed_ports must be between 1 and 65535", field="allowed_ports")

    def permits_port(self, port: int) -> bool:
        return self.allowed_ports is None or port in self.allowed_ports
