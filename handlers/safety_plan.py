"""/safetyplan: the six parts of a safety plan (Stanley and Brown), in the person's own words.

Offered after every crisis reply until it is complete. Each part is asked in turn (awaiting
"safety.plan" with the part in the data), with Skip and Back buttons; any part can be changed
later. The words are saved by bot/services/safety_plan.py, shown first in every later crisis
reply and included in /export. Nothing the person writes is logged.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.context import CoachContext
from bot.services.conversation import Expected
from bot.services.safety_plan import TOO_LONG, PlanTextInvalid, PlanView, UnknownPart
from content.loader import Markup, Texts
from content.safety_plan import MAX_PART_CHARS, format_prompt, load_safety_plan
from handlers.callbacks import decode
from handlers.replies import (
    SAFETY_PLAN_AREA,
    Then,
    button,
    edit,
    keyboard,
    not_set_up,
    remove_buttons,
    reply,
    settle,
)

AREA = SAFETY_PLAN_AREA
PART = "safety.plan"  # the awaited key; its data names the part: {"part": "<id>"}


def _ids() -> tuple[str, ...]:
    return load_safety_plan().ids


def part_markup(texts: Texts, part: str) -> InlineKeyboardMarkup:
    return keyboard(
        [[button(texts.render("safetyflow.plan.skip"), AREA, "skip", part),
          button(texts.render("safetyflow.plan.back"), AREA, "back", part)]]
    )  # fmt: skip


def plan_markup(texts: Texts, plan: PlanView) -> InlineKeyboardMarkup:
    rows = []
    if not plan.complete:
        label = "safetyflow.plan.fill" if plan.started else "safety2.plan.make"
        rows.append([button(texts.render(label), AREA, "start")])
    if plan.started:
        rows.append([button(texts.render("safetyflow.plan.edit"), AREA, "edit")])
        rows.append([button(texts.render("safetyflow.plan.clear"), AREA, "clear")])
    return keyboard(rows)


def choose_markup(texts: Texts) -> InlineKeyboardMarkup:
    book = load_safety_plan()
    return keyboard([[button(p.title, AREA, "part", p.id)] for p in book.parts])


def plan_text(texts: Texts, plan: PlanView) -> str:
    intro = texts.render("safety2.plan.intro").rstrip()
    return f"{intro}\n\n{plan.html}" if plan.started else intro


async def show_plan(update: Update, context: CoachContext) -> None:
    """/safetyplan: the plan so far, and the way to fill in or change it."""
    assert update.effective_user is not None
    plan = await context.services.safety_plan.plan(update.effective_user.id)
    await reply(update, context, plan_text(context.texts, plan), plan_markup(context.texts, plan))


async def ask_part(update: Update, context: CoachContext, part: str, lead: str = "") -> None:
    """Ask for one part, and wait for the person's words."""
    assert update.effective_user is not None
    texts, ids = context.texts, _ids()
    text = texts.render(
        "safetyflow.plan.step",
        number=ids.index(part) + 1,
        total=len(ids),
        part=Markup(format_prompt(part)),
    ).rstrip()
    await context.services.conversation.expect(update.effective_user.id, PART, {"part": part})
    await reply(update, context, f"{lead}\n\n{text}" if lead else text, part_markup(texts, part))


async def next_part(
    update: Update, context: CoachContext, after: str | None, lead: str = ""
) -> None:
    """The next part still missing after `after` (from the start when None); when none is left,
    the whole plan."""
    assert update.effective_user is not None
    user_id, texts, ids = update.effective_user.id, context.texts, _ids()
    plan = await context.services.safety_plan.plan(user_id)
    start = ids.index(after) + 1 if after in ids else 0
    for part in ids[start:]:
        if part in plan.missing:
            await ask_part(update, context, part, lead)
            return
    await context.services.conversation.clear(user_id, PART)
    if plan.complete:
        done = texts.render("safety2.plan.done").rstrip()
        await reply(update, context, f"{lead}\n\n{done}" if lead else done)
        await reply(update, context, plan.html, plan_markup(texts, plan))
        return
    paused = texts.render("safetyflow.plan.paused")
    await reply(update, context, f"{lead}\n\n{paused}" if lead else paused,
                plan_markup(texts, plan))  # fmt: skip


def _part_of(expected: Expected) -> str | None:
    part = (expected.data or {}).get("part")
    return part if part in _ids() else None


async def on_answer(update: Update, context: CoachContext, expected: Expected) -> Then | None:
    """The person's words for the part they are on."""
    assert update.effective_user is not None and update.effective_message is not None
    text = update.effective_message.text
    part = _part_of(expected)
    if expected.key != PART or part is None or text is None:
        return Then.UNHANDLED
    user_id, texts = update.effective_user.id, context.texts
    try:
        saved = await context.services.safety_plan.save(user_id, part, text)
    except PlanTextInvalid as invalid:
        if invalid.reason == TOO_LONG:
            hint = texts.render("safety2.plan.too_long", limit=MAX_PART_CHARS)
        else:
            hint = texts.render("safety2.plan.empty_text")
        await reply(update, context, hint, part_markup(texts, part))
        return None
    except UnknownPart:
        return Then.UNHANDLED
    if saved is None:  # not known to the bot (no /start yet): nothing can be kept
        await context.services.conversation.clear(user_id, PART)
        return Then.UNHANDLED
    await next_part(update, context, part, texts.render("safety2.plan.saved"))
    return None


async def ask_again(update: Update, context: CoachContext, expected: Expected, lead: str) -> bool:
    """After care or an old button: the part the person was on, asked again."""
    part = _part_of(expected)
    if part is None:
        return False
    await ask_part(update, context, part, lead)
    return True


async def on_tap(update: Update, context: CoachContext) -> Then | None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await settle(query)
    data = decode(query.data)
    if data is None:
        return Then.STALE
    user_id, texts, ids = update.effective_user.id, context.texts, _ids()
    action, arg = data.action, data.arg
    if action in ("skip", "back", "part") and arg not in ids:
        return Then.STALE
    if action == "start":
        await remove_buttons(query)
        if not (await context.services.safety.view(user_id)).known:
            await not_set_up(update, context)  # nothing can be saved before /start
            return None
        await next_part(update, context, None)
    elif action == "skip":
        await remove_buttons(query)
        await next_part(update, context, arg)
    elif action == "back":
        await remove_buttons(query)
        index = ids.index(arg)
        if index == 0:
            await context.services.conversation.clear(user_id, PART)
            await show_plan(update, context)
        else:
            await ask_part(update, context, ids[index - 1])
    elif action == "edit":
        await reply(update, context, texts.render("safetyflow.plan.choose"), choose_markup(texts))
    elif action == "part":
        await remove_buttons(query)
        await ask_part(update, context, arg)
    elif action == "clear":
        markup = keyboard(
            [[button(texts.render("safetyflow.plan.clear_yes"), AREA, "cleared"),
              button(texts.render("safetyflow.plan.clear_no"), AREA, "keep")]]
        )  # fmt: skip
        await reply(update, context, texts.render("safetyflow.plan.clear_confirm"), markup)
    elif action == "cleared":
        cleared = await context.services.safety_plan.clear(user_id)
        await context.services.conversation.clear(user_id, PART)
        text_id = "safety2.plan.cleared" if cleared else "safety2.plan.nothing"
        await edit(query, texts.render(text_id))
    elif action == "keep":
        await edit(query, texts.render("safetyflow.plan.kept"))
    elif action == "later":
        await remove_buttons(query)
    else:
        return Then.STALE
    return None
