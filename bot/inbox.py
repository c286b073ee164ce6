"""The inbox: every update is written down before Telegram is told it arrived, then handled
from there.

- `accept` records an update (its update_id is the key, so a second delivery of the same
  update is dropped) and claims it for this process. Only after it returns does the webhook
  answer 200, or the poller confirm the update with the next getUpdates offset.
- `done` marks it handled and blanks the raw JSON, which holds what the person wrote.
- `reclaim` hands back updates that were accepted but never handled: by a process that crashed
  (its claim is older than the lease) or, at start-up on SQLite where one process is the rule,
  by the previous run of this one. A process refreshes the claims of the updates it holds with
  `heartbeat`, so a slow update is not taken over while it is still being handled.
- `prune` deletes handled rows after a day.
- `turn(user_id)` lets one person's updates through one at a time: in this process with an
  asyncio lock, across processes on PostgreSQL with a transaction-level advisory lock on the
  user id. Different people never wait for each other.

Nothing accepted is lost: an update being handled when the process dies is handled again by
whoever picks it up. What its first run did is not done twice: while an update is handled, its
replies go in the reply ledger and its database writes are marked (bot/once.py), and `done`
deletes both in the transaction that marks the update handled. The policy for the one call in
doubt (a request on its way at the crash, its answer unknown): it is taken as delivered and not
repeated, except a reply to an update the safety screen flags (crisis, danger, abuse), which is
sent again, because a missing crisis reply is worse than a repeated one. So a kill can cost at
most a reply noted but not yet gone (one per update being handled), and repeats nothing but
that crisis reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import weakref
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.clock import Clock, SystemClock
from bot.db import Database
from bot.db.models import InboxUpdate, ReplyLedger, UpdateWrite
from bot.once import clear

# How long a claim holds without a heartbeat before another process may take the update over.
# The bot's own default: long enough for a slow reply through the rate limiter, short enough
# that a crashed replica's backlog is picked up within a minute.
LEASE = timedelta(seconds=30)
# Handled rows are kept this long so a late second delivery of the same update is recognised.
KEEP_HANDLED = timedelta(days=1)
RECLAIM_BATCH = 500
# Advisory lock keys of "a person's turn": Telegram user ids fit in 52 bits, and the bits above
# name this use, so the keys never meet another advisory lock's.
_TURN_KEYS = 0x1C7 << 52
_USER_BITS = (1 << 52) - 1


class BadUpdate(ValueError):
    """The body is not a Telegram update: not a JSON object with an integer update_id."""


def update_id_of(data: object) -> int:
    """The update_id of a decoded webhook body, or BadUpdate."""
    if not isinstance(data, dict):
        raise BadUpdate("not a JSON object")
    update_id = data.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int):
        raise BadUpdate("no integer update_id")
    if not 0 <= update_id < 2**63:
        raise BadUpdate("update_id out of range")
    return update_id


def sender_of(data: Mapping[str, Any]) -> int | None:
    """The id of the person an update comes from, read from the raw JSON (every kind of update
    carries it in its one payload object as `from` or `user`)."""
    for key, value in data.items():
        if key == "update_id" or not isinstance(value, Mapping):
            continue
        who = value.get("from") or value.get("user")
        if isinstance(who, Mapping) and isinstance(who.get("id"), int):
            user_id = who["id"]
            return user_id if -(2**63) <= user_id < 2**63 else None
    return None


@dataclass(frozen=True)
class Pending:
    update_id: int
    payload: dict[str, Any] | None


class Inbox:
    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        *,
        lease: timedelta = LEASE,
    ) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.lease = lease
        self._people: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def _insert(self) -> Any:
        return sqlite.insert if self.db.is_sqlite else postgresql.insert

    async def accept(self, data: Mapping[str, Any]) -> bool:
        """Record one update and claim it; False when this update_id was seen before."""
        return bool(await self.accept_many([data]))

    async def accept_many(self, batch: Iterable[Mapping[str, Any]]) -> list[int]:
        """Record updates and claim them; returns the ids that were new, in the given order."""
        now = self.clock.now()
        rows = [
            {
                "update_id": update_id_of(data),
                "user_id": sender_of(data),
                "received_at": now,
                "claimed_at": now,
                "payload": json.dumps(data, ensure_ascii=False, separators=(",", ":")),
            }
            for data in batch
        ]
        if not rows:
            return []
        stmt = (
            self._insert()(InboxUpdate)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["update_id"])
            .returning(InboxUpdate.update_id)
        )
        async with self.db.transaction() as session:
            new = set((await session.scalars(stmt)).all())
        return [row["update_id"] for row in rows if row["update_id"] in new]

    async def done(self, update_id: int) -> None:
        """The update was handled: mark it, forget what it said, and drop its ledger rows
        (bot/once.py), all in one transaction."""
        async with self.db.transaction() as session:
            await session.execute(
                update(InboxUpdate)
                .where(InboxUpdate.update_id == update_id)
                .values(processed_at=self.clock.now(), payload=None)
            )
            await clear(session, [update_id])

    async def forget(self, update_id: int) -> None:
        """Remove an update that is not for the bot to keep (one from outside a private chat):
        nothing of it stays, not even who sent it."""
        async with self.db.transaction() as session:
            await session.execute(delete(InboxUpdate).where(InboxUpdate.update_id == update_id))
            await clear(session, [update_id])

    async def heartbeat(self, update_ids: Iterable[int]) -> None:
        """Renew this process's claim on the updates it still holds."""
        ids = list(update_ids)
        if not ids:
            return
        async with self.db.transaction() as session:
            await session.execute(
                update(InboxUpdate)
                .where(InboxUpdate.update_id.in_(ids), InboxUpdate.processed_at.is_(None))
                .values(claimed_at=self.clock.now())
            )

    async def reclaim(
        self, *, everything: bool = False, limit: int = RECLAIM_BATCH
    ) -> list[Pending]:
        """Claim updates that were accepted but never handled, oldest first: those whose claim
        has run out, or (`everything`, at start-up when one process is the rule) all of them.
        Two processes reclaiming at once never both get the same update: the claim
        is re-checked under the row lock of the UPDATE."""
        now = self.clock.now()
        free = InboxUpdate.processed_at.is_(None)
        if not everything:
            free = free & or_(
                InboxUpdate.claimed_at.is_(None), InboxUpdate.claimed_at < now - self.lease
            )
        oldest = (
            select(InboxUpdate.update_id).where(free).order_by(InboxUpdate.update_id).limit(limit)
        )
        stmt = (
            update(InboxUpdate)
            .where(InboxUpdate.update_id.in_(oldest.scalar_subquery()), free)
            .values(claimed_at=now)
            .returning(InboxUpdate.update_id, InboxUpdate.payload)
        )
        async with self.db.transaction() as session:
            rows = (await session.execute(stmt)).all()
        pending = []
        for update_id, payload in sorted(rows):
            try:
                data = json.loads(payload) if payload else None
            except ValueError:
                data = None
            pending.append(Pending(update_id, data if isinstance(data, dict) else None))
        return pending

    async def prune(self) -> int:
        """Delete rows handled more than a day ago, and any ledger rows (bot/once.py) left
        without an unhandled update; returns how many inbox rows went."""
        cutoff = self.clock.now() - KEEP_HANDLED
        unhandled = select(InboxUpdate.update_id).where(InboxUpdate.processed_at.is_(None))
        async with self.db.transaction() as session:
            result = await session.execute(
                delete(InboxUpdate).where(InboxUpdate.processed_at < cutoff)
            )
            for table in (ReplyLedger, UpdateWrite):
                await session.execute(delete(table).where(table.update_id.not_in(unhandled)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def handled(self, update_id: int) -> bool:
        """Whether the update is marked handled (by this process or another)."""
        async with self.db.sessions() as session:
            at = await session.scalar(
                select(InboxUpdate.processed_at).where(InboxUpdate.update_id == update_id)
            )
        return at is not None

    async def unhandled(self) -> int:
        async with self.db.sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(InboxUpdate)
                .where(InboxUpdate.processed_at.is_(None))
            )
        return int(count or 0)

    @contextlib.asynccontextmanager
    async def turn(self, user_id: int | None) -> AsyncIterator[None]:
        """Hold the person's turn while one of their updates is handled."""
        if user_id is None:
            yield
            return
        lock = self._people.get(user_id)
        if lock is None:
            lock = self._people[user_id] = asyncio.Lock()
        async with lock:
            if self.db.is_sqlite:  # one process is the rule on SQLite: the lock above is enough
                yield
                return
            # The lock is released when this transaction ends, whatever happens to the
            # process. It is taken on the driver's own connection, in two round trips (BEGIN
            # and the lock in one, COMMIT in the other); the key is an int, formatted as one.
            # A pooled connection is not pinged when it was used a moment ago (bot/db), so one
            # lost in that moment fails here, is dropped, and a new one takes the lock.
            key = int(_TURN_KEYS | (user_id & _USER_BITS))
            for last_try in (False, True):
                async with self.db.engine.connect() as conn:
                    raw = (await conn.get_raw_connection()).driver_connection
                    try:
                        await raw.execute(f"BEGIN; SELECT pg_advisory_xact_lock({key})")
                    except Exception:
                        await conn.invalidate()
                        if last_try:
                            raise
                        continue
                    except BaseException:  # cancelled while waiting: never pool it mid-transaction
                        await conn.invalidate()
                        raise
                    try:
                        yield
                    finally:
                        try:
                            await raw.execute("COMMIT")
                        except BaseException:
                            await conn.invalidate()
                            raise
                    return
