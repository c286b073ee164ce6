"""Crisis care first: every text and caption is screened before any other handler sees it.

`screen_message` runs in its own group before the coaching handlers (see handlers/__init__.py).
Each message's own screen outcome is kept for half an hour (never its words) and read together
with the person's earlier ones, so signals spread over several messages add up. Three levels:

- act: crisis care at once (the person's safety plan first, the lines for their country, a
  safety hold on coaching nudges until they tap "I'm safe now", a safety plan offered);
- ask: the direct question "Are you thinking about ending your life?" with Yes / No, I'm safe /
  I'm not sure (not asked again within half an hour of a "No");
- none: coaching, with a short practical nudge for health signals, a light note for someone
  under 18, and a plain answer when asked whether this is a real person.

Danger from the ex gets its own reply (emergency number, domestic-abuse line, a short
checklist) and, like an abuse disclosure, closes reconnecting for good and lets go of any held
draft. A self-harm threat inside an /urge draft is pressure on the ex: the draft is still
reviewed (and flagged) and the writer gets the direct question. A crisis message never gets
coaching or the next intake question, and what the person was in the middle of stays recorded,
so after "I'm safe now" they carry on where they were. Logs say which kind of reply went out,
never what the person wrote.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update

from bot.context import CoachContext
from bot.services.safety import (
    AGE_GROUPS,
    AGE_UNSAID,
    ASK_ANSWERS,
    ASK_NO,
    ASK_YES,
    INTERNATIONAL,
    UNDER_18,
    UNKNOWN,
    SafetyView,
    supported_countries,
    their_risk,
)
from content.helplines import (
    format_danger,
    format_helplines,
    format_to_share,
    format_youth_note,
    helplines_for,
)
from content.loader import Markup, Texts, source_names
from content.screen import ASK, SAFE, ScreenResult, combine, screen
from content.understand import asks_if_bot
from handlers.callbacks import decode
from handlers.replies import (
    SAFETY_AREA,
    Then,
    age_markup,
    answer_crisis,
    button,
    crisis_markup,
    edit,
    gentle_markup,
    in_rows,
    keyboard,
    lines_for,
    main_menu,
    remove_buttons,
    reply,
    settle,
)

AREA = SAFETY_AREA
# The articles' own rule for abuse and repeated cheating (content/rules.yaml).
LET_GO_RULE = "let-go-after-abuse-or-repeated-cheating"

log = logging.getLogger(__name__)


# --- buttons -----------------------------------------------------------------------------------


def abuse_markup(texts: Texts) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [button(texts.render("safety.show_lines"), AREA, "lines")],
            [button(texts.render("safety.trusted"), AREA, "trusted")],
        ]
    )


def country_markup(texts: Texts) -> InlineKeyboardMarkup:
    choices = [button(name, AREA, "country", code) for code, name in supported_countries()]
    choices.append(button(texts.render("helplines.other"), AREA, "country", INTERNATIONAL))
    return keyboard(in_rows(choices, 2))


# --- what a person sees --------------------------------------------------------------------------


async def safety_view(update: Update, context: CoachContext) -> SafetyView:
    """The person's safety state; when the database cannot be read, what Telegram tells us is
    enough to show helplines, so a crisis reply never waits on storage."""
    assert update.effective_user is not None
    try:
        return await context.services.safety.view(update.effective_user.id)
    except Exception as error:
        log.warning("safety state unavailable (%s); using defaults", type(error).__name__)
        return UNKNOWN


def helplines_text(context: CoachContext, update: Update, view: SafetyView) -> str:
    language = update.effective_user.language_code if update.effective_user else None
    hs = helplines_for(view.country, language or view.language_code, timezone=view.timezone)
    texts = context.texts
    return "\n".join(
        (
            texts.render("helplines.title", country=hs.country_name),
            texts.render("helplines.intro"),
            "",
            format_helplines(hs, youth_first=view.minor),
        )
    )


async def show_helplines(update: Update, context: CoachContext) -> None:
    """/helplines: the lines for the person's country, and a way to choose the country."""
    view = await safety_view(update, context)
    markup = keyboard([[button(context.texts.render("helplines.set_country"), AREA, "countries")]])
    await reply(update, context, helplines_text(context, update, view), markup)


# --- the screen ------------------------------------------------------------------------------

# Awaited answers that are a message meant for the ex (a draft to review): a self-harm threat in
# one is pressure on the ex, so the draft is still reviewed and flagged, and the writer checked on.
DRAFT_KEYS = frozenset({"urge.draft"})


async def screen_message(update: Update, context: CoachContext) -> Then | None:
    """Every text or caption, new or edited, in any state. None when the message may go on to
    coaching (a gentle note on health, age or "are you a bot?" may have been sent first);
    otherwise it has been answered here and must go no further (the routing table stops it),
    and the result says whether to ask the question the person was on again."""
    message = update.effective_message
    if message is None or update.effective_user is None:
        return None
    user_id = update.effective_user.id
    text = message.text or message.caption or ""
    own = screen(text)
    theirs = await _their_part(context, user_id, text, own)
    result = await in_context(context, user_id, own if theirs is None else theirs)
    log.info("screen: %s at level %s%s", result.risk, result.level, " (the ex's)" * bool(theirs))
    try:
        if theirs is not None:
            return await answer_their_risk(update, context)
        if result.risk == "danger" and result.level == ASK:
            await ask_about_danger(update, context)
            return Then.UNHANDLED
        if result.risk == "danger":
            return await answer_danger(update, context)
        if result.risk == "abuse":
            return await answer_abuse(update, context)
        if result.self_harm and own.leverage and await _drafting(context, user_id):
            await ask_directly(update, context)  # and the draft is reviewed next, flagged
            return None
        if result.level == ASK and result.self_harm:
            if await _should_ask(context, user_id):
                await ask_directly(update, context)
                return Then.UNHANDLED
            return await _notes(update, context, result, message.text)
        if result.flagged:
            await answer_crisis(update, context, result.risk)
            return Then.UNHANDLED
    except Exception:  # whatever failed, the message must not go on to coaching or the intake
        log.exception("screen: the %s reply failed", result.risk)
        return Then.UNHANDLED
    return await _notes(update, context, result, message.text)


# Awaited answers that are the ex's own words, pasted: a threat of self-harm in one is theirs.
THEIR_WORDS_KEYS = frozenset({"advice.pasted"})


async def _their_part(
    context: CoachContext, user_id: int, text: str, own: ScreenResult
) -> ScreenResult | None:
    """When the self-harm or danger the screen found is the ex's (pasted, quoted or reported),
    the screen of the person's own part of the message; None when the risk is their own."""
    if not (own.self_harm or own.risk == "danger"):
        return None
    expected, ex_name = None, None
    try:
        expected = await context.services.conversation.expected(user_id)
        profile = await context.services.intake.profile(user_id)
        ex_name = profile.ex_name if profile else None
    except Exception as error:  # the words alone still say whose it is
        log.warning("flow unknown while screening (%s)", type(error).__name__)
    pasted = expected is not None and expected.key in THEIR_WORDS_KEYS
    return their_risk(text, own, their_words=pasted, ex_name=ex_name)


async def answer_their_risk(update: Update, context: CoachContext) -> Then:
    """The ex threatens to hurt themselves: how to get them help, that their life is not the
    person's to carry, that such a threat is pressure, and a gentle check on the person. No
    coaching, nothing about reconnecting. A pasted message has been dealt with here; in the
    set-up, its question is asked again after the care."""
    assert update.effective_user is not None
    user_id, texts = update.effective_user.id, context.texts
    view = await safety_view(update, context)
    ex_name, in_intake = None, False
    try:
        profile = await context.services.intake.profile(user_id)
        ex_name = profile.ex_name if profile else None
        in_intake = profile is not None and profile.intake_step is not None
        await context.services.conversation.clear(user_id, "advice.pasted")
    except Exception as error:
        log.warning("could not read the flow (%s)", type(error).__name__)
    language = update.effective_user.language_code
    hs = helplines_for(view.country, language or view.language_code, timezone=view.timezone)
    if hs.emergency:
        emergency = texts.render("safetycare.theirs.emergency", number=hs.emergency)
    else:
        emergency = texts.render("safetycare.theirs.emergency_local")
    text = texts.render(
        "safetycare.theirs.reply",
        ex=ex_name or texts.render("safetycare.theirs.no_name"),
        emergency=Markup(emergency),
        lines=Markup(format_to_share(hs)),
    ).rstrip()
    markup = keyboard(
        [
            [button(texts.render("safetycare.theirs.lines_button"), AREA, "lines")],
            [button(texts.render("safetycare.theirs.hard"), AREA, "hard")],
        ]
    )
    await reply(update, context, text, markup)
    # In the set-up, its question comes back; any other flow waits for the person's next words.
    return Then.CARRY_ON if in_intake else Then.UNHANDLED


async def in_context(context: CoachContext, user_id: int, own: ScreenResult) -> ScreenResult:
    """The message's own result seen with the person's last half hour, and the own result kept
    (its outcome only, never the words). Storage failing never stops the screen: the message's
    own result stands."""
    result = own
    try:
        if own.level == ASK:
            recent = await context.services.safety.recent_results(user_id)
            result = combine(own, recent)
        await context.services.safety.record_signal(user_id, own)
    except Exception as error:
        log.warning("screen context unavailable (%s)", type(error).__name__)
    return result


async def _drafting(context: CoachContext, user_id: int) -> bool:
    try:
        expected = await context.services.conversation.expected(user_id)
    except Exception:
        return False
    return expected is not None and expected.key in DRAFT_KEYS


async def _should_ask(context: CoachContext, user_id: int) -> bool:
    try:
        return await context.services.safety.should_ask(user_id)
    except Exception:
        return True  # when in doubt, ask


async def _notes(
    update: Update, context: CoachContext, result: ScreenResult, text: str | None
) -> Then | None:
    """Not a crisis: a short practical nudge for health signals, a light note for someone under
    18, a plain answer to "are you a real person?". The message then goes on as usual, except a
    question about the bot, which is answered here (and what was awaited asked again)."""
    texts, user_id = context.texts, update.effective_user.id if update.effective_user else 0
    if result.minor:
        await _youth_note(update, context, user_id)
    if result.health and not await _nudged_lately(context, user_id):
        await reply(update, context, texts.render("safety2.health.nudge"))
    if text and asks_if_bot(text):
        await reply(update, context, texts.render("safety2.bot.asked"))
        return Then.CARRY_ON
    return None


async def _nudged_lately(context: CoachContext, user_id: int) -> bool:
    """A health nudge was already given in the last half hour (this message's own signal is the
    newest one): once is enough."""
    try:
        signals = await context.services.safety.recent_signals(user_id)
    except Exception:
        return False
    return sum("health" in s.flags for s in signals) > 1


async def _youth_note(update: Update, context: CoachContext, user_id: int) -> None:
    try:
        newly = await context.services.safety.record_minor(user_id, True)
    except Exception as error:
        log.warning("could not record an age (%s)", type(error).__name__)
        newly = True
    if not newly:
        return  # said before: the note once is enough, and the person is not singled out
    await send_youth_note(update, context)


async def send_youth_note(update: Update, context: CoachContext) -> None:
    """Light: a trusted adult can help, and the lines for young people. Nothing is locked."""
    view = await safety_view(update, context)
    language = update.effective_user.language_code if update.effective_user else None
    hs = helplines_for(view.country, language or view.language_code, timezone=view.timezone)
    texts = context.texts
    text = "\n\n".join(
        (texts.render("safety2.youth.note"), texts.render("safety2.youth.lines",
                                                          lines=Markup(format_youth_note(hs))))
    )  # fmt: skip
    await reply(update, context, text)


async def ask_directly(update: Update, context: CoachContext) -> None:
    """The question clinicians ask when a message is unclear, with three buttons."""
    assert update.effective_user is not None
    texts = context.texts
    try:
        await context.services.safety.asked(update.effective_user.id)
    except Exception as error:
        log.warning("could not note the question (%s)", type(error).__name__)
    await reply(update, context, texts.render("safety2.ask.question").rstrip(), ask_markup(texts))


def ask_markup(texts: Texts) -> InlineKeyboardMarkup:
    return _answers_markup(texts, "safety2.ask", "ask", ASK_ANSWERS)


def _answers_markup(
    texts: Texts, labels: str, action: str, answers: tuple[str, ...]
) -> InlineKeyboardMarkup:
    """One button per answer to a safety question, each labelled by `labels`.<answer>."""
    return keyboard(
        [[button(texts.render(f"{labels}.{answer}"), AREA, action, answer)] for answer in answers]
    )


async def answer_ask(update: Update, context: CoachContext, answer: str) -> Then | None:
    """A tap on Yes / No, I'm safe / I'm not sure."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    if answer not in ASK_ANSWERS:
        return None
    user_id, texts = update.effective_user.id, context.texts
    await remove_buttons(query)
    outcome = await context.services.safety.answer_ask(user_id, answer)
    if answer == ASK_YES:
        await answer_crisis(update, context, "self_harm")
        return None
    if answer == ASK_NO:
        await context.services.safety.record_signal(user_id, SAFE)
        await reply(update, context, texts.render("safety2.ask.reply_no"))
        return Then.OFFER_CARRY_ON
    view = outcome.view if outcome is not None else await safety_view(update, context)
    plan = await context.services.safety_plan.plan(user_id)
    text = _plan_first(texts, plan.short_html) + texts.render(
        "safety2.ask.reply_unsure", lines=lines_for(update, view)
    )
    await reply(update, context, text, crisis_markup(texts, offer_plan=not plan.complete))
    return None


def _plan_first(texts: Texts, short_html: str) -> str:
    if not short_html:
        return ""
    return texts.render("safety2.plan.first", plan=Markup(short_html)) + "\n"


DANGER_ASK_ANSWERS = ("unsafe", "safe", "unsure")


async def ask_about_danger(update: Update, context: CoachContext) -> None:
    """A message that may be fear of the ex, but not clearly: ask before the danger reply,
    which switches reconnection off for good."""
    texts = context.texts
    markup = _answers_markup(texts, "safety2.danger_ask", "dask", DANGER_ASK_ANSWERS)
    await reply(update, context, texts.render("safety2.danger_ask.question").rstrip(), markup)


async def answer_danger_ask(update: Update, context: CoachContext, answer: str) -> Then | None:
    """Afraid of them, or not sure: the danger reply. Safe from them: noted, and on we go."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    if answer not in DANGER_ASK_ANSWERS:
        return None  # a forged or outdated button
    await remove_buttons(query)
    if answer != "safe":
        return await answer_danger(update, context)
    await context.services.safety.record_signal(update.effective_user.id, SAFE)
    await reply(update, context, context.texts.render("safety2.danger_ask.reply_safe"))
    return Then.OFFER_CARRY_ON


async def answer_danger(update: Update, context: CoachContext) -> Then:
    """Danger from the ex: the emergency number, the domestic-abuse line, a short safety
    checklist; remembered, so reconnecting is never suggested again. No coaching."""
    assert update.effective_user is not None
    user_id, texts = update.effective_user.id, context.texts
    try:
        outcome = await context.services.safety.record_danger(user_id)
    except Exception as error:
        log.warning("could not record danger (%s)", type(error).__name__)
        outcome = None
    view = outcome.view if outcome is not None else await safety_view(update, context)
    language = update.effective_user.language_code
    hs = helplines_for(view.country, language or view.language_code, timezone=view.timezone)
    text = texts.render(
        "safety2.danger.reply_formatted",
        lines=Markup(format_danger(hs)),
        checklist=Markup(texts.render("safety2.danger.checklist").rstrip()),
    ).rstrip()
    await reply(update, context, text, abuse_markup(texts))
    await _drop_held_drafts(update, context)
    return Then.CARRY_ON if outcome is not None and outcome.intake_step else Then.UNHANDLED


async def _drop_held_drafts(update: Update, context: CoachContext) -> None:
    """Reaching out is off the table now: a draft the person was holding will not come back."""
    assert update.effective_user is not None
    try:
        cancelled = await context.services.urges.cancel_held_drafts(update.effective_user.id)
    except Exception as error:
        log.warning("could not cancel held drafts (%s)", type(error).__name__)
        return
    if cancelled:
        await reply(update, context, context.texts.render("safety2.urge.drafts_cancelled"))


async def answer_abuse(update: Update, context: CoachContext) -> Then:
    assert update.effective_user is not None
    texts = context.texts
    try:
        outcome = await context.services.safety.record_abuse(update.effective_user.id)
    except Exception as error:
        log.warning("could not record an abuse disclosure (%s)", type(error).__name__)
        outcome = None
    view = outcome.view if outcome is not None else UNKNOWN
    lines = lines_for(update, view, risk="abuse")
    if outcome is None or outcome.newly:
        rule = context.services.content.rulebook.rules.get(LET_GO_RULE)
        text = texts.render(
            "safety.abuse_new",
            rule=rule.text if rule else "",
            sources=source_names(rule.sources if rule else ("ten-steps",)),
            lines=lines,
        )
    else:
        text = texts.render("safety.abuse_again", lines=lines)
    await reply(update, context, text, abuse_markup(texts))
    await _drop_held_drafts(update, context)
    in_intake = outcome is not None and outcome.intake_step is not None
    return Then.CARRY_ON if in_intake else Then.UNHANDLED


# --- taps ----------------------------------------------------------------------------------------


async def on_tap(update: Update, context: CoachContext) -> Then | None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await settle(query)
    data = decode(query.data)
    if data is None:
        return None
    texts, user_id = context.texts, update.effective_user.id
    if data.action == "safe":
        lifted = await context.services.safety.lift_hold(user_id)
        await remove_buttons(query)
        await reply(update, context, texts.render("safety.safe_thanks" if lifted else
                                                   "safety.safe_already"))  # fmt: skip
        return Then.OFFER_CARRY_ON if lifted else None  # what they were answering: one tap away
    elif data.action == "resume":
        await remove_buttons(query)
        return Then.RESUME
    elif data.action == "age":
        await answer_age(update, context, data.arg)
    elif data.action == "ages":
        await ask_age(update, context)
    elif data.action == "hard":  # after the ex's threat: the person's own check
        await remove_buttons(query)
        await ask_directly(update, context)
    elif data.action == "ask":
        return await answer_ask(update, context, data.arg)
    elif data.action == "dask":
        return await answer_danger_ask(update, context, data.arg)
    elif data.action == "lines":
        view = await safety_view(update, context)
        markup = gentle_markup(texts) if view.on_hold else None
        await reply(update, context, helplines_text(context, update, view), markup)
    elif data.action == "trusted":
        view = await safety_view(update, context)
        markup = gentle_markup(texts) if view.on_hold else None
        await reply(update, context, texts.render("safety.trusted_guide"), markup)
    elif data.action == "countries":
        await reply(update, context, texts.render("helplines.ask_country"), country_markup(texts))
    elif data.action == "country":
        await choose_country(update, context, data.arg)
    return None


async def ask_age(update: Update, context: CoachContext) -> None:
    """From /settings: the optional age question, with the answer given so far."""
    view = await safety_view(update, context)
    texts = context.texts
    said = view.age_group if view.age_group in AGE_GROUPS else "not_said"
    current = texts.render(f"safetycare.age.{said}")
    await reply(update, context, texts.render("safetycare.age.ask_settings", current=current),
                age_markup(texts))  # fmt: skip


async def answer_age(update: Update, context: CoachContext, group: str) -> None:
    """A tap on Under 18 / 18 or over / Rather not say: kept, and the flow the person is in
    goes on untouched (the tap awaits nothing). Under 18 gets the light youth note."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    if group not in AGE_GROUPS:
        return  # a forged or outdated button
    await remove_buttons(query)
    await context.services.safety.set_age(update.effective_user.id, group)
    texts = context.texts
    if group == UNDER_18:
        await send_youth_note(update, context)
    elif group == AGE_UNSAID:
        await reply(update, context, texts.render("safetycare.age.saved_unsaid"))
    else:
        answer = texts.render(f"safetycare.age.{group}")
        await reply(update, context, texts.render("safetycare.age.saved", answer=answer))


async def offer_carry_on(update: Update, context: CoachContext) -> None:
    """One tap to pick up what the person was answering before the care (the routing table
    knows whether there is anything, and asks it again on the tap)."""
    texts = context.texts
    markup = keyboard([[button(texts.render("safetycare.resume.button"), AREA, "resume")]])
    await reply(update, context, texts.render("safetycare.resume.offer"), markup)


async def nothing_to_resume(update: Update, context: CoachContext) -> None:
    """The tap came after the flow was finished some other way: say so, and show the menu."""
    await reply(update, context, context.texts.render("safetycare.resume.nothing"),
                main_menu(context))  # fmt: skip


async def choose_country(update: Update, context: CoachContext, code: str) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    names = dict(supported_countries())
    if code != INTERNATIONAL and code not in names:
        return  # a forged or outdated button: nothing to change
    saved = await context.services.safety.set_country(update.effective_user.id, code)
    view = await safety_view(update, context)
    if not saved:  # not set up yet: show that country's lines without storing anything
        view = SafetyView(False, code, None, False, None, False, None, False)
    hs = helplines_for(view.country, None)
    text_id = "helplines.saved" if saved else "helplines.not_saved"
    await edit(query, context.texts.render(text_id, country=hs.country_name))
    await reply(update, context, helplines_text(context, update, view))


async def try_on_hold(update: Update, context: CoachContext) -> bool:
    """While a safety hold is open, a message the bot does not expect gets a gentle word and
    the safety buttons instead of coaching. Returns False when there is no hold."""
    view = await safety_view(update, context)
    if not view.on_hold:
        return False
    await reply(update, context, context.texts.render("safety.on_hold"),
                gentle_markup(context.texts))  # fmt: skip
    return True
