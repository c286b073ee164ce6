"""/progress: a picture of mood over time, with a short summary as its caption.

The chart is drawn off-screen (bot/services/progress.py) in a worker thread, so drawing never
holds up other people's updates.
"""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.context import CoachContext
from bot.services.program import NotStarted as ProgramNotStarted
from bot.services.progress import ChartLabels, NotStarted, render_chart
from content.loader import Texts
from content.program import NO_CONTACT
from handlers.replies import for_distance, not_set_up, settle

AREA = "progress"
FILENAME = "progress.png"


def chart_labels(texts: Texts, distance: str = NO_CONTACT) -> ChartLabels:
    return ChartLabels(
        title=texts.render("progress.chart.title"),
        mood_axis=texts.render("progress.chart.mood_axis"),
        mood=texts.render("progress.chart.mood"),
        no_contact=texts.render(for_distance("progress.chart.no_contact", distance)),
        slip=texts.render("progress.chart.slip"),
        milestone=texts.render("progress.chart.milestone"),
        empty=texts.render("progress.chart.empty"),
    )


async def show_progress(update: Update, context: CoachContext) -> None:
    chat = update.effective_chat
    assert update.effective_user is not None and chat is not None
    if update.callback_query is not None:
        await settle(update.callback_query)
    texts, user_id = context.texts, update.effective_user.id
    try:
        # The step shown is the one the program has the person on today: a gate that opened
        # since they last looked moves them on first (never "day 41" of a three-day step).
        moved = (await context.services.program.check(user_id)).moved
        report = await context.services.progress.report(user_id)
    except (NotStarted, ProgramNotStarted):
        await not_set_up(update, context)
        return
    png = await asyncio.to_thread(render_chart, report.chart, chart_labels(texts, report.distance))
    phase = context.services.program.program.phase(report.phase)
    caption = texts.render(
        for_distance("progress.caption", report.distance),
        phase=phase.name,
        day=report.day_of_plan,
        current=report.current_streak,
        total=report.total_no_contact,
        resisted=report.urges_resisted,
        checkins=report.checkins,
    )
    if report.slips:
        caption += "\n" + texts.render("progress.caption_slips", slips=report.slips)
    if moved:
        caption += "\n" + texts.render("progress.caption_moved")
    await context.bot.send_photo(chat.id, photo=png, caption=caption, filename=FILENAME)
