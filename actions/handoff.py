"""Handing a conversation to a person with a ticket the agent can act on, complaints, cancelling."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.parsing import summarize, user_messages
from actions.replies import settings
from assistant.store import Ticket, add_ticket
from assistant.vault import restore
from knowledge.service import get_searcher


def _item_name(code: str | None) -> str:
    if not code:
        return ""
    document = get_searcher(settings(), build=False).documents.get(code)
    return document.name if document is not None else code


def open_ticket(tracker: Tracker, kind: str, reason: str) -> Ticket:
    """Store a ticket with an extractive summary: the item, what the person asked, the facts they gave."""
    item = tracker.get_slot("current_item") or tracker.get_slot("guide_item")
    item_code = item if isinstance(item, str) else ""
    name = _item_name(item_code)
    questions = user_messages(tracker.events, reveal=lambda text: restore(settings(), tracker.sender_id, text))
    situation = tracker.get_slot("situation")
    facts = dict(situation) if isinstance(situation, dict) else {}
    return add_ticket(
        settings(),
        kind=kind,
        reason=reason,
        conversation_id=tracker.sender_id,
        item_code=item_code,
        item_name=name,
        summary=summarize(name, questions, facts),
        questions=questions,
        facts=facts,
    )


def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> list[dict[str, Any]]:
    ticket = open_ticket(tracker, "handoff", reason)
    dispatcher.utter_message(response="utter_handoff")
    dispatcher.utter_message(json_message={"type": "handoff", "text": "", "ticket": ticket.number})
    return []


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return hand_over(dispatcher, tracker, reason="requested")


class ActionComplaint(Action):
    def name(self) -> str:
        return "action_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ticket = open_ticket(tracker, "complaint", "complaint")
        dispatcher.utter_message(response="utter_complaint_recorded", ticket_id=ticket.number)
        return []


class ActionCancel(Action):
    """Forgets what was being done (item, questions) and says so."""

    def name(self) -> str:
        return "action_cancel"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_cancelled")
        events: list[dict[str, Any]] = [
            SlotSet(name, None) for name in ("current_item", "guide_item", "situation", "pending_question")
        ]
        if tracker.active_loop:
            events.append(ActiveLoop(None))
        return events
