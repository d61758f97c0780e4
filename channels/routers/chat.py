"""The chat API used by the mini-program and the H5 page: one JSON answer per message, or the same turn as a stream."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant.settings import Settings
from assistant.text import normalize_message
from assistant.turn_log import record_turn
from assistant.vault import redact
from channels.deps import RasaDep, SettingsDep
from channels.errors import AssistantUnavailable, GatewayError, InvalidInput, TooManyRequests
from channels.rasa_client import RasaClient
from channels.ratelimit import RateLimiter, wait_seconds
from channels.schemas import ChatRequest, ChatResponse, ErrorResponse, StreamDone, reply_from_rasa
from channels.sessions import conversation_of, issue_session
from channels.state import read_state

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["chat"])


@dataclass(frozen=True)
class ChatLimits:
    """The chat API's rate limits (one set per gateway process, kept on ``app.state.chat_limits``)."""

    by_session: RateLimiter
    by_ip: RateLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> ChatLimits:
        return cls(RateLimiter(settings.rate_limit_session), RateLimiter(settings.rate_limit_ip))


@dataclass(frozen=True)
class Turn:
    """A message accepted for Rasa: its session, Rasa's sender id, and the text as Rasa may see it."""

    session_id: str
    conversation: str
    text: str
    metadata: dict[str, Any]


async def accept_turn(body: ChatRequest, request: Request, settings: Settings) -> Turn:
    """Rate limits, the message checks, the session, normalisation and vault redaction shared by both chat routes.

    Raises:
        TooManyRequests: the client address or the session sent too many messages in the last minute.
        InvalidInput: the message is too long, or empty once normalised.
        InvalidSession: the session id was not issued by this gateway.
    """
    limits: ChatLimits = request.app.state.chat_limits
    client = request.client.host if request.client else "unknown"
    wait = limits.by_ip.check(client) or (limits.by_session.check(body.session_id) if body.session_id else 0.0)
    if wait:
        raise TooManyRequests(wait_seconds(wait))
    if len(body.text) > settings.max_message_chars:
        raise InvalidInput(f"消息内容太长，请控制在{settings.max_message_chars}字以内。")
    text = normalize_message(body.text)
    if not text:
        raise InvalidInput("消息内容不能为空，请输入您想咨询的问题。")
    session_id = body.session_id or issue_session(settings.secret_key)
    conversation = conversation_of(session_id, settings.secret_key)
    # ID, phone and card numbers never reach Rasa's tracker store: they wait, encrypted, in the vault
    text = await run_in_threadpool(redact, settings, conversation, text)
    return Turn(session_id, conversation, text, {"elder": body.elder})


async def ensure_answered(rasa: RasaClient, message_count: int) -> None:
    """Rasa swallows a failed custom action and answers with nothing: tell the person instead of staying silent.

    Raises:
        AssistantUnavailable: no message came and the action server is not healthy.
    """
    if not message_count and not await rasa.actions_ready():
        raise AssistantUnavailable(context="action server not healthy and Rasa returned no messages")


def _error(description: str, **extra: Any) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description, **extra}


#: Errors both chat routes answer before talking to Rasa (JSON, ``{"error": {...}}``, Chinese message).
_INPUT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("会话编号不是本服务签发的（invalid_session）：不带 session_id 重新开始"),
    413: _error("请求体超过 64 KB（http_413）"),
    422: _error("消息为空、太长，或请求格式不对（invalid_request；detail 逐个字段说明）"),
    429: _error(
        "发送太频繁（rate_limited；按会话和来源地址每分钟限流）",
        headers={"Retry-After": {"description": "多少秒后可以再发", "schema": {"type": "integer"}}},
    ),
}

_STREAM_EXAMPLE = "\n".join(
    [
        "event: reply",
        'data: {"type": "text", "text": "好的，我们来填写《社会保障卡补领换领申请》。", "buttons": [], "items": [], '
        '"citations": [], "item_code": "", "ticket": "", "title": "", "receipt_no": "", "links": []}',
        "",
        "event: state",
        'data: {"current_item": {"code": "P02", "name": "社会保障卡补领换领"}, "active_form": {"code": '
        '"social_security_card", "name": "社会保障卡补领换领申请", "status": "filling"}, "form_progress": '
        '{"answered": 0, "total": 7, "stage": "fields"}, "ended": false}',
        "",
        "event: done",
        'data: {"session_id": "3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b.0123456789abcdef01234567"}',
        "",
        "",
    ]
)


@router.post(
    "/chat",
    response_model=ChatResponse,
    summary="发送一句话，取得助手的回答",
    description=(
        "把用户的一句话交给助手，返回本轮的全部回复和之后的对话状态。\n\n"
        "- 首次对话不带 `session_id`，服务端签发一个（带签名）；之后每次原样带上，同一会话才能接着上文回答。\n"
        "- 消息先规范化（繁体转简体、全角转半角、去掉不可见字符）；身份证号、手机号、银行卡号等 11 位以上的号码"
        "在交给对话引擎前换成占位符，原号码加密保存一天。\n"
        "- 每条回复有一个 `type`（见 Reply.type 的固定集合）和该类型用到的字段；`text` 总能单独显示。\n"
        "- `state` 说明对话在谈哪个事项、在填哪张表、填到第几项；读取不到时为 null（回复照常返回）。\n"
        "- 逐条收到回复请用 `POST /api/v1/chat/stream`。"
    ),
    responses={**_INPUT_ERRORS, 503: _error("助手暂时不可用（assistant_unavailable）：对话引擎或动作服务未响应")},
)
async def chat(body: ChatRequest, request: Request, settings: SettingsDep, rasa: RasaDep) -> ChatResponse:
    started = time.monotonic()
    turn = await accept_turn(body, request, settings)
    messages = await rasa.send(turn.conversation, turn.text, metadata=turn.metadata)
    await ensure_answered(rasa, len(messages))
    await run_in_threadpool(
        record_turn,
        settings,
        channel="h5",
        conversation_id=turn.conversation,
        elder=body.elder,
        messages=messages,
        question=turn.text,
        latency_ms=round((time.monotonic() - started) * 1000),
    )
    state = await read_state(rasa, settings, turn.conversation)
    return ChatResponse(session_id=turn.session_id, replies=[reply_from_rasa(m) for m in messages], state=state)


@router.post(
    "/chat/stream",
    response_class=StreamingResponse,
    summary="发送一句话，以事件流逐条取得回答",
    description=(
        "与 `POST /api/v1/chat` 相同的请求、校验、限流和号码保护，但回答以 Server-Sent Events（`text/event-stream`）"
        "逐条发出，助手每说完一条就发一条：\n\n"
        "1. `reply`：一条回复，data 与 `/chat` 的 replies 中的一项相同（Reply）；可以有零到多条；\n"
        "2. `state`：本轮之后的对话状态（ConversationState），读取不到时为 `null`；\n"
        '3. `done`：`{"session_id": …}`，本轮结束（首次对话时这里给出新签发的会话编号）。\n\n'
        "请求本身有问题（会话编号无效、消息为空或太长、发送太频繁）时不开始事件流，而是像 `/chat` 一样返回 JSON 错误。"
        '事件流开始后助手出错，则发出 `error` 事件：`{"code", "message"（中文）, "session_id"}`，之后不再有事件；'
        "此前已发出的回复仍然有效。每个 data 都是一行 JSON。"
    ),
    responses={
        200: {
            "description": "事件流：reply* → state → done，或出错时 reply* → error",
            "content": {"text/event-stream": {"schema": {"type": "string"}, "example": _STREAM_EXAMPLE}},
        },
        **_INPUT_ERRORS,
    },
)
async def chat_stream(body: ChatRequest, request: Request, settings: SettingsDep, rasa: RasaDep) -> StreamingResponse:
    turn = await accept_turn(body, request, settings)
    return StreamingResponse(
        _events(turn, rasa, settings),
        media_type="text/event-stream",
        # proxies (nginx) must pass each event on at once instead of buffering the response
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def sse(event: str, data: Any) -> str:
    """One Server-Sent Event whose data is one line of JSON."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _events(turn: Turn, rasa: RasaClient, settings: Settings) -> AsyncIterator[str]:
    started = time.monotonic()
    received: list[dict[str, Any]] = []
    try:
        async for message in rasa.stream(turn.conversation, turn.text, metadata=turn.metadata):
            received.append(message)
            yield sse("reply", reply_from_rasa(message).model_dump())
        await ensure_answered(rasa, len(received))
    except Exception as exc:
        # the status line has gone out: a failure can only be told as an event
        error = exc if isinstance(exc, GatewayError) else GatewayError()
        if isinstance(exc, GatewayError):
            log.warning("POST /api/v1/chat/stream -> %s (%s)", error.code, error.context or error.message)
        else:
            log.exception("unhandled error in POST /api/v1/chat/stream")
        yield sse("error", {"code": error.code, "message": error.message, "session_id": turn.session_id})
        return
    await run_in_threadpool(
        record_turn,
        settings,
        channel="h5",
        conversation_id=turn.conversation,
        elder=bool(turn.metadata.get("elder")),
        messages=received,
        question=turn.text,
        latency_ms=round((time.monotonic() - started) * 1000),
    )
    state = await read_state(rasa, settings, turn.conversation)
    yield sse("state", state.model_dump() if state is not None else None)
    yield sse("done", StreamDone(session_id=turn.session_id).model_dump())
