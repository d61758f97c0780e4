"""Entity extraction tables (run in the Rasa environment: `make test-nlu`)."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.names import NameMatcher
from nlu.extract import chinese_number, extract, id_check_digit, valid_id_number

TODAY = dt.date(2026, 11, 30)  # a Monday
MATCHER = NameMatcher(
    [
        ("P01", "社会保障卡申领", True),
        ("P02", "社会保障卡补领换领", True),
        ("P02", "社保卡补办", False),
        ("P24", "高龄津贴申领", True),
        ("P24", "高龄补贴", False),
    ]
)


def found(text: str, entity: str | None = None) -> list[tuple[str, str]]:
    return [(e.entity, e.value) for e in extract(text, MATCHER, TODAY) if entity is None or e.entity == entity]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("身份证号11010519491231002X", [("id_number", "11010519491231002X")]),  # valid, X check digit
        ("身份证号11010519491231002x", [("id_number", "11010519491231002X")]),  # lower-case x
        ("身份证号110105194912310021", []),  # wrong check digit
        ("身份证号110105199902300028", []),  # 30 February
        ("身份证号110105209912310020", []),  # born in the future
        ("号码是1101051949123100234", []),  # 19 digits is not an ID number
    ],
)
def test_id_numbers(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text, "id_number") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("手机13812345678", [("phone", "13812345678")]),
        ("电话是 19900001111 谢谢", [("phone", "19900001111")]),
        ("12812345678", []),  # no such mobile prefix
        ("138123456789", []),  # 12 digits
        ("手机 138-1234-5678", [("phone", "13812345678")]),
        ("电话138 1234 5678", [("phone", "13812345678")]),
        ("+8613812345678", [("phone", "13812345678")]),
        ("0086 138 1234 5678", [("phone", "13812345678")]),
        ("订单号2138123456789", []),  # inside a longer number
    ],
)
def test_phones(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text, "phone") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026年5月1日", "2026-05-01"),
        ("2026-05-01", "2026-05-01"),
        ("五月一号", "2026-05-01"),
        ("明天", "2026-12-01"),
        ("后天", "2026-12-02"),
        ("下周一", "2026-12-07"),
        ("本周五", "2026-12-04"),
        ("下个礼拜三", "2026-12-09"),
        ("明年三月", "2027-03"),
        ("下个月", "2026-12"),
    ],
)
def test_dates(text: str, expected: str) -> None:
    assert found(text, "date") == [("date", expected)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("三千五", "3500"),
        ("3500元", "3500"),
        ("两千块", "2000"),
        ("3.5万元", "35000"),
        ("一万两千五百元", "12500"),
        ("租金每月一千八", "1800"),
    ],
)
def test_amounts(text: str, expected: str) -> None:
    assert found(text, "amount") == [("amount", expected)]


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("社保卡补办要什么", "service_item", "P02"),  # alias
        ("社宝卡补办", "service_item", "P02"),  # homophone
        ("高龄补贴怎么领", "service_item", "P24"),
        ("东城区在哪办", "district", "东城区"),
        ("去西城办", "district", "西城区"),
        ("受理编号gjj-20261101-000045", "receipt_no", "GJJ-20261101-000045"),
        ("要带什么材料", "aspect", "materials"),
        ("多少钱", "aspect", "fee"),
    ],
)
def test_other_entities(text: str, entity: str, value: str) -> None:
    assert (entity, value) in found(text)


def test_spans_point_at_the_text() -> None:
    text = "我的社保卡补办，电话13812345678"
    for entity in extract(text, MATCHER, TODAY):
        if entity.entity in {"phone", "service_item"}:
            assert text[entity.start : entity.end] in {"13812345678", "社保卡补办"}


def test_numbers_are_not_read_as_dates_or_amounts() -> None:
    assert found("身份证11010519491231002X", "amount") == []


@pytest.mark.parametrize(("text", "value"), [("十", 10), ("十五", 15), ("二十", 20), ("三千五", 3500), ("两万三", 23000)])
def test_chinese_number(text: str, value: int) -> None:
    assert chinese_number(text) == value


def test_check_digit_and_validity() -> None:
    assert id_check_digit("11010519491231002") == "X"
    assert valid_id_number("11010519491231002X", TODAY)


def test_aspect_points_at_its_cue_and_spans_never_overlap() -> None:
    text = "社保卡补办要带什么材料，东城区哪里办"
    entities = extract(text, MATCHER, TODAY)
    aspect = next(e for e in entities if e.entity == "aspect")
    assert aspect.value == "materials" and text[aspect.start : aspect.end] in {"要带", "带什么", "材料"}
    spans = sorted((e.start, e.end) for e in entities)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))


@pytest.mark.parametrize(
    ("text", "value"),
    [("一百零五", 105), ("一千零五", 1005), ("十万零五", 100005), ("二〇二六", 2026), ("两", 2), ("一万两千五百", 12500)],
)
def test_chinese_number_with_zero_and_digit_strings(text: str, value: int) -> None:
    assert chinese_number(text) == value


@pytest.mark.parametrize("text", ["万", "百", "一" * 13, "一万万万万万万万万万万万"])
def test_chinese_number_refuses_units_alone_and_long_runs(text: str) -> None:
    assert chinese_number(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("补贴3.5万", [("amount", "35000")]),
        ("一百零五元", [("amount", "105")]),
        ("12345.67元", [("amount", "12345.67")]),
        ("新区有3万人", []),
    ],
)
def test_amount_edge_cases(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text, "amount") == expected


def test_month_day_with_a_year_word() -> None:
    assert found("明年3月5日去办", "date") == [("date", "2027-03-05")]
    assert found("去年十二月一号办的", "date") == [("date", "2025-12-01")]


def test_long_numeral_runs_are_quick_and_never_crash() -> None:
    assert found("一万万万月一日" + "九" + "万" * 80) is not None
    assert isinstance(found("一" * 20000), list)
