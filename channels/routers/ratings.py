"""好差评: citizens rate a conversation (no sign-in: the signed session id proves it is theirs), admins follow up 差评.

WeChat has no buttons or forms, so there a rating is a text message: after a handoff or a submitted application the
channel's answer ends with :data:`WECHAT_INVITATION`, and "评价4 说得很清楚" (a level, then an optional comment) is
recorded by :func:`rate_from_wechat` instead of being sent to Rasa.

``POST /api/v1/rating`` counts against the chat API's rate limits (``app.state.chat_limits``). The item the conversation
was about is taken from the conversation itself (Rasa's ``current_item`` slot), not from the client; when Rasa cannot be
asked the rating is still kept, without an item — a rating given because the assistant failed matters most.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from assistant import ratings
from assistant.settings import Settings
from channels.auth import AdminDep
from channels.deps import RasaDep, SettingsDep
from channels.errors import AssistantUnavailable, GatewayError, InvalidInput, NotFound, TooManyRequests
from channels.rasa_client import RasaClient
from channels.ratelimit import wait_seconds
from channels.schemas import Reply
from channels.sessions import conversation_of

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["ratings"])

CHANNEL_LABELS = {"h5": "网页", "mini": "小程序", "wechat": "公众号", "phone": "电话"}
STATUS_LABELS = {"open": "待回访", "closed": "已办结"}


class RatingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(..., max_length=100, description="对话时服务端签发的会话编号（证明是本人的对话）。")
    score: int = Field(
        ...,
        strict=True,
        description="评价等级：5 非常满意、4 满意、3 基本满意、2 不满意、1 非常不满意（2 和 1 为差评，会登记回访）。",
        examples=[4],
    )
    comment: str = Field("", description="评价内容，可不填，最多 500 字；身份证号、手机号等长号码保存前会被隐去。")
    channel: Literal["h5", "mini"] = Field("h5", description="评价来源：h5 网页、mini 小程序。")


class RatingResponse(BaseModel):
    score: int
    level: str = Field(..., description="等级名称，例如“满意”")
    followup_number: str | None = Field(None, description="差评的回访编号（HC-YYYYMMDD-NNNNNN）；好评为空")
    replaced: bool = Field(False, description="是否替换了这次对话 24 小时内的上一次评价")
    message: str = Field(..., description="给评价人看的致谢和说明")


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: str = Field(..., description="处理结果：核实了什么、怎样整改、是否已回访（最多 1000 字）。")


class FollowupView(BaseModel):
    number: str = Field(..., description="回访编号")
    status: str = Field(..., description="open 待回访、closed 已办结")
    status_label: str
    score: int = Field(..., description="评价的当前等级（评价人 24 小时内可以修改）")
    level: str
    comment: str = Field(..., description="评价内容（长号码已隐去）")
    channel: str
    channel_label: str
    item_code: str = Field(..., description="对话涉及的事项编码，可能为空")
    conversation_id: str = Field(..., description="对话编号，可在对话记录中查找")
    created_at: str
    rated_at: str
    closed_at: str | None
    assignee: str = Field(..., description="办结人")
    result: str


class FollowupList(BaseModel):
    followups: list[FollowupView]


def thanks(rated: ratings.Rated) -> str:
    """What the person is told after rating."""
    if rated.followup_number:
        return (
            f"感谢您的评价。很抱歉这次没能让您满意，我们已登记回访，编号 {rated.followup_number}。"
            "工作人员会核实情况并改进；如需进一步帮助，请拨打12345热线并告知回访编号。"
        )
    if rated.replaced:
        return f"您的评价已更新为“{rated.level}”，感谢您的反馈！"
    return f"感谢您的评价（{rated.level}）！我们会继续努力。"


def view(followup: ratings.Followup) -> FollowupView:
    return FollowupView(
        number=followup.number,
        status=followup.status,
        status_label=STATUS_LABELS.get(followup.status, followup.status),
        score=followup.score,
        level=followup.level,
        comment=followup.comment,
        channel=followup.channel,
        channel_label=CHANNEL_LABELS.get(followup.channel, followup.channel),
        item_code=followup.item_code,
        conversation_id=followup.conversation_id,
        created_at=followup.created_at.isoformat(),
        rated_at=followup.rated_at.isoformat(),
        closed_at=followup.closed_at.isoformat() if followup.closed_at else None,
        assignee=followup.assignee,
        result=followup.result,
    )


def translated(exc: ratings.RatingError) -> GatewayError:
    """The gateway error (status and Chinese message) for a refusal of the ratings store."""
    if isinstance(exc, ratings.FollowupNotFound):
        return NotFound(exc.message, context=exc.context)
    if isinstance(exc, ratings.RatingClosed):
        return InvalidInput(exc.message, context=exc.context, status_code=409, code="rating_closed")
    if isinstance(exc, ratings.FollowupClosed):
        return InvalidInput(exc.message, context=exc.context, status_code=409, code="followup_closed")
    return InvalidInput(exc.message, context=exc.context)


async def item_of(rasa: RasaClient, conversation: str) -> str:
    """The service item the conversation was last about ('' when none or when Rasa cannot be asked)."""
    try:
        tracker = await rasa.tracker(conversation, events="NONE")
    except AssistantUnavailable as exc:
        log.info("rating without item code: %s", exc.context)
        return ""
    slots = tracker.get("slots")
    item = slots.get("current_item") if isinstance(slots, dict) else None
    return item if isinstance(item, str) else ""


# --- WeChat --------------------------------------------------------------------------------------------------------
WECHAT_INVITATION = (
    "对这次服务满意吗？请回复“评价”加一个数字：5 非常满意、4 满意、3 基本满意、2 不满意、1 非常不满意。"
    "数字后面可以接着写意见，例如“评价4 说得很清楚”。"
)
_WECHAT_RATING = re.compile(r"评价[\s\u3000]*([1-5１-５])(?![0-9０-９])[\s\u3000，,。.：:、;；!！]*(.*)", re.DOTALL)


def wechat_rating(text: str) -> tuple[int, str] | None:
    """(score, comment) of a WeChat message such as "评价4 说得很清楚" as the person typed it (full-width digits too);
    None for anything else. The comment keeps the person's own punctuation."""
    match = _WECHAT_RATING.fullmatch(text.strip())
    return (int(match.group(1)), match.group(2).strip()) if match else None


def invites_rating(replies: Sequence[Reply]) -> bool:
    """Whether a turn ended something worth rating: a handoff to a person, or a 受理编号 given."""
    return any(reply.type == "handoff" or reply.receipt_no for reply in replies)


async def rate_from_wechat(
    settings: Settings, rasa: RasaClient, conversation: str, text: str, *, channel: str = "wechat"
) -> str | None:
    """The answer to a WeChat rating message ("评价" alone: how to rate), or None when ``text`` is not one.

    ``channel`` is "wechat" for a 公众号, "mini" for a mini-program's customer-service chat.
    """
    if text.strip() == "评价":
        return WECHAT_INVITATION
    found = wechat_rating(text)
    if found is None:
        return None
    score, comment = found
    try:
        ratings.validate_comment(comment)
        item_code = await item_of(rasa, conversation)
        rated = await run_in_threadpool(
            lambda: ratings.rate(
                settings,
                conversation_id=conversation,
                channel=channel,
                score=score,
                comment=comment,
                item_code=item_code,
            )
        )
    except ratings.RatingError as exc:
        log.info("wechat rating refused: %s", exc.context or exc.message)
        return exc.message
    return thanks(rated)


# --- routes ---------------------------------------------------------------------------------------------------------
@router.post(
    "/rating",
    response_model=RatingResponse,
    summary="评价这次对话（好差评）",
    description="五个等级加可选的评价内容。每次对话一个评价，24 小时内再次评价会替换上一次，之后不能再改。"
    "差评（不满意、非常不满意）会登记回访并返回回访编号。",
    responses={
        400: {"description": "会话编号无效"},
        409: {"description": "这次对话评价已超过 24 小时，不能再修改"},
        422: {"description": "等级不在 1–5 之内或评价内容太长"},
        429: {"description": "请求太频繁（与对话接口共用限流）"},
    },
)
async def rate(body: RatingRequest, request: Request, settings: SettingsDep, rasa: RasaDep) -> RatingResponse:
    limits = request.app.state.chat_limits
    client = request.client.host if request.client else "unknown"
    wait = limits.by_ip.check(client) or limits.by_session.check(body.session_id)
    if wait:
        raise TooManyRequests(wait_seconds(wait))
    conversation = conversation_of(body.session_id, settings.secret_key)
    try:
        ratings.level(body.score)
        ratings.validate_comment(body.comment)  # refuse before asking Rasa anything
        item_code = await item_of(rasa, conversation)
        rated = await run_in_threadpool(
            lambda: ratings.rate(
                settings,
                conversation_id=conversation,
                channel=body.channel,
                score=body.score,
                comment=body.comment,
                item_code=item_code,
            )
        )
    except ratings.RatingError as exc:
        raise translated(exc) from exc
    return RatingResponse(
        score=rated.score,
        level=rated.level,
        followup_number=rated.followup_number,
        replaced=rated.replaced,
        message=thanks(rated),
    )


@router.get(
    "/admin/followups",
    response_model=FollowupList,
    summary="差评回访列表（管理员）",
    description="按状态列出差评回访：待回访的最早登记的在前，已办结的最近的在前。",
)
async def list_followups(
    settings: SettingsDep,
    user: AdminDep,
    status: Annotated[
        Literal["open", "closed", "all"], Query(description="open 待回访、closed 已办结、all 全部")
    ] = "open",
) -> FollowupList:
    found = await run_in_threadpool(ratings.followups, settings, None if status == "all" else status)
    return FollowupList(followups=[view(f) for f in found])


@router.post(
    "/admin/followups/{number}/close",
    response_model=FollowupView,
    summary="办结差评回访（管理员）",
    description="填写处理结果后办结；办结人记为当前登录的管理员。",
    responses={
        404: {"description": "没有这个回访编号"},
        409: {"description": "已经办结"},
        422: {"description": "处理结果为空或太长"},
    },
)
async def close_followup(number: str, body: CloseRequest, settings: SettingsDep, user: AdminDep) -> FollowupView:
    try:
        closed = await run_in_threadpool(
            lambda: ratings.close_followup(settings, number, result=body.result, assignee=user.username)
        )
    except ratings.RatingError as exc:
        raise translated(exc) from exc
    return view(closed)
