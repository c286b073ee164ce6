"""/progress: mood over time, with the no-contact stretches shaded and slips and milestones marked.

`ProgressService.report` reads what is stored into plain data (`ChartData`, and a few figures for
the summary); `render_chart` turns that data into a PNG — a pure function, drawn off-screen with
matplotlib's Agg canvas into memory (never a file, never pyplot's global state, so it is safe in
a worker thread). It copes with no check-ins at all, a single one, and years of them: the date
ticks thin themselves out and the picture keeps one size (1200×600 px).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from bot.clock import Clock
from bot.db import Database
from bot.db import queries as q
from bot.db.models import Checkin, ContactEvent
from bot.services.checkin import MILESTONES, CheckinService
from bot.services.intake import local_today
from bot.services.retry import retry_transient
from content.program import NO_CONTACT, Program, load_program

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 5.0, 120  # 1200 × 600 px
MIN_SPAN_DAYS = 7  # a chart narrower than a week looks broken
MARKERS_UP_TO = 60  # more points than this: a line without dots
LABELLED_MILESTONES_UP_TO = 24  # more than this: stars without numbers

MOOD_COLOUR = "#3b6ea8"
NO_CONTACT_COLOUR = "#cfe8d5"
SLIP_COLOUR = "#c9483b"
MILESTONE_COLOUR = "#d99a00"


class NotStarted(LookupError):
    """No finished intake: nothing to chart yet."""


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """Every word on the picture (rendered from content/ by the Telegram layer)."""

    title: str
    mood_axis: str
    mood: str
    no_contact: str
    slip: str
    milestone: str
    empty: str


@dataclass(frozen=True, slots=True)
class ChartData:
    start: date  # the day the plan began
    today: date
    moods: tuple[tuple[date, float], ...]  # by local date, 1–5
    stretches: tuple[tuple[date, date], ...]  # no-contact stretches: first day, last day
    slips: tuple[date, ...]
    milestones: tuple[tuple[date, int], ...]  # the day, and the milestone's number of days


@dataclass(frozen=True, slots=True)
class ProgressReport:
    phase: str  # the phase id
    day_of_plan: int
    current_streak: int
    total_no_contact: int
    urges_resisted: int
    slips: int
    checkins: int  # days with a mood
    chart: ChartData
    distance: str = NO_CONTACT  # what the day count means (content.program.distance_for)


def stretches_and_milestones(
    start: date, today: date, slips: tuple[date, ...], length: int
) -> tuple[tuple[tuple[date, date], ...], tuple[tuple[date, int], ...]]:
    """The no-contact stretches between slips (each slip starts a new one) and the milestones
    reached in each: day 1, 3, 7, 14, 21 and the chosen length."""
    starts = [start, *sorted(s for s in set(slips) if start < s <= today)]
    stretches, milestones = [], []
    for index, first in enumerate(starts):
        last = starts[index + 1] - timedelta(days=1) if index + 1 < len(starts) else today
        if last < first:
            continue
        stretches.append((first, last))
        end = starts[index + 1] if index + 1 < len(starts) else today + timedelta(days=1)
        for days in sorted({*MILESTONES, length}):
            when = first + timedelta(days=days)
            if when < end:
                milestones.append((when, days))
    return tuple(stretches), tuple(milestones)


def render_chart(data: ChartData, labels: ChartLabels) -> bytes:
    """The PNG bytes of the progress chart."""
    import matplotlib.dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()

    first = min([data.start, *(d for d, _ in data.moods)])
    num = mdates.date2num
    left, right = num(first), num(data.today + timedelta(days=1))
    if right - left < MIN_SPAN_DAYS:  # a short history sits in the middle of a week
        pad = (MIN_SPAN_DAYS - (right - left)) / 2
        left, right = left - pad, right + pad
    mid = 0.5  # a day's mood and milestone sit in the middle of its day

    for index, (start, last) in enumerate(data.stretches):
        ax.axvspan(
            num(start),
            num(last + timedelta(days=1)),
            color=NO_CONTACT_COLOUR,
            linewidth=0,
            zorder=0,
            label=labels.no_contact if index == 0 else "_",
        )
    for index, slip in enumerate(data.slips):
        ax.axvline(
            num(slip),
            color=SLIP_COLOUR,
            linestyle="--",
            linewidth=1.2,
            zorder=2,
            label=labels.slip if index == 0 else "_",
        )
    if data.moods:
        xs = [num(d) + mid for d, _ in data.moods]
        ys = [m for _, m in data.moods]
        ax.plot(
            xs,
            ys,
            color=MOOD_COLOUR,
            linewidth=1.8,
            marker="o" if len(xs) <= MARKERS_UP_TO else None,
            markersize=5,
            zorder=3,
            label=labels.mood,
        )
    else:
        ax.text(0.5, 0.5, labels.empty, transform=ax.transAxes, ha="center", va="center",
                fontsize=12, color="#555555")  # fmt: skip
    if data.milestones:
        top = 5.45
        ax.scatter(
            [num(d) + mid for d, _ in data.milestones],
            [top] * len(data.milestones),
            marker="*",
            s=110,
            color=MILESTONE_COLOUR,
            zorder=4,
            clip_on=False,
            label=labels.milestone,
        )
        if len(data.milestones) <= LABELLED_MILESTONES_UP_TO:
            for when, days in data.milestones:
                ax.annotate(
                    str(days),
                    (num(when) + mid, top),
                    xytext=(0, 7),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7,
                    color="#6b5000",
                    annotation_clip=False,
                )

    ax.set_xlim(left, right)
    ax.set_ylim(0.6, 5.9)
    ax.set_yticks([1, 2, 3, 4, 5])
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_title(labels.title, fontsize=13, loc="left")
    ax.set_ylabel(labels.mood_axis)
    ax.grid(axis="y", alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles, names = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4,
                  frameon=False, fontsize=9)  # fmt: skip
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


class ProgressService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        default_tz: str,
        checkins: CheckinService,
        program: Program | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.default_tz = default_tz
        self.checkins = checkins
        self.program = program or load_program()

    @retry_transient
    async def report(self, user_id: int) -> ProgressReport:
        async with self.db.sessions() as session:
            profile = await q.get_profile(session, user_id)
            if profile is None or profile.intake_completed_at is None or profile.phase is None:
                raise NotStarted(user_id)
            today = local_today(profile, self.clock.now(), self.default_tz)
            start = local_today(profile, profile.intake_completed_at, self.default_tz)
            if profile.no_contact_started_on is not None:
                start = min(start, profile.no_contact_started_on)
            rows = await session.execute(
                select(Checkin.local_date, func.avg(Checkin.mood))
                .where(Checkin.user_id == user_id, Checkin.mood.is_not(None))
                .group_by(Checkin.local_date)
                .order_by(Checkin.local_date)
            )
            moods = tuple((d, round(float(m), 2)) for d, m in rows)
            slips = tuple(
                await session.scalars(
                    select(ContactEvent.local_date)
                    .where(ContactEvent.user_id == user_id, ContactEvent.breaks_no_contact)
                    .order_by(ContactEvent.local_date)
                    .distinct()
                )
            )
            streak = await self.checkins.streak(session, profile, today)
        stretches, milestones = stretches_and_milestones(
            start, today, slips, profile.no_contact_days
        )
        plan_began = local_today(profile, profile.intake_completed_at, self.default_tz)
        return ProgressReport(
            phase=profile.phase,
            day_of_plan=max(0, (today - plan_began).days) + 1,
            current_streak=streak.current,
            total_no_contact=streak.total,
            urges_resisted=streak.urges_resisted,
            slips=profile.slips,
            checkins=len(moods),
            chart=ChartData(start, today, moods, stretches, slips, milestones),
            distance=streak.distance,
        )
