"""Resolve a host once and check every answer: the addresses returned are the only ones used."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from core_alerts.domain.errors import ValidationFailed
from core_alerts.outbound.destination import parse_destination
from core_alerts.outbound.errors import FailReason, OutboundFailed
from core_alerts.outbound.hosts import check_address, check_name, check_port, literal_address
from core_alerts.outbound.policy import IPAddress, OutboundPolicy
from core_alerts.outbound.redaction import redact_url
from core_alerts.outbound.resolver import Resolver, SystemResolver


class AddressGuard:
    """Turns a host and port into checked addresses, or refuses them."""

    def __init__(self, policy: OutboundPolicy, resolver: Resolver) -> None:
        self._policy = policy
        self._resolver = resolver

    async def admit(self, host: str, port: int) -> tuple[IPAddress, ...]:
        """The addresses to connect to; every one passed the policy (or the name is allowed).

        Raises OutboundBlocked when any answer is refused: a name that resolves to a public
        and a private address is suspect as a whole.
        """
        check_port(port, self._policy)
        literal = literal_address(host)
        if literal is not None:
            check_address(literal, host, self._policy)
            return (literal,)
        name_allowed = check_name(host, self._policy)
        addresses = await self._resolve(host, port)
        if not name_allowed:
            for address in addresses:
                check_address(address, host, self._policy)
        return addresses

    async def _resolve(self, host: str, port: int) -> tuple[IPAddress, ...]:
        try:
            addresses = tuple(await self._resolver.resolve(host, port))
        except OSError as exc:
            raise OutboundFailed(
                f"host {host} does not resolve ({exc.strerror or type(exc).__name__})",
                reason=FailReason.UNRESOLVABLE,
                retryable=True,
            ) from None
        if not addresses:
            raise OutboundFailed(
                f"host {host} has no address", reason=FailReason.UNRESOLVABLE, retryable=True
            )
        return addresses


@dataclass(frozen=True, slots=True)
class CheckedUrl:
    """A URL accepted at save time, with the addresses it resolved to then."""

    url: str = field(repr=False)  # may hold a token: kept out of reprs
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


async def validate_url(
    url: str, policy: OutboundPolicy, *, resolver: Resolver | None = None
) -> CheckedUrl:
    """Save-time check of a webhook or integration URL, resolving its host.

    Raises OutboundBlocked (a ValidationFailed) naming why the destination is refused, or
    ValidationFailed when the URL does not parse or its host does not resolve. The send
    checks again: an address accepted now may change before then.
    """
    destination = parse_destination(url, policy)
    guard = AddressGuard(policy, resolver or SystemResolver())
    try:
        async with asyncio.timeout(policy.connect_timeout):
            addresses = await guard.admit(destination.host, destination.port)
    except TimeoutError:
        raise ValidationFailed(
            f"{redact_url(url)}: host {destination.host} did not resolve within "
            f"{policy.connect_timeout:g}s",
            field="url",
        ) from None
    except OutboundFailed as exc:
        raise ValidationFailed(f"{redact_url(url)}: {exc.message}", field="url") from None
    return CheckedUrl(
        url=str(destination.url),
        host=destination.host,
        port=destination.port,
        addresses=addresses,
    )
