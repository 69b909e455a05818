"""Fixtures every channel test may use: a channel context (see builders.py) and a recording
receiver on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core_alerts.notify.channels.base import ChannelContext
from tests.support.receiver import Receiver
from tests.unit.notify.channels.builders import channel_context


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as server:
        yield server


@pytest.fixture
async def ctx() -> AsyncIterator[ChannelContext]:
    async with channel_context() as context:
        yield context
