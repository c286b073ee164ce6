from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import FakeClock
from bot.db import Database
from bot.settings import Settings
from tests.handlers.driver import Person


@pytest.fixture
async def person(settings: Settings, db: Database, clock: FakeClock) -> AsyncIterator[Person]:
    someone = Person(settings=settings, db=db, clock=clock)
    await someone.open()
    yield someone
    await someone.close()
