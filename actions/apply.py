"""Applying by conversation: one Rasa form (``application_form``) drives every form declared in ``assistant/forms/specs``.

The form has a single requested slot, ``app_answer``; what it means depends on the stage of the application kept in the
``app_state`` slot — encrypted, because it holds the person's answers (the tracker store never sees them in clear):

    resume? (a saved draft) → reuse? (values of earlier applications) → fields → materials check → confirm → submitted

Every answer goes through :func:`assistant.forms.understand.understand` (explain, skip, pause, cancel, correct, several
fields at once). The draft is saved (encrypted) after each answer, so a person can pause and come back in a later
conversation. Submission is idempotent: the draft's id is the idempotency key.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answer import choose_item, question_text
from actions.handoff import hand_over
from actions.replies import answer_payload, deliver, searcher, send, settings
from assistant import applications as apps
from assistant.crypto import cipher_for
from assistant.forms.spec import (
    FormSpec,
    display,
    form_for_item,
    load_forms,
    next_field,
    prune,
    relevant,
    situation_of,
    summary_lines,
    validate,
)
from assistant.forms.understand import Answer, Correct, Explain, Pause, Skip, explanation, progress, understand
from assistant.forms.validators import Valid
from assistant.printable import summary_path
from assistant.vault import restore
from knowledge.answer import answer, material_lines
from knowledge.models import Bundle, ServiceItem

_YES = re.compile(r"^(好|好的|是|是的|对|对的|要|用|可以|行|确认|确定|提交|接着|继续|没问题|嗯|中|成)")
_NO = re.compile(r"^(不|否|别|重新|算了)")
_HUMAN = re.compile(r"转人工|人工服务|人工客服|找人工|真人|工作人员")
_CANCEL = re.compile(r"取消|不办了|不申请了|不填了|不弄了|放弃|退出")
_ALL_MATERIALS = re.compile(r"都有|都带|齐了|齐全|都准备|全有|全都有|不缺|没有缺|都在")
_NUMBERS = re.compile(r"\d+")
_CN_ORDINALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}

SUBMIT_BUTTONS = [
    {"title": "确认提交", "payload": "确认提交"},
    {"title": "修改", "payload": "我要修改"},
    {"title": "取消申请", "payload": "取消申请"},
]


# --- state ------------------------------------------------------------------------------------------------------------
def load_state(tracker: Tracker) -> dict[str, Any]:
    token = tracker.get_slot("app_state")
    return dict(cipher_for(settings()).decrypt_json(token)) if isinstance(token, str) and token else {}


def state_slot(state: dict[str, Any]) -> SlotSet:
    return SlotSet("app_state", cipher_for(settings()).encrypt_json(state) if state else None)


def spec_of(state: dict[str, Any]) -> FormSpec | None:
    return load_forms().get(str(state.get("form", "")))


def today() -> dt.date:
    return dt.date.today()


def save_draft(tracker: Tracker, state: dict[str, Any]) -> None:
    apps.save_draft(
        settings(),
        tracker.sender_id,
        state["form"],
        {"values": state.get("values", {}), "skipped": state.get("skipped", []), "draft_id": state["draft_id"]},
    )


# --- pure helpers -----------------------------------------------------------------------------------------------------
def item_document(spec: FormSpec) -> ServiceItem | Bundle | None:
    document = searcher().documents.get(spec.item)
    return document if isinstance(document, ServiceItem | Bundle) else None


def materials_for(spec: FormSpec, values: dict[str, str]) -> list[str]:
    document = item_document(spec)
    return material_lines(document, situation_of(spec, values)) if document is not None else []


def missing_materials(text: str, lines: list[str]) -> list[int] | None:
    """Which of the numbered ``lines`` the person says they lack: [] for "都有了", None if the reply is unclear."""
    if _ALL_MATERIALS.search(text):
        return []
    numbers = {int(n) for n in _NUMBERS.findall(text)}
    numbers |= {value for word, value in _CN_ORDINALS.items() if f"第{word}" in text or f"缺{word}" in text}
    named = {i + 1 for i, line in enumerate(lines) if line.split("（")[0].split("：")[0] in text}
    chosen = sorted(n for n in numbers | named if 1 <= n <= len(lines))
    return chosen or None


def profile_values(spec: FormSpec, values: dict[str, str]) -> dict[str, str]:
    """What of this application can prefill the next one (the applicant's own name, ID number, phone, address)."""
    return {f.prefill: values[f.key] for f in spec.fields if f.prefill and f.key in values}


def proofs(spec: FormSpec, values: dict[str, str]) -> list[str]:
    """Last four characters of every ID and mobile number in the application: the applicant proves who they are with one."""
    return [values[f.key][-4:] for f in spec.fields if f.type in {"id_number", "mobile"} and f.key in values]


def wants_to_cancel(spec: FormSpec, state: dict[str, Any], text: str) -> bool:
    """Whether the person gives up the application ("取消", "不办了") — not words inside a free-text answer."""
    if not _CANCEL.search(text):
        return False
    focus = state.get("focus")
    current = spec.field(focus) if focus else next_field(spec, state.get("values", {}), state.get("skipped", []))
    return not (state.get("stage") == "fields" and current is not None and current.type == "text" and len(text) > 8)


def pause(spec: FormSpec, state: dict[str, Any], dispatcher: CollectingDispatcher, tracker: Tracker) -> str:
    """Keep the draft for later ("先保存") and end the form for now."""
    save_draft(tracker, state)
    dispatcher.utter_message(response="utter_application_paused", form_title=spec.title)
    return "paused"


def correct(spec: FormSpec, state: dict[str, Any], correction: Correct, dispatcher: CollectingDispatcher) -> None:
    """Apply "电话说错了，是…": the new value if it is valid, else ask that field next."""
    target = spec.field(correction.key)
    if not correction.text:
        state["focus"] = target.key
        return
    result = validate(target, correction.text, today())
    if isinstance(result, Valid):
        state["values"][target.key] = result.value
        state["values"] = prune(spec, state["values"])
        state["focus"] = None
        dispatcher.utter_message(text=f"已把{target.label}改为：{result.display}")
    else:
        state["focus"] = target.key
        dispatcher.utter_message(text=result.message)


def masked_profile(spec: FormSpec, profile: dict[str, str]) -> list[str]:
    return [f"{f.label}：{display(f, profile[f.prefill])}" for f in spec.fields if f.prefill and f.prefill in profile]


def question_for(spec: FormSpec, state: dict[str, Any]) -> tuple[str, list[dict[str, str]]]:
    """The question to ask now (text and buttons), by stage."""
    stage = state.get("stage", "fields")
    values: dict[str, str] = state.get("values", {})
    if stage == "resume":
        return (
            f"您上次填写的《{spec.title}》还没提交（已填{len(values)}项）。要接着填吗？",
            [{"title": "接着填", "payload": "接着填"}, {"title": "重新填", "payload": "重新填"}],
        )
    if stage == "reuse":
        reuse = "\n".join(state.get("reuse_lines", []))
        return (
            f"您以前申请时留过这些信息：\n{reuse}\n这次直接用吗？",
            [{"title": "用这些信息", "payload": "用"}, {"title": "不用，重新填", "payload": "不用"}],
        )
    if stage == "materials":
        lines = materials_for(spec, values)
        listing = "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
        return (
            f"提交前核对一下材料。按您的情况需要：\n{listing}\n都准备好了吗？缺哪项请说序号，例如“缺2”。",
            [{"title": "都有了", "payload": "都有了"}],
        )
    if stage == "confirm":
        return "请核对以上信息，确认无误后提交：", SUBMIT_BUTTONS
    focus = state.get("focus")
    current = spec.field(focus) if focus else next_field(spec, values, state.get("skipped", []))
    if current is None:
        return "", []
    done, total = progress(spec, values, state.get("skipped", []))
    buttons = [{"title": option, "payload": option} for option in current.options]
    if not current.required:
        buttons.append({"title": "跳过", "payload": "跳过"})
    return f"（第{min(done + 1, total)}项，共{total}项）{current.ask}", buttons


def summary_payload(spec: FormSpec, state: dict[str, Any]) -> dict[str, Any]:
    lines = summary_lines(spec, state.get("values", {}))
    return {
        "type": "form_summary",
        "title": f"《{spec.title}》信息核对",
        "text": f"《{spec.title}》信息核对：\n" + "\n".join(lines),
        "items": lines,
        "item_code": spec.item,
        "form": spec.code,
    }


# --- actions ----------------------------------------------------------------------------------------------------------
class ActionStartApplication(Action):
    """Opens the item's application form (offering a saved draft and earlier details first), or — for an item without a
    form — tells where it can be applied for."""

    def name(self) -> str:
        return "action_start_application"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        searcher_ = searcher()
        text = question_text(tracker)
        item, _ = choose_item(searcher_, tracker, text)
        spec = form_for_item(item) if item else None
        if spec is None and item is None:
            draft = apps.load_draft(settings(), tracker.sender_id)
            spec = load_forms().get(draft[0]) if draft else None
        if spec is None:
            if item is None:
                dispatcher.utter_message(response="utter_ask_which_item_to_apply")
                return [SlotSet("form_status", None)]
            reply = answer(searcher_, text, item=item, aspect="online")
            dispatcher.utter_message(response="utter_no_form_online_entry")
            return [
                *deliver(dispatcher, tracker, answer_payload(reply)),
                SlotSet("current_item", item),
                SlotSet("form_status", None),
            ]
        state: dict[str, Any] = {"form": spec.code, "values": {}, "skipped": [], "draft_id": uuid.uuid4().hex}
        draft = apps.load_draft(settings(), tracker.sender_id, spec.code)
        profile = apps.load_profile(settings(), tracker.sender_id)
        reuse = masked_profile(spec, profile)
        if draft is not None:
            state.update(stage="resume", pending=draft[1])
            state["values"] = draft[1].get("values", {})
        elif reuse:
            state.update(stage="reuse", reuse_lines=reuse)
        else:
            state["stage"] = "fields"
        dispatcher.utter_message(text=f"好的，我们来填写《{spec.title}》。{spec.intro}")
        return [
            SlotSet("current_item", spec.item),
            SlotSet("app_form", spec.code),
            SlotSet("form_status", "filling"),
            state_slot(state),
        ]


class ActionAskAppAnswer(Action):
    """Asks the question of the current stage (the form's requested slot is always ``app_answer``)."""

    def name(self) -> str:
        return "action_ask_app_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        state = load_state(tracker)
        spec = spec_of(state)
        if spec is None:
            return []
        if state.get("stage") == "confirm":
            send(dispatcher, summary_payload(spec, state))
        text, buttons = question_for(spec, state)
        if text:
            dispatcher.utter_message(text=text, buttons=buttons)
        return []


class ValidateApplicationForm(FormValidationAction):
    """Moves the application forward with each answer."""

    def name(self) -> str:
        return "validate_application_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("form_status") != "filling" or spec_of(load_state(tracker)) is None:
            return []
        return ["app_answer"]

    def validate_app_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        state = load_state(tracker)
        spec = spec_of(state)
        text = restore(settings(), tracker.sender_id, str(value or "")).strip()
        if spec is None:
            return {"app_answer": None, "form_status": "cancelled"}
        if _HUMAN.search(text) and len(text) <= 20:
            save_draft(tracker, state)
            dispatcher.utter_message(response="utter_application_kept")
            hand_over(dispatcher, tracker, reason="requested")
            return {"app_answer": None, "form_status": "paused", "app_state": None}
        if wants_to_cancel(spec, state, text):
            apps.discard_draft(settings(), tracker.sender_id, spec.code)
            dispatcher.utter_message(response="utter_application_cancelled")
            return {"app_answer": None, "form_status": "cancelled", "app_state": None}
        stage = state.get("stage", "fields")
        handler = {
            "resume": self._resume,
            "reuse": self._reuse,
            "fields": self._fields,
            "materials": self._materials,
            "confirm": self._confirm,
        }[stage]
        status = handler(spec, state, text, dispatcher, tracker)
        events: dict[str, Any] = {"app_answer": None, "form_status": status}
        events["app_state"] = state_slot(state)["value"] if status == "filling" else None
        return events

    # stages -------------------------------------------------------------------------------------------------------
    def _resume(
        self, spec: FormSpec, state: dict[str, Any], text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> str:
        pending = state.pop("pending", {})
        if _NO.match(text):
            apps.discard_draft(settings(), tracker.sender_id, spec.code)
            state["values"], state["skipped"] = {}, []
            dispatcher.utter_message(text="好的，我们重新填写。")
        elif _YES.match(text):
            state["values"] = dict(pending.get("values", {}))
            state["skipped"] = list(pending.get("skipped", []))
            state["draft_id"] = pending.get("draft_id", state["draft_id"])
            dispatcher.utter_message(text="好的，接着上次的继续填。")
        else:
            state["pending"] = pending
            dispatcher.utter_message(text="请说“接着填”或“重新填”。")
            return "filling"
        state["stage"] = "fields"
        return self._after_answer(spec, state, dispatcher, tracker)

    def _reuse(
        self, spec: FormSpec, state: dict[str, Any], text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> str:
        if _YES.match(text):
            profile = apps.load_profile(settings(), tracker.sender_id)
            for field in spec.fields:
                if (
                    field.prefill
                    and field.prefill in profile
                    and isinstance(validate(field, profile[field.prefill], today()), Valid)
                ):
                    state["values"][field.key] = profile[field.prefill]
            dispatcher.utter_message(text="好的，已帮您填好这些信息。")
        elif not _NO.match(text):
            dispatcher.utter_message(text="请说“用”或“不用”。")
            return "filling"
        state.pop("reuse_lines", None)
        state["stage"] = "fields"
        return self._after_answer(spec, state, dispatcher, tracker)

    def _fields(
        self, spec: FormSpec, state: dict[str, Any], text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> str:
        values: dict[str, str] = state["values"]
        skipped: list[str] = state["skipped"]
        focus = state.get("focus")
        current = spec.field(focus) if focus else next_field(spec, values, skipped)
        if current is None:
            return self._after_answer(spec, state, dispatcher, tracker)
        understood = understand(spec, values, current, text, today())
        if isinstance(understood, Pause):
            return pause(spec, state, dispatcher, tracker)
        if isinstance(understood, Explain):
            dispatcher.utter_message(text=explanation(current))
            return "filling"
        if isinstance(understood, Skip):
            if current.required:
                dispatcher.utter_message(text=f"“{current.label}”是必填的，不能跳过。{current.explain}")
            else:
                skipped.append(current.key)
                state["focus"] = None
            return self._after_answer(spec, state, dispatcher, tracker)
        if isinstance(understood, Correct):
            correct(spec, state, understood, dispatcher)
            return self._after_answer(spec, state, dispatcher, tracker)
        assert isinstance(understood, Answer)
        for message in understood.errors.values():
            dispatcher.utter_message(text=message)
        if understood.values:
            values.update(understood.values)
            state["values"] = prune(spec, values)
            state["focus"] = None
            extra = [k for k in understood.values if k != current.key]
            if extra:
                labels = "、".join(spec.field(k).label for k in extra)
                dispatcher.utter_message(text=f"已同时记下：{labels}。")
        return self._after_answer(spec, state, dispatcher, tracker)

    def _after_answer(
        self, spec: FormSpec, state: dict[str, Any], dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> str:
        if state.get("focus") or next_field(spec, state["values"], state["skipped"]) is not None:
            state["stage"] = "fields"
        elif "missing" in state or not materials_for(spec, state["values"]):
            state["stage"] = "confirm"  # the materials were checked already (a correction after the check)
        else:
            state["stage"] = "materials"
        save_draft(tracker, state)
        return "filling"

    def _materials(
        self, spec: FormSpec, state: dict[str, Any], text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> str:
        lines = materials_for(spec, state["values"])
        missing = missing_materials(text, lines)
        if missing is None:
            dispatcher.utter_message(text="没听明白。材料都有了请说“都有了”；缺哪项请说序号，例如“缺2”。")
            return "filling"
        if missing:
            listing = "\n".join(f"{i}. {lines[i - 1]}" for i in missing)
            dispatcher.utter_message(
                text=f"还缺这些材料（一次性告诉您）：\n{listing}\n可以先提交申请，受理时再补齐；也可以说“先保存”，备齐后再来提交。"
            )
        else:
            dispatcher.utter_message(text="材料齐全。")
        state["missing"] = [lines[i - 1] for i in missing]
        state["stage"] = "confirm"
        save_draft(tracker, state)
        return "filling"

    def _confirm(
        self, spec: FormSpec, state: dict[str, Any], text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> str:
        values: dict[str, str] = state["values"]
        understood = understand(spec, values, relevant(spec, values)[0], text, today())
        if isinstance(understood, Correct):
            correct(spec, state, understood, dispatcher)
            return self._after_answer(spec, state, dispatcher, tracker)
        if isinstance(understood, Pause):
            return pause(spec, state, dispatcher, tracker)
        if re.search(r"修改|改", text):
            dispatcher.utter_message(text="要改哪一项？请说出名称，例如“改电话”。")
            return "filling"
        if not _YES.match(text):
            dispatcher.utter_message(text="确认无误请说“确认提交”；要修改请说“改电话”这样的话；不办了请说“取消申请”。")
            return "filling"
        receipt, _ = apps.submit(
            settings(),
            form_code=spec.code,
            item_code=spec.item,
            title=spec.title,
            receipt_prefix=spec.receipt_prefix,
            user_key=tracker.sender_id,
            idempotency_key=state["draft_id"],
            answers=values,
            summary=summary_lines(spec, values),
            proofs=proofs(spec, values),
        )
        apps.save_profile(settings(), tracker.sender_id, profile_values(spec, values))
        apps.discard_draft(settings(), tracker.sender_id, spec.code)
        status = receipt.status_info
        send(
            dispatcher,
            {
                "type": "card",
                "title": "申请已提交",
                "text": (
                    f"《{spec.title}》已提交。受理编号：{receipt.receipt_no}（请记下）。\n"
                    f"当前状态：{status.label}。{status.meaning}{status.next_step}\n"
                    "以后说“查进度”并提供受理编号和申请人身份证号或手机号后四位，就能查询办理进度。"
                ),
                "items": [],
                "item_code": spec.item,
                "receipt_no": receipt.receipt_no,
                "links": [
                    {"title": "打印申请摘要", "url": summary_path(settings().secret_key, receipt.receipt_no)},
                    {
                        "title": "下载PDF",
                        "url": summary_path(settings().secret_key, receipt.receipt_no) + "&format=pdf",
                    },
                ],
            },
        )
        return "submitted"


class ActionApplicationDone(Action):
    """Clears the form's slots once it has been submitted, paused or cancelled."""

    def name(self) -> str:
        return "action_application_done"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return [
            SlotSet("app_state", None),
            SlotSet("app_form", None),
            SlotSet("form_status", None),
            SlotSet("app_answer", None),
        ]
