"""/progress: a picture of mood over time, with a short summary as its caption.

The chart is drawn off-screen (bot/services/progress.py) in a worker thread, so drawing never
holds up other people's updates.
"""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.context import CoachContext
from bot.services.progress import ChartLabels, NotStarted, render_chart
from content.loader import Texts
from handlers.replies import not_set_up, settle

AREA = "progress"
FILENAME = "progress.png"


def chart_labels(texts: Texts) -> ChartLabels:
    return ChartLabels(
        title=texts.render("progress.chart.title"),
        mood_axis=texts.render("progress.chart.mood_axis"),
        mood=texts.render("progress.chart.mood"),
        no_contact=texts.render("progress.chart.no_contact"),
        slip=texts.render("progress.chart.slip"),
        milestone=texts.render("progress.chart.milestone"),
        empty=texts.render("progress.chart.empty"),
    )


async def show_progress(update: Update, context: CoachContext) -> None:
    chat = update.effective_chat
    assert update.effective_user is not None and chat is not None
    if update.callback_query is not None:
        await settle(update.callback_query)
    texts = context.texts
    try:
        report = await context.services.progress.report(update.effective_user.id)
    except NotStarted:
        await not_set_up(update, context)
        return
    png = await asyncio.to_thread(render_chart, report.chart, chart_labels(texts))
    phase = context.services.program.program.phase(report.phase)
    caption = texts.render(
        "progress.caption",
        phase=phase.name,
        day=report.day_of_plan,
        current=report.current_streak,
        total=report.total_no_contact,
        resisted=report.urges_resisted,
        checkins=report.checkins,
    )
    if report.slips:
        caption += "\n" + texts.render("progress.caption_slips", slips=report.slips)
    await context.bot.send_photo(chat.id, photo=png, caption=caption, filename=FILENAME)
