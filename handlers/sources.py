"""/sources: the five articles the coach's advice comes from, by title (and author and date
where the article names them), and how the "From:" lines and the coach's own defaults read."""

from __future__ import annotations

from telegram import Update

from bot.context import CoachContext
from content.loader import render_sources
from handlers.replies import reply


async def show_sources(update: Update, context: CoachContext) -> None:
    await reply(update, context, render_sources(context.texts))
