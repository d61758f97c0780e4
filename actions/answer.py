"""Answering from the knowledge base, remembering the item being discussed across turns."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import hand_over
from actions.parsing import entity_values, is_follow_up
from actions.replies import answer_payload, candidate_buttons, searcher, send, settings
from knowledge.answer import answer
from knowledge.search import Searcher, SearchResult

#: Failed searches in a row after which the conversation goes to a person.
MAX_FAILURES = 2


def question_text(tracker: Tracker) -> str:
    """What the person asked: their message, or — when they clicked a button — the question the button answers."""
    text = str(tracker.latest_message.get("text") or "")
    if text.startswith("/"):
        return str(tracker.get_slot("pending_question") or "")
    return text


def choose_item(searcher_: Searcher, tracker: Tracker, text: str) -> tuple[str | None, SearchResult | None]:
    """The document to answer about — a clicked or recognised item, one the question names, or the current one for a
    follow-up — and the search result of the question (None when nothing was searched)."""
    chosen = entity_values(tracker.latest_message, "service_item")
    if chosen and chosen[0] in searcher_.documents:
        return chosen[0], None
    current = tracker.get_slot("current_item")
    current = current if isinstance(current, str) and current in searcher_.documents else None
    if not text:
        return current, None
    result = searcher_.search(text)
    if result.top is not None and result.top.named:
        return result.top.code, result
    if current is not None and is_follow_up(text):
        return current, result
    return None, result


class ActionAnswer(Action):
    """Answers with an extractive, cited answer; asks when unsure; hands over after repeated failures."""

    def name(self) -> str:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        searcher_ = searcher()
        text = question_text(tracker)
        item, result = choose_item(searcher_, tracker, text)
        aspects = entity_values(tracker.latest_message, "aspect")
        reply = answer(
            searcher_,
            text or (searcher_.documents[item].name if item else ""),
            item=item,
            aspect=aspects[0] if aspects else None,
            threshold=settings().answer_threshold,
            result=result,
        )
        if reply.status == "answered":
            payload = answer_payload(reply)
            buttons = []
            doc = searcher_.documents[reply.doc_code]
            if reply.aspect == "materials" and getattr(doc, "situations", None):
                buttons = [{"title": "按我的情况生成材料清单", "payload": f'/guide_me{{"service_item": "{doc.code}"}}'}]
            send(dispatcher, payload, buttons)
            return [
                SlotSet("current_item", reply.doc_code),
                SlotSet("current_aspect", reply.aspect),
                SlotSet("pending_question", None),
                SlotSet("failures", 0),
                SlotSet("last_answer", {"payload": payload, "buttons": buttons}),
            ]
        if reply.status == "clarify":
            buttons = candidate_buttons([(c.code, c.name) for c in reply.candidates])
            dispatcher.utter_message(response="utter_clarify", buttons=buttons)
            return [SlotSet("pending_question", text)]
        failures = int(tracker.get_slot("failures") or 0) + 1
        if failures >= MAX_FAILURES:
            dispatcher.utter_message(response="utter_not_found_again")
            return [*hand_over(dispatcher, tracker, reason="not_found"), SlotSet("failures", 0)]
        dispatcher.utter_message(response="utter_not_found")
        return [SlotSet("failures", failures)]


class ActionStartApplication(Action):
    """Points to where the item can be applied for (its online entry and places)."""

    def name(self) -> str:
        return "action_start_application"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        searcher_ = searcher()
        text = question_text(tracker)
        item, _ = choose_item(searcher_, tracker, text)
        if item is None:
            dispatcher.utter_message(response="utter_ask_which_item_to_apply")
            return []
        reply = answer(searcher_, text, item=item, aspect="online")
        payload = answer_payload(reply)
        send(dispatcher, payload)
        return [SlotSet("current_item", item), SlotSet("last_answer", {"payload": payload, "buttons": []})]


class ActionRepeat(Action):
    """Says the last answer again ("再说一遍")."""

    def name(self) -> str:
        return "action_repeat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        last = tracker.get_slot("last_answer")
        if not isinstance(last, dict) or "payload" not in last:
            dispatcher.utter_message(response="utter_nothing_to_repeat")
            return []
        send(dispatcher, last["payload"], last.get("buttons") or [])
        return []
