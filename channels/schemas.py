"""Request and response bodies of the chat API (documented in OpenAPI)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str | None = Field(
        None, description="会话编号。首次对话不传，由服务端签发；之后每次原样带上。", max_length=100
    )
    text: str = Field(..., description="用户说的话（最多 2,000 字，可配置）。")
    elder: bool = Field(False, description="长辈版：回答更短、字更大，并附朗读音频。")


class Button(BaseModel):
    title: str
    payload: str


class Citation(BaseModel):
    item_code: str = ""
    item_name: str = ""
    section: str = ""


class Link(BaseModel):
    title: str
    url: str


class Reply(BaseModel):
    type: str = Field("text", description="text, buttons, answer, checklist, handoff, card, form_summary …")
    text: str = ""
    buttons: list[Button] = Field(default_factory=list)
    items: list[Any] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    item_code: str = Field("", description="the service item the reply is about, if any")
    ticket: str = Field("", description="the ticket number when the conversation was handed to a person")
    title: str = Field("", description="heading of a card, checklist or form summary")
    receipt_no: str = Field("", description="受理编号 of an application just submitted")
    links: list[Link] = Field(default_factory=list, description="downloads, e.g. the printable application summary")


class ChatResponse(BaseModel):
    session_id: str
    replies: list[Reply]


def reply_from_rasa(message: dict[str, Any]) -> Reply:
    """Render one Rasa bot message as a reply.

    Actions put structured replies (checklists, cards, citations) into ``custom``; plain responses carry ``text`` and
    optionally ``buttons``.
    """
    buttons = [
        Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
        for b in message.get("buttons") or []
        if isinstance(b, dict)
    ]
    custom = message.get("custom")
    if isinstance(custom, dict):
        return Reply.model_validate({"type": "card", **custom, "buttons": buttons or custom.get("buttons") or []})
    return Reply(type="buttons" if buttons else "text", text=str(message.get("text") or ""), buttons=buttons)
