"""Applications: the applicant's printable summary, and the staff API that moves an application through its statuses.

The summary link handed to the applicant carries a token signed with the gateway's secret, so only someone who was given the
link can open it. The staff routes need a signed-in staff member (:data:`channels.auth.AgentDep`); each status change
records who made it.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from assistant import applications as apps
from assistant.printable import summary_token, to_html, to_pdf
from assistant.settings import Settings
from channels.auth import AgentDep
from channels.deps import SettingsDep
from channels.errors import Forbidden, InvalidInput, NotFound

router = APIRouter(prefix="/api/v1", tags=["applications"])


class StatusChange(BaseModel):
    status: Literal["accepted", "reviewing", "correction", "completed", "rejected"] = Field(
        ...,
        description="新状态：accepted 已受理、reviewing 审核中、correction 需补正、completed 已办结、rejected 不予受理",
    )
    note: str = Field("", max_length=500, description="给申请人的说明（需补正时写明要补什么）")


class HistoryEntry(BaseModel):
    status: str
    label: str
    note: str
    at: str


class ApplicationView(BaseModel):
    receipt_no: str
    title: str
    item_code: str
    status: str
    status_label: str
    summary: list[str]
    history: list[HistoryEntry]


def view(receipt: apps.Receipt) -> ApplicationView:
    return ApplicationView(
        receipt_no=receipt.receipt_no,
        title=receipt.title,
        item_code=receipt.item_code,
        status=receipt.status,
        status_label=receipt.status_info.label,
        summary=list(receipt.summary),
        history=[
            HistoryEntry(status=code, label=apps.STATUSES[code].label, note=note, at=at.isoformat())
            for code, note, at in receipt.history
        ],
    )


def _found(settings: Settings, receipt_no: str) -> apps.Receipt:
    receipt = apps.find(settings, receipt_no)
    if receipt is None:
        raise NotFound("没有这个受理编号的申请。")
    return receipt


@router.get("/staff/applications/{receipt_no}", response_model=ApplicationView, summary="查看申请（工作人员）")
async def staff_get(receipt_no: str, settings: SettingsDep, user: AgentDep) -> ApplicationView:
    return view(await run_in_threadpool(_found, settings, receipt_no))


@router.post(
    "/staff/applications/{receipt_no}/status",
    response_model=ApplicationView,
    summary="变更申请状态（工作人员）",
    responses={404: {"description": "没有这个申请"}, 409: {"description": "当前状态不能变更为该状态"}},
)
async def staff_move(receipt_no: str, change: StatusChange, settings: SettingsDep, user: AgentDep) -> ApplicationView:
    try:
        receipt = await run_in_threadpool(
            lambda: apps.move(settings, receipt_no, change.status, note=change.note, actor=user.username)
        )
    except apps.ApplicationNotFound as exc:
        raise NotFound("没有这个受理编号的申请。") from exc
    except apps.TransitionError as exc:
        raise InvalidInput(
            "当前状态不能变更为这个状态。", context=str(exc), status_code=409, code="invalid_transition"
        ) from exc
    return view(receipt)


@router.get(
    "/applications/{receipt_no}/summary",
    summary="下载申请摘要（HTML 或 PDF），凭提交时给出的链接",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}, 403: {"description": "链接无效"}},
)
async def summary(
    receipt_no: str,
    settings: SettingsDep,
    token: Annotated[str, Query(max_length=64)] = "",
    format: Annotated[Literal["html", "pdf"], Query()] = "html",
) -> Response:
    if not hmac.compare_digest(token.encode(), summary_token(settings.secret_key, receipt_no).encode()):
        raise Forbidden("链接无效或已失效，请使用提交申请时给出的链接。")
    receipt = await run_in_threadpool(_found, settings, receipt_no)
    if format == "pdf":
        headers = {"Content-Disposition": f'attachment; filename="{receipt.receipt_no}.pdf"'}
        return Response(to_pdf(receipt), media_type="application/pdf", headers=headers)
    return HTMLResponse(to_html(receipt))
