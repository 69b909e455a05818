"""Admit a host and port for a connection the HTTP client does not make (SMTP, Apprise).

The rules are those of every HTTP connect: port policy, host form, and every resolved address
checked unless the name or address is allow-listed. Callers connect to a returned address
(pinning it) and use the name only for TLS, so a later DNS answer is never used.
"""

from __future__ import annotations

import asyncio

from core_alerts.outbound.errors import FailReason, OutboundFailed
from core_alerts.outbound.guard import AddressGuard
from core_alerts.outbound.policy import IPAddress, OutboundPolicy
from core_alerts.outbound.resolver import Resolver, SystemResolver


async def admit_host(
    host: str,
    port: int,
    policy: OutboundPolicy,
    *,
    resolver: Resolver | None = None,
) -> tuple[IPAddress, ...]:
    """The checked addresses of `host` (preferred first); connect only to one of these.

    Raises OutboundBlocked when the policy refuses the port, the host form or any address,
    and OutboundFailed (retryable) when the name does not resolve in `policy.connect_timeout`.
    """
    guard = AddressGuard(policy, resolver or SystemResolver())
    try:
        async with asyncio.timeout(policy.connect_timeout):
            return await guard.admit(host, port)
    except TimeoutError:
        raise OutboundFailed(
            f"host {host} did not resolve within {policy.connect_timeout:g}s",
            reason=FailReason.TIMEOUT,
            retryable=True,
        ) from None
