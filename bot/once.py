"""Handled once: an update handled again after a crash sends no reply twice and commits no
write twice.

The inbox (bot/inbox.py) hands an update that was being handled when a process died to the
next process. Two ledgers, both keyed by the update_id, let that second run replay the first:

- The reply ledger (table reply_ledger): every call to Telegram that a person can see (sending,
  editing, deleting, answering a tap) made while handling update U is numbered (U, n). Its row
  is written as "sending" as its request starts to go out (a connection is ready and its first
  bytes are next: `TracedHTTPXRequest`; a request that never got that far is not noted), and
  Telegram's answer is written the moment it is known. On the second run, the n-th call is not
  made if its answer is on record: the recorded answer is returned, so the handler carries on
  as it did the first time. The answer keeps ids only (message id, date, chat id and type),
  never a text.
- The write log (table update_writes): every database transaction committed while handling U is
  numbered too, and commits together with its mark (U, n). On the second run, a transaction
  whose mark is there is rolled back instead of committed, so a journal entry, a check-in
  answer or a slip is saved once. The handler still gets what the transaction returned. The
  mark is inserted in the transaction, so of two runs at once (two replicas) only one commits.

Replay follows the first run step by step. If the second run makes a different call at step
n (its handler took another path, say because the first run's writes changed what it reads),
the reply ledger stops replaying and the calls from there on are made for real. Writes keep
their numbering: a path that differs may have a write rolled back that the first run never
made, which loses that write rather than doubling another.

A call whose answer was not known at the crash (its row says "sending") is the one case in
doubt: its request had been handed to the network, so Telegram most likely has it, but
nothing says so. The policy: it is taken as delivered and not made again, and the handler
carries on as if Telegram had accepted it (a sent message comes back with message id 0, since
its real id is unknown). The exception is an update whose text the safety screen flags
(crisis, danger, abuse or a possible risk): there the call is made again, because a missing
crisis reply is worse than a repeated one. A call that failed on the network without a crash
is left "sending" as well, and follows the same rule if the update is ever handled again.
What no ledger can close: a kill in the instant between the note and the request's first
bytes leaves a note for a reply that never left, and that reply is lost (the floor; see the
README's "Handled once").

Both ledgers' rows go when the update is marked handled (`clear`, in the same transaction as
the inbox's mark). Calls made outside an update (the scheduled check-ins and follow-ups) are not
recorded here: they have their own send ledger (bot/services/checkin.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Connection, delete, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.clock import Clock, SystemClock
from bot.db import Database, handling_writes
from bot.db.models import ReplyLedger, UpdateWrite
from content.screen import screen

log = logging.getLogger(__name__)

# Calls a person can see, by the Bot API method's name. The rest (getMe, sendChatAction,
# getFile, the webhook and command settings) change nothing for the person and are made freely.
_VISIBLE_PREFIXES = ("send", "edit", "copy", "forward", "answer", "stop", "pin", "unpin")
_VISIBLE = frozenset({"deleteMessage", "deleteMessages", "setMessageReaction"})
_INVISIBLE = frozenset({"sendChatAction"})
# What an answer keeps of a message: its ids, never its text.
_MESSAGE_KEYS = ("message_id", "message_thread_id", "date", "chat")


def visible(method: str, params: Mapping[str, Any] | None = None) -> bool:
    """Whether a call of this Bot API method shows the person something (so it goes in the
    reply ledger). A bare answer to a tap only stops the button's spinner: a second one is
    refused harmlessly (handlers/replies.py `settle`), so it is not worth two writes a tap."""
    if method in _INVISIBLE:
        return False
    if method == "answerCallbackQuery":
        return any((params or {}).get(key) for key in ("text", "show_alert", "url"))
    return method in _VISIBLE or method.startswith(_VISIBLE_PREFIXES)


def ids_only(result: Any) -> Any:
    """A call's result with every text dropped: a message keeps its ids, date and chat."""
    if isinstance(result, list):
        return [ids_only(item) for item in result]
    if isinstance(result, dict):
        kept = {key: result[key] for key in _MESSAGE_KEYS if key in result}
        chat = kept.get("chat")
        if isinstance(chat, dict):
            kept["chat"] = {key: chat[key] for key in ("id", "type") if key in chat}
        return kept
    return result


def kept_answer(status: int, body: bytes) -> str:
    """What the ledger keeps of Telegram's answer. An error keeps Telegram's description and
    parameters (its own words, such as retry_after); a success keeps the result's ids only."""
    try:
        data = json.loads(body)
    except ValueError:
        return json.dumps({"ok": False, "error_code": status, "description": "unreadable"})
    if not isinstance(data, dict):
        return json.dumps({"ok": False, "error_code": status, "description": "unreadable"})
    if data.get("ok") is True:
        return json.dumps({"ok": True, "result": ids_only(data.get("result"))})
    kept = {key: data[key] for key in ("ok", "error_code", "description", "parameters")
            if key in data}  # fmt: skip
    return json.dumps(kept)


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def taken_as_delivered(method: str, params: dict[str, Any], now: int) -> bytes:
    """The answer given to a handler for a call taken as delivered without a known answer:
    what Telegram would have said, with message id 0 for a new message whose id is unknown."""
    chat = {"id": _as_int(params.get("chat_id")), "type": "private"}
    result: Any = True
    if method.startswith(("send", "forward")) and method != "sendMediaGroup":
        result = {"message_id": 0, "date": now, "chat": chat}
    elif method == "sendMediaGroup":
        result = [{"message_id": 0, "date": now, "chat": chat}]
    elif method in ("copyMessage", "copyMessages", "forwardMessages"):
        result = {"message_id": 0} if method == "copyMessage" else []
    elif method.startswith("edit") and params.get("message_id") is not None:
        result = {"message_id": _as_int(params.get("message_id")), "date": now, "chat": chat}
    return json.dumps({"ok": True, "result": result}).encode()


@dataclass(frozen=True)
class Recorded:
    method: str
    status: int | None  # None: the request was on its way at a crash
    answer: str | None


class Handling:
    """One update being handled: its place in both ledgers."""

    def __init__(
        self,
        ledger: Ledgers,
        update: Update,
        replies: dict[int, Recorded],
    ) -> None:
        self.ledger = ledger
        self.update = update
        self.update_id = update.update_id
        self.user_id = update.effective_user.id if update.effective_user else None
        self.replies = replies
        self.calls = 0
        self.writes = 0
        self.diverged = False
        self._needs_care: bool | None = None
        self._to_note: tuple[int, str] | None = None

    # --- the write log (bot.db.WriteLog) -------------------------------------------------------

    async def commit(self, session: AsyncSession) -> bool:
        """A transaction of this update is about to commit: add its mark, or, when the mark is
        there already (the first run committed it), say it must be rolled back. The mark is
        written in the transaction itself, so two runs at once (two replicas) cannot both
        commit it: the second one's insert waits for the first and then finds the mark. Only
        transactions that wrote are numbered and marked."""
        await session.flush()  # pending ORM changes are written now, so they count
        if not (await session.connection()).sync_connection.info.get(_WROTE):
            return True  # it only read: nothing to do twice, and no write lock to take
        seq = self.writes
        self.writes += 1
        stmt = (
            self.ledger.insert(UpdateWrite)
            .values(update_id=self.update_id, seq=seq, user_id=self.user_id)
            .on_conflict_do_nothing(index_elements=["update_id", "seq"])
            .returning(UpdateWrite.seq)
        )
        if (await session.execute(stmt)).first() is None:
            log.info("update %s: write %d was committed before; not again", self.update_id, seq)
            return False
        return True

    # --- the reply ledger ----------------------------------------------------------------------

    def needs_care(self) -> bool:
        """Whether the safety screen flags what this update says (then a reply in doubt is
        sent again)."""
        if self._needs_care is None:
            message = self.update.effective_message
            said = (message.text or message.caption or "") if message is not None else ""
            self._needs_care = bool(said) and screen(said).flagged
        return self._needs_care

    async def call(
        self,
        method: str,
        params: dict[str, Any],
        send: Callable[[], Awaitable[tuple[int, bytes]]],
        *,
        traced: bool,
    ) -> tuple[int, bytes]:
        """Make the next call of this update, or replay it. `traced`: the connection notes the
        call itself as its request starts to go out (`on_the_wire`); otherwise it is noted
        just before `send`."""
        seq = self.calls
        self.calls += 1
        known = None if self.diverged else self.replies.get(seq)
        if known is not None and known.method != method:
            log.info("update %s: call %d is %s, not %s as before; made anew from here",
                     self.update_id, seq, method, known.method)  # fmt: skip
            self.diverged = True
            known = None
        if known is not None and known.status is not None and known.answer is not None:
            return known.status, known.answer.encode()
        if known is not None:  # on its way at the crash: the one call in doubt
            if not self.needs_care():
                log.info("update %s: call %d (%s) was on its way at a crash; taken as delivered",
                         self.update_id, seq, method)  # fmt: skip
                now = int(self.ledger.clock.now().timestamp())
                return 200, taken_as_delivered(method, params, now)
            log.info("update %s: call %d (%s) was on its way at a crash; sent again (care)",
                     self.update_id, seq, method)  # fmt: skip
        self._to_note = (seq, method)
        try:
            if not traced:
                await self.on_the_wire()
            status, body = await send()
        finally:
            self._to_note = None
        answer = kept_answer(status, body)
        await self._record(self.ledger.answered(self.update_id, seq, status, answer), "answer")
        return status, body

    async def on_the_wire(self) -> None:
        """Note the call being made as "sending": its request is about to leave. A request
        that never got this far (no connection, say) is not noted, so a second run makes it."""
        if self._to_note is None:
            return
        seq, method = self._to_note
        self._to_note = None
        await self._record(self.ledger.noted(self.update_id, seq, method, self.user_id), "note")

    async def _record(self, stmt: Any, what: str) -> None:
        """Write to the reply ledger, in a short transaction of its own on a connection taken
        only for it (none is held while the handler runs: under a burst of scheduled sends the
        pool is busy), outside the write log. A failure does not stop the reply: the person
        hears back, at the cost of the ledger not knowing."""
        try:
            async with self.ledger.db.write_turn(), self.ledger.db.engine.begin() as conn:
                await conn.execute(stmt)
        except Exception as error:
            log.warning("update %s: reply ledger %s not recorded (%s)",
                        self.update_id, what, type(error).__name__)  # fmt: skip


_handling: ContextVar[Handling | None] = ContextVar("handling", default=None)

# Set on a connection's info by a statement that writes, cleared when a transaction begins.
_WROTE = "once.wrote"


def _begun(conn: Connection) -> None:
    conn.info.pop(_WROTE, None)


def _executing(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
    if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
        conn.info[_WROTE] = True


def watch_writes(db: Database) -> None:
    """Let the write log tell a transaction that wrote from one that only read."""
    engine = db.engine.sync_engine
    if not event.contains(engine, "begin", _begun):
        event.listen(engine, "begin", _begun)
        event.listen(engine, "before_cursor_execute", _executing)


class Ledgers:
    """Both ledgers' storage."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        watch_writes(db)

    def insert(self, table: Any) -> Any:
        return (sqlite.insert if self.db.is_sqlite else postgresql.insert)(table)

    @contextlib.asynccontextmanager
    async def handling(self, update: Update, *, again: bool) -> AsyncIterator[Handling]:
        """Handle `update` inside this block with both ledgers; `again` when it may have been
        handled (in part) before, so the replies the first run recorded are read first."""
        replies: dict[int, Recorded] = {}
        if again:
            try:
                replies = await self.recorded(update.update_id)
            except Exception as error:  # the person hears back, at the risk of a repeat
                log.warning("update %s: its replies so far could not be read (%s)",
                            update.update_id, type(error).__name__)  # fmt: skip
        current = Handling(self, update, replies)
        calls = _handling.set(current)
        writes = handling_writes.set(current)
        try:
            yield current
        finally:
            handling_writes.reset(writes)
            _handling.reset(calls)

    async def recorded(self, update_id: int) -> dict[int, Recorded]:
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                select(ReplyLedger.seq, ReplyLedger.method, ReplyLedger.status,
                       ReplyLedger.answer).where(ReplyLedger.update_id == update_id)
            )  # fmt: skip
            return {seq: Recorded(method, status, answer) for seq, method, status, answer in rows}

    def noted(self, update_id: int, seq: int, method: str, user_id: int | None) -> Any:
        """The statement noting a call as "sending" (anew, if a call in doubt is made again)."""
        stmt = self.insert(ReplyLedger).values(
            update_id=update_id, seq=seq, user_id=user_id, method=method
        )
        return stmt.on_conflict_do_update(
            index_elements=["update_id", "seq"],
            set_={"method": method, "status": None, "answer": None},
        )

    def answered(self, update_id: int, seq: int, status: int, answer: str) -> Any:
        return (
            update(ReplyLedger)
            .where(ReplyLedger.update_id == update_id, ReplyLedger.seq == seq)
            .values(status=status, answer=answer)
        )


async def clear(session: AsyncSession, update_ids: list[int]) -> None:
    """Both ledgers' rows of updates now handled (in the transaction that marks them)."""
    await session.execute(delete(ReplyLedger).where(ReplyLedger.update_id.in_(update_ids)))
    await session.execute(delete(UpdateWrite).where(UpdateWrite.update_id.in_(update_ids)))


class LedgerRequest(BaseRequest):
    """The bot's connection to Telegram with the reply ledger in front: a visible call made
    while an update is being handled goes through its `Handling`; every other call (and every
    call outside an update) goes straight through."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        async def send() -> tuple[int, bytes]:
            return await self.inner.do_request(
                url,
                method,
                request_data=request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )

        current = _handling.get()
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data and current else {}
        if current is None or not visible(api_method, params):
            return await send()
        traced = isinstance(self.inner, TracedHTTPXRequest)
        return await current.call(api_method, params, send, traced=traced)


class TracedHTTPXRequest(HTTPXRequest):
    """PTB's HTTPX connection, telling the reply ledger the moment a request starts to go out
    (httpcore's trace of the request headers being written), so "sending" means the request
    was handed to the network, not merely about to wait for a connection."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(httpx_kwargs={"event_hooks": {"request": [_traced]}}, **kwargs)


async def _traced(request: httpx.Request) -> None:
    if _handling.get() is not None:
        request.extensions["trace"] = _trace


async def _trace(event: str, info: dict[str, Any]) -> None:
    current = _handling.get()
    if current is not None and event.endswith("send_request_headers.started"):
        await current.on_the_wire()
