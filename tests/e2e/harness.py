"""The real bot process against a Bot API emulator, and a person who talks to it over HTTP.

Shared by the e2e fixtures (tests/e2e/conftest.py) and bench/e2e_roundtrip.py. The emulator is
telegram-test-api 4.2.1 with our work-arounds (tests/e2e/emulator/server.js); the bot is
`python -m bot`, exactly as it is deployed, with BOT_API_URL pointing at the emulator.

    with running_bot(workdir) as (emulator, bot):
        person = Person(emulator, diagnostics=bot.log_tail)
        person.send("/start", expect="What should I call your ex?")
        person.tap("Skip", expect="When did the breakup happen?")

Every wait here is bounded, everything listens on loopback only, and stopping kills whole
process groups.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
EMULATOR_DIR = Path(__file__).resolve().parent / "emulator"
EMULATOR_VERSION = "4.2.1"
INSTALL_COMMAND = "npm ci --prefix tests/e2e/emulator"
BOT_TOKEN = "123456:e2e-coach-token"
WEBHOOK_SECRET = "e2e-webhook-secret_42"
LOOPBACK = "127.0.0.1"
WAIT_S = 15.0  # the longest a person waits for the bot to answer
START_S = 30.0  # the longest the emulator or the bot may take to come up
STOP_S = 5.0  # grace after SIGTERM before SIGKILL
POLL_S = 0.02  # the pause between looks while waiting
TICK_S = 1.0  # the shared bot's scheduler tick (TICK_SECONDS): due check-ins go out at once

# Settings of ours that must not leak in from the environment running the tests.
BOT_SETTINGS = {
    "BOT_TOKEN",
    "DATABASE_URL",
    "MODE",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "PORT",
    "BOT_API_URL",
    "LOG_LEVEL",
    "DEFAULT_TIMEZONE",
}


class HarnessError(AssertionError):
    """The emulator or the bot did not come up, or the bot did not answer in time."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def emulator_problem() -> str | None:
    """Why the emulator cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed, so the Bot API emulator (telegram-test-api) cannot run"
    package = EMULATOR_DIR / "node_modules" / "telegram-test-api" / "package.json"
    if not package.is_file():
        npm = "" if shutil.which("npm") else " (npm is not installed either)"
        return f"the Bot API emulator is not installed: run `{INSTALL_COMMAND}`{npm}"
    version = json.loads(package.read_text(encoding="utf-8")).get("version")
    if version != EMULATOR_VERSION:
        return (
            f"telegram-test-api {version} is installed but {EMULATOR_VERSION} is required: "
            f"run `{INSTALL_COMMAND}`"
        )
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((LOOPBACK, port)) == 0


def wait_until(
    check: Callable[[], Any],
    timeout: float,
    what: str,
    fail: Callable[[], str] = str,
    interval: float = POLL_S,
) -> Any:
    """Call `check` every `interval` until it returns something truthy; give up after
    `timeout` seconds with a HarnessError saying what was awaited (plus `fail()`)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise HarnessError(f"gave up after {timeout:.0f} s waiting for {what}{fail()}")
        time.sleep(interval)


class Service:
    """A child process in its own process group, its output in a log file."""

    def __init__(self, name: str, argv: list[str], *, cwd: Path, env: dict[str, str], log: Path):
        self.name = name
        self.log_path = log
        self.stopped = False
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def exit_status(self) -> int | None:
        """The exit status once the process has ended (negative: killed by that signal), or
        None while it runs. The process is not reaped here: until stop() reaps it, its process
        group id cannot be handed to another process, so killing the group stays safe."""
        if self.process.returncode is not None:
            return self.process.returncode
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return self.process.poll()
        if info is None:
            return None
        return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

    def running(self) -> bool:
        return self.exit_status() is None

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        tail = self.log().splitlines()[-lines:]
        return f"\n--- last lines of the {self.name} log ({self.log_path}) ---\n" + "\n".join(tail)

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def stop(self, grace: float = STOP_S) -> int | None:
        """SIGTERM the process group, SIGKILL it after `grace`, and reap the leader. Only the
        first call does anything."""
        if self.stopped:
            return self.process.returncode
        self.stopped = True
        try:
            if self.running():
                self._signal_group(signal.SIGTERM)
                deadline = time.monotonic() + grace
                while self.running() and time.monotonic() < deadline:
                    time.sleep(POLL_S)
            self._signal_group(signal.SIGKILL)  # stragglers, or a leader that ignored SIGTERM
            try:
                return self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                return None
        finally:
            self._log.close()

    def kill(self) -> None:
        """kill -9 the process group at once (no SIGTERM first), then reap it."""
        self._signal_group(signal.SIGKILL)
        self.stop()

    def wait_exit(self, timeout: float) -> int:
        """Wait for the process to end by itself; its exit status."""
        wait_until(lambda: not self.running(), timeout, f"the {self.name} to exit")
        status = self.exit_status()
        assert status is not None
        return status


class Emulator(Service):
    """telegram-test-api with our work-arounds, on a free loopback port."""

    READY = re.compile(r"^ready: telegram-test-api \S+ on (http://\S+)$", re.MULTILINE)

    def __init__(self, workdir: Path, port: int, tokens: tuple[str, ...]):
        argv = ["node", str(EMULATOR_DIR / "server.js"), "--port", str(port)]
        for token in tokens:
            argv += ["--token", token]
        env = {k: v for k, v in os.environ.items() if not k.startswith("EMULATOR_")}
        super().__init__("emulator", argv, cwd=EMULATOR_DIR, env=env, log=workdir / "emulator.log")
        self.port = port
        self.url = f"http://{LOOPBACK}:{port}"
        self.http = httpx.Client(base_url=self.url, timeout=10.0, trust_env=False)

    @classmethod
    def start(cls, workdir: Path, tokens: tuple[str, ...] = (BOT_TOKEN,)) -> Emulator:
        problem = emulator_problem()
        if problem:
            raise HarnessError(problem)
        workdir.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):  # a free port can be taken between probing and binding
            emulator = cls(workdir, free_port(), tokens)
            try:
                wait_until(
                    lambda e=emulator: cls.READY.search(e.log()) or not e.running(),
                    START_S,
                    "the emulator's ready line",
                    emulator.log_tail,
                )
            except HarnessError:
                emulator.close()
                raise
            if emulator.running():
                return emulator
            code = emulator.exit_status()
            log = emulator.log()
            emulator.close()
            if code != 4:  # 4: the port was taken; anything else is a real problem
                raise HarnessError(f"the emulator exited with {code}:\n{log}")
        raise HarnessError("the emulator could not find a free port in three attempts")

    def close(self) -> None:
        self.http.close()
        self.stop()

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.http.post(path, json=body)
        data = response.json()
        if not data.get("ok"):
            raise HarnessError(f"emulator {path}: {data.get('description')}")
        return data["result"]

    def state(self) -> dict[str, Any]:
        return self.http.get("/fixture/state").json()["result"]

    def events(self, token: str, chat_id: int, after: int = 0) -> list[dict[str, Any]]:
        body = {"token": token, "chat_id": chat_id, "after": after}
        return self._post("/fixture/events", body)["events"]

    def seq(self) -> int:
        return self.state()["seq"]

    def messages(self, token: str, chat_id: int) -> list[dict[str, Any]]:
        return self._post("/fixture/messages", {"token": token, "chat_id": chat_id})

    def file(self, file_id: str) -> bytes:
        response = self.http.get(f"/fixture/file/{file_id}")
        response.raise_for_status()
        return response.content


class BotProcess(Service):
    """`python -m bot`, polling or webhook, talking to the emulator."""

    def __init__(
        self,
        emulator: Emulator,
        workdir: Path,
        *,
        mode: str = "polling",
        token: str = BOT_TOKEN,
        env: dict[str, str] | None = None,
        name: str = "bot",
        public_url: str | None = None,
    ):
        """`public_url`: in webhook mode, the URL given to Telegram when it is not the bot's
        own (a load balancer in front of several replicas); the bot still listens on its own
        port, at the same path."""
        workdir.mkdir(parents=True, exist_ok=True)
        self.emulator = emulator
        self.token = token
        self.mode = mode
        self.database = workdir / "coach.sqlite3"
        clean = {k: v for k, v in os.environ.items() if k not in BOT_SETTINGS}
        no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY"), LOOPBACK, "localhost"]))
        ours = {
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "NO_PROXY": no_proxy,
            "no_proxy": no_proxy,
            "BOT_TOKEN": token,
            "BOT_API_URL": emulator.url,
            "DATABASE_URL": f"sqlite:///{self.database}",
            "LOG_LEVEL": "INFO",
        }
        self.webhook_port: int | None = None
        self.webhook_url: str | None = None
        self.public_url: str | None = None
        if mode == "webhook":
            self.webhook_port = free_port()
            self.webhook_url = f"http://{LOOPBACK}:{self.webhook_port}/telegram"
            self.public_url = public_url or self.webhook_url
            ours |= {
                "MODE": "webhook",
                "WEBHOOK_URL": self.public_url,
                "WEBHOOK_SECRET": WEBHOOK_SECRET,
                "PORT": str(self.webhook_port),
            }
        else:
            ours["MODE"] = "polling"
        argv = [sys.executable, "-m", "bot"]
        env = {**clean, **ours, **(env or {})}
        super().__init__(name, argv, cwd=workdir, env=env, log=workdir / f"{name}.log")

    @classmethod
    def start(cls, emulator: Emulator, workdir: Path, **kwargs: Any) -> BotProcess:
        bot = cls(emulator, workdir, **kwargs)
        try:
            bot.wait_ready()
        except BaseException:
            bot.stop()
            raise
        return bot

    def ready(self) -> bool:
        state = self.emulator.state()
        if self.mode == "webhook":
            hook = state["webhooks"].get(self.token) or {}
            return hook.get("url") == self.public_url and port_open(self.webhook_port or 0)
        return self.token in state["polling"]

    def wait_ready(self, timeout: float = START_S) -> None:
        def check() -> bool:
            if not self.running():
                raise HarnessError(f"the bot exited with {self.exit_status()}{self.log_tail()}")
            return self.ready()

        what = "the bot to poll" if self.mode == "polling" else "the bot's webhook"
        wait_until(check, timeout, what, self.log_tail)


@contextlib.contextmanager
def running_bot(workdir: Path, *, mode: str = "polling") -> Iterator[tuple[Emulator, BotProcess]]:
    """The emulator and the bot, both stopped however the block ends."""
    emulator = Emulator.start(workdir)
    try:
        bot = BotProcess.start(emulator, workdir, mode=mode)
        try:
            yield emulator, bot
        finally:
            bot.stop()
    finally:
        emulator.close()


# --- the person's side ------------------------------------------------------------------------


def _shown(event: dict[str, Any]) -> str:
    message = event.get("message") or {}
    return message.get("text") or message.get("caption") or ""


def describe(event: dict[str, Any]) -> str:
    """One event as a line of a chat transcript."""
    kind = event["type"]
    if kind == "user_message":
        return f"you> {event['text']}"
    if kind == "callback_query":
        return f"you tapped [{event['data']}] on message {event['message_id']}"
    if kind == "message":
        message = event["message"]
        attached = next((f" [{kind}]" for kind in ("photo", "document") if kind in message), "")
        return f"bot>{attached} {_shown(event)}"
    if kind == "edit":
        return f"bot (edited message {event['message_id']})> {_shown(event)}"
    if kind == "callback_answer":
        return f"bot answered the tap: {event['text']!r}"
    return f"bot {event.get('method', kind)}: {event}"


@dataclass
class Reply:
    """What the bot did in a chat after one of the person's actions, in order: the emulator's
    events `message` (sendMessage/sendPhoto/sendDocument), `edit`, `delete`, `callback_answer`
    and `chat_action`, plus the person's own `user_message` and `callback_query`."""

    events: list[dict[str, Any]]

    def _bot(self, *types: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] in types]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """New messages from the bot, as the person's Telegram would show them."""
        return [e["message"] for e in self._bot("message")]

    @property
    def sent(self) -> list[str]:
        return [_shown(e) for e in self._bot("message")]

    @property
    def edits(self) -> list[str]:
        return [_shown(e) for e in self._bot("edit") if e["method"] == "editMessageText"]

    @property
    def answers(self) -> list[dict[str, Any]]:
        """The bot's answerCallbackQuery calls (text, show_alert) for the person's taps."""
        return self._bot("callback_answer")

    @property
    def documents(self) -> list[dict[str, Any]]:
        return [
            e["message"]["document"] for e in self._bot("message") if "document" in e["message"]
        ]

    @property
    def photos(self) -> list[list[dict[str, Any]]]:
        """Each photo the bot sent, as its list of sizes (the largest last, as in Telegram)."""
        return [e["message"]["photo"] for e in self._bot("message") if "photo" in e["message"]]

    @property
    def text(self) -> str:
        """Everything sent and edited, joined (for `in` checks)."""
        return "\n".join(self.edits + self.sent)

    def count(self, method: str) -> int:
        return sum(1 for e in self.events if e.get("method") == method)


@dataclass
class Person:
    """Someone chatting with the bot through the emulator, the way the Telegram app would.

    Every action takes an optional `expect`: text the bot's answer must contain (in a new or
    edited message). The action then waits for it (at most `wait_s`) and returns the Reply with
    everything the bot did since the action; without `expect` it returns at once.
    """

    emulator: Emulator
    token: str = BOT_TOKEN
    user_id: int = 1001
    first_name: str = "Sam"
    language_code: str = "en"
    username: str | None = None
    wait_s: float = WAIT_S
    poll_s: float = POLL_S
    diagnostics: Callable[[], str] = str
    _since: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._since = self.emulator.seq()

    @property
    def chat_id(self) -> int:
        return self.user_id  # a private chat's id is the person's id

    def _who(self) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }
        if self.username:
            user["username"] = self.username
        return {
            "botToken": self.token,
            "from": user,
            "chat": {"id": self.chat_id, "type": "private", "first_name": self.first_name},
        }

    def _act(self, path: str, body: dict[str, Any], expect: str | None) -> Reply:
        self._since = self.emulator.seq()
        self.emulator._post(path, {**self._who(), **body})
        if expect is None:
            return Reply(self.events(self._since))
        return self.wait_for(expect)

    # -- actions

    def send(self, text: str, *, expect: str | None = None) -> Reply:
        """Type a message. One starting with a /command goes as a command."""
        if re.match(r"^/[A-Za-z0-9_]+", text):
            name, _, args = text[1:].partition(" ")
            return self.command(name, args, expect=expect)
        return self._act("/sendMessage", {"text": text}, expect)

    def command(self, name: str, args: str = "", *, expect: str | None = None) -> Reply:
        """Send /name (with a bot_command entity, as Telegram marks it)."""
        text = f"/{name}" + (f" {args}" if args else "")
        entity = {"type": "bot_command", "offset": 0, "length": len(name) + 1}
        return self._act("/sendCommand", {"text": text, "entities": [entity]}, expect)

    def tap(
        self, label: str, *, expect: str | None = None, message: dict[str, Any] | None = None
    ) -> Reply:
        """Tap the button labelled `label` (or containing it) on the newest message with
        buttons, or on `message`."""
        message = message or self.last_keyboard_message()
        buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
        chosen = next((b for b in buttons if b["text"] == label), None) or next(
            (b for b in buttons if label in b["text"]), None
        )
        if chosen is None:
            labels = [b["text"] for b in buttons]
            raise AssertionError(f"no button {label!r}; buttons are {labels}")
        if "callback_data" not in chosen:
            raise AssertionError(f"button {label!r} is not a callback button: {chosen}")
        return self.tap_data(chosen["callback_data"], message, expect=expect)

    def tap_data(
        self, data: str, message: dict[str, Any] | None = None, *, expect: str | None = None
    ) -> Reply:
        """Press a button with this callback data on `message` (or the newest with buttons)."""
        message = message or self.last_keyboard_message()
        return self._act(
            "/sendCallback", {"message_id": message["message_id"], "data": data}, expect
        )

    # -- what the person sees

    def events(self, after: int = 0) -> list[dict[str, Any]]:
        return self.emulator.events(self.token, self.chat_id, after)

    def messages(self) -> list[dict[str, Any]]:
        """The bot's messages in the chat as they are now (edited, deleted ones gone)."""
        return self.emulator.messages(self.token, self.chat_id)

    def last_keyboard_message(self) -> dict[str, Any]:
        for message in reversed(self.messages()):
            if (message.get("reply_markup") or {}).get("inline_keyboard"):
                return message
        raise AssertionError("no message with buttons in the chat")

    def buttons(self) -> list[str]:
        rows = self.last_keyboard_message()["reply_markup"]["inline_keyboard"]
        return [b["text"] for row in rows for b in row]

    def wait_for(self, text: str, *, since: int | None = None) -> Reply:
        """Wait until a bot message sent or edited after `since` (default: the last action)
        contains `text`; return everything since then."""
        return self.wait_until(
            lambda reply: any(text in _shown(e) for e in reply._bot("message", "edit")),
            f"a message containing {text!r}",
            since=since,
        )

    def wait_until(
        self, done: Callable[[Reply], bool], what: str, *, since: int | None = None
    ) -> Reply:
        """Wait until `done(reply)` holds for what the bot did since `since`."""
        start = self._since if since is None else since
        latest = Reply([])

        def check() -> Reply | None:
            nonlocal latest
            latest = Reply(self.events(start))
            return latest if done(latest) else None

        def report() -> str:
            said = "\n".join(f"  {describe(e)}" for e in latest.events)
            return f"; the chat since then:\n{said or '  (nothing)'}{self.diagnostics()}"

        return wait_until(check, self.wait_s, what, report, self.poll_s)


# The time-zone step's buttons (content/timezones.yaml) with their zones.
CITY_ZONES = {
    "London": "Europe/London",
    "Berlin / Paris": "Europe/Berlin",
    "New York": "America/New_York",
    "Chicago": "America/Chicago",
    "Los Angeles": "America/Los_Angeles",
    "India": "Asia/Kolkata",
    "Sydney": "Australia/Sydney",
}


def daytime_city() -> str:
    """A time-zone button where it is daytime now (09:00-18:59), so that advice is not
    held back by the late-night rule whenever the tests run."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    now = datetime.now(UTC)
    for city, zone in CITY_ZONES.items():
        if 9 <= now.astimezone(ZoneInfo(zone)).hour <= 18:
            return city
    raise AssertionError("no time-zone button is in daytime now")  # the zones span the day


def intake_until_the_hour(person: Person, city: str = "London") -> None:
    """The intake over HTTP, up to the check-in hour question."""
    person.send("/start", expect="What should I call your ex?")
    person.send("Alex", expect="When did the breakup happen?")
    person.tap("This week", expect="When were you last in touch")
    person.tap("Not since the breakup", expect="Who ended it?")
    person.tap("They did", expect="Is there anything you share")
    person.tap("Done", expect="Was there abuse")
    person.tap("No", expect="What do you want most")
    person.tap("To get them back", expect="Where are you?")
    person.tap(city, expect="What time of day")


# --- many people due at once, straight in the bot's database (fault and load tests) ------------


def make_due(
    database: Path,
    user_ids: range,
    *,
    checkins: bool = True,
    follow_ups: bool | range = False,
) -> None:
    """Set up `user_ids` as people who finished the intake, with their check-in due now and/or
    a held draft whose follow-up is due now (for all of them, or for the range given): written
    straight into the bot's SQLite database (it must have migrated already), so a test can make
    hundreds due in a moment."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import create_engine, insert

    from bot.db.models import Profile, Urge, User

    now = datetime.now(UTC)
    due = now - timedelta(seconds=1)
    engine = create_engine(f"sqlite:///{database}", connect_args={"timeout": 30})
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(User),
                [{"id": i, "chat_id": i, "first_name": "Sam", "language_code": "en",
                  "is_active": True, "created_at": now, "last_seen_at": now} for i in user_ids],
            )  # fmt: skip
            conn.execute(
                insert(Profile),
                [{"user_id": i, "ex_name": "Alex", "timezone": "UTC", "checkin_hour": due.hour,
                  "intake_completed_at": now, "updated_at": now, "phase": "no_contact",
                  "no_contact_started_on": now.date(),
                  "next_checkin_at": due if checkins else None} for i in user_ids],
            )  # fmt: skip
            if follow_ups:
                conn.execute(
                    insert(Urge),
                    [{"user_id": i, "at": due, "local_hour": due.hour, "strength": "strong",
                      "source": "draft", "outcome": "pending", "draft": "miss you",
                      "follow_up_at": due}
                     for i in (follow_ups if isinstance(follow_ups, range) else user_ids)],
                )  # fmt: skip
    finally:
        engine.dispose()


def open_chats(emulator: Emulator, user_ids: range, token: str = BOT_TOKEN) -> None:
    """Their private chats exist in the emulator, as if each had pressed Start long ago."""
    emulator._post("/fixture/chats", {"token": token, "chat_ids": list(user_ids)})


def ledger_rows(database: Path, user_ids: range) -> list[tuple[int, str, int]]:
    """(user_id, status, attempts) of every check-in row of these people."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        return conn.execute(
            "SELECT user_id, status, attempts FROM checkins WHERE user_id BETWEEN ? AND ?",
            (user_ids.start, user_ids.stop - 1),
        ).fetchall()


def open_follow_ups(database: Path, user_ids: range, *, begun: bool = False) -> list[int]:
    """People whose follow-up is claimed (or, with `begun`, being sent) without a result."""
    import sqlite3

    claimed = "follow_up_attempts > 0" if begun else "follow_up_claimed_at IS NOT NULL"
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        rows = conn.execute(
            "SELECT user_id FROM urges WHERE user_id BETWEEN ? AND ? "
            f"AND follow_up_at IS NOT NULL AND {claimed}",
            (user_ids.start, user_ids.stop - 1),
        ).fetchall()
    return [user_id for (user_id,) in rows]


def kill_9(bot: Service) -> None:
    """kill -9 the whole process group, then reap it."""
    bot._signal_group(signal.SIGKILL)
    bot.stop(grace=1)
