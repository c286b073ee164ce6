"""Today's free-text checks: typed words that start a flow ("should I text her?", "he texted
me", "I'm about to text him"). Pure functions over the text; `intent_of` names the intent the
routing table dispatches on (the intent engine in content/ can take its place name for name).
"""

from __future__ import annotations

import re

_CONTACT = (
    r"(?:text|txt|message|msg|call|ring|phone|dm|email|e-mail|write to|write|contact|"
    r"reach out to|reach out|reply to|reply|answer|get in touch with|get in touch|talk to|"
    r"snap|facetime|whatsapp)"
)
_NOT_TO_ME = r"(?!\s+(?:you|u)\b)"
_SHOULD_I = re.compile(
    rf"\b(?:should|can|could|may|shall|do|must)\s+i\s+(?:just\s+|still\s+|even\s+)?"
    rf"{_CONTACT}\b{_NOT_TO_ME}"
    rf"|\b(?:is it|would it be|would it be a|is it a)\s+(?:ok|okay|alright|all right|fine|"
    rf"good idea|bad idea|wrong|bad|a good idea|a bad idea)\s+(?:to|if i)\s+"
    rf"(?:just\s+)?{_CONTACT}\b{_NOT_TO_ME}"
    rf"|\bi\s+(?:really\s+|so\s+)?(?:want\s+to|need\s+to|have\s+to|wanna)\s+{_CONTACT}\s+"
    rf"(?:him|her|them|my ex)\b"
)
_CONTACTED = (
    r"(?:texted|txted|messaged|called|rang|phoned|wrote to|wrote|dm'?e?d|emailed|contacted|"
    r"reached out to|replied to|sent)"
)
_EX = ("he", "she", "they", "my ex", "ex", "my ex-boyfriend", "my ex-girlfriend", "my ex-partner")


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


def asks_should_i(text: str) -> bool:
    return _SHOULD_I.search(_normalise(text)) is not None


def says_they_texted(text: str, ex_name: str | None = None) -> bool:
    """'He texted me', 'my ex just messaged me', 'Alex called me' (with Alex their ex)."""
    who = [re.escape(w) for w in _EX]
    if ex_name:
        who.append(re.escape(_normalise(ex_name)))
    pattern = (
        rf"(?<![\w-])(?:{'|'.join(who)})\s+(?:just\s+|finally\s+|has\s+|have\s+)?"
        rf"{_CONTACTED}\s+me\b"
    )
    return re.search(pattern, _normalise(text)) is not None


# --- "I'm about to text her", "I want to text him so bad" -----------------------------------

_PULL_CONTACT = (
    r"(?:text|txt|message|msg|call|ring|phone|dm|snap|snapchat|whatsapp|email|e-mail|write to|"
    r"contact|reach out to|texting|messaging|calling|writing to|contacting|reaching out to)"
)
_WHO = ("him", "her", "them", "my ex", "ex", "my ex-boyfriend", "my ex-girlfriend")
_PULLS = (
    # I'm about to / going to / so close to / tempted to text her
    r"\bi(?:'m| am|m)?\s+(?:really\s+|so\s+|just\s+)?(?:about to|going to|gonna|tempted to|"
    r"dying to|itching to|desperate to|(?:so |this )?close to|on the verge of)\s+{contact}\s+"
    r"{who}\b",
    # I want to / wanna / need to / have to text him (so bad)
    r"\bi\s+(?:really\s+|so\s+|just\s+|kinda\s+|kind of\s+|badly\s+)?(?:want|wanna|need|have)\s+"
    r"(?:to\s+)?{contact}\s+{who}\b",
    # the urge to text them
    r"\b(?:urge|urges|temptation|itch)\s+to\s+{contact}\s+{who}\b",
    # I can't stop myself from texting him
    r"\bcan't stop (?:myself )?(?:from )?(?:wanting to )?{contact}\s+{who}\b",
    # my thumb is on the send button
    r"\bmy (?:thumb|finger) is (?:on|over|hovering over) (?:the )?send\b",
)


def wants_to_text(text: str, ex_name: str | None = None) -> bool:
    """Typed words that say "I want to reach out to my ex", not "should I?" or "they did"."""
    who = [re.escape(w) for w in _WHO]
    if ex_name:
        who.append(re.escape(_normalise(ex_name)))
    target = f"(?:{'|'.join(sorted(who, key=len, reverse=True))})"
    typed = _normalise(text)
    return any(
        re.search(p.format(contact=_PULL_CONTACT, who=target), typed) is not None for p in _PULLS
    )


def intent_of(text: str, ex_name: str | None = None) -> str | None:
    """The intent of a typed message, or None when none of today's checks recognise it. The
    pull to reach out comes before "should I?": "I want to text him" is an urge."""
    if wants_to_text(text, ex_name):
        return "urge"
    if asks_should_i(text):
        return "should_i_text"
    if says_they_texted(text, ex_name):
        return "they_texted"
    return None


# --- typed check-in commands: "pause for 2 weeks", "stop", "resume" ----------------------------

_STOP = frozenset({"stop", "stop check-ins", "stop checkins", "stop the check-ins"})
_RESUME = frozenset({"resume", "resume check-ins", "resume checkins", "start check-ins again"})
_PAUSE = re.compile(r"^(?:please )?pause(?: check-?ins)?(?: for)? (\d{1,2}|a|one) (day|week)s?$")
# The bot's own cap on a typed pause: two months, so check-ins are never forgotten for good.
MAX_PAUSE_DAYS = 60


def checkin_command(text: str) -> tuple[str, int] | None:
    """("pause", days), ("stop", 0) or ("resume", 0) for a typed check-in command; None for
    anything else."""
    typed = " ".join(text.lower().split()).strip(".!")
    match = _PAUSE.match(typed)
    if match:
        count = 1 if match.group(1) in ("a", "one") else int(match.group(1))
        days = count * (7 if match.group(2) == "week" else 1)
        return "pause", max(1, min(MAX_PAUSE_DAYS, days))
    if typed in _STOP:
        return "stop", 0
    if typed in _RESUME:
        return "resume", 0
    return None
