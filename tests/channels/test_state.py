"""The conversation state derived from Rasa's tracker (channels/state.py), table-driven, without Rasa."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.crypto import cipher_for
from assistant.forms.spec import load_forms
from assistant.settings import Settings
from channels.schemas import ConversationState
from channels.state import derive_state, item_names
from knowledge.corpus import BUNDLED_KB

NAMES = {"P02": "社会保障卡补领换领", "B01": "新生儿出生一件事"}
FORM = (
    "social_security_card"  # 7 fields apply at first; 代办 adds 4 (agent's name, ID, phone, relationship); 邮寄 adds 1
)

#: app_state tokens the fake decryption understands
FORM_STATES: dict[str, Any] = {
    "fresh": {"form": FORM, "stage": "fields", "values": {}, "skipped": []},
    "one": {"form": FORM, "stage": "fields", "values": {"reason": "丢失或被盗"}, "skipped": []},
    "agent": {"form": FORM, "stage": "fields", "values": {"reason": "损坏", "applicant": "代办"}, "skipped": []},
    "skipped": {
        "form": FORM,
        "stage": "materials",
        "values": {"reason": "损坏", "applicant": "本人", "holder_name": "张三", "delivery": "网点自取"},
        # an optional field skipped counts as done; a required one does not (it is asked again)
        "skipped": ["remark", "holder_phone"],
    },
    "confirm": {"form": FORM, "stage": "confirm", "values": {"reason": "损坏"}, "skipped": []},
    "odd_stage": {"form": FORM, "stage": "somewhere", "values": {}, "skipped": []},
    "not_a_dict": ["values"],
}


def decrypt(token: str) -> Any:
    if token == "wrong-key":
        raise ValueError("cannot decrypt")
    return FORM_STATES[token]


def state_of(slots: dict[str, Any] | None = None, intent: str | None = None) -> dict[str, Any]:
    tracker = derive_state(
        {"slots": slots, "latest_message": {"intent": {"name": intent}} if intent else {}},
        item_names=NAMES,
        forms=load_forms(),
        decrypt=decrypt,
    )
    return tracker.model_dump()


def filling(token: str | None, status: str = "filling") -> dict[str, Any]:
    return {"current_item": "P02", "app_form": FORM, "form_status": status, "app_state": token}


FORM_REF = {"code": FORM, "name": "社会保障卡补领换领申请", "status": "filling"}
P02 = {"code": "P02", "name": "社会保障卡补领换领"}


@pytest.mark.parametrize(
    ("slots", "intent", "expected"),
    [
        # a new conversation: nothing known
        (None, None, {"current_item": None, "active_form": None, "form_progress": None, "ended": False}),
        ({}, "greet", {"current_item": None, "active_form": None, "form_progress": None, "ended": False}),
        # an item was talked about; a bundle too; an unknown code is shown as itself
        ({"current_item": "P02"}, "ask_service", {"current_item": P02}),
        ({"current_item": "B01"}, None, {"current_item": {"code": "B01", "name": "新生儿出生一件事"}}),
        ({"current_item": "P99"}, None, {"current_item": {"code": "P99", "name": "P99"}}),
        ({"current_item": ""}, None, {"current_item": None}),
        ({"current_item": 3}, None, {"current_item": None}),  # not a code at all
        # a form just opened, then answered field by field (the counts of the form's own "第n项，共m项")
        (
            filling("fresh"),
            None,
            {"active_form": FORM_REF, "form_progress": {"answered": 0, "total": 7, "stage": "fields"}},
        ),
        (filling("one"), None, {"form_progress": {"answered": 1, "total": 7, "stage": "fields"}}),
        (filling("agent"), None, {"form_progress": {"answered": 2, "total": 11, "stage": "fields"}}),
        (filling("skipped"), None, {"form_progress": {"answered": 5, "total": 7, "stage": "materials"}}),
        (filling("confirm"), None, {"form_progress": {"answered": 1, "total": 7, "stage": "confirm"}}),
        (filling("odd_stage"), None, {"form_progress": {"answered": 0, "total": 7, "stage": "fields"}}),
        # the form's state cannot be read: the form is still named, its progress left out
        (filling("wrong-key"), None, {"active_form": FORM_REF, "form_progress": None, "current_item": P02}),
        (filling("not_a_dict"), None, {"active_form": FORM_REF, "form_progress": None}),
        (filling(None), None, {"active_form": FORM_REF, "form_progress": None}),
        # the turn that paused, submitted or cancelled the form: its status, no progress
        (filling(None, "paused"), None, {"active_form": {**FORM_REF, "status": "paused"}, "form_progress": None}),
        (
            filling("one", "submitted"),
            None,
            {"active_form": {**FORM_REF, "status": "submitted"}, "form_progress": None},
        ),
        (filling(None, "cancelled"), None, {"active_form": {**FORM_REF, "status": "cancelled"}}),
        # no form: app_form cleared by action_application_done, unknown, or without a status
        ({"app_form": None, "form_status": None}, None, {"active_form": None, "form_progress": None}),
        ({"app_form": "no_such_form", "form_status": "filling", "app_state": "one"}, None, {"active_form": None}),
        (
            {"app_form": FORM, "form_status": None, "app_state": "one"},
            None,
            {"active_form": None, "form_progress": None},
        ),
        ({"app_form": FORM, "form_status": "weird", "app_state": "one"}, None, {"active_form": None}),
        # goodbye ends the conversation; any other intent does not
        ({"current_item": "P02"}, "goodbye", {"ended": True, "current_item": P02}),
        ({}, "thank", {"ended": False}),
    ],
)
def test_state_from_tracker(slots: dict[str, Any] | None, intent: str | None, expected: dict[str, Any]) -> None:
    state = state_of(slots, intent)
    assert {key: state[key] for key in expected} == expected


def test_malformed_trackers_give_an_empty_state() -> None:
    trackers: list[dict[str, Any]] = [
        {},
        {"slots": "x", "latest_message": "y"},
        {"slots": [], "latest_message": {"intent": "goodbye"}},
    ]
    for tracker in trackers:
        state = derive_state(tracker, item_names=NAMES, forms=load_forms(), decrypt=decrypt)
        assert state == ConversationState()


def test_the_real_encrypted_form_state_is_read(settings: Settings) -> None:
    cipher = cipher_for(settings)
    token = cipher.encrypt_json(FORM_STATES["agent"])
    state = derive_state({"slots": filling(token)}, item_names=NAMES, forms=load_forms(), decrypt=cipher.decrypt_json)
    assert state.form_progress is not None and (state.form_progress.answered, state.form_progress.total) == (2, 11)


def test_item_names_come_from_the_knowledge_base(tmp_path: Any) -> None:
    names = item_names(BUNDLED_KB)
    assert names["P02"] == "社会保障卡补领换领"
    assert names["B01"] == "新生儿出生一件事"
    assert any(code.startswith("POL") for code in names)
    assert item_names(tmp_path / "missing") == {}  # logged; states then show codes
