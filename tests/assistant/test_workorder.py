"""The draft 工单: masking, 诉求 from the most informative sentences, 关键信息 from the extractors, 来源 and 时间."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.workorder import (
    HOTLINE_CHANNEL,
    KeyFact,
    channel_of,
    draft,
    facts_of,
    mask_number,
    mask_numbers,
    request_of,
    sentences,
)

TODAY = dt.date(2026, 11, 30)  # a Monday
PHONE = "13812345678"
ID = "11010519491231002X"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"电话{PHONE}", "电话138****5678"),  # a mobile number
        (f"身份证{ID}号", "身份证110***********002X号"),  # an ID number, its X kept
        ("电话138 1234 5678", "电话138****5678"),  # spaces inside
        ("卡号6222-0212-3456-7890", "卡号622*********7890"),  # a bank card with dashes
        ("受理编号SBK-20261121-000123", "受理编号SBK-20261121-000123"),  # 受理编号 stays
        ("补办费用20元，2026年12月1日", "补办费用20元，2026年12月1日"),  # short numbers stay
        ("号码〔号码#3f9a1c2e〕", "号码〔号码〕"),  # a vault placeholder that was not put back
        ("", ""),
    ],
)
def test_long_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_numbers(text) == masked


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.text(alphabet="办理社保卡，。 ", max_size=10))
def test_no_phone_number_survives_masking(phone: str, around: str) -> None:
    masked = mask_numbers(around + phone + around)
    assert phone not in masked
    assert mask_number(phone) in masked


@pytest.mark.parametrize(
    ("conversation_id", "channel"),
    [
        ("wx-mp-oABC123", "微信公众号"),
        ("wx-mini-oABC123", "微信小程序"),
        ("3f9a1c2e" * 4, "网页智能客服"),  # the H5 page and the chat API
    ],
)
def test_channel_of_a_conversation(conversation_id: str, channel: str) -> None:
    assert channel_of(conversation_id) == channel


@pytest.mark.parametrize(
    ("utterances", "expected"),
    [
        (["你好", "我的社保卡丢了。怎么补办？"], ["我的社保卡丢了。", "怎么补办？"]),  # greeting left out, split
        (["/affirm", "好的", "谢谢您", "嗯嗯"], []),  # button payloads and small talk
        (["社保卡丢了", "社保卡丢了"], ["社保卡丢了"]),  # said twice, kept once
        (["喂？在吗？", "转人工"], []),
        (["第一行\n第二行"], ["第一行", "第二行"]),  # pasted notes, one sentence per line
    ],
)
def test_sentences(utterances: list[str], expected: list[str]) -> None:
    assert sentences(utterances) == expected


@pytest.mark.parametrize(
    ("utterances", "wanted"),
    [
        # the want, not the greeting or the thanks
        (["你好", "我的社保卡丢了，要补办", "谢谢"], "我的社保卡丢了，要补办"),
        # numbers belong to 关键信息: a sentence that only gives them is not the request
        (["我的社保卡丢了，想补办一张新的", f"我电话是{PHONE}"], "我的社保卡丢了，想补办一张新的"),
        # several questions: kept in the order asked
        (["社保卡丢了怎么补办？", "要带什么材料？在哪里办？"], "社保卡丢了怎么补办；要带什么材料；在哪里办"),
        # more than three informative sentences: the three most informative
        (
            ["社保卡丢了怎么补办", "补办要带什么材料", "补办要多少钱", "补办要多长时间", "好"],
            "社保卡丢了怎么补办；补办要带什么材料；补办要多长时间",
        ),
        # only numbers: still masked
        ([f"{PHONE}"], "138****5678"),
        ([], ""),
    ],
)
def test_request_is_the_most_informative_sentences(utterances: list[str], wanted: str) -> None:
    assert request_of(utterances, TODAY) == wanted


def test_a_long_story_is_cut() -> None:
    story = "我" + "很" * 300 + "想补办社保卡"
    request = request_of([story], TODAY)
    assert len(request) == 120 and request.endswith("…")


@pytest.mark.parametrize(
    ("utterances", "facts"),
    [
        ([f"电话{PHONE}"], [("phone", "138****5678")]),
        ([f"身份证{ID}"], [("id_number", "110***********002X")]),
        (["卡号6222 0212 3456 7890 123"], [("number", "622************0123")]),  # a long number of another kind
        (["查一下SBK-20261121-000123"], [("receipt_no", "SBK-20261121-000123")]),
        (["下周一去办"], [("date", "2026-12-07（下周一）")]),  # relative dates from the conversation's day
        (["2026-12-01去办"], [("date", "2026-12-01")]),  # written as the value already: not repeated
        (["工本费二十元"], [("amount", "20元")]),
        (["我住东城"], [("district", "东城区")]),
        (['/choose_item{"phone":"13812345678"}'], []),  # button payloads carry nothing the person said
        (
            [f"我住西城区，电话{PHONE}", f"再说一遍电话{PHONE}，明天去"],  # ordered by kind, repeats once
            [("phone", "138****5678"), ("date", "2026-12-01（明天）"), ("district", "西城区")],
        ),
        (["社保卡丢了怎么补办"], []),
    ],
)
def test_key_facts(utterances: list[str], facts: list[tuple[str, str]]) -> None:
    assert [(f.kind, f.value) for f in facts_of(utterances, TODAY)] == facts


def test_what_the_assistant_learnt_is_listed_after_what_was_said() -> None:
    found = facts_of([f"电话{PHONE}"], TODAY, {"是否挂失": "已挂失", "empty": "", "证件": ID})
    assert found == (
        KeyFact("phone", "联系电话", "138****5678"),
        KeyFact("situation", "是否挂失", "已挂失"),
        KeyFact("situation", "证件", "110***********002X"),
    )


def test_a_draft_from_a_call() -> None:
    at = dt.datetime(2026, 11, 30, 6, 5, tzinfo=dt.UTC)  # 14:05 in China
    order = draft(
        ["喂你好", "我的社保卡丢了，要补办", f"我电话{PHONE}，身份证{ID}", "明天能去东城办吗"],
        at=at,
        item_code="P02",
        item_name="社会保障卡补领换领",
    )
    assert order.as_text() == "\n".join(
        [
            "诉求：我的社保卡丢了，要补办；明天能去东城办吗",
            "事项：P02 社会保障卡补领换领",
            "关键信息：联系电话：138****5678；身份证号：110***********002X；日期：2026-12-01（明天）；所在区域：东城区",
            f"来源：{HOTLINE_CHANNEL}",
            "时间：2026-11-30 14:05",
        ]
    )
    assert PHONE not in str(order) and ID not in str(order)


def test_an_empty_draft_says_what_is_missing() -> None:
    order = draft([], at=dt.datetime(2026, 11, 30, 9, 0), channel="微信公众号")
    assert order.as_text().splitlines() == [
        "诉求：未说明",
        "事项：未确定",
        "关键信息：无",
        "来源：微信公众号",
        "时间：2026-11-30 09:00",
    ]
