"""Errors the gateway raises and the one JSON shape every error response has.

Exception tree::

    GatewayError                 base: carries an HTTP status, a machine code and a Chinese message for end users
    ├── AssistantUnavailable     Rasa or the action server is down, slow or failing (503)
    ├── InvalidSession           a session id that this gateway did not issue (400)
    └── InvalidInput             a request that is well-formed JSON but unusable, e.g. an empty message (422)

Every error response, whatever raised it, has the body
``{"error": {"code": "...", "message": "<中文说明>", "detail": [...]}}`` and never a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class GatewayError(Exception):
    """An error with a status, a code and a message that can be shown to the person using the service."""

    status_code = 500
    code = "internal_error"
    default_message = "系统暂时出现问题，请稍后再试，或拨打12345热线。"

    def __init__(
        self, message: str | None = None, *, context: str = "", status_code: int | None = None, code: str | None = None
    ) -> None:
        self.message = message or self.default_message
        self.context = context  # for the log, never shown to users
        if status_code is not None:
            self.status_code = status_code
        if code is not None:
            self.code = code
        super().__init__(f"{self.code}: {context or self.message}")


class AssistantUnavailable(GatewayError):
    status_code = 503
    code = "assistant_unavailable"
    default_message = "智能助手暂时无法回答，请稍后再试，或拨打12345热线由人工为您服务。"


class InvalidSession(GatewayError):
    status_code = 400
    code = "invalid_session"
    default_message = "会话编号无效或已过期，请不带会话编号重新开始对话。"


class InvalidInput(GatewayError):
    status_code = 422
    code = "invalid_request"
    default_message = "请求内容不正确。"


class TooManyRequests(GatewayError):
    status_code = 429
    code = "rate_limited"
    default_message = "请求太频繁，请稍后再试。"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"您发送得太快了，请等{retry_after}秒再试。", context=f"retry after {retry_after} s")
        self.retry_after = retry_after


class Unauthorized(GatewayError):
    status_code = 401
    code = "unauthorized"
    default_message = "请先登录。"


class Forbidden(GatewayError):
    status_code = 403
    code = "forbidden"
    default_message = "没有权限进行这个操作。"


class NotFound(GatewayError):
    status_code = 404
    code = "not_found"
    default_message = "没有找到。"


#: Chinese messages for the statuses FastAPI and Starlette raise themselves.
_HTTP_MESSAGES = {
    400: "请求格式不正确。",
    404: "没有找到您要访问的地址。",
    405: "该地址不支持这种请求方式。",
    413: "请求内容太大。",
    415: "请求内容的格式不受支持，请使用 JSON。",
    429: "请求太频繁，请稍后再试。",
}

#: Chinese wording for pydantic's validation error types, keyed by error type.
_FIELD_MESSAGES = {
    "missing": "缺少必填项",
    "string_too_short": "内容不能为空",
    "string_too_long": "内容太长",
    "string_type": "应为文字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "extra_forbidden": "不支持这个字段",
}

_FIELD_LABELS = {"text": "消息内容", "session_id": "会话编号", "elder": "长辈版开关", "body": "请求内容"}


def error_body(code: str, message: str, detail: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": detail or []}}


def describe_validation_errors(errors: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    """Turn pydantic's errors into one Chinese sentence plus a per-field list."""
    detail = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part != "body"] or ["body"]
        field = loc[-1]
        reason = error.get("ctx", {}).get("reason") or _FIELD_MESSAGES.get(error.get("type", ""), "格式不正确")
        detail.append({"field": ".".join(loc), "message": f"{_FIELD_LABELS.get(field, field)}{reason}"})
    message = "；".join(item["message"] for item in detail) + "。"
    return message, detail


def install_error_handlers(app: FastAPI) -> None:
    """Make every error answer in the one JSON shape with a Chinese message."""

    @app.exception_handler(GatewayError)
    async def _gateway_error(request: Request, exc: GatewayError) -> JSONResponse:
        log.warning("%s %s -> %s (%s)", request.method, request.url.path, exc.code, exc.context or exc.message)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, detail = describe_validation_errors(list(exc.errors()))
        return JSONResponse(error_body("invalid_request", message, detail), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = _HTTP_MESSAGES.get(exc.status_code, "请求无法处理。")
        return JSONResponse(
            error_body(f"http_{exc.status_code}", message), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body(GatewayError.code, GatewayError.default_message), status_code=500)
