"""长辈版 answers in steps, and the buttons that walk a 一件事's linked items."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import next_buttons, walked_bundle
from actions.replies import CONTINUE_BUTTON, deliver, elder_parts, short_sentences
from knowledge.corpus import BUNDLED_KB, load_corpus
from knowledge.search import Searcher

CITATION = {
    "item_code": "P01",
    "item_name": "社会保障卡申领",
    "section": "申请材料",
    "source": "s",
    "updated_at": "2026-01-01",
}


def payload(lines: int) -> dict[str, Any]:
    items = [f"材料{i}；原件" for i in range(1, lines + 1)]
    return {
        "type": "answer",
        "title": "【社会保障卡申领】申请材料",
        "text": "whole",
        "items": items,
        "citations": [CITATION],
        "item_code": "P01",
    }


def tracker(elder: bool) -> Tracker:
    message = {"text": "要带什么", "metadata": {"elder": elder}, "intent": {"name": "ask_service"}, "entities": []}
    return Tracker("s1", {}, message, [], False, None, {}, "action_listen")


@pytest.mark.parametrize(("lines", "parts"), [(1, 1), (3, 1), (4, 1), (5, 2), (6, 2), (7, 3), (10, 4)])
def test_elder_parts_count(lines: int, parts: int) -> None:
    assert len(elder_parts(payload(lines))) == parts


def test_elder_parts_keep_every_line_numbering_and_source() -> None:
    parts = elder_parts(payload(7))
    assert [len(p["items"]) for p in parts] == [3, 3, 1]
    assert [line for p in parts for line in p["items"]] == [short_sentences(line) for line in payload(7)["items"]]
    assert parts[0]["text"].startswith("【社会保障卡申领】申请材料（共7项，这是第1到3项）：\n1. 材料1。原件")
    assert "7. 材料7。原件" in parts[2]["text"]
    assert all("来源：社会保障卡申领 · 申请材料" in p["text"] for p in parts)
    assert "后面还有4项" in parts[0]["text"] and "后面还有" not in parts[2]["text"]


def test_untitled_message_is_never_split() -> None:
    message = {**payload(9), "title": ""}
    assert elder_parts(message) == [message]


def test_deliver_sends_whole_answer_outside_elder_mode() -> None:
    dispatcher = CollectingDispatcher()
    events = deliver(dispatcher, tracker(elder=False), payload(9), [{"title": "x", "payload": "/x"}])
    assert len(dispatcher.messages) == 1 and dispatcher.messages[0]["custom"]["text"] == "whole"
    assert events[1]["value"] == []


def test_deliver_in_elder_mode_queues_the_rest_with_continue_buttons() -> None:
    dispatcher = CollectingDispatcher()
    own = [{"title": "按我的情况生成材料清单", "payload": "/guide_me"}]
    events = deliver(dispatcher, tracker(elder=True), payload(7), own)
    assert dispatcher.messages[0]["custom"]["buttons"] == [CONTINUE_BUTTON]
    last_answer, pending = events[0]["value"], events[1]["value"]
    assert last_answer["payload"]["items"] == ["材料1。原件", "材料2。原件", "材料3。原件"]
    assert [p["buttons"] for p in pending] == [[CONTINUE_BUTTON], own]


@pytest.fixture(scope="module")
def documents() -> Searcher:
    corpus = load_corpus(BUNDLED_KB)
    return cast(Searcher, SimpleNamespace(documents={d.code: d for d in corpus.documents}))


def test_bundle_answer_offers_its_linked_items_and_joint_checklist(documents: Searcher) -> None:
    bundle = walked_bundle(documents, "B01", None)
    assert bundle is not None
    titles = [b["title"] for b in next_buttons(documents, "B01", "general", bundle)]
    assert titles[0] == "了解：出生医学证明办理" and titles[-1] == "按我的情况生成联办材料清单"
    assert len(titles) == 1 + sum(1 for m in bundle.members if m.code)


def test_walking_a_bundle_offers_the_next_item_and_the_way_back(documents: Searcher) -> None:
    bundle = walked_bundle(documents, "P23", "B01")
    assert bundle is not None and bundle.code == "B01"
    buttons = next_buttons(documents, "P23", "general", bundle)
    assert [b["title"] for b in buttons] == ["下一项：出生登记", "回到：新生儿出生一件事"]
    assert buttons[0]["payload"] == '/ask_service{"service_item": "P16"}'
    assert buttons[-1]["payload"] == '/ask_service{"service_item": "B01"}'


def test_last_linked_item_has_no_next_and_other_items_end_the_walk(documents: Searcher) -> None:
    bundle = walked_bundle(documents, "B01", None)
    assert bundle is not None
    last = [m.code for m in bundle.members if m.code][-1]
    assert next_buttons(documents, str(last), "general", bundle)[0]["title"].startswith("回到：")
    assert walked_bundle(documents, "E01", "B01") is None


def test_items_with_a_form_offer_to_apply_here(documents: Searcher) -> None:
    titles = [b["title"] for b in next_buttons(documents, "P24", "general", None)]
    assert titles == ["在这里填表申请"]
    assert next_buttons(documents, "P17", "general", None) == []
