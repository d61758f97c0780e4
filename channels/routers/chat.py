"""The chat API used by the mini-program and the H5 page."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from assistant.settings import Settings
from assistant.text import normalize_message
from assistant.vault import redact
from channels.deps import RasaDep, SettingsDep
from channels.errors import AssistantUnavailable, InvalidInput, TooManyRequests
from channels.ratelimit import RateLimiter, wait_seconds
from channels.schemas import ChatRequest, ChatResponse, reply_from_rasa
from channels.sessions import conversation_of, issue_session

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


@router.post(
    "/chat",
    response_model=ChatResponse,
    summary="发送一句话，取得助手的回答",
    responses={
        422: {"description": "消息为空或太长"},
        429: {"description": "发送太频繁（按会话和来源地址限流，见 Retry-After）"},
        503: {"description": "助手暂时不可用"},
    },
)
async def chat(body: ChatRequest, request: Request, settings: SettingsDep, rasa: RasaDep) -> ChatResponse:
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
    messages = await rasa.send(conversation, text, metadata={"elder": body.elder})
    if not messages and not await rasa.actions_ready():
        # Rasa swallows a failed custom action and answers with nothing; tell the person instead of staying silent.
        raise AssistantUnavailable(context="action server not healthy and Rasa returned no messages")
    return ChatResponse(session_id=session_id, replies=[reply_from_rasa(m) for m in messages])
