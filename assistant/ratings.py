"""好差评: how satisfied people were with a conversation, and the follow-up of every 差评.

The five levels are those of the government-service 好差评 scheme, 5 非常满意 … 1 非常不满意; 不满意 and 非常不满意 (score ≤ 2)
are 差评. Each 差评 opens a follow-up (``rating_followups``, numbered HC-YYYYMMDD-NNNNNN like the tickets' GD-…) in the
same transaction as the rating; staff check it, put things right, call back where they can, and close it with a result.

One rating per conversation (the Rasa sender id). Rating again within :data:`CHANGE_WINDOW` of the first rating replaces
the earlier score and comment; later the conversation's rating is final and a new one is refused
(:class:`RatingClosed`). A re-rating never closes anything: a follow-up once opened stays open until staff close it —
the person was unhappy at some point and someone should still look — and the listing shows the current score next to
it. A 差评 given while the rating has no open follow-up (the first one, or after staff closed the earlier one) opens a
new follow-up.

Comments are free text: long numbers (ID, phone and card numbers, see :func:`mask_numbers`) are masked
before anything is stored, so the table holds no raw personal number.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from assistant.settings import Settings
from assistant.store import Base, now, session_scope
from assistant.vault import MIN_DIGITS
from nlu.extract import RECEIPT

#: score → the level's name, best first.
LEVELS: dict[int, str] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}

#: The channels a rating can come from (the same names as the turn log's).
CHANNELS = frozenset({"h5", "mini", "wechat", "phone"})

MAX_COMMENT_CHARS = 500
MAX_RESULT_CHARS = 1000

#: How long after the first rating of a conversation the person may change it.
CHANGE_WINDOW = dt.timedelta(hours=24)

#: What a masked number looks like in a stored comment.
MASK = "〔号码已隐去〕"

FOLLOWUP_STATUSES = ("open", "closed")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LONG_DIGITS = re.compile(rf"\+?\d(?:[\s\-－—]*\d){{{MIN_DIGITS - 1},}}[Xx]?")


class RatingError(ValueError):
    """Base of the store's refusals; ``message`` is plain Chinese for the person or the staff member."""

    def __init__(self, message: str, context: str = "") -> None:
        super().__init__(f"{message} ({context})" if context else message)
        self.message = message
        self.context = context  # for the log


class InvalidRating(RatingError):
    """A score outside 1..5, an unknown channel, or a comment that is too long."""


class RatingClosed(RatingError):
    """The conversation was rated more than :data:`CHANGE_WINDOW` ago; its rating can no longer change."""


class FollowupNotFound(RatingError, LookupError):
    pass


class FollowupClosed(RatingError):
    """The follow-up was closed already."""


def is_bad(score: int) -> bool:
    """Whether ``score`` is a 差评 (不满意 or 非常不满意)."""
    return score <= 2


def level(score: int) -> str:
    """The level's name; raises :class:`InvalidRating` for a score outside 1..5."""
    if isinstance(score, bool) or score not in LEVELS:
        raise InvalidRating("请从“非常满意”到“非常不满意”五个等级中选择一个。", f"score {score!r}")
    return LEVELS[score]


def mask_numbers(text: str) -> str:
    """``text`` with every long number (11+ digits: ID, phone, bank card) replaced by :data:`MASK`.

    Stricter than the vault (:func:`assistant.vault.long_numbers`), which leaves a number glued to Latin letters alone
    ("tel13812345678"): any run of 11 or more digits goes, spaces and dashes inside included. 受理编号 such as
    SBK-20261121-000123 are kept (they are what staff need to find an application).
    """
    pieces, last = [], 0
    for receipt in [*RECEIPT.finditer(text), None]:
        start, end = receipt.span() if receipt is not None else (len(text), len(text))
        pieces += [_LONG_DIGITS.sub(MASK, text[last:start]), text[start:end]]
        last = end
    return "".join(pieces)


def clean_text(text: str, limit: int, what: str) -> str:
    """Free text as it is stored: control characters dropped, blank ends trimmed, long numbers masked.

    Raises:
        InvalidRating: longer than ``limit`` characters (counted before masking, as the person typed it).
    """
    text = _CONTROL.sub("", text.replace("\r\n", "\n")).strip()
    if len(text) > limit:
        raise InvalidRating(f"{what}太长了，请控制在{limit}字以内（现在{len(text)}字）。", f"{what}: {len(text)} chars")
    return mask_numbers(text)


def validate_comment(comment: str) -> str:
    """The comment as it is stored (see :func:`clean_text`); at most :data:`MAX_COMMENT_CHARS` characters."""
    return clean_text(comment, MAX_COMMENT_CHARS, "评价内容")


def followup_number(day: dt.date, sequence: int) -> str:
    """回访编号: HC-20261130-000042."""
    return f"HC-{day:%Y%m%d}-{sequence:06d}"


class Rating(Base):
    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(128), unique=True)
    channel: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")  # long numbers masked
    item_code: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class RatingFollowup(Base):
    __tablename__ = "rating_followups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id"), index=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(8), default="open", index=True)
    assignee: Mapped[str] = mapped_column(String(64), default="")
    result: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class Rated:
    """What the person is told after rating."""

    score: int
    level: str
    replaced: bool  # an earlier rating of the conversation was replaced
    followup_number: str | None  # the open follow-up of a 差评


@dataclass(frozen=True)
class Followup:
    """A follow-up with the rating it follows (what staff see)."""

    number: str
    status: str
    assignee: str
    result: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    score: int
    level: str
    comment: str
    channel: str
    item_code: str
    conversation_id: str
    rated_at: dt.datetime


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes for ``DateTime(timezone=True)``; everything is stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def rate(
    settings: Settings,
    *,
    conversation_id: str,
    channel: str,
    score: int,
    comment: str = "",
    item_code: str = "",
    at: dt.datetime | None = None,
) -> Rated:
    """Record (or, within :data:`CHANGE_WINDOW`, replace) the rating of a conversation; a 差评 opens a follow-up.

    Rating and follow-up are written in one transaction. ``at`` is the moment of rating (tests pass one).

    Raises:
        InvalidRating: score, channel or comment unusable (nothing is stored).
        RatingClosed: the conversation was rated more than :data:`CHANGE_WINDOW` before ``at``.
    """
    name = level(score)
    if channel not in CHANNELS:
        raise InvalidRating("评价来源不正确。", f"channel {channel!r}")
    stored_comment = validate_comment(comment)
    moment = at or now()
    for attempt in range(2):
        try:
            with session_scope(settings) as session:
                return _rate(session, conversation_id, channel, score, name, stored_comment, item_code[:64], moment)
        except IntegrityError:
            # a concurrent first rating of the same conversation won the race: rate again, as a replacement
            if attempt:
                raise
    raise AssertionError("unreachable")


def _rate(
    session: Session,
    conversation_id: str,
    channel: str,
    score: int,
    name: str,
    comment: str,
    item_code: str,
    moment: dt.datetime,
) -> Rated:
    rating = session.scalar(select(Rating).where(Rating.conversation_id == conversation_id).with_for_update())
    replaced = rating is not None
    if rating is None:
        rating = Rating(
            conversation_id=conversation_id,
            channel=channel,
            score=score,
            comment=comment,
            item_code=item_code,
            created_at=moment,
            updated_at=moment,
        )
        session.add(rating)
        session.flush()
    else:
        if moment - _aware(rating.created_at) > CHANGE_WINDOW:
            raise RatingClosed(
                "这次对话已经评价过了，评价后24小时内可以修改，现在已不能再修改。感谢您的反馈！",
                f"conversation rated at {rating.created_at.isoformat()}",
            )
        rating.score, rating.comment, rating.updated_at = score, comment, moment
        rating.item_code = item_code or rating.item_code
    followup = session.scalar(
        select(RatingFollowup)
        .where(RatingFollowup.rating_id == rating.id, RatingFollowup.status == "open")
        .order_by(RatingFollowup.id.desc())
    )
    if followup is None and is_bad(score):
        followup = RatingFollowup(rating_id=rating.id, status="open", created_at=moment)
        session.add(followup)
        session.flush()
        followup.number = followup_number(moment.date(), followup.id)
        session.flush()
    number = followup.number if followup is not None and is_bad(score) else None
    return Rated(score=score, level=name, replaced=replaced, followup_number=number)


def _followup(rating: Rating, followup: RatingFollowup) -> Followup:
    return Followup(
        number=str(followup.number),
        status=followup.status,
        assignee=followup.assignee,
        result=followup.result,
        created_at=_aware(followup.created_at),
        closed_at=_aware(followup.closed_at) if followup.closed_at is not None else None,
        score=rating.score,
        level=LEVELS.get(rating.score, ""),
        comment=rating.comment,
        channel=rating.channel,
        item_code=rating.item_code,
        conversation_id=rating.conversation_id,
        rated_at=_aware(rating.updated_at),
    )


def followups(settings: Settings, status: str | None = "open", *, limit: int = 500) -> list[Followup]:
    """Follow-ups with ``status`` (``None``: all), oldest open first so the longest-waiting come first; closed ones newest
    first."""
    with session_scope(settings) as session:
        query = select(RatingFollowup, Rating).join(Rating, Rating.id == RatingFollowup.rating_id)
        if status is not None:
            query = query.where(RatingFollowup.status == status)
        order = RatingFollowup.id.asc() if status == "open" else RatingFollowup.id.desc()
        rows = session.execute(query.order_by(order).limit(limit)).all()
        return [_followup(rating, followup) for followup, rating in rows]


def find_followup(settings: Settings, number: str) -> Followup | None:
    with session_scope(settings) as session:
        row = session.execute(
            select(RatingFollowup, Rating)
            .join(Rating, Rating.id == RatingFollowup.rating_id)
            .where(RatingFollowup.number == number.strip().upper())
        ).first()
        return _followup(row[1], row[0]) if row is not None else None


def close_followup(
    settings: Settings, number: str, *, result: str, assignee: str, at: dt.datetime | None = None
) -> Followup:
    """Close the follow-up ``number`` with ``result`` (what was checked, put right and told to the person).

    ``assignee`` (the staff member closing it) is recorded unless someone was assigned before. Long numbers in
    ``result`` are masked like comments.

    Raises:
        InvalidRating: ``result`` is empty or longer than :data:`MAX_RESULT_CHARS`.
        FollowupNotFound: no follow-up has that number.
        FollowupClosed: it was closed already (the first result stays).
    """
    text = clean_text(result, MAX_RESULT_CHARS, "处理结果")
    if not text:
        raise InvalidRating("请填写处理结果：核实了什么、怎样整改、是否已回访。", "empty result")
    with session_scope(settings) as session:
        followup = session.scalar(
            select(RatingFollowup).where(RatingFollowup.number == number.strip().upper()).with_for_update()
        )
        if followup is None:
            raise FollowupNotFound("没有这个回访编号。", f"followup {number!r}")
        if followup.status == "closed":
            raise FollowupClosed("这条回访已经办结，不能重复办结。", f"followup {number} closed already")
        followup.status, followup.result, followup.closed_at = "closed", text, at or now()
        followup.assignee = followup.assignee or assignee[:64]
        session.flush()
        rating = session.get_one(Rating, followup.rating_id)
        return _followup(rating, followup)


def rating_of(settings: Settings, conversation_id: str) -> Rated | None:
    """The conversation's current rating (with its open follow-up of a 差评), if it was rated."""
    with session_scope(settings) as session:
        rating = session.scalar(select(Rating).where(Rating.conversation_id == conversation_id))
        if rating is None:
            return None
        number = session.scalar(
            select(RatingFollowup.number).where(RatingFollowup.rating_id == rating.id, RatingFollowup.status == "open")
        )
        return Rated(rating.score, LEVELS[rating.score], False, number if is_bad(rating.score) else None)
