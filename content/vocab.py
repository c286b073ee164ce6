"""The coaching vocabulary shared by the data files, the engines and the application."""

from __future__ import annotations

from enum import StrEnum


class WhoEnded(StrEnum):
    ME = "me"
    THEM = "them"
    MUTUAL = "mutual"


class Shared(StrEnum):
    KIDS = "kids"
    WORK = "work"
    HOME = "home"


class Goal(StrEnum):
    GET_BACK = "get_back"
    MOVE_ON = "move_on"
    UNSURE = "unsure"


class AbuseAnswer(StrEnum):
    YES = "yes"
    NO = "no"
    UNSAID = "unsaid"


class BreakupWhen(StrEnum):
    """How the person dated the breakup: a bucket they tapped, or an exact date they typed."""

    TODAY = "today"
    THIS_WEEK = "this_week"
    WEEKS_AGO = "weeks_ago"
    MONTHS_AGO = "months_ago"
    EXACT = "exact"


# How many days ago each tapped bucket most likely means; used until the person gives a date.
DAYS_AGO_FOR_BUCKET: dict[BreakupWhen, int] = {
    BreakupWhen.TODAY: 0,
    BreakupWhen.THIS_WEEK: 3,
    BreakupWhen.WEEKS_AGO: 21,
    BreakupWhen.MONTHS_AGO: 90,
}

DEFAULT_NO_CONTACT_DAYS = 30
NO_CONTACT_DAYS_RANGE = (21, 45)
