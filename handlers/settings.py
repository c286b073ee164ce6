"""/settings: time zone, check-in time, quiet hours, no-contact length, pausing check-ins."""

from __future__ import annotations

import calendar
from datetime import datetime

from telegram import CallbackQuery, Update

from bot.context import CoachContext
from bot.services.checkin import NotYours
from bot.services.conversation import Expected
from bot.services.listening import checkin_command
from content.intake import parse_hard_date
from content.timezones import zone_info
from handlers.callbacks import decode
from handlers.replies import (
    SAFETY_AREA,
    Then,
    button,
    edit,
    in_rows,
    keyboard,
    not_set_up,
    remove_buttons,
    reply,
    settle,
)

AREA = "settings"
QUIET_CHOICES = ("22-7", "23-8", "21-9", "0-8")
LENGTH_CHOICES = (21, 25, 30, 35, 40, 45)
PAUSE_CHOICES = (1, 3, 7)


def when(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return "-"
    local = moment.astimezone(zone_info(zone))
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


def quiet_label(context: CoachContext, start: int | None, end: int | None) -> str:
    if start is None or end is None:
        return context.texts.render("settings_checkins.quiet_none")
    return f"{start:02d}:00–{end:02d}:00"


async def send_settings(update: Update, context: CoachContext) -> None:
    assert update.effective_user is not None
    texts, content = context.texts, context.services.content
    user_id = update.effective_user.id
    profile = await context.services.intake.profile(user_id)
    current = await context.services.checkins.settings(user_id)
    if profile is None or not profile.set_up or current is None:
        await not_set_up(update, context)
        return
    hour = profile.checkin_hour
    lines = [
        texts.render(
            "settings.overview",
            timezone=content.timezones.label(current.zone),
            hour=f"{hour:02d}:00" if hour is not None else "-",
            days=current.no_contact_days,
        ).rstrip(),
        texts.render("settings_checkins.quiet",
                     quiet=quiet_label(context, current.quiet_start, current.quiet_end)),
    ]  # fmt: skip
    if current.stopped:
        lines.append(texts.render("settings_checkins.status_stopped"))
    elif (
        current.paused_until
        and current.next_at
        and current.paused_until > context.services.clock.now()
    ):
        lines.append(
            texts.render(
                "settings_checkins.status_paused", when=when(current.paused_until, current.zone)
            )
        )
    else:
        lines.append(texts.render("settings_checkins.status_on",
                                  when=when(current.next_at, current.zone)))  # fmt: skip
    now = context.services.clock.now()
    paused = current.stopped or bool(current.paused_until and current.paused_until > now)
    rows = [
        [button(texts.render("settings.change_timezone"), AREA, "edit", "timezone"),
         button(texts.render("settings.change_hour"), AREA, "edit", "checkin_hour")],
        [button(texts.render("settings_checkins.set_quiet"), AREA, "ask", "quiet"),
         button(texts.render("settings_checkins.set_length"), AREA, "ask", "length")],
        [button(texts.render("hard_dates.button"), AREA, "hard"),
         button(texts.render("safetycare.age.settings_button"), SAFETY_AREA, "ages")],
        [button(texts.render("paths.menu_button"), "paths", "show")],
        [button(texts.render("settings_checkins.resume"), AREA, "resume")] if paused else
        [button(texts.render("settings_checkins.pause"), AREA, "ask", "pause"),
         button(texts.render("settings_checkins.stop"), AREA, "stop")],
        [button(texts.render("settings.redo_setup"), AREA, "redo")],
    ]  # fmt: skip
    await reply(update, context, "\n".join(lines), keyboard(rows))


async def on_tap(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await settle(query)
    data = decode(query.data)
    if data is None:
        return
    texts, checkins, user_id = context.texts, context.services.checkins, update.effective_user.id
    current = await checkins.settings(user_id)
    if current is None:
        return
    if data.action == "ask":
        if data.arg == "pause":
            choices = [button(texts.render("settings_checkins.one_day") if d == 1 else
                              texts.render("settings_checkins.days", days=d), AREA, "pause", d)
                       for d in PAUSE_CHOICES]  # fmt: skip
            await edit(query, texts.render("settings_checkins.ask_pause"), keyboard([choices]))
        elif data.arg == "quiet":
            choices = [button(quiet_label(context, *map(int, c.split("-"))), AREA, "quiet", c)
                       for c in QUIET_CHOICES]  # fmt: skip
            choices.append(
                button(texts.render("settings_checkins.quiet_none"), AREA, "quiet", "off")
            )
            await edit(
                query, texts.render("settings_checkins.ask_quiet"), keyboard(in_rows(choices, 2))
            )
        elif data.arg == "length":
            choices = [button(texts.render("settings_checkins.days", days=d), AREA, "length", d)
                       for d in LENGTH_CHOICES]  # fmt: skip
            await edit(
                query, texts.render("settings_checkins.ask_length"), keyboard(in_rows(choices, 3))
            )
        return
    if data.action == "hard":
        await show_hard_dates(query, context, user_id)
        return
    if data.action == "unhard" and data.arg.isdigit():
        await checkins.remove_hard_date(user_id, int(data.arg))
        await show_hard_dates(query, context, user_id)
        return
    if data.action == "pause" and data.arg.isdigit() and int(data.arg) in PAUSE_CHOICES:
        until = await checkins.pause(user_id, int(data.arg))
        await edit(query, texts.render("settings_checkins.paused", when=when(until, current.zone)))
    elif data.action == "stop":  # one-way: asked first (handlers/listening.py takes the answer)
        await edit(query, texts.render("heard.undo.stop_ask"), keyboard(
            [[button(texts.render("heard.undo.stop_yes"), "listen", "stop_yes"),
              button(texts.render("heard.undo.stop_no"), "listen", "stop_no")]]))  # fmt: skip
    elif data.action == "resume":
        next_at = await checkins.resume(user_id)
        await edit(
            query, texts.render("settings_checkins.resumed", when=when(next_at, current.zone))
        )
    elif data.action == "quiet" and (data.arg == "off" or data.arg in QUIET_CHOICES):
        start, end = (None, None) if data.arg == "off" else map(int, data.arg.split("-"))
        await checkins.set_quiet_hours(user_id, start, end)
        await edit(query, texts.render("settings_checkins.quiet_saved",
                                       quiet=quiet_label(context, start, end)))  # fmt: skip
    elif data.action == "length" and data.arg.isdigit() and int(data.arg) in LENGTH_CHOICES:
        await checkins.set_no_contact_days(user_id, int(data.arg))
        await edit(query, texts.render("settings_checkins.length_saved", days=int(data.arg)))


async def try_typed_command(update: Update, context: CoachContext) -> bool:
    """'pause for 3 days', 'stop', 'stop check-ins', 'resume' typed in the chat. The text is
    matched first; only a match costs a database call."""
    assert update.effective_message is not None and update.effective_user is not None
    command = checkin_command(update.effective_message.text or "")
    if command is None:
        return False
    checkins, texts, user_id = context.services.checkins, context.texts, update.effective_user.id
    current = await checkins.settings(user_id)
    if current is None:
        return False
    action, days = command
    if action == "pause":
        until = await checkins.pause(user_id, days)
        text = texts.render("settings_checkins.paused", when=when(until, current.zone))
    elif action == "stop":  # typed on purpose: done at once, with an Undo for today
        await context.services.listening.stop_checkins(user_id)
        undo = button(texts.render("heard.undo.button"), "listen", "undo", "stop_checkins")
        await reply(update, context, texts.render("settings_checkins.stopped"), keyboard([[undo]]))
        return True
    else:
        next_at = await checkins.resume(user_id)
        text = texts.render("settings_checkins.resumed", when=when(next_at, current.zone))
    await reply(update, context, text)
    return True


# --- hard dates ----------------------------------------------------------------------------

HARD_DATE = "settings.hard_date"  # a hard date being typed


def date_label(month: int, day: int) -> str:
    return f"{day} {calendar.month_abbr[month]}"


async def show_hard_dates(query: CallbackQuery, context: CoachContext, user_id: int) -> None:
    texts = context.texts
    dates = await context.services.checkins.hard_dates(user_id)
    lines = [texts.render("hard_dates.title"), texts.render("hard_dates.intro"), ""]
    if dates:
        lines += [texts.render("hard_dates.line", date=date_label(d.month, d.day), label=d.label)
                  for d in dates]  # fmt: skip
    else:
        lines.append(texts.render("hard_dates.none"))
    rows = [[button(texts.render("hard_dates.remove", date=date_label(d.month, d.day)),
                    AREA, "unhard", d.id)] for d in dates]  # fmt: skip
    rows.append([button(texts.render("hard_dates.add"), AREA, "add_hard")])
    await edit(query, "\n".join(lines), keyboard(rows))


async def ask_hard_date(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await settle(query)
    await remove_buttons(query)
    cancel = keyboard([[button(context.texts.render("hard_dates.cancel"), AREA, "no_hard")]])
    await reply(update, context, context.texts.render("hard_dates.ask"), cancel)
    await context.services.conversation.expect(update.effective_user.id, HARD_DATE)


async def on_answer(update: Update, context: CoachContext, expected: Expected) -> Then | None:
    """A hard date typed while one is awaited; anything but text is answered as elsewhere."""
    assert update.effective_message is not None and update.effective_user is not None
    typed = update.effective_message.text
    if expected.key != HARD_DATE or typed is None:
        return Then.UNHANDLED
    texts, user_id = context.texts, update.effective_user.id
    parsed = parse_hard_date(typed)
    if parsed is None:
        await reply(update, context, texts.render("hard_dates.invalid"))
        return None  # still waiting for a date
    await context.services.conversation.clear(user_id, HARD_DATE)
    month, day, label = parsed
    try:
        added = await context.services.checkins.add_hard_date(user_id, month, day, label)
    except NotYours:
        await not_set_up(update, context)
        return None
    if not added:
        await reply(update, context, texts.render("hard_dates.full"))
        return None
    await reply(update, context, texts.render("hard_dates.saved", date=date_label(month, day),
                                              label=label))  # fmt: skip
    return None


async def cancel_hard_date(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await settle(query)
    await context.services.conversation.clear(update.effective_user.id, HARD_DATE)
    await edit(query, context.texts.render("hard_dates.cancelled"))


async def ask_again(update: Update, context: CoachContext, expected: Expected, lead: str) -> bool:
    """After care: the hard date they were adding, asked for again. Returns whether it did."""
    if expected.key != HARD_DATE:
        return False
    texts = context.texts
    cancel = keyboard([[button(texts.render("hard_dates.cancel"), AREA, "no_hard")]])
    await reply(update, context, f"{lead}\n\n" + texts.render("hard_dates.ask"), cancel)
    return True
