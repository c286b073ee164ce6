"""Recent taps, so a second tap on the same button moments later is known as a double tap.

Process memory only, in a bounded cache (cachetools): each person's taps are forgotten after the
double-tap window, and the least recently seen people go first when the cache is full, so memory
does not grow with the number of people. Losing it (a restart, another replica) only means a
double tap gets the "out of date" word once more.
"""

from __future__ import annotations

from datetime import timedelta

from cachetools import TTLCache
from telegram import Update

from bot.context import CoachContext

# Two taps on the same button of the same message this close together are one double tap.
DOUBLE_TAP_WINDOW = timedelta(seconds=10)
KEPT_TAPS = 10
KEPT_PEOPLE = 5000
_KEY = "recent_taps"

Tap = tuple[int, int, str, float]  # (update id, message id, callback data, when)


def _recent(context: CoachContext) -> TTLCache[int, list[Tap]]:
    cache = context.bot_data.get(_KEY)
    if cache is None:
        clock = context.services.clock
        cache = context.bot_data[_KEY] = TTLCache(
            maxsize=KEPT_PEOPLE,
            ttl=DOUBLE_TAP_WINDOW.total_seconds(),
            timer=lambda: clock.now().timestamp(),
        )
    return cache


async def remember_tap(update: Update, context: CoachContext) -> None:
    """Note every tap. Never stops the update."""
    query = update.callback_query
    if query is None or query.message is None or update.effective_user is None:
        return
    recent, now = _recent(context), context.services.clock.now().timestamp()
    user_id = update.effective_user.id
    window = DOUBLE_TAP_WINDOW.total_seconds()
    taps = [t for t in recent.get(user_id, []) if now - t[3] <= window][-(KEPT_TAPS - 1) :]
    taps.append((update.update_id, query.message.message_id, query.data or "", now))
    recent[user_id] = taps


def is_double_tap(update: Update, context: CoachContext) -> bool:
    """Whether this tap repeats one on the same button moments ago (already handled)."""
    query = update.callback_query
    if query is None or query.message is None or update.effective_user is None:
        return False
    now, window = context.services.clock.now().timestamp(), DOUBLE_TAP_WINDOW.total_seconds()
    return any(
        update_id != update.update_id
        and message_id == query.message.message_id
        and data == query.data
        and now - at <= window
        for update_id, message_id, data, at in _recent(context).get(update.effective_user.id, [])
    )
