"""Request and response bodies of the chat API (documented in OpenAPI).

A turn answers with ``replies`` (one per message of the assistant, each with a ``type`` from :data:`ReplyType`) and the
conversation's ``state`` (:class:`ConversationState`, derived from Rasa's tracker by :mod:`channels.state`).
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

#: Every kind of reply the assistant sends, and the fields each one uses (all other fields stay empty):
#:
#: - ``text``: ``text`` — a plain sentence (greetings, questions, confirmations);
#: - ``buttons``: ``text``, ``buttons`` — a question with choices; a button sends its ``payload`` as the next message;
#: - ``answer``: ``title``, ``text``, ``items``, ``citations``, ``item_code`` (and ``buttons`` for follow-ups) — an answer
#:   from the knowledge base with its sources;
#: - ``checklist``: ``title``, ``text``, ``items``, ``citations``, ``item_code`` — the materials for the person's 情形;
#: - ``card``: ``title``, ``text``, ``items``, ``item_code``, ``receipt_no``, ``links`` — an application just submitted
#:   (受理编号, printable summary) or an application's progress;
#: - ``form_summary``: ``title``, ``text``, ``items``, ``item_code`` — the answers of a form to check before submitting
#:   (personal numbers masked);
#: - ``handoff``: ``ticket`` — the conversation was handed to a person (the text before it says so).
ReplyType = Literal["text", "buttons", "answer", "checklist", "card", "form_summary", "handoff"]
REPLY_TYPES: tuple[str, ...] = get_args(ReplyType)

_REPLY_TYPE_DESCRIPTION = (
    "回复类型（固定集合）及各自使用的字段：text（text）；buttons（text、buttons，按钮的 payload 作为下一句发送）；"
    "answer（知识库解答：title、text、items、citations、item_code，可带追问按钮 buttons）；"
    "checklist（按情形列出的材料清单：title、text、items、citations、item_code）；"
    "card（申请已提交或办理进度：title、text、items、item_code、receipt_no、links）；"
    "form_summary（提交前核对的表单信息，证件号码已遮盖：title、text、items、item_code）；"
    "handoff（已转人工：ticket）。未用到的字段为空。text 总是可以单独显示（纯文本渠道也用它）。"
)


class ChatRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "社保卡丢了怎么补办"},
                {
                    "session_id": "3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b.0123456789abcdef01234567",
                    "text": "要带什么材料",
                    "elder": True,
                },
            ]
        },
    )

    session_id: str | None = Field(
        None, description="会话编号。首次对话不传，由服务端签发；之后每次原样带上。", max_length=100
    )
    text: str = Field(..., description="用户说的话（最多 2,000 字，可配置）。")
    elder: bool = Field(False, description="长辈版：回答分段更短，便于阅读和朗读。")


class Button(BaseModel):
    title: str = Field(..., description="按钮上显示的文字")
    payload: str = Field(..., description="按下按钮时作为下一句消息发送的内容")


class Citation(BaseModel):
    item_code: str = Field("", description="事项或政策编号，如 P02")
    item_name: str = Field("", description="事项名称")
    section: str = Field("", description="办事指南中的章节，如 申请材料")


class Link(BaseModel):
    title: str
    url: str = Field(..., description="绝对地址或本服务的相对地址")


class Reply(BaseModel):
    """One message of the assistant."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "answer",
                    "title": "【社会保障卡补领换领】申请材料",
                    "text": "补办社保卡需要：\n1. 居民身份证\n来源：社会保障卡补领换领 · 申请材料",
                    "buttons": [{"title": "在哪里办", "payload": "在哪里办"}],
                    "items": ["居民身份证"],
                    "citations": [{"item_code": "P02", "item_name": "社会保障卡补领换领", "section": "申请材料"}],
                    "item_code": "P02",
                    "ticket": "",
                    "receipt_no": "",
                    "links": [],
                }
            ]
        }
    )

    type: ReplyType = Field("text", description=_REPLY_TYPE_DESCRIPTION)
    text: str = Field("", description="回复正文（可含换行；列表和来源行也写在里面，供纯文本渠道使用）")
    buttons: list[Button] = Field(default_factory=list, description="可选的回答")
    items: list[str] = Field(default_factory=list, description="列表各行（材料、步骤、表单各项、进度记录）")
    citations: list[Citation] = Field(default_factory=list, description="回答依据的办事指南章节")
    item_code: str = Field("", description="回复涉及的事项编号（如有）")
    ticket: str = Field("", description="转人工时的工单编号")
    title: str = Field("", description="解答、清单、卡片或表单核对的标题")
    receipt_no: str = Field("", description="刚提交的申请的受理编号")
    links: list[Link] = Field(default_factory=list, description="可下载的内容，如可打印的申请摘要")


# --- the conversation's state ----------------------------------------------------------------------------------------
FormStatus = Literal["filling", "paused", "submitted", "cancelled"]
FormStage = Literal["resume", "reuse", "fields", "materials", "confirm"]


class CurrentItem(BaseModel):
    code: str = Field(..., description="事项编号，如 P02（一件事以 B 开头）")
    name: str = Field(..., description="事项名称；知识库中没有该编号时为编号本身")


class ActiveForm(BaseModel):
    code: str = Field(..., description="表单编号，如 social_security_card")
    name: str = Field(..., description="表单名称，如 社会保障卡补领换领申请")
    status: FormStatus = Field(
        ...,
        description="filling 正在填写；paused 已暂存草稿（本轮结束）；submitted 已提交；cancelled 已取消。"
        "暂存、提交或取消后，下一轮起 active_form 为 null。",
    )


class FormProgress(BaseModel):
    answered: int = Field(..., ge=0, description="已填写（或已跳过的选填）项数")
    total: int = Field(
        ..., ge=0, description="按目前的回答需要填写的项数（回答会改变需要的项，如选择代办后多出代办人信息）"
    )
    stage: FormStage = Field(
        ...,
        description="resume 询问是否接着填上次的草稿；reuse 询问是否沿用以前的信息；fields 逐项填写；"
        "materials 核对材料；confirm 核对信息、等待提交",
    )


class ConversationState(BaseModel):
    """What the conversation is about after this turn."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "current_item": {"code": "P02", "name": "社会保障卡补领换领"},
                    "active_form": {
                        "code": "social_security_card",
                        "name": "社会保障卡补领换领申请",
                        "status": "filling",
                    },
                    "form_progress": {"answered": 3, "total": 7, "stage": "fields"},
                    "ended": False,
                }
            ]
        }
    )

    current_item: CurrentItem | None = Field(None, description="当前谈到的事项；还没有时为 null")
    active_form: ActiveForm | None = Field(None, description="正在办理的申请表；没有时为 null")
    form_progress: FormProgress | None = Field(
        None, description="申请表填到哪一步；没有正在填写的表单（或无法读取进度）时为 null"
    )
    ended: bool = Field(False, description="用户已道别（本次对话结束；继续发送消息也可以）")


class ChatResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "session_id": "3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b.0123456789abcdef01234567",
                    "replies": [
                        {"type": "text", "text": "好的，我们来填写《社会保障卡补领换领申请》。"},
                        {
                            "type": "buttons",
                            "text": "（第1项，共7项）您为什么要补换社保卡？",
                            "buttons": [{"title": "丢失或被盗", "payload": "丢失或被盗"}],
                        },
                    ],
                    "state": {
                        "current_item": {"code": "P02", "name": "社会保障卡补领换领"},
                        "active_form": {
                            "code": "social_security_card",
                            "name": "社会保障卡补领换领申请",
                            "status": "filling",
                        },
                        "form_progress": {"answered": 0, "total": 7, "stage": "fields"},
                        "ended": False,
                    },
                }
            ]
        }
    )

    session_id: str = Field(..., description="会话编号（首次对话时新签发），下次请求原样带上")
    replies: list[Reply] = Field(..., description="助手本轮的回复，按顺序显示；可以为空")
    state: ConversationState | None = Field(
        None,
        description="本轮之后的对话状态。网关读取不到对话状态时为 null（回复不受影响），客户端应保留上一次的状态显示。",
    )


class StreamDone(BaseModel):
    """Data of the ``done`` event of ``POST /api/v1/chat/stream``."""

    session_id: str


class ErrorDetail(BaseModel):
    field: str = Field(..., description="出错的字段")
    message: str = Field(..., description="中文说明")


class ErrorInfo(BaseModel):
    code: str = Field(..., description="机器可读的错误代码，如 invalid_request、invalid_session、rate_limited")
    message: str = Field(..., description="可以直接显示给用户的中文说明")
    detail: list[ErrorDetail] = Field(default_factory=list, description="逐个字段的说明（请求校验出错时）")


class ErrorResponse(BaseModel):
    """The one shape of every error response."""

    error: ErrorInfo


_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def with_error_schemas(openapi: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with :class:`ErrorResponse` as the body of every error response.

    Every error the gateway answers has that shape (``channels/errors.py`` translates all of them, FastAPI's request
    validation included), so a 4xx/5xx response documented without a body gets it, and FastAPI's default 422 body
    (``HTTPValidationError``, which the gateway never sends) is replaced.
    """
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault("ErrorResponse", schema)
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if not str(status).startswith(("4", "5")):
                    continue
                content = response.setdefault("content", {}).setdefault("application/json", {})
                if content.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError") or not content.get(
                    "schema"
                ):
                    content["schema"] = dict(_ERROR_REF)
                if response.get("description") == "Validation Error":
                    response["description"] = "请求格式不对（invalid_request；detail 逐个字段说明）"
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return openapi


def document_errors(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI document describe the gateway's error bodies (:func:`with_error_schemas`)."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_error_schemas(default())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _items(values: Any) -> list[str]:
    """List lines as text: an action may send objects (``{"text": …}``), the API promises strings."""
    if not isinstance(values, list):
        return []
    lines = []
    for value in values:
        if isinstance(value, dict):
            value = next((value[k] for k in ("text", "name", "title", "label") if value.get(k)), "")
        if value is not None and value != "":
            lines.append(str(value))
    return lines


def reply_from_rasa(message: dict[str, Any]) -> Reply:
    """Render one Rasa bot message as a reply.

    Actions put structured replies (checklists, cards, citations) into ``custom``; plain responses carry ``text`` and
    optionally ``buttons``. A custom message without a type, or with one outside :data:`ReplyType`, is a ``card``.
    """
    buttons = [
        Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
        for b in message.get("buttons") or []
        if isinstance(b, dict)
    ]
    custom = message.get("custom")
    if isinstance(custom, dict):
        kind = custom.get("type") if custom.get("type") in REPLY_TYPES else "card"
        return Reply.model_validate(
            {
                **custom,
                "type": kind,
                "items": _items(custom.get("items")),
                "buttons": buttons or custom.get("buttons") or [],
            }
        )
    return Reply(type="buttons" if buttons else "text", text=str(message.get("text") or ""), buttons=buttons)
