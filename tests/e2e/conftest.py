"""Fixtures for the e2e tier over real HTTP: the Bot API emulator, the real `python -m bot`
process pointed at it, and people who talk to the bot (all built in tests/e2e/harness.py).

- `person`: someone new (their own user id and chat) talking to one bot process that the whole
  session shares. Starting the bot takes a second or two, so most tests should use this.
- `emulator`, `start_bot(...)`, `bot`: an emulator and bot processes of the test's own, for
  tests about starting, stopping, webhook mode or settings. Each bot's working directory holds
  its SQLite database and log (tmp_path for the first one).

Without node or the installed emulator (`npm ci --prefix tests/e2e/emulator`) these tests are
skipped locally with the reason, and fail in CI (CI=true), where this tier must run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    TICK_S,
    BotProcess,
    Emulator,
    Person,
    Service,
    emulator_problem,
    in_ci,
)

_FAILED = pytest.StashKey[bool]()
_user_ids = itertools.count(1001)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


def _show_logs_if_failed(request: pytest.FixtureRequest, services: list[Service]) -> None:
    if request.node.stash.get(_FAILED, False):
        for service in services:
            print(service.log_tail(80))


@pytest.fixture(scope="session")
def emulator_installed() -> None:
    problem = emulator_problem()
    if problem:
        if in_ci():
            pytest.fail(f"{problem} (CI requires the e2e tier over HTTP)", pytrace=False)
        pytest.skip(problem)


# --- one emulator and bot for the whole session -------------------------------------------------


@pytest.fixture(scope="session")
def shared_emulator(
    emulator_installed: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Emulator]:
    emu = Emulator.start(tmp_path_factory.mktemp("shared-emulator"))
    yield emu
    emu.close()


@pytest.fixture(scope="session")
def shared_bot(
    shared_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotProcess]:
    """`python -m bot`, long polling, shared by every test that uses `person`. Its scheduler
    ticks every TICK_S seconds, so a check-in made due in its database goes out at once."""
    bot = BotProcess.start(
        shared_emulator,
        tmp_path_factory.mktemp("shared-bot"),
        env={"TICK_SECONDS": str(TICK_S)},
    )
    yield bot
    bot.stop()


@pytest.fixture
def person(
    shared_emulator: Emulator, shared_bot: BotProcess, request: pytest.FixtureRequest
) -> Iterator[Person]:
    """Sam, new to the bot: a user id (and private chat) no other test uses."""
    if not shared_bot.running():
        pytest.fail(f"the shared bot has stopped{shared_bot.log_tail()}", pytrace=False)
    yield Person(shared_emulator, user_id=next(_user_ids), diagnostics=shared_bot.log_tail)
    _show_logs_if_failed(request, [shared_bot, shared_emulator])


# --- an emulator and bots of the test's own ---------------------------------------------------


@pytest.fixture
def emulator(emulator_installed: None, tmp_path: Path) -> Iterator[Emulator]:
    """telegram-test-api 4.2.1 with our work-arounds, on a free loopback port."""
    emu = Emulator.start(tmp_path)
    yield emu
    emu.close()


@pytest.fixture
def start_bot(
    emulator: Emulator, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., BotProcess]]:
    """start_bot(mode="webhook", token=..., env={...}, wait=True, workdir=None) starts
    `python -m bot` against `emulator`; every bot started is stopped after the test."""
    started: list[BotProcess] = []

    def start(*, wait: bool = True, workdir: Path | None = None, **kwargs: Any) -> BotProcess:
        """A second bot gets its own directory and database unless given `workdir`."""
        if workdir is None:
            workdir = tmp_path / f"bot{len(started)}" if started else tmp_path
        bot = BotProcess(emulator, workdir, name=f"bot{len(started) or ''}", **kwargs)
        started.append(bot)
        if wait:
            bot.wait_ready()
        return bot

    yield start
    for bot in reversed(started):
        bot.stop()
    _show_logs_if_failed(request, [*started, emulator])


@pytest.fixture
def bot(start_bot: Callable[..., BotProcess]) -> BotProcess:
    """A bot of the test's own, long polling."""
    return start_bot()
