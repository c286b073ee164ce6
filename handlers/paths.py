"""The person's own path in Telegram: the choices the articles leave open (how strict to be
when the ex writes first, the style of distance, a rash fight, whether they are seeing someone),
the branch for when the ex comes back first, and what the check-in hears when they got in touch.

One callback area, `paths`:
- show                     the four choices and what is chosen (from /settings and /plan)
- ask <choice>             one choice: the articles' disagreement, once, and an option each
- pick <choice>.<value>    store it; say what it means and who says it
- comeback                 they want to talk / get back together: the guide (not when
                           reconnecting is blocked: abuse or danger known)
- heard <kind>             what they wrote about, from the check-in's "they got in touch"
- safety yes|no|skip       the skipped safety question, asked once more before reaching out:
                           yes moves the plan to letting go, no is stored, skipping again is
                           fine and never blocks anything
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.context import CoachContext
from bot.services.program import NotStarted
from content.advice import Note
from content.loader import Texts, source_names
from content.paths import CHOICES, Choice, load_paths
from handlers.callbacks import decode
from handlers.replies import Button, button, keyboard, not_set_up, reply, settle
from handlers.taps import is_double_tap

AREA = "paths"
# What the ex may have written about, as the check-in asks after "they got in touch".
HEARD = ("casual", "comeback", "dating", "no", "practical")


def _user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


def note_lines(texts: Texts, note: Note | None) -> list[str]:
    if note is None:
        return []
    lines = [texts.render("paths.differ", topic=note.topic)]
    lines += [
        texts.render("paths.side", text=side.text, sources=source_names(side.sources))
        for side in note.sides
    ]
    return lines


def _note(context: CoachContext, note_id: str) -> Note | None:
    return next((n for n in context.services.content.rulebook.notes if n.id == note_id), None)


def _rule_line(context: CoachContext, rule_id: str) -> str:
    rule = context.services.content.rulebook.rules[rule_id]
    return context.texts.render("paths.said", text=rule.text, sources=source_names(rule.sources))


def heard_markup(texts: Texts) -> InlineKeyboardMarkup:
    """The one-tap question after "they got in touch": what was it about?"""
    return keyboard(
        [[button(texts.render(f"paths.heard.{kind}"), AREA, "heard", kind)] for kind in HEARD]
    )


def choice_markup(texts: Texts, choice: Choice, shares_something: bool) -> InlineKeyboardMarkup:
    rows: list[list[Button]] = [
        [button(option.label, AREA, "pick", f"{choice.id}.{option.value}")]
        for option in choice.offered(shares_something)
    ]
    return keyboard(rows)


async def _shares_something(context: CoachContext, user_id: int) -> bool:
    profile = await context.services.intake.profile(user_id)
    return bool(profile and profile.shared)


async def show(update: Update, context: CoachContext) -> None:
    """The four choices, what is chosen now, and a button to change each."""
    texts, paths = context.texts, load_paths()
    chosen = await context.services.program.path(_user_id(update))
    current = {
        "reply_strictness": chosen.reply_strictness,
        "distance_style": chosen.distance_style,
        "rash_fight": None if chosen.rash_fight is None else ("yes" if chosen.rash_fight else "no"),
        "they_are_dating": (
            None if chosen.they_are_dating is None else ("yes" if chosen.they_are_dating else "no")
        ),
    }
    lines = [texts.render("paths.title"), texts.render("paths.intro"), ""]
    rows: list[list[Button]] = []
    for cid in CHOICES:
        choice = paths.choices[cid]
        option = choice.option(current[cid])
        answer = option.label if option else texts.render("paths.unset")
        lines.append(texts.render("paths.current", ask=choice.ask, answer=answer))
        rows.append([button(texts.render(f"paths.change.{cid}"), AREA, "ask", cid)])
    await reply(update, context, "\n".join(lines), keyboard(rows))


async def ask(update: Update, context: CoachContext, choice_id: str) -> None:
    """One choice: the disagreement behind it (shown here, where the person decides) and the
    options, each to be explained once picked."""
    texts = context.texts
    choice = load_paths().choices[choice_id]
    shares = await _shares_something(context, _user_id(update))
    lines = [texts.render("paths.ask", ask=choice.ask), ""]
    lines += note_lines(texts, _note(context, choice.differ))
    lines += ["", texts.render("paths.options_intro")]
    lines += [
        texts.render("paths.option", label=o.label, means=o.means, sources=source_names(o.sources))
        for o in choice.offered(shares)
    ]
    await reply(update, context, "\n".join(lines), choice_markup(texts, choice, shares))


async def pick(update: Update, context: CoachContext, arg: str) -> None:
    texts = context.texts
    choice_id, _, value = arg.partition(".")
    before = await context.services.checkins.settings(_user_id(update))
    chosen = await context.services.program.choose(_user_id(update), choice_id, value)
    option = load_paths().choices[choice_id].option(value)
    assert option is not None
    lines = [
        texts.render("paths.saved", label=option.label),
        texts.render("paths.said", text=option.means, sources=source_names(option.sources)),
    ]
    after = await context.services.checkins.settings(_user_id(update))
    if before and after and after.no_contact_days != before.no_contact_days:
        lines.append(texts.render("paths.days_set", days=after.no_contact_days))
    if choice_id == "they_are_dating" and chosen.they_are_dating:
        lines += ["", *note_lines(texts, _note(context, "while-they-date"))]
    lines.append(texts.render("paths.change_later"))
    await reply(update, context, "\n".join(lines))


async def comeback(update: Update, context: CoachContext) -> None:
    """They want to talk or to get back together: how to answer warmly without rushing, the
    pace, the first meeting and the talk, and where the articles differ. Never offered once
    abuse or danger from the ex is known."""
    texts, guide = context.texts, load_paths().comeback
    user_id = _user_id(update)
    if await context.services.safety.reconnection_blocked(user_id):
        blocked = guide.blocked
        await reply(
            update,
            context,
            texts.render("paths.said", text=blocked.text, sources=source_names(blocked.sources)),
        )
        return
    await context.services.program.ex_came_back(user_id)
    lines = [
        texts.render("paths.comeback_title"),
        texts.render(
            "paths.said", text=guide.intro.text, sources=source_names(guide.intro.sources)
        ),
    ]
    for number, step in enumerate(guide.steps, start=1):
        lines += [
            "",
            texts.render(
                "paths.step",
                number=number,
                title=step.title,
                text=step.text,
                sources=source_names(step.sources),
            ),
        ]
    for note_id in guide.differ:
        lines += ["", *note_lines(texts, _note(context, note_id))]
    await reply(update, context, "\n".join(lines))


async def heard(update: Update, context: CoachContext, kind: str) -> None:
    """What the ex wrote about, told after the check-in's "they got in touch"."""
    texts, paths = context.texts, load_paths()
    user_id = _user_id(update)
    match kind:
        case "comeback":
            await comeback(update, context)
        case "dating":
            await context.services.program.choose(user_id, "they_are_dating", "yes")
            said = paths.heard["dating"]
            lines = [texts.render("paths.said", text=said.text, sources=source_names(said.sources))]
            await reply(update, context, "\n".join([*lines, "", *_differ(context, said.differ)]))
        case "no":
            said = paths.heard["no"]
            lines = [texts.render("paths.said", text=said.text, sources=source_names(said.sources))]
            await reply(update, context, "\n".join([*lines, "", *_differ(context, said.differ)]))
        case "practical":
            await reply(update, context, _rule_line(context, "practical-matters-only"))
        case _:  # a friendly hello: their choice of strictness decides; unchosen, ask once
            chosen = await context.services.program.path(user_id)
            if chosen.reply_strictness is None:
                await ask(update, context, "reply_strictness")
            elif chosen.reply_strictness == "emergencies_only":
                await reply(update, context, _rule_line(context, "only-emergencies-as-you-chose"))
            else:
                await reply(update, context, _rule_line(context, "answer-warmly-and-briefly"))


async def safety_again(update: Update, context: CoachContext, answer: str) -> None:
    texts, user_id = context.texts, _user_id(update)
    match answer:
        case "yes":
            await context.services.safety.record_abuse(user_id)
            await reply(update, context, context.services.content.intake["abuse"].text("cared"))
        case "no":
            await context.services.intake.answer(user_id, "abuse", "no", advance=False)
            await reply(update, context, texts.render("paths.safety_thanks"))
        case _:
            await reply(update, context, texts.render("advice_more.skipped_again"))


async def ask_what_they_wrote(update: Update, context: CoachContext) -> None:
    """After a check-in where they got in touch: one tap on what it was about."""
    await reply(
        update, context, context.texts.render("paths.heard.ask"), heard_markup(context.texts)
    )


def _differ(context: CoachContext, note_id: str | None) -> list[str]:
    return note_lines(context.texts, _note(context, note_id)) if note_id else []


async def on_tap(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None
    if is_double_tap(update, context):
        await settle(query)
        return
    await settle(query)
    data = decode(query.data)
    action, arg = (data.action, data.arg) if data else ("", "")
    try:
        match action:
            case "show":
                await show(update, context)
            case "ask" if arg in CHOICES:
                await ask(update, context, arg)
            case "pick":
                try:
                    await pick(update, context, arg)
                except ValueError:
                    await reply(update, context, context.texts.render("errors.stale_button"))
            case "comeback":
                await comeback(update, context)
            case "heard" if arg in HEARD:
                await heard(update, context, arg)
            case "safety" if arg in ("yes", "no", "skip"):
                await safety_again(update, context, arg)
            case _:
                await reply(update, context, context.texts.render("errors.stale_button"))
    except NotStarted:
        await not_set_up(update, context)
