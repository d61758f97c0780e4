"""The turn log: outcomes derived from Rasa's messages, what is stored (and what is not), retention, and that logging
never breaks a turn."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.answer import say_not_found
from actions.replies import candidate_buttons
from assistant import turn_log
from assistant.settings import Settings
from assistant.store import session_scope
from assistant.turn_log import Turn, make_turn, outcome_of, prune, record_turn, stored_question


def custom(**fields: Any) -> dict[str, Any]:
    return {"recipient_id": "c1", "custom": fields}


def not_found_messages(response: str = "utter_not_found") -> list[dict[str, Any]]:
    """What the action server sends when the knowledge base has nothing, as Rasa's REST channel returns it."""
    dispatcher = CollectingDispatcher()
    domain = {"responses": {response: [{"text": "抱歉，知识库里没有找到和您的问题对应的内容。"}]}}
    say_not_found(dispatcher, domain, response)
    return [{"recipient_id": "c1", "custom": m["custom"]} for m in dispatcher.messages]


ANSWER = custom(type="answer", text="补办社保卡需要：…", item_code="P02", citations=[])
CLARIFY = {
    "recipient_id": "c1",
    "text": "您问的可能是：",
    "buttons": candidate_buttons([("P02", "社保卡"), ("P01", "医保")]),
}
GUIDE_CLARIFY = {"text": "您问的可能是：", "buttons": candidate_buttons([("B01", "出生一件事")], "guide_me")}
HANDOFF = custom(type="handoff", text="", ticket="GD-20261130-000001")
SUMMARY = custom(type="form_summary", title="《社保卡》信息核对", item_code="P02")
SUBMITTED = custom(type="card", receipt_no="SB-1", links=[{"title": "打印", "url": "/x"}], item_code="P02")
PROGRESS = custom(type="card", receipt_no="SB-1", item_code="P02")
GREETING = {"recipient_id": "c1", "text": "您好，我是智办"}
FORM_QUESTION = {"text": "（第1项，共8项）原因？", "buttons": [{"title": "丢失", "payload": "丢失"}]}


@pytest.mark.parametrize(
    ("messages", "outcome", "item", "found_nothing"),
    [
        ([ANSWER], "answered", "P02", False),  # a knowledge answer
        ([custom(type="checklist", item_code="B01")], "answered", "B01", False),  # a personal checklist
        ([PROGRESS], "answered", "P02", False),  # a progress card
        ([CLARIFY], "asked", "", False),  # which item is meant (answer)
        ([GUIDE_CLARIFY], "asked", "", False),  # which item is meant (guidance)
        (not_found_messages(), "not_found", "", True),  # nothing in the knowledge base
        ([*not_found_messages("utter_not_found_again"), GREETING, HANDOFF], "handoff", "", True),  # second failure
        ([GREETING, HANDOFF], "handoff", "", False),  # asked for a person
        ([SUMMARY], "form", "P02", False),  # the form's summary before submitting
        ([SUBMITTED], "form", "P02", False),  # submitted with its 受理编号
        ([GREETING], "other", "", False),  # a greeting
        ([FORM_QUESTION], "other", "", False),  # a question of the form (buttons that are not items)
        ([], "other", "", False),  # nothing at all
        ([{"custom": "not a dict"}], "other", "", False),  # malformed custom payload
    ],
)
def test_outcome_of_the_messages(messages: list[dict[str, Any]], outcome: str, item: str, found_nothing: bool) -> None:
    result = outcome_of(messages)
    assert (result.outcome, result.item_code, result.found_nothing) == (outcome, item, found_nothing)


def test_not_found_text_stays_the_domain_response_and_unmarked_without_it() -> None:
    (message,) = not_found_messages()
    assert message["custom"]["type"] == "text" and message["custom"]["text"].startswith("抱歉")
    dispatcher = CollectingDispatcher()
    say_not_found(dispatcher, {}, "utter_not_found")  # no domain: uttered the ordinary way
    assert dispatcher.messages[0]["response"] == "utter_not_found"
    assert outcome_of([{"text": "抱歉"}]).outcome == "other"


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("火星移民签证怎么办", "火星移民签证怎么办"),  # kept as typed
        ("我的身份证〔号码#3f9a1c2e〕丢了", "我的身份证〔号码〕丢了"),  # vault references are not kept
        ('/ask_service{"service_item": "P02"}', ""),  # a button payload is not a question
        ("问" * 600, "问" * 500),  # cut
    ],
)
def test_stored_question(text: str, stored: str) -> None:
    assert stored_question(text) == stored


def test_question_is_kept_only_when_the_search_found_nothing() -> None:
    kept = make_turn(channel="h5", conversation_id="c", elder=False, messages=not_found_messages(), question="火星",
                     latency_ms=12)  # fmt: skip
    dropped = make_turn(
        channel="h5", conversation_id="c", elder=False, messages=[ANSWER], question="社保卡", latency_ms=1
    )
    assert kept.question == "火星" and kept.outcome == "not_found"
    assert dropped.question == "" and dropped.outcome == "answered"


def test_record_turn_stores_one_row(store: Settings) -> None:
    at = dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    record_turn(store, channel="wechat", conversation_id="wx-mp-o1", elder=True, messages=not_found_messages(),
                question="火星移民", latency_ms=345, at=at)  # fmt: skip
    with session_scope(store) as session:
        (turn,) = session.scalars(select(Turn))
        assert (turn.channel, turn.conversation_id, turn.elder, turn.outcome, turn.question, turn.latency_ms) == (
            "wechat", "wx-mp-o1", True, "not_found", "火星移民", 345,
        )  # fmt: skip
        stored_at = turn.at if turn.at.tzinfo else turn.at.replace(tzinfo=dt.UTC)
        assert stored_at == at


def test_prune_deletes_only_turns_older_than_the_retention(store: Settings) -> None:
    settings = store.model_copy(update={"analytics_retention_days": 30})
    today = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
    for age in (0, 29, 31, 400):
        record_turn(settings, channel="h5", conversation_id=f"c{age}", elder=False, messages=[ANSWER], question="",
                    latency_ms=1, at=today - dt.timedelta(days=age))  # fmt: skip
    assert prune(settings, at=today) == 2
    with session_scope(settings) as session:
        assert sorted(session.scalars(select(Turn.conversation_id))) == ["c0", "c29"]


def test_record_turn_never_raises(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    broken = settings.model_copy(update={"database_url": "postgresql://nobody@127.0.0.1:1/none"})
    with caplog.at_level(logging.WARNING, logger="assistant.turn_log"):
        record_turn(broken, channel="h5", conversation_id="c", elder=False, messages=[ANSWER], question="",
                    latency_ms=1)  # fmt: skip
    assert "turn not logged" in caplog.text


def test_recording_prunes_at_most_once_an_interval(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Settings] = []

    def counting_prune(settings: Settings, **_: object) -> int:
        calls.append(settings)
        return 0

    monkeypatch.setattr(turn_log, "_last_prune", 0.0)
    monkeypatch.setattr(turn_log, "prune", counting_prune)
    for _ in range(3):
        record_turn(settings, channel="h5", conversation_id="c", elder=False, messages=[], question="", latency_ms=1)
    assert len(calls) == 1
