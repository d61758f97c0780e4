"""Analytics: the definitions of every series and rate, on hand-made rows, and the period queries on a real store."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant import ratings
from assistant.analytics import (
    LOCAL_TZ,
    Period,
    RatingRow,
    TurnRow,
    analytics,
    build_report,
    conversations_per_day,
    local_day,
    normalise_question,
    per_channel,
    percentile,
    rates,
    rating_summary,
    top_unanswered,
    turns_per_day,
)
from assistant.settings import Settings
from assistant.turn_log import record_turn

DAY = dt.date(2026, 11, 30)


def at(day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A moment on November ``day`` 2026, local time (UTC+8)."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=LOCAL_TZ)


def turn(conversation: str, outcome: str, when: dt.datetime | None = None, question: str = "", channel: str = "h5",
         latency: int = 100) -> TurnRow:  # fmt: skip
    return TurnRow(when or at(30), channel, conversation, outcome, question, latency)


# --- rates ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # nothing: every rate undefined, never 0
        ([], dict(conversations=0, resolved=0, handed_over=0, resolution_rate=None, handoff_rate=None,
                  not_found_rate=None)),
        # one answered conversation: resolved
        ([turn("a", "other"), turn("a", "answered")],
         dict(conversations=1, resolved=1, handed_over=0, resolution_rate=1.0, handoff_rate=0.0, not_found_rate=0.0)),
        # answered, then handed over: not resolved by the assistant, counted as a handoff
        ([turn("a", "answered"), turn("a", "handoff")],
         dict(conversations=1, resolved=0, handed_over=1, resolution_rate=0.0, handoff_rate=1.0, not_found_rate=0.0)),
        # a greeting only: not resolved, no knowledge turn
        ([turn("a", "other")],
         dict(conversations=1, resolved=0, handed_over=0, resolution_rate=0.0, handoff_rate=0.0, not_found_rate=None)),
        # a submitted form resolves; asking which item is a knowledge turn that found something
        ([turn("a", "asked"), turn("a", "form"), turn("b", "not_found", question="火星")],
         dict(conversations=2, resolved=1, handed_over=0, resolution_rate=0.5, handoff_rate=0.0,
              not_found_rate=1 / 2)),
        # not found twice: the second is a handoff with its question kept, still a failed search
        ([turn("a", "not_found", question="火星"), turn("a", "handoff", question="月球"), turn("b", "answered"),
          turn("c", "handoff"), turn("d", "answered")],
         dict(conversations=4, resolved=2, handed_over=2, resolution_rate=0.5, handoff_rate=0.5,
              not_found_rate=2 / 4)),
    ],
)  # fmt: skip
def test_rates(rows: list[TurnRow], expected: dict[str, object]) -> None:
    result = rates(rows)
    assert {key: getattr(result, key) for key in expected} == expected
    assert result.turns == len(rows)


def test_days_are_local_calendar_days() -> None:
    days = Period.ending(DAY, 2).days
    rows = [
        turn("a", "answered", dt.datetime(2026, 11, 29, 15, 59, tzinfo=dt.UTC)),  # 23:59 on the 29th in China
        turn("a", "answered", dt.datetime(2026, 11, 29, 16, 0, tzinfo=dt.UTC)),  # 00:00 on the 30th
        turn("b", "answered", dt.datetime(2026, 11, 29, 16, 30)),  # naive (SQLite): UTC
        turn("b", "other", at(30, 23, 59)),
    ]
    assert days == [dt.date(2026, 11, 29), DAY]
    assert turns_per_day(rows, days) == [1, 3]
    assert conversations_per_day(rows, days) == [1, 2]
    assert local_day(dt.datetime(2026, 11, 30, 20, tzinfo=dt.UTC)) == dt.date(2026, 12, 1)


def test_period_bounds() -> None:
    period = Period.ending(DAY, 7)
    assert period.first == dt.date(2026, 11, 24) and len(period.days) == 7
    assert period.since == dt.datetime(2026, 11, 23, 16, tzinfo=dt.UTC)
    assert period.until == dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC)
    with pytest.raises(ValueError):
        Period.ending(DAY, 0)


# --- questions ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("火星签证怎么办？", "火星签证怎么办"),  # punctuation
        ("火星签证 怎么办", "火星签证怎么办"),  # spaces
        ("ＡＢＣ证明", "abc证明"),  # width and case
        ("能办火星签证吗", "能办火星签证"),  # a trailing particle
        ("我的〔号码〕查不到", "我的号码查不到"),  # brackets of the number placeholder
    ],
)
def test_questions_that_group_together(a: str, b: str) -> None:
    assert normalise_question(a) == normalise_question(b)


def test_top_unanswered_groups_counts_and_orders() -> None:
    rows = [
        turn("a", "not_found", at(28), "火星签证怎么办？"),
        turn("b", "not_found", at(29), "火星签证怎么办"),
        turn("c", "handoff", at(30), "火星签证怎么办"),  # handed over after a failed search
        turn("d", "not_found", at(30, 11), "月球户口"),
        turn("e", "not_found", at(29, 12), "金星养老"),
        turn("f", "answered", at(30), ""),  # answered: not a question
        turn("g", "handoff", at(30), ""),  # asked for a person: no question kept
    ]
    top = top_unanswered(rows, limit=2)
    assert [(q.text, q.count) for q in top] == [
        ("火星签证怎么办", 3),
        ("月球户口", 1),
    ]  # 月球 is the more recent single
    assert top[0].last_at == at(30)


# --- ratings and channels -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scores", "count", "average", "distribution", "bad"),
    [
        ([], 0, None, {5: 0, 4: 0, 3: 0, 2: 0, 1: 0}, 0),  # no ratings: no average
        ([5, 5, 4, 1], 4, 3.75, {5: 2, 4: 1, 3: 0, 2: 0, 1: 1}, 1),  # one 差评
        ([2, 2, 3, 7], 3, 7 / 3, {5: 0, 4: 0, 3: 1, 2: 2, 1: 0}, 2),  # an impossible score is ignored
    ],
)
def test_rating_summary(scores: list[int], count: int, average: float | None, distribution: dict[int, int],
                        bad: int) -> None:  # fmt: skip
    summary = rating_summary(RatingRow(at(30), "h5", s) for s in scores)
    assert (summary.count, summary.distribution, summary.bad) == (count, distribution, bad)
    assert summary.average == pytest.approx(average) if average is not None else summary.average is None


def test_per_channel_split() -> None:
    turns = [turn("a", "answered", channel="wechat"), turn("b", "other"), turn("b", "answered"), turn("c", "other")]
    given = [RatingRow(at(30), "h5", 5), RatingRow(at(30), "h5", 2), RatingRow(at(30), "phone", 4)]
    split = {c.channel: c for c in per_channel(turns, given)}
    assert list(split) == ["h5", "wechat", "phone"]
    assert (split["h5"].turns, split["h5"].conversations, split["h5"].resolution_rate) == (3, 2, 0.5)
    assert (split["h5"].ratings, split["h5"].average_rating) == (2, 3.5)
    assert (split["wechat"].turns, split["wechat"].ratings, split["wechat"].average_rating) == (1, 0, None)
    assert split["phone"].turns == 0 and split["phone"].resolution_rate is None


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([], 0.5, None),
        ([7], 0.95, 7),
        ([1, 2, 3, 4], 0.5, 2),
        ([5, 1, 4, 2, 3], 0.5, 3),
        (list(range(1, 101)), 0.95, 95),
    ],
)
def test_percentile(values: list[int], share: float, expected: int | None) -> None:
    assert percentile(values, share) == expected


def test_report_keeps_only_the_period_and_serialises() -> None:
    rows = [turn("a", "answered", at(30)), turn("b", "not_found", at(22), "火星"), turn("c", "handoff", at(29))]
    report = build_report(rows, [RatingRow(at(29), "h5", 4), RatingRow(at(1), "h5", 1)], Period.ending(DAY, 7))
    data = report.as_dict()
    assert data["series"]["turns"] == [0, 0, 0, 0, 0, 1, 1]
    assert data["series"]["handoff_rate"][-2:] == [1.0, 0.0]
    assert data["series"]["resolution_rate"][0] is None
    assert data["summary"]["conversations"] == 2 and data["summary"]["handoff_rate"] == 0.5
    assert data["top_unanswered"] == []  # the failed search was before the period
    assert data["ratings"]["count"] == 1 and data["ratings"]["distribution"]["4"] == 1


# --- queries on the store -------------------------------------------------------------------------------------------
NOT_FOUND = [{"custom": {"type": "text", "text": "抱歉", "outcome": "not_found"}}]
ANSWERED = [{"custom": {"type": "answer", "text": "…", "item_code": "P02"}}]


def test_analytics_loads_only_the_period(store: Settings) -> None:
    log = [
        ("a", ANSWERED, at(30, 0, 5)),
        ("b", NOT_FOUND, at(29, 23, 55)),
        ("b", NOT_FOUND, at(24, 0, 0)),  # the first moment of a 7-day period
        ("c", ANSWERED, at(23, 23, 59)),  # the day before
        ("d", ANSWERED, dt.datetime(2026, 12, 1, tzinfo=LOCAL_TZ)),  # 1 December: after
    ]
    for conversation, messages, moment in log:
        record_turn(store, channel="h5", conversation_id=conversation, elder=False, messages=messages,
                    question="火星签证", latency_ms=50, at=moment)  # fmt: skip
    ratings.rate(store, conversation_id="a", channel="h5", score=5, at=at(30, 9).astimezone(dt.UTC))
    ratings.rate(store, conversation_id="b", channel="wechat", score=1, at=at(20, 9).astimezone(dt.UTC))
    report = analytics(store, 7, today=DAY)
    assert report.turns == [1, 0, 0, 0, 0, 1, 1]
    assert report.summary.conversations == 2 and report.summary.resolved == 1
    assert [(q.text, q.count) for q in report.top_unanswered] == [("火星签证", 2)]
    assert report.ratings.count == 1 and report.ratings.distribution[5] == 1
