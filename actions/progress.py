"""Progress of an application ("查进度"): only for the applicant, explained in plain words with the next step.

With a receipt number the person is asked for the last four characters of the applicant's ID or phone number (three tries);
without one, the applications submitted in this same conversation are listed. Nothing is said about a number that does not
verify — not even whether it exists.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.parsing import entity_values
from actions.replies import send, settings
from assistant import applications as apps
from nlu.extract import RECEIPT

MAX_TRIES = 3
_PROOF = re.compile(r"(?<![0-9A-Za-z])([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")


def receipt_in(tracker: Tracker) -> str | None:
    found = entity_values(tracker.latest_message, "receipt_no")
    if found:
        return found[0].upper()
    match = RECEIPT.search(str(tracker.latest_message.get("text") or ""))
    return match.group().upper() if match else None


def proof_in(text: str) -> str | None:
    """The four characters the person gives ("后四位是002X", "尾号 5678")."""
    found = _PROOF.findall(text)
    return found[-1].upper() if found else None


def progress_text(receipt: apps.Receipt) -> str:
    status = receipt.status_info
    lines = [
        f"《{receipt.title}》受理编号 {receipt.receipt_no}",
        f"当前状态：{status.label}（更新于 {receipt.updated_at:%Y-%m-%d %H:%M}）",
        status.meaning,
        f"下一步：{status.next_step}",
    ]
    notes = [note for code, note, _ in receipt.history if note and code == receipt.status]
    if notes:
        lines.insert(3, f"说明：{notes[-1]}")
    return "\n".join(lines)


def progress_payload(receipt: apps.Receipt) -> dict[str, Any]:
    return {
        "type": "card",
        "title": f"办理进度：{receipt.status_info.label}",
        "text": progress_text(receipt),
        "items": [f"{apps.STATUSES[code].label} {at:%Y-%m-%d %H:%M}" for code, _, at in receipt.history],
        "item_code": receipt.item_code,
        "receipt_no": receipt.receipt_no,
    }


class ActionCheckProgress(Action):
    def name(self) -> str:
        return "action_check_progress"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        receipt = receipt_in(tracker)
        if receipt is not None:  # the form asks for the proof (utter_ask_progress_proof)
            return [
                SlotSet("progress_receipt", receipt),
                SlotSet("progress_tries", 0),
                SlotSet("progress_step", "verify"),
            ]
        own = apps.for_user(settings(), tracker.sender_id)
        if own:
            for item in own[:3]:
                send(dispatcher, progress_payload(item))
        else:
            dispatcher.utter_message(response="utter_ask_receipt_no")
        return [SlotSet("progress_step", None)]


class ValidateProgressForm(FormValidationAction):
    def name(self) -> str:
        return "validate_progress_form"

    def validate_progress_proof(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        receipt_no = str(tracker.get_slot("progress_receipt") or "")
        tries = int(tracker.get_slot("progress_tries") or 0) + 1
        proof = proof_in(str(value or ""))
        found = apps.verified(settings(), receipt_no, proof) if proof else None
        if found is not None:
            send(dispatcher, progress_payload(found))
            return {"progress_proof": "ok", "progress_tries": 0}
        if tries >= MAX_TRIES:
            dispatcher.utter_message(response="utter_progress_give_up")
            return {"progress_proof": "failed", "progress_tries": 0}
        dispatcher.utter_message(response="utter_progress_not_verified")
        return {"progress_proof": None, "progress_tries": tries}


class ActionProgressDone(Action):
    def name(self) -> str:
        return "action_progress_done"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return [
            SlotSet("progress_receipt", None),
            SlotSet("progress_proof", None),
            SlotSet("progress_tries", 0),
            SlotSet("progress_step", None),
        ]
