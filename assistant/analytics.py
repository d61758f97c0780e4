"""Analytics for the admin pages: pure aggregations over turn-log rows and ratings, and the queries that load one period.

Definitions (also in docs/operations.md, "Analytics"); a *day* is a calendar day in China Standard Time (UTC+8), a
*conversation* is one Rasa sender id (one H5 session, one WeChat user per account), counted in a period when it has at
least one turn in it:

- **turns per day**: messages people sent that the assistant answered (a turn that failed with 503 is not logged);
- **conversations per day**: distinct conversations with a turn that day;
- **resolution rate**: conversations with at least one ``answered`` or ``form`` turn and no ``handoff`` turn, divided by
  all conversations. A conversation that only greeted, or asked something the assistant could not answer, is not
  resolved; one that was handed to a person is not resolved by the assistant even when it was answered before;
- **handoff rate**: conversations with at least one ``handoff`` turn (asked for a person, or handed over after repeated
  failed searches), divided by all conversations;
- **not-found rate**: turns whose search found nothing (``not_found``, or a ``handoff`` after a failed search), divided by
  the turns that asked the knowledge base something (``answered``, ``asked``, ``not_found`` and those handoffs);
- **top unanswered questions**: the questions of the turns whose search found nothing, grouped after normalisation
  (width, case, spaces, punctuation and a trailing 吗/呢/啊/呀/吧 removed), most frequent first; each group is shown as the
  wording used most often;
- **ratings**: 好差评 scores (1–5) given in the period (by the time of the first rating of a conversation), their
  distribution and average.

A rate whose denominator is zero is ``None`` (shown as “—”), never 0.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select

from assistant.settings import Settings
from assistant.store import session_scope

#: China Standard Time; China has no daylight saving time, so a fixed offset is exact.
LOCAL_TZ = dt.timezone(dt.timedelta(hours=8), "CST")

#: Periods the admin page offers, in days.
PERIODS = (7, 30, 90)
MAX_DAYS = 366

RESOLVING = frozenset({"answered", "form"})
KNOWLEDGE = frozenset({"answered", "asked", "not_found"})
SCORES = (5, 4, 3, 2, 1)

_TRAILING_PARTICLES = re.compile(r"[吗呢啊呀吧哦嘛]+$")


@dataclass(frozen=True)
class TurnRow:
    at: dt.datetime
    channel: str
    conversation_id: str
    outcome: str
    question: str = ""  # kept only when the search found nothing
    latency_ms: int = 0

    @property
    def found_nothing(self) -> bool:
        return self.outcome == "not_found" or bool(self.question)


@dataclass(frozen=True)
class RatingRow:
    created_at: dt.datetime
    channel: str
    score: int


@dataclass(frozen=True)
class Period:
    """The local calendar days ``first`` … ``last`` (both included)."""

    first: dt.date
    last: dt.date

    @classmethod
    def ending(cls, last: dt.date, days: int) -> Period:
        if not 1 <= days <= MAX_DAYS:
            raise ValueError(f"days must be 1..{MAX_DAYS}, not {days}")
        return cls(last - dt.timedelta(days=days - 1), last)

    @property
    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def since(self) -> dt.datetime:
        """The period's first moment (aware, UTC+8)."""
        return dt.datetime.combine(self.first, dt.time(), LOCAL_TZ)

    @property
    def until(self) -> dt.datetime:
        """The moment after the period (exclusive)."""
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), LOCAL_TZ)


def local_day(moment: dt.datetime) -> dt.date:
    """The local calendar day of ``moment`` (a naive moment is UTC, as SQLite gives it back)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(LOCAL_TZ).date()


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- series ---------------------------------------------------------------------------------------------------------
def turns_per_day(rows: Iterable[TurnRow], days: Sequence[dt.date]) -> list[int]:
    counts = Counter(local_day(row.at) for row in rows)
    return [counts.get(day, 0) for day in days]


def conversations_per_day(rows: Iterable[TurnRow], days: Sequence[dt.date]) -> list[int]:
    seen: dict[dt.date, set[str]] = defaultdict(set)
    for row in rows:
        seen[local_day(row.at)].add(row.conversation_id)
    return [len(seen.get(day, ())) for day in days]


@dataclass(frozen=True)
class Rates:
    turns: int
    conversations: int
    resolved: int
    handed_over: int
    knowledge_turns: int
    not_found_turns: int
    resolution_rate: float | None
    handoff_rate: float | None
    not_found_rate: float | None


def rates(rows: Iterable[TurnRow]) -> Rates:
    """Resolution, handoff and not-found rates of ``rows`` (see the module documentation for the definitions)."""
    outcomes: dict[str, set[str]] = defaultdict(set)
    turns = knowledge = not_found = 0
    for row in rows:
        turns += 1
        outcomes[row.conversation_id].add(row.outcome)
        if row.found_nothing:
            not_found += 1
        if row.found_nothing or row.outcome in KNOWLEDGE:
            knowledge += 1
    conversations = len(outcomes)
    handed_over = sum(1 for seen in outcomes.values() if "handoff" in seen)
    resolved = sum(1 for seen in outcomes.values() if seen & RESOLVING and "handoff" not in seen)
    return Rates(
        turns=turns,
        conversations=conversations,
        resolved=resolved,
        handed_over=handed_over,
        knowledge_turns=knowledge,
        not_found_turns=not_found,
        resolution_rate=ratio(resolved, conversations),
        handoff_rate=ratio(handed_over, conversations),
        not_found_rate=ratio(not_found, knowledge),
    )


def daily_rates(rows: Iterable[TurnRow], days: Sequence[dt.date]) -> list[Rates]:
    """:func:`rates` of each day's turns (a conversation spanning two days counts on each)."""
    by_day: dict[dt.date, list[TurnRow]] = defaultdict(list)
    for row in rows:
        by_day[local_day(row.at)].append(row)
    return [rates(by_day.get(day, [])) for day in days]


# --- questions ------------------------------------------------------------------------------------------------------
def normalise_question(text: str) -> str:
    """The grouping key of a question: width and case folded, spaces, punctuation and symbols removed, and a trailing
    modal particle (吗、呢、啊 …) dropped."""
    folded = unicodedata.normalize("NFKC", text).lower()
    kept = "".join(ch for ch in folded if not unicodedata.category(ch).startswith(("P", "S", "Z", "C")))
    return _TRAILING_PARTICLES.sub("", kept) or kept


@dataclass(frozen=True)
class QuestionCount:
    text: str  # the wording used most often (the latest of equally frequent ones)
    count: int
    last_at: dt.datetime


def top_unanswered(rows: Iterable[TurnRow], limit: int = 10) -> list[QuestionCount]:
    """The most frequent questions the knowledge base had nothing for, grouped by :func:`normalise_question`."""
    groups: dict[str, list[TurnRow]] = defaultdict(list)
    for row in rows:
        if row.found_nothing and row.question.strip():
            key = normalise_question(row.question)
            if key:
                groups[key].append(row)
    result = []
    for members in groups.values():
        wordings = Counter(row.question.strip() for row in members)
        latest = {row.question.strip(): row.at for row in sorted(members, key=lambda r: _aware(r.at))}
        text = max(wordings, key=lambda w: (wordings[w], _aware(latest[w])))
        result.append(QuestionCount(text, len(members), max(_aware(row.at) for row in members)))
    result.sort(key=lambda q: (-q.count, -q.last_at.timestamp(), q.text))
    return result[:limit]


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


# --- ratings --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: float | None
    distribution: dict[int, int]  # score → ratings, 5 … 1
    bad: int  # 差评: score ≤ 2


def rating_summary(rows: Iterable[RatingRow]) -> RatingSummary:
    scores = [row.score for row in rows if row.score in SCORES]
    counts = Counter(scores)
    return RatingSummary(
        count=len(scores),
        average=sum(scores) / len(scores) if scores else None,
        distribution={score: counts.get(score, 0) for score in SCORES},
        bad=sum(1 for s in scores if s <= 2),
    )


# --- channels -------------------------------------------------------------------------------------------------------
CHANNEL_ORDER = ("h5", "mini", "wechat", "phone")


@dataclass(frozen=True)
class ChannelSplit:
    channel: str
    turns: int
    conversations: int
    resolution_rate: float | None
    ratings: int
    average_rating: float | None


def per_channel(turns: Sequence[TurnRow], ratings: Sequence[RatingRow]) -> list[ChannelSplit]:
    """One line per channel that had turns or ratings, in the order h5, mini, wechat, phone, then any other."""
    names = {row.channel for row in turns} | {row.channel for row in ratings}
    ordered = [c for c in CHANNEL_ORDER if c in names] + sorted(names - set(CHANNEL_ORDER))
    result = []
    for channel in ordered:
        channel_rates = rates(row for row in turns if row.channel == channel)
        channel_ratings = rating_summary(row for row in ratings if row.channel == channel)
        result.append(
            ChannelSplit(
                channel=channel,
                turns=channel_rates.turns,
                conversations=channel_rates.conversations,
                resolution_rate=channel_rates.resolution_rate,
                ratings=channel_ratings.count,
                average_rating=channel_ratings.average,
            )
        )
    return result


# --- the whole report -----------------------------------------------------------------------------------------------
def percentile(values: Sequence[int], share: float) -> int | None:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-int(share * 1000) * len(ordered) // 1000))  # ceil(share * n) without float surprises
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Report:
    period: Period
    days: list[dt.date]
    turns: list[int]
    conversations: list[int]
    daily: list[Rates]
    summary: Rates
    latency_median_ms: int | None
    latency_p95_ms: int | None
    top_unanswered: list[QuestionCount]
    ratings: RatingSummary
    channels: list[ChannelSplit] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO strings, rates as fractions (0..1) or null."""
        return {
            "period": {
                "first": self.period.first.isoformat(),
                "last": self.period.last.isoformat(),
                "days": len(self.days),
            },
            "series": {
                "days": [day.isoformat() for day in self.days],
                "turns": self.turns,
                "conversations": self.conversations,
                "resolution_rate": [d.resolution_rate for d in self.daily],
                "handoff_rate": [d.handoff_rate for d in self.daily],
                "not_found_rate": [d.not_found_rate for d in self.daily],
            },
            "summary": {
                **asdict(self.summary),
                "latency_median_ms": self.latency_median_ms,
                "latency_p95_ms": self.latency_p95_ms,
            },
            "top_unanswered": [
                {"text": q.text, "count": q.count, "last_at": q.last_at.isoformat()} for q in self.top_unanswered
            ],
            "ratings": {
                "count": self.ratings.count,
                "average": self.ratings.average,
                "bad": self.ratings.bad,
                "distribution": {str(score): n for score, n in self.ratings.distribution.items()},
            },
            "channels": [asdict(c) for c in self.channels],
        }


def build_report(turns: Sequence[TurnRow], ratings: Sequence[RatingRow], period: Period, *, top: int = 10) -> Report:
    """Everything the analytics page shows, from the rows of ``period`` (rows outside it are ignored)."""
    turns = [row for row in turns if period.first <= local_day(row.at) <= period.last]
    ratings = [row for row in ratings if period.first <= local_day(row.created_at) <= period.last]
    days = period.days
    latencies = [row.latency_ms for row in turns]
    return Report(
        period=period,
        days=days,
        turns=turns_per_day(turns, days),
        conversations=conversations_per_day(turns, days),
        daily=daily_rates(turns, days),
        summary=rates(turns),
        latency_median_ms=percentile(latencies, 0.5),
        latency_p95_ms=percentile(latencies, 0.95),
        top_unanswered=top_unanswered(turns, top),
        ratings=rating_summary(ratings),
        channels=per_channel(turns, ratings),
    )


# --- queries --------------------------------------------------------------------------------------------------------
def load_turns(settings: Settings, since: dt.datetime, until: dt.datetime) -> list[TurnRow]:
    """The turns logged in ``[since, until)``, only the columns the aggregations use."""
    from assistant.turn_log import Turn

    with session_scope(settings) as session:
        query = (
            select(Turn.at, Turn.channel, Turn.conversation_id, Turn.outcome, Turn.question, Turn.latency_ms)
            .where(Turn.at >= since.astimezone(dt.UTC), Turn.at < until.astimezone(dt.UTC))
            .order_by(Turn.at)
        )
        return [TurnRow(*row) for row in session.execute(query)]


def load_ratings(settings: Settings, since: dt.datetime, until: dt.datetime) -> list[RatingRow]:
    """The ratings first given in ``[since, until)`` with their current score."""
    from assistant.ratings import Rating

    with session_scope(settings) as session:
        query = select(Rating.created_at, Rating.channel, Rating.score).where(
            Rating.created_at >= since.astimezone(dt.UTC), Rating.created_at < until.astimezone(dt.UTC)
        )
        return [RatingRow(*row) for row in session.execute(query)]


def analytics(settings: Settings, days: int, *, today: dt.date | None = None) -> Report:
    """The report of the ``days`` local days ending ``today`` (default: today in UTC+8)."""
    period = Period.ending(today or dt.datetime.now(LOCAL_TZ).date(), days)
    return build_report(
        load_turns(settings, period.since, period.until), load_ratings(settings, period.since, period.until), period
    )
