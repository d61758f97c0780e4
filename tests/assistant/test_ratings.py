"""好差评 store: one rating per conversation (replaced within 24 h, then final), 差评 opens a follow-up in the same
transaction, closing follow-ups, masked comments; on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, inspect, text

from assistant import ratings
from assistant.settings import Settings
from assistant.store import engine_for, migrate
from nlu.extract import RECEIPT

T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
ID = "11010519491231002X"
PHONE = "138 1234 5678"


def rate(
    settings: Settings, score: int, *, conversation: str = "c1", at: dt.datetime = T0, **extra: str
) -> ratings.Rated:
    return ratings.rate(settings, conversation_id=conversation, channel="h5", score=score, at=at, **extra)


def rows(settings: Settings, table: str) -> list[tuple[object, ...]]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with engine_for(settings.app_database_url).connect() as connection:
        return [tuple(r) for r in connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))]


# --- pure helpers ---------------------------------------------------------------------------------------------------
def test_levels_best_first_and_bad_ones() -> None:
    assert list(ratings.LEVELS.items()) == [
        (5, "非常满意"),
        (4, "满意"),
        (3, "基本满意"),
        (2, "不满意"),
        (1, "非常不满意"),
    ]
    assert [s for s in ratings.LEVELS if ratings.is_bad(s)] == [2, 1]


@pytest.mark.parametrize(
    ("score", "ok"),
    [
        (5, True),
        (1, True),
        (0, False),  # below the scale
        (6, False),  # above it
        (True, False),  # a JSON true is not a score
    ],
)
def test_level_refuses_scores_outside_the_scale(score: int, ok: bool) -> None:
    if ok:
        assert ratings.level(score) == ratings.LEVELS[score]
    else:
        with pytest.raises(ratings.InvalidRating, match="五个等级"):
            ratings.level(score)


@pytest.mark.parametrize(
    ("comment", "stored"),
    [
        ("  态度很好 ", "态度很好"),  # blank ends trimmed
        (f"我的身份证{ID}办不了", f"我的身份证{ratings.MASK}办不了"),  # an ID number
        (f"电话{PHONE}，请回电", f"电话{ratings.MASK}，请回电"),  # a phone number with spaces inside
        ("排队等了20分钟", "排队等了20分钟"),  # short numbers stay
        ("受理编号SBK-20261121-000123", "受理编号SBK-20261121-000123"),  # a receipt number is not personal
        ("第一行\r\n第二行\x07", "第一行\n第二行"),  # control characters dropped
        ("", ""),
    ],
)
def test_comment_is_trimmed_and_numbers_masked(comment: str, stored: str) -> None:
    assert ratings.validate_comment(comment) == stored


def test_comment_of_more_than_500_characters_is_refused() -> None:
    assert ratings.validate_comment("好" * 500) == "好" * 500
    with pytest.raises(ratings.InvalidRating, match="500字以内"):
        ratings.validate_comment("好" * 501)


LONG_RUN = re.compile(r"\d(?:[\s\-－—]*\d){10,}")
# text rich in what matters: digits, separators, letters next to digits, receipt-number shapes
NUMBERISH = st.text(alphabet=st.sampled_from(list("0123456789０１２３ -－Xx+aSBK号码\n")), max_size=500)


@given(st.one_of(st.text(max_size=500), NUMBERISH))
def test_a_validated_comment_keeps_no_long_number(comment: str) -> None:
    stored = ratings.validate_comment(comment)
    assert len(stored) <= ratings.MAX_COMMENT_CHARS  # masking only ever shortens
    assert ratings.validate_comment(stored) == stored  # stable: validating again changes nothing
    outside_receipts = RECEIPT.sub(" ", stored)
    assert not LONG_RUN.search(outside_receipts), stored


@given(st.text(min_size=501, max_size=700))
def test_any_comment_over_the_limit_is_refused(comment: str) -> None:
    kept = comment.replace("\r\n", "\n")
    kept = "".join(ch for ch in kept if not (ord(ch) < 32 and ch not in "\t\n") and ch != "\x7f").strip()
    if len(kept) > ratings.MAX_COMMENT_CHARS:
        with pytest.raises(ratings.InvalidRating):
            ratings.validate_comment(comment)
    else:
        assert len(ratings.validate_comment(comment)) <= ratings.MAX_COMMENT_CHARS


def test_followup_number_format() -> None:
    assert ratings.followup_number(dt.date(2026, 11, 30), 42) == "HC-20261130-000042"


# --- the store ------------------------------------------------------------------------------------------------------
def test_a_good_rating_opens_no_followup(store: Settings) -> None:
    rated = rate(store, 5, comment="很方便", item_code="P02")
    assert rated == ratings.Rated(score=5, level="非常满意", replaced=False, followup_number=None)
    assert ratings.followups(store) == []
    [row] = rows(store, "ratings")
    assert row[1:6] == ("c1", "h5", 5, "很方便", "P02")


def test_a_bad_rating_opens_a_followup_that_staff_close(store: Settings) -> None:
    rated = rate(store, 2, comment=f"材料说得不清楚，电话{PHONE}", item_code="P02")
    assert rated.level == "不满意" and rated.followup_number == "HC-20261130-000001"
    [followup] = ratings.followups(store, "open")
    assert (followup.number, followup.status, followup.score, followup.level) == (
        rated.followup_number,
        "open",
        2,
        "不满意",
    )
    assert followup.comment == f"材料说得不清楚，电话{ratings.MASK}" and followup.item_code == "P02"
    assert ratings.find_followup(store, rated.followup_number.lower()) == followup

    closed = ratings.close_followup(
        store,
        rated.followup_number,
        result="已核实并回电说明材料要求",
        assignee="admin1",
        at=T0 + dt.timedelta(hours=3),
    )
    assert closed.status == "closed" and closed.assignee == "admin1" and closed.result == "已核实并回电说明材料要求"
    assert closed.closed_at == T0 + dt.timedelta(hours=3)
    assert ratings.followups(store, "open") == []
    assert ratings.followups(store, "closed") == [closed]
    with pytest.raises(ratings.FollowupClosed):
        ratings.close_followup(store, rated.followup_number, result="再来一次", assignee="admin2")
    assert ratings.find_followup(store, rated.followup_number) == closed  # the first result stays


def test_closing_needs_a_result_and_a_known_number(store: Settings) -> None:
    number = rate(store, 1).followup_number
    assert number is not None
    with pytest.raises(ratings.InvalidRating, match="处理结果"):
        ratings.close_followup(store, number, result="  ", assignee="admin1")
    with pytest.raises(ratings.InvalidRating, match="1000字以内"):
        ratings.close_followup(store, number, result="好" * 1001, assignee="admin1")
    with pytest.raises(ratings.FollowupNotFound):
        ratings.close_followup(store, "HC-20990101-000009", result="已处理", assignee="admin1")
    assert ratings.followups(store, "open")[0].status == "open"
    closed = ratings.close_followup(store, number, result=f"已回电{PHONE}", assignee="admin1")
    assert PHONE not in closed.result and ratings.MASK in closed.result


def test_one_rating_per_conversation_replaced_within_24_hours(store: Settings) -> None:
    rate(store, 4, comment="还行")
    again = rate(store, 5, comment="其实很好", at=T0 + dt.timedelta(hours=23))
    assert again.replaced and again.level == "非常满意"
    [row] = rows(store, "ratings")
    assert row[3:5] == (5, "其实很好")
    rate(store, 3, conversation="c2")  # another conversation has its own rating
    assert len(rows(store, "ratings")) == 2
    with pytest.raises(ratings.RatingClosed, match="24小时"):
        rate(store, 1, at=T0 + dt.timedelta(hours=24, seconds=1))
    assert rows(store, "ratings")[0][3] == 5  # unchanged
    assert ratings.followups(store, None) == []


def test_rerating_keeps_one_open_followup_and_a_good_score_leaves_it_open(store: Settings) -> None:
    first = rate(store, 1)
    second = rate(store, 2, at=T0 + dt.timedelta(hours=1))
    assert second.followup_number == first.followup_number  # still the one follow-up
    better = rate(store, 5, at=T0 + dt.timedelta(hours=2))
    assert better.followup_number is None
    [followup] = ratings.followups(store, "open")  # staff still look at it, seeing the current score
    assert followup.number == first.followup_number and followup.score == 5 and followup.level == "非常满意"
    assert ratings.rating_of(store, "c1") == ratings.Rated(5, "非常满意", False, None)
    assert ratings.rating_of(store, "nobody") is None


def test_a_new_bad_rating_after_the_followup_was_closed_opens_another(store: Settings) -> None:
    first = rate(store, 2).followup_number
    assert first is not None
    ratings.close_followup(store, first, result="已回访", assignee="admin1")
    second = rate(store, 1, at=T0 + dt.timedelta(hours=5)).followup_number
    assert second is not None and second != first
    assert [f.number for f in ratings.followups(store, "open")] == [second]
    assert {f.number for f in ratings.followups(store, None)} == {first, second}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"score": 0}, "五个等级"),  # outside the scale
        ({"channel": "fax"}, "来源"),  # unknown channel
        ({"comment": "好" * 501}, "500字以内"),  # comment too long
    ],
)
def test_invalid_ratings_store_nothing(store: Settings, fields: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"conversation_id": "c1", "channel": "h5", "score": 2, "comment": "", **fields}
    with pytest.raises(ratings.InvalidRating, match=message):
        ratings.rate(store, **arguments)  # type: ignore[arg-type]
    assert rows(store, "ratings") == [] and rows(store, "rating_followups") == []


def test_concurrent_first_ratings_of_one_conversation_make_one_row(store: Settings) -> None:
    rate(store, 5, conversation="warm-up")  # schema in place before the race
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker(score: int) -> None:
        barrier.wait()
        try:
            rate(store, score, conversation="raced")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(s,)) for s in (1, 2, 1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    raced = [r for r in rows(store, "ratings") if r[1] == "raced"]
    assert len(raced) == 1
    assert len(ratings.followups(store, "open")) == 1


def test_no_raw_number_is_stored(store: Settings) -> None:
    rate(store, 1, comment=f"身份证{ID}，手机{PHONE}")
    stored = str(rows(store, "ratings")) + str(rows(store, "rating_followups"))
    assert ID not in stored and "13812345678" not in stored and PHONE not in stored


def test_migration_creates_both_tables(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrate(engine)
    inspector = inspect(engine)
    assert {"ratings", "rating_followups"} <= set(inspector.get_table_names())
    assert [c["name"] for c in inspector.get_columns("ratings")][:7] == [
        "id",
        "conversation_id",
        "channel",
        "score",
        "comment",
        "item_code",
        "created_at",
    ]
    assert {c["name"] for c in inspector.get_columns("rating_followups")} == {
        "id",
        "rating_id",
        "number",
        "status",
        "assignee",
        "result",
        "created_at",
        "closed_at",
    }
    migrate(engine)  # idempotent
