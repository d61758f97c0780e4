"""WeChat channel: the message push of a 公众号 (``/wechat/mp``, XML) and of a mini-program (``/wechat/mini``, JSON).

WeChat waits 5 seconds for the answer to a push and then sends the same push again, three tries in all. So:

* every push is claimed once in the application store (:mod:`assistant.wechat_store`); later copies never reach Rasa and
  get the first copy's passive reply when it is ready, else ``success``;
* a 公众号 push waits for Rasa at most ``ZHIBAN_WECHAT_REPLY_BUDGET`` seconds. An answer in time is the passive reply (its
  first 2,000 bytes; the rest follows as customer-service messages); a later one is sent as a customer-service message
  after the push was answered ``success``;
* a mini-program cannot reply passively with text: its pushes are answered ``success`` and the answer is always sent as
  a customer-service message.

Text goes to Rasa like the chat API's (normalised, long numbers swapped for vault placeholders) with the sender
``wx-<mp|mini>-<OpenID>``; a number answering the last reply's numbered buttons is sent as that button's payload. Answers
sent after the response are tasks of :class:`Deliveries`; their failures are logged, never raised.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from wechatpy import parse_message  # type: ignore[import-untyped]
from wechatpy.crypto import WeChatCrypto  # type: ignore[import-untyped]
from wechatpy.exceptions import InvalidSignatureException  # type: ignore[import-untyped]
from wechatpy.replies import TextReply  # type: ignore[import-untyped]
from wechatpy.utils import check_signature  # type: ignore[import-untyped]

from assistant import wechat_store as store
from assistant.settings import Settings
from assistant.text import normalize_message
from assistant.turn_log import record_turn
from assistant.vault import redact
from channels.deps import RasaDep, SettingsDep
from channels.errors import AssistantUnavailable, Forbidden, GatewayError, InvalidInput, NotFound
from channels.rasa_client import RasaClient
from channels.routers.ratings import WECHAT_INVITATION, invites_rating, rate_from_wechat
from channels.schemas import reply_from_rasa
from channels.wechat import (
    GREETING,
    UNSUPPORTED_NOTICE,
    WELCOME,
    Incoming,
    chosen_payload,
    from_mini,
    from_mp,
    render,
    safe_cdata,
    split_text,
)
from channels.wechat_api import WeChatAPI, WeChatAPIError

log = logging.getLogger(__name__)

router = APIRouter(prefix="/wechat", tags=["wechat"])

DISABLED = "微信渠道未启用（未配置 ZHIBAN_WECHAT_TOKEN）。"
BAD_SIGNATURE = "微信消息签名校验失败，请确认公众平台服务器配置中的令牌（Token）与 ZHIBAN_WECHAT_TOKEN 一致。"
NO_AES_KEY = "收到安全模式的消息，但未配置消息加解密密钥（ZHIBAN_WECHAT_AES_KEY）。"
BAD_MESSAGE = "无法解析微信推送的消息。"

#: Seconds between a passive reply and the rest of a long answer, so that the parts arrive in order.
REST_DELAY = 1.0
#: Seconds between two looks at the store while a retry waits for the first copy's answer.
POLL_INTERVAL = 0.05

SUCCESS = "success"


@dataclass
class Deliveries:
    """Answers still being prepared or sent after WeChat's request was answered.

    The tasks are referenced here so they are not garbage-collected half-way, and the gateway waits for them on shutdown.
    """

    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the pending answers, then cancel what is left."""
        if not self.tasks:
            return
        _, pending = await asyncio.wait(set(self.tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("wechat: %d answers were still pending at shutdown and were dropped", len(pending))


@dataclass
class WeChatRuntime:
    """The channel's long-lived parts, kept on ``app.state.wechat``."""

    api: WeChatAPI
    deliveries: Deliveries

    @classmethod
    def open(cls, settings: Settings) -> WeChatRuntime:
        api = WeChatAPI(settings.wechat_api_base, settings.wechat_app_id, settings.wechat_app_secret)
        return cls(api, Deliveries())

    async def aclose(self, drain_timeout: float) -> None:
        await self.deliveries.drain(drain_timeout)
        await self.api.aclose()


def _runtime(request: Request) -> WeChatRuntime:
    runtime: WeChatRuntime = request.app.state.wechat
    return runtime


RuntimeDep = Annotated[WeChatRuntime, Depends(_runtime)]
QueryText = Annotated[str, Query(max_length=256)]


@dataclass(frozen=True)
class Push:
    """The query parameters WeChat puts on every push and on the URL check."""

    signature: str
    timestamp: str
    nonce: str
    encrypt_type: str
    msg_signature: str


def _verified(
    settings: SettingsDep,
    signature: QueryText = "",
    timestamp: QueryText = "",
    nonce: QueryText = "",
    encrypt_type: QueryText = "",
    msg_signature: QueryText = "",
) -> Push:
    """The push's parameters once its signature (sha1 of the sorted token, timestamp and nonce) is checked."""
    if not settings.wechat_token:
        raise NotFound(DISABLED)
    try:
        check_signature(settings.wechat_token, signature, timestamp, nonce)
    except InvalidSignatureException as exc:
        raise Forbidden(BAD_SIGNATURE, context="WeChat signature mismatch") from exc
    return Push(signature, timestamp, nonce, encrypt_type.lower(), msg_signature)


PushDep = Annotated[Push, Depends(_verified)]


def _crypto(settings: Settings) -> Any:
    if not settings.wechat_aes_key:
        raise Forbidden(NO_AES_KEY, context="encrypt_type=aes without ZHIBAN_WECHAT_AES_KEY")
    return WeChatCrypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_app_id)


def _decrypt(crypto: Any, envelope: Any, push: Push) -> str:
    """The plaintext of a secure-mode push; ``envelope`` is its XML body or its parsed JSON."""
    try:
        plaintext: str = crypto.decrypt_message(envelope, push.msg_signature, push.timestamp, push.nonce)
    except InvalidSignatureException as exc:
        raise Forbidden(BAD_SIGNATURE, context="WeChat msg_signature mismatch") from exc
    except Exception as exc:  # wechatpy raises whatever its decoders raise on a damaged or foreign message
        raise InvalidInput(BAD_MESSAGE, context=f"secure-mode push not decrypted: {type(exc).__name__}") from exc
    return plaintext


@router.get("/mp", response_class=PlainTextResponse, summary="公众号服务器地址校验（回显 echostr）")
@router.get("/mini", response_class=PlainTextResponse, summary="小程序消息推送地址校验（回显 echostr）")
async def check_url(push: PushDep, echostr: QueryText = "") -> PlainTextResponse:
    return PlainTextResponse(echostr)


@router.post("/mp", response_class=Response, summary="公众号消息推送（XML，明文或安全模式）")
async def mp_push(
    request: Request, push: PushDep, settings: SettingsDep, rasa: RasaDep, runtime: RuntimeDep
) -> Response:
    started = time.monotonic()
    body = await request.body()
    crypto = _crypto(settings) if push.encrypt_type == "aes" else None
    xml = _decrypt(crypto, body, push) if crypto else body
    try:
        message = parse_message(xml)
        parsed = from_mp(message) if message is not None else None
    except Exception as exc:  # xmltodict/expat errors, a push without MsgType, a CreateTime that is not a number
        raise InvalidInput(BAD_MESSAGE, context=f"push not parsed: {type(exc).__name__}") from exc
    if parsed is None:
        raise InvalidInput(BAD_MESSAGE, context="empty push")
    incoming = _checked(parsed)
    deadline = started + settings.wechat_reply_budget
    reply = await _answer_mp(incoming, settings, rasa, runtime, str(request.base_url), deadline)
    if reply is None:
        return PlainTextResponse(SUCCESS)
    xml_reply = TextReply(source=incoming.account, target=incoming.openid, content=safe_cdata(reply)).render()
    if crypto is not None:
        xml_reply = crypto.encrypt_message(xml_reply, push.nonce)
    return Response(xml_reply, media_type="application/xml")


@router.post("/mini", response_class=PlainTextResponse, summary="小程序客服消息推送（JSON，明文或安全模式）")
async def mini_push(
    request: Request, push: PushDep, settings: SettingsDep, rasa: RasaDep, runtime: RuntimeDep
) -> PlainTextResponse:
    try:
        data = json.loads(await request.body())
        if push.encrypt_type == "aes":
            data = json.loads(_decrypt(_crypto(settings), data, push))
    except ValueError as exc:
        raise InvalidInput(BAD_MESSAGE, context="mini-program push is not JSON") from exc
    if not isinstance(data, dict):
        raise InvalidInput(BAD_MESSAGE, context="mini-program push is not a JSON object")
    incoming = _checked(from_mini(data))
    if incoming.kind != "ignored" and await run_in_threadpool(store.claim, settings, incoming.key):
        if incoming.kind == "unsupported":
            runtime.deliveries.start(_push(runtime, incoming, [UNSUPPORTED_NOTICE]))
        else:
            task = asyncio.create_task(_converse(incoming, settings, rasa, str(request.base_url)))
            runtime.deliveries.start(_push_when_ready(runtime, incoming, task))
        await run_in_threadpool(store.settle, settings, incoming.key, store.PUSHED)
    return PlainTextResponse(SUCCESS)


def _checked(incoming: Incoming) -> Incoming:
    if not incoming.openid:
        raise InvalidInput(BAD_MESSAGE, context=f"{incoming.channel} push without FromUserName")
    return incoming


async def _answer_mp(
    incoming: Incoming, settings: Settings, rasa: RasaClient, runtime: WeChatRuntime, base_url: str, deadline: float
) -> str | None:
    """The passive reply to a 公众号 push, or None to answer ``success``."""
    if incoming.kind == "ignored":
        return None
    if not await run_in_threadpool(store.claim, settings, incoming.key):
        return await _reply_of_first_copy(settings, incoming.key, deadline)
    if incoming.kind == "unsupported":
        await run_in_threadpool(store.settle, settings, incoming.key, store.PASSIVE, UNSUPPORTED_NOTICE)
        return UNSUPPORTED_NOTICE
    task = asyncio.create_task(_converse(incoming, settings, rasa, base_url))
    try:
        done, _ = await asyncio.wait({task}, timeout=max(deadline - time.monotonic(), 0.0))
    except asyncio.CancelledError:  # WeChat hung up (or the server stops): the answer still reaches the person
        runtime.deliveries.start(_push_when_ready(runtime, incoming, task))
        raise
    if not done:
        log.info("wechat %s: Rasa slower than the reply budget; the answer follows as a message", incoming.ref)
        runtime.deliveries.start(_push_when_ready(runtime, incoming, task))
        await run_in_threadpool(store.settle, settings, incoming.key, store.PUSHED)
        return None
    parts = task.result()
    if not parts:
        await run_in_threadpool(store.settle, settings, incoming.key, store.DONE)
        return None
    if len(parts) > 1:
        runtime.deliveries.start(_push(runtime, incoming, parts[1:], delay=REST_DELAY))
    await run_in_threadpool(store.settle, settings, incoming.key, store.PASSIVE, parts[0])
    return parts[0]


async def _reply_of_first_copy(settings: Settings, key: str, deadline: float) -> str | None:
    """For a retried push: the first copy's passive reply once it is known (until ``deadline``), else None."""
    while True:
        outcome = await run_in_threadpool(store.outcome, settings, key)
        if outcome is None or outcome[0] != store.PENDING or time.monotonic() >= deadline:
            break
        await asyncio.sleep(POLL_INTERVAL)
    if outcome is not None and outcome[0] == store.PASSIVE:
        return outcome[1]
    return None


async def _converse(incoming: Incoming, settings: Settings, rasa: RasaClient, base_url: str) -> list[str]:
    """Rasa's answer to ``incoming`` as WeChat text parts (none when Rasa has nothing to say); never raises.

    A failure becomes its Chinese message as the answer (for a welcome: the fixed welcome text), so the person is told.
    """
    conversation = incoming.conversation_id
    started = time.monotonic()
    try:
        if incoming.kind == "text":  # 好差评: "评价4 …" is recorded here and never reaches Rasa
            channel = "mini" if incoming.channel == "mini" else "wechat"
            rated = await rate_from_wechat(settings, rasa, conversation, incoming.text, channel=channel)
            if rated is not None:
                return split_text(rated)
        message = GREETING if incoming.kind == "welcome" else await _message_for_rasa(settings, incoming)
        messages = await rasa.send(conversation, message, metadata={"channel": f"wechat-{incoming.channel}"})
        if not messages and not await rasa.actions_ready():
            raise AssistantUnavailable(context="action server not healthy and Rasa returned no messages")
        await run_in_threadpool(
            record_turn,
            settings,
            channel="mini" if incoming.channel == "mini" else "wechat",
            conversation_id=conversation,
            elder=False,
            messages=messages,
            question=message,
            latency_ms=round((time.monotonic() - started) * 1000),
        )
        replies = [reply_from_rasa(m) for m in messages]
        rendered = render(replies, base_url)
        await run_in_threadpool(store.remember_buttons, settings, conversation, list(rendered.buttons))
        invitation = f"\n\n{WECHAT_INVITATION}" if invites_rating(replies) else ""  # after a handoff or a 受理编号
        return split_text(rendered.text + invitation)
    except GatewayError as exc:
        log.warning("wechat %s: %s (%s)", incoming.ref, exc.code, exc.context or exc.message)
        return [WELCOME if incoming.kind == "welcome" else exc.message]
    except Exception:
        log.exception("wechat %s: unexpected error while answering", incoming.ref)
        return [WELCOME if incoming.kind == "welcome" else GatewayError.default_message]


async def _message_for_rasa(settings: Settings, incoming: Incoming) -> str:
    """What Rasa is sent for a text push: a chosen button's payload, or the normalised text with long numbers vaulted.

    Raises:
        InvalidInput: the text is empty or longer than ``ZHIBAN_MAX_MESSAGE_CHARS``.
    """
    if len(incoming.text) > settings.max_message_chars:
        raise InvalidInput(f"消息内容太长，请控制在{settings.max_message_chars}字以内。")
    text = normalize_message(incoming.text)
    if not text:
        raise InvalidInput("消息内容不能为空，请输入您想咨询的问题。")
    buttons = await run_in_threadpool(store.remembered_buttons, settings, incoming.conversation_id)
    payload = chosen_payload(text, buttons) if buttons else None
    if payload is not None:
        return payload
    # ID, phone and card numbers never reach Rasa's tracker store: they wait, encrypted, in the vault
    return await run_in_threadpool(redact, settings, incoming.conversation_id, text)


async def _push_when_ready(runtime: WeChatRuntime, incoming: Incoming, answer: asyncio.Task[list[str]]) -> None:
    await _push(runtime, incoming, await answer)


async def _push(runtime: WeChatRuntime, incoming: Incoming, parts: list[str], *, delay: float = 0.0) -> None:
    """Send ``parts`` in order as customer-service messages; a failure is logged and the remaining parts dropped."""
    if delay:
        await asyncio.sleep(delay)
    for number, part in enumerate(parts, 1):
        try:
            await runtime.api.send_text(incoming.openid, part)
        except WeChatAPIError as exc:
            log.warning("wechat %s: part %d of %d not sent: %s", incoming.ref, number, len(parts), exc)
            return
        except Exception:
            log.exception("wechat %s: part %d of %d not sent", incoming.ref, number, len(parts))
            return
