"""Admin API (admins only): analytics with charts, and the knowledge base — import a sheet, rebuild the index, status."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from assistant.analytics import MAX_DAYS, analytics
from assistant.settings import Settings
from channels.auth import AdminDep
from channels.deps import SettingsDep
from channels.errors import GatewayError, error_body
from channels.plots import report_charts
from knowledge.importer import ImportProblems
from knowledge.maintenance import Busy, Rebuilder, UploadTooLarge, import_upload, knowledge_status

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])

IMPORT_PATH = "/api/v1/admin/knowledge/import"
#: Room for the multipart envelope around the file itself.
MULTIPART_OVERHEAD = 64 * 1024

BUSY = "知识库正在导入或重建索引，请等它完成后再试。"

Days = Annotated[int, Query(ge=1, le=MAX_DAYS, description="统计最近多少天（含今天），1–366")]


class KnowledgeBusy(GatewayError):
    status_code = 409
    code = "knowledge_busy"
    default_message = BUSY


def upload_limit_bytes(settings: Settings) -> int:
    return int(settings.kb_upload_max_mb * 1024 * 1024)


def request_limit_bytes(settings: Settings) -> int:
    """Largest request body the import route accepts (the gateway's body-size check uses it for that path)."""
    return upload_limit_bytes(settings) + MULTIPART_OVERHEAD


_rebuilder_lock = threading.Lock()


def rebuilder(request: Request, settings: Settings) -> Rebuilder:
    """The application's rebuild job runner (one per gateway process, made on first use)."""
    with _rebuilder_lock:
        job: Rebuilder | None = getattr(request.app.state, "knowledge_rebuilder", None)
        if job is None or job.settings is not settings:
            job = Rebuilder(settings)
            request.app.state.knowledge_rebuilder = job
        return job


@router.get("/analytics", summary="统计分析：每日对话量、解决率、转人工率、未找到答案的问题、评价")
async def get_analytics(user: AdminDep, settings: SettingsDep, days: Days = 30) -> dict[str, Any]:
    report = await run_in_threadpool(analytics, settings, days)
    return report.as_dict()


@router.get("/analytics/charts", summary="统计分析及其图表（SVG，附数据表）")
async def get_charts(user: AdminDep, settings: SettingsDep, days: Days = 30) -> dict[str, Any]:
    report = await run_in_threadpool(analytics, settings, days)
    return {"analytics": report.as_dict(), "charts": [chart.as_dict() for chart in report_charts(report)]}


@router.post(
    "/knowledge/import",
    summary="导入知识表格（.xlsx/.csv/.jsonl），全部通过校验才写入",
    responses={
        409: {"description": "正在导入或重建"},
        413: {"description": "文件太大"},
        422: {"description": "文件有问题：detail 按行号列出每个问题，知识库没有改动"},
    },
)
async def import_knowledge(
    user: AdminDep, settings: SettingsDep, file: Annotated[UploadFile, File(description="知识表格文件")]
) -> JSONResponse:
    limit = upload_limit_bytes(settings)
    try:
        result = await run_in_threadpool(import_upload, settings, file.filename or "", file.file, limit)
    except ImportProblems as exc:
        count = len(exc.problems)
        message = f"文件没有导入：发现{count}个问题，请改正后重新上传（知识库没有任何改动）。"
        detail = [{"row": p.row, "message": str(p) if p.row else p.message} for p in exc.problems[:200]]
        return JSONResponse(error_body("import_failed", message, detail), status_code=422)
    except UploadTooLarge:
        message = f"文件太大，请不要超过{settings.kb_upload_max_mb:g} MB；可以分成几个文件导入。"
        return JSONResponse(error_body("file_too_large", message), status_code=413)
    except Busy as exc:
        raise KnowledgeBusy(context=str(exc)) from exc
    finally:
        await file.close()
    return JSONResponse(
        {
            "rows": result.rows,
            "file": f"faq/{result.path.name}",
            "message": f"已导入{result.rows}条问答（faq/{result.path.name}）。请点击“重建索引”，重建完成后即可检索到。",
            "imported_by": user.username,
        }
    )


@router.post("/knowledge/rebuild", status_code=202, summary="在后台重建知识库索引（同一时间只能有一个）")
async def rebuild_knowledge(user: AdminDep, request: Request, settings: SettingsDep) -> dict[str, Any]:
    job = rebuilder(request, settings)
    try:
        job.start()
    except Busy as exc:
        raise KnowledgeBusy(context=str(exc)) from exc
    return await run_in_threadpool(knowledge_status, settings, job.state())


@router.get("/knowledge/status", summary="知识库与索引的状态、最近一次重建")
async def knowledge_state(user: AdminDep, request: Request, settings: SettingsDep) -> dict[str, Any]:
    return await run_in_threadpool(knowledge_status, settings, rebuilder(request, settings).state())
