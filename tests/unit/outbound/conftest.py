"""Fixtures for the outbound tests: a real aiohttp server on loopback and a name table."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core_alerts.outbound import AllowList, OutboundPolicy
from tests.unit.outbound.local_servers import AppServer, StaticResolver


@pytest.fixture
async def app_server() -> AsyncIterator[AppServer]:
    async with AppServer() as server:
        yield server


@pytest.fixture
def names() -> StaticResolver:
    """hooks.test and other.test both live on 127.0.0.1 (different origins, same server)."""
    return StaticResolver({"hooks.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})


@pytest.fixture
def loopback_allowed() -> OutboundPolicy:
    return OutboundPolicy(allow=AllowList.parse(["127.0.0.1/32"]))
