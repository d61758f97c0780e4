"""情形引导: find the item for a life event, ask the situation questions one by one, tell the whole checklist at once."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answer import choose_item, question_text
from actions.replies import candidate_buttons, citation_dict, deliver, searcher, settings, source_line
from knowledge.answer import answer, material_lines
from knowledge.models import Bundle, Policy, ServiceItem, Situation
from knowledge.passages import Citation
from knowledge.query import normalize_query


def guide_document(code: str | None) -> ServiceItem | Bundle | None:
    if not code:
        return None
    document = searcher().documents.get(code)
    return document if isinstance(document, ServiceItem | Bundle) else None


def next_question(document: ServiceItem | Bundle | None, answered: dict[str, str]) -> Situation | None:
    if document is None:
        return None
    return next((s for s in document.situations if s.key not in answered), None)


def match_option(text: str, options: list[str]) -> str | None:
    """The option ``text`` chooses: typed exactly, contained in the reply, or the reply contained in one option only."""
    reply = normalize_query(text).compact or text.strip()
    if not reply:
        return None
    for option in options:
        if reply == option or option in reply:
            return option
    partial = [option for option in options if reply in option]
    return partial[0] if len(partial) == 1 else None


class ActionPrepareGuide(Action):
    """Decides what the guidance is about; asks which item when that is unclear."""

    def name(self) -> str:
        return "action_prepare_guide"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        searcher_ = searcher()
        text = question_text(tracker)
        item, result = choose_item(searcher_, tracker, text)
        if item is None and result is not None:
            reply = answer(searcher_, text, threshold=settings().answer_threshold, result=result)
            if reply.status == "answered":
                item = reply.doc_code
            elif reply.status == "clarify":
                candidates = [(c.code, c.name) for c in reply.candidates if c.kind in {"item", "bundle"}]
                dispatcher.utter_message(response="utter_clarify", buttons=candidate_buttons(candidates, "guide_me"))
                return [SlotSet("guide_item", None), SlotSet("pending_question", text)]
        document = guide_document(item)
        if document is None:
            dispatcher.utter_message(response="utter_guide_which_item")
            return [SlotSet("guide_item", None)]
        if document.situations:
            dispatcher.utter_message(response="utter_guide_intro")
        return [SlotSet("guide_item", document.code), SlotSet("situation", {}), SlotSet("current_item", document.code)]


class ValidateGuideForm(FormValidationAction):
    """Keeps asking while the document has unanswered situation questions; matches each reply to an option."""

    def name(self) -> str:
        return "validate_guide_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        answered = tracker.get_slot("situation") or {}
        pending = next_question(guide_document(tracker.get_slot("guide_item")), answered)
        return ["situation_answer"] if pending is not None else []

    def validate_situation_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answered = dict(tracker.get_slot("situation") or {})
        question = next_question(guide_document(tracker.get_slot("guide_item")), answered)
        if question is None:
            return {"situation_answer": None}
        option = match_option(str(value or ""), question.options)
        if option is None:
            dispatcher.utter_message(response="utter_guide_not_understood")
            return {"situation_answer": None}
        answered[question.key] = option
        # Clearing the answer makes the form ask the next question, if any is left.
        return {"situation": answered, "situation_answer": None}


class ActionAskSituationAnswer(Action):
    """Asks the next situation question with one button per option."""

    def name(self) -> str:
        return "action_ask_situation_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        question = next_question(guide_document(tracker.get_slot("guide_item")), tracker.get_slot("situation") or {})
        if question is not None:
            buttons = [{"title": option, "payload": option} for option in question.options]
            dispatcher.utter_message(text=question.question, buttons=buttons)
        return []


class ActionChecklist(Action):
    """Tells the personal checklist all at once (一次性告知), with the source; a bundle lists its items first."""

    def name(self) -> str:
        return "action_checklist"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        document = guide_document(tracker.get_slot("guide_item"))
        if document is None or isinstance(document, Policy):
            return []
        situation = tracker.get_slot("situation") or {}
        lines = material_lines(document, situation)
        header = f"【{document.name}】根据您的情况，需要准备以下材料（共{len(lines)}项），请一次备齐："
        if isinstance(document, Bundle):
            header = f"【{document.name}】包含：{'、'.join(m.name for m in document.members)}。\n" + header
        citation = Citation(document.code, document.name, "申请材料", document.source, document.updated_at.isoformat())
        text = header + "\n" + "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
        payload = {
            "type": "checklist",
            "title": f"【{document.name}】您需要准备的材料",
            "text": f"{text}\n{source_line((citation,))}",
            "items": lines,
            "citations": [citation_dict(citation)],
            "item_code": document.code,
            "situation": situation,
        }
        return [
            *deliver(dispatcher, tracker, payload),
            SlotSet("current_item", document.code),
            SlotSet("guide_item", None),
        ]
