"""Greeting: a full introduction the first time a person greets in a conversation, a short one afterwards."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from assistant.applications import load_draft
from assistant.forms.spec import load_forms
from assistant.settings import get_settings


def has_been_greeted(events: list[dict[str, Any]]) -> bool:
    """Whether the assistant already introduced itself in this conversation session.

    Only the events since the last ``session_started`` count, so a person who comes back the next day is introduced
    again.
    """
    for event in reversed(events):
        if event.get("event") == "session_started":
            return False
        if event.get("event") == "action" and event.get("name") == "action_greet":
            return True
    return False


class ActionGreet(Action):
    """Answers a greeting; the wording lives in the domain (utter_greet_first / utter_greet_again)."""

    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # The tracker's latest event is this very action's start only after it ran, so the history is clean here.
        greeted = has_been_greeted(list(tracker.events))
        dispatcher.utter_message(response="utter_greet_again" if greeted else "utter_greet_first")
        offer_draft(dispatcher, tracker)
        return []


def offer_draft(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """A person coming back with an unfinished application is offered to go on with it."""
    draft = load_draft(get_settings(), tracker.sender_id)
    spec = load_forms().get(draft[0]) if draft is not None else None
    if spec is not None:
        dispatcher.utter_message(
            text=f"您有一份没填完的《{spec.title}》，要接着填吗？",
            buttons=[{"title": "接着填写", "payload": f'/start_application{{"service_item": "{spec.item}"}}'}],
        )
