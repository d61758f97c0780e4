"""The hotline agent-assist console's API: suggested answers, feedback on them, and the queue of handed-over conversations.

Every route needs a signed-in staff member (:data:`channels.auth.AgentDep`). What an agent sees is masked: phone, ID and
card numbers show their first three and last four characters (the conversation's vaulted numbers are put back first, so the
agent sees 138****5678 rather than a placeholder), and feedback stores the query masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from assistant import agent_desk as desk
from assistant.settings import Settings
from assistant.store import Ticket, now
from assistant.suggestions import Suggestion, Suggestions, suggest
from assistant.vault import PLACEHOLDER, restore
from assistant.workorder import CHINA_TIME, WorkOrder, channel_of, draft, mask_numbers
from channels.auth import AgentDep
from channels.deps import RasaDep, SettingsDep
from channels.errors import AssistantUnavailable, GatewayError, InvalidInput, NotFound
from channels.rasa_client import RasaClient
from channels.routers.knowledge import FullCitation, cite, searcher_of

router = APIRouter(prefix="/api/v1/agent", tags=["agent"])

KIND_LABELS = {"handoff": "转人工", "complaint": "投诉"}
REASON_LABELS = {"requested": "来电人要求转人工", "not_found": "智能助手未能解答", "complaint": "投诉"}
STATUS_LABELS = {"open": "待接单", "claimed": "处理中", "closed": "已办结"}

#: Earlier utterances of a call used as context, at most.
MAX_CONTEXT = 10

Number = Annotated[str, Path(description="工单编号，如 GD-20261130-000042", max_length=40)]


class Conflict(GatewayError):
    status_code = 409
    code = "conflict"
    default_message = "工单状态已经变化，请刷新后再试。"


class SuggestRequest(BaseModel):
    text: str = Field("", max_length=20000, description="来电人所说的话（坐席录入或粘贴）")
    context: list[str] = Field(
        default_factory=list, max_length=50, description="同一通电话中此前的话，按时间先后（用于追问）"
    )


class SuggestionView(BaseModel):
    rank: int
    item_code: str
    item_name: str
    aspect: str
    section: str
    text: str
    lines: list[str]
    citations: list[FullCitation]
    confidence: float = Field(..., ge=0, le=1)
    level: str = Field(..., description="high 把握较大、medium 需核实、low 仅供参考")


class KeyFactView(BaseModel):
    kind: str
    label: str
    value: str


class WorkOrderView(BaseModel):
    request: str = Field(..., description="诉求")
    item_code: str
    item_name: str
    item: str = Field(..., description="事项（编码 名称，或“未确定”）")
    facts: list[KeyFactView] = Field(..., description="关键信息（号码已遮盖）")
    facts_text: str
    channel: str = Field(..., description="来源")
    time: str = Field(..., description="时间")
    text: str = Field(..., description="整张工单的文字，可直接复制")


class SuggestResponse(BaseModel):
    status: str = Field(..., description="answered 可直接答复、clarify 需确认事项、not_found 没有把握的答案")
    note: str
    text: str = Field(..., description="来电人的话，号码已遮盖（用于显示）")
    query: str
    confidence: float
    used_context: bool
    suggestions: list[SuggestionView]
    draft: WorkOrderView


class FeedbackRequest(BaseModel):
    query: str = Field(..., min_length=1, max_length=20000, description="查询的内容（保存时遮盖号码）")
    item_code: str = Field(..., min_length=1, max_length=64)
    section: str = Field("", max_length=64)
    rank: int = Field(..., ge=1, le=10)
    confidence: float = Field(..., ge=0, le=1)
    helpful: bool
    note: str = Field("", max_length=2000)


class FeedbackResponse(BaseModel):
    id: int
    helpful: bool


class TicketView(BaseModel):
    number: str
    kind: str
    kind_label: str
    reason: str
    reason_label: str
    status: str
    status_label: str
    item_code: str
    item_name: str
    summary: str
    channel: str
    created_at: str
    age_minutes: int
    age: str
    assignee: str
    resolution: str


class QueueResponse(BaseModel):
    tickets: list[TicketView]


class Turn(BaseModel):
    role: str = Field(..., description="user 来电人/用户，bot 智能助手")
    text: str
    time: str


class TicketDetail(TicketView):
    questions: list[str]
    facts: dict[str, str]
    history: list[Turn]
    history_available: bool
    draft: WorkOrderView


class CloseRequest(BaseModel):
    resolution: str = Field("", max_length=2000, description="办理结果（必填）")


def age_text(minutes: int) -> str:
    """How long ago, in words: 刚刚, 12分钟前, 3小时前, 2天前."""
    if minutes < 1:
        return "刚刚"
    if minutes < 60:
        return f"{minutes}分钟前"
    if minutes < 24 * 60:
        return f"{minutes // 60}小时前"
    return f"{minutes // (24 * 60)}天前"


def _local(moment: dt.datetime | None) -> str:
    return desk.aware(moment).astimezone(CHINA_TIME).isoformat(timespec="seconds") if moment else ""


def ticket_view(ticket: Ticket, at: dt.datetime) -> dict[str, Any]:
    minutes = max(0, int((at - desk.aware(ticket.created_at)).total_seconds() // 60))
    return {
        "number": ticket.number,
        "kind": ticket.kind,
        "kind_label": KIND_LABELS.get(ticket.kind, ticket.kind),
        "reason": ticket.reason,
        "reason_label": REASON_LABELS.get(ticket.reason, ticket.reason),
        "status": ticket.status,
        "status_label": STATUS_LABELS.get(ticket.status, ticket.status),
        "item_code": ticket.item_code,
        "item_name": ticket.item_name,
        "summary": mask_numbers(ticket.summary),
        "channel": channel_of(ticket.conversation_id),
        "created_at": _local(ticket.created_at),
        "age_minutes": minutes,
        "age": age_text(minutes),
        "assignee": ticket.assignee,
        "resolution": ticket.resolution,
    }


def order_view(order: WorkOrder) -> WorkOrderView:
    return WorkOrderView(
        request=order.request,
        item_code=order.item_code,
        item_name=order.item_name,
        item=order.item,
        facts=[KeyFactView(kind=f.kind, label=f.label, value=f.value) for f in order.facts],
        facts_text=order.facts_text,
        channel=order.channel,
        time=order.time,
        text=order.as_text(),
    )


def suggestion_view(suggestion: Suggestion) -> SuggestionView:
    return SuggestionView(
        rank=suggestion.rank,
        item_code=suggestion.item_code,
        item_name=suggestion.item_name,
        aspect=suggestion.aspect,
        section=suggestion.section,
        text=suggestion.text,
        lines=list(suggestion.lines),
        citations=[cite(c) for c in suggestion.citations],
        confidence=suggestion.confidence,
        level=suggestion.level,
    )


def _ticket(settings: Settings, number: str) -> Ticket:
    try:
        return desk.find_ticket(settings, number)
    except desk.TicketNotFound as exc:
        raise NotFound(f"没有找到工单“{number}”，请核对工单编号。", context=str(exc)) from exc


def _conflict(exc: desk.TicketConflict) -> Conflict:
    if exc.reason == "closed":
        return Conflict(f"工单 {exc.number} 已经办结，不能再操作。", context=str(exc))
    return Conflict(f"工单 {exc.number} 已由 {exc.assignee} 接单。", context=str(exc))


@router.post("/suggest", response_model=SuggestResponse, summary="根据来电人所说给出前三条建议答复和工单草稿")
async def suggest_answers(body: SuggestRequest, settings: SettingsDep, user: AgentDep) -> SuggestResponse:
    limit = settings.max_message_chars
    if len(body.text) > limit or any(len(c) > limit for c in body.context):
        raise InvalidInput(f"内容太长，请控制在{limit}字以内。")
    context = [c for c in body.context if c.strip()][-MAX_CONTEXT:]
    searcher = await searcher_of(settings)
    # numbers say nothing about which service is meant: only masked text is searched (and echoed back)
    found: Suggestions = await run_in_threadpool(
        lambda: suggest(
            searcher, mask_numbers(body.text), [mask_numbers(c) for c in context], threshold=settings.answer_threshold
        )
    )
    if found.status == "empty":
        raise InvalidInput("请输入来电人所说的内容（不能只有空格、符号或表情）。")
    top = found.suggestions[0] if found.status == "answered" and found.suggestions else None
    order = await run_in_threadpool(
        lambda: draft(
            [*context, body.text],
            at=now(),
            item_code=top.item_code if top else "",
            item_name=top.item_name if top else "",
        )
    )
    return SuggestResponse(
        status=found.status,
        note=found.note,
        text=mask_numbers(body.text),
        query=found.query,
        confidence=found.confidence,
        used_context=found.used_context,
        suggestions=[suggestion_view(s) for s in found.suggestions],
        draft=order_view(order),
    )


@router.post("/feedback", response_model=FeedbackResponse, summary="记录建议答复是否有帮助")
async def record_feedback(body: FeedbackRequest, settings: SettingsDep, user: AgentDep) -> FeedbackResponse:
    row = await run_in_threadpool(
        lambda: desk.record_feedback(
            settings,
            staff=user.username,
            query=body.query,
            item_code=body.item_code,
            section=body.section,
            rank=body.rank,
            confidence=body.confidence,
            helpful=body.helpful,
            note=body.note,
        )
    )
    return FeedbackResponse(id=row.id, helpful=row.helpful)


@router.get("/handoffs", response_model=QueueResponse, summary="转人工队列：待接单和处理中的工单，最新的在前")
async def queue(settings: SettingsDep, user: AgentDep) -> QueueResponse:
    tickets = await run_in_threadpool(desk.waiting_tickets, settings)
    at = now()
    return QueueResponse(tickets=[TicketView(**ticket_view(t, at)) for t in tickets])


def _revealed(settings: Settings, conversation_id: str, text: str) -> str:
    """The conversation's text with its vaulted numbers put back (so the draft recognises them); masked before shown."""
    return restore(settings, conversation_id, text) if PLACEHOLDER.search(text) else text


def _bot_text(event: dict[str, Any]) -> str:
    """What the assistant said in a bot event: its text, or its structured reply's text (real Rasa keeps a json_message in
    ``data.custom``)."""
    custom = (event.get("data") or {}).get("custom") or {}
    if not isinstance(custom, dict):
        custom = {}
    text = str(event.get("text") or custom.get("text") or custom.get("title") or "")
    if custom.get("type") == "handoff" and custom.get("ticket"):
        text = (text + "\n" if text else "") + f"（已转人工，工单 {custom['ticket']}）"
    return text


def history_of(settings: Settings, conversation_id: str, events: list[dict[str, Any]]) -> tuple[list[Turn], list[str]]:
    """The conversation's turns (masked) and the person's own words (numbers put back, for the draft)."""
    turns: list[Turn] = []
    said: list[str] = []
    for event in events:
        kind = event.get("event")
        stamp = event.get("timestamp")
        time = _local(dt.datetime.fromtimestamp(float(stamp), dt.UTC)) if isinstance(stamp, int | float) else ""
        if kind == "user":
            raw = str(event.get("text") or "")
            if raw.startswith("/"):  # a button: its payload, not words
                turns.append(Turn(role="user", text="（点击了选项）", time=time))
                continue
            revealed = _revealed(settings, conversation_id, raw)
            said.append(revealed)
            turns.append(Turn(role="user", text=mask_numbers(revealed), time=time))
        elif kind == "bot":
            text = _bot_text(event)
            if text:
                turns.append(Turn(role="bot", text=mask_numbers(text), time=time))
    return turns, said


async def _detail(settings: Settings, rasa: RasaClient, ticket: Ticket) -> TicketDetail:
    try:
        tracker = await rasa.tracker(ticket.conversation_id)
        events = [e for e in tracker.get("events") or [] if isinstance(e, dict)]
        available = True
    except AssistantUnavailable:
        events, available = [], False
    turns, said = await run_in_threadpool(history_of, settings, ticket.conversation_id, events)
    facts = {mask_numbers(str(k)): mask_numbers(str(v)) for k, v in (ticket.facts or {}).items()}
    order = draft(
        said or list(ticket.questions or []),
        at=desk.aware(ticket.created_at),
        channel=channel_of(ticket.conversation_id),
        item_code=ticket.item_code,
        item_name=ticket.item_name,
        situation=ticket.facts or {},
    )
    return TicketDetail(
        **ticket_view(ticket, now()),
        questions=[mask_numbers(q) for q in ticket.questions or []],
        facts=facts,
        history=turns,
        history_available=available,
        draft=order_view(order),
    )


@router.get("/handoffs/{number}", response_model=TicketDetail, summary="工单详情：摘要、对话记录和工单草稿")
async def ticket_detail(number: Number, settings: SettingsDep, rasa: RasaDep, user: AgentDep) -> TicketDetail:
    ticket = await run_in_threadpool(_ticket, settings, number)
    return await _detail(settings, rasa, ticket)


@router.post("/handoffs/{number}/claim", response_model=TicketView, summary="接单")
async def claim(number: Number, settings: SettingsDep, user: AgentDep) -> TicketView:
    await run_in_threadpool(_ticket, settings, number)
    try:
        ticket = await run_in_threadpool(desk.claim, settings, number, user.username)
    except desk.TicketConflict as exc:
        raise _conflict(exc) from exc
    return TicketView(**ticket_view(ticket, now()))


@router.post("/handoffs/{number}/close", response_model=TicketView, summary="办结（写明办理结果）")
async def close(number: Number, body: CloseRequest, settings: SettingsDep, user: AgentDep) -> TicketView:
    if not body.resolution.strip():
        raise InvalidInput("请填写办理结果。")
    await run_in_threadpool(_ticket, settings, number)
    try:
        ticket = await run_in_threadpool(
            lambda: desk.close(settings, number, user.username, body.resolution, override=user.role == "admin")
        )
    except desk.TicketConflict as exc:
        raise _conflict(exc) from exc
    return TicketView(**ticket_view(ticket, now()))
