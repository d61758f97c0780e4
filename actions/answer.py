"""Answering from the knowledge base, remembering the item being discussed across turns."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import hand_over
from actions.parsing import entity_values, is_follow_up
from actions.replies import answer_payload, candidate_buttons, deliver, searcher, send, settings
from assistant.forms.spec import form_for_item
from knowledge.answer import answer
from knowledge.models import Bundle
from knowledge.search import Searcher, SearchResult

#: Failed searches in a row after which the conversation goes to a person.
MAX_FAILURES = 2


def say_not_found(dispatcher: CollectingDispatcher, domain: dict[str, Any], response: str) -> None:
    """Say the domain's ``response`` as a text reply marked ``"outcome": "not_found"``.

    Rasa's REST channel passes on no trace of which response a text came from, and the gateway's turn log
    (assistant/turn_log.py) needs to know that the knowledge base had nothing for the question. The wording stays in the
    domain; without it there the response is uttered the ordinary way (unmarked).
    """
    variations = (domain.get("responses") or {}).get(response) or []
    text = variations[0].get("text") if variations and isinstance(variations[0], dict) else None
    if isinstance(text, str) and text:
        send(dispatcher, {"type": "text", "text": text, "outcome": "not_found"})
    else:
        dispatcher.utter_message(response=response)


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


def walked_bundle(searcher_: Searcher, code: str, current: object) -> Bundle | None:
    """The 一件事 being walked through: the answered document itself, or the current bundle when the answer is one of
    its items; any other answer ends the walk."""
    document = searcher_.documents.get(code)
    if isinstance(document, Bundle):
        return document
    bundle = searcher_.documents.get(current) if isinstance(current, str) else None
    if isinstance(bundle, Bundle) and any(member.code == code for member in bundle.members):
        return bundle
    return None


def guide_button(code: str, title: str = "按我的情况生成材料清单") -> dict[str, str]:
    return {"title": title, "payload": f'/guide_me{{"service_item": "{code}"}}'}


def next_buttons(searcher_: Searcher, code: str, aspect: str, bundle: Bundle | None) -> list[dict[str, str]]:
    """What the person can do next after an answer about ``code``.

    - on a 一件事: one button per linked catalog item, and its joint checklist;
    - on an item while walking a 一件事: the next linked item and the way back to the 一件事;
    - on the materials of an item with 情形 questions: the personal checklist.
    """
    document = searcher_.documents[code]
    linked = [member for member in bundle.members if member.code] if bundle is not None else []
    if isinstance(document, Bundle):
        buttons = candidate_buttons([(str(m.code), f"了解：{m.name}") for m in linked])
        return [*buttons, guide_button(code, "按我的情况生成联办材料清单")]
    buttons = []
    if aspect == "materials" and getattr(document, "situations", None):
        buttons.append(guide_button(code))
    if form_for_item(code) is not None:
        buttons.append({"title": "在这里填表申请", "payload": f'/start_application{{"service_item": "{code}"}}'})
    if bundle is not None:
        codes = [m.code for m in linked]
        position = codes.index(code)
        if position + 1 < len(linked):
            following = linked[position + 1]
            buttons += candidate_buttons([(str(following.code), f"下一项：{following.name}")])
        buttons += candidate_buttons([(bundle.code, f"回到：{bundle.name}")])
    return buttons


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
            bundle = walked_bundle(searcher_, reply.doc_code, tracker.get_slot("current_bundle"))
            buttons = next_buttons(searcher_, reply.doc_code, reply.aspect, bundle)
            return [
                *deliver(dispatcher, tracker, answer_payload(reply), buttons),
                SlotSet("current_item", reply.doc_code),
                SlotSet("current_aspect", reply.aspect),
                SlotSet("current_bundle", bundle.code if bundle is not None else None),
                SlotSet("pending_question", None),
                SlotSet("failures", 0),
            ]
        if reply.status == "clarify":
            buttons = candidate_buttons([(c.code, c.name) for c in reply.candidates])
            dispatcher.utter_message(response="utter_clarify", buttons=buttons)
            return [SlotSet("pending_question", text)]
        failures = int(tracker.get_slot("failures") or 0) + 1
        if failures >= MAX_FAILURES:
            say_not_found(dispatcher, domain, "utter_not_found_again")
            return [*hand_over(dispatcher, tracker, reason="not_found"), SlotSet("failures", 0)]
        say_not_found(dispatcher, domain, "utter_not_found")
        return [SlotSet("failures", failures)]


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


class ActionContinue(Action):
    """Tells the next part of a long answer given in steps (长辈版), "继续"."""

    def name(self) -> str:
        return "action_continue"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        pending = tracker.get_slot("pending_parts")
        if not isinstance(pending, list) or not pending:
            dispatcher.utter_message(response="utter_nothing_more")
            return []
        part, rest = pending[0], pending[1:]
        send(dispatcher, part["payload"], part.get("buttons") or [])
        return [SlotSet("last_answer", part), SlotSet("pending_parts", rest)]
