"""Assembles the gateway: settings, the Rasa client, error handlers, routers and static assets.

Run with ``uvicorn channels.main:create_app --factory`` (``zhiban run`` does this).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from assistant.settings import Settings, get_settings
from channels.errors import error_body, install_error_handlers
from channels.rasa_client import RasaClient
from channels.routers import admin as admin_routes
from channels.routers import agent as agent_routes
from channels.routers import applications, audio_stream, chat, health, knowledge, ratings, web, wechat
from channels.routers import staff as staff_routes
from channels.routers import voice as voice_routes
from channels.schemas import document_errors
from knowledge.service import get_searcher

#: Largest request body accepted; a chat message of 2,000 characters is about 6 KB of JSON.
MAX_BODY_BYTES = 64 * 1024


def _warm_knowledge(settings: Settings) -> None:
    try:
        get_searcher(settings, build=False)
    except Exception as exc:  # reported again, in Chinese, by the knowledge endpoints when they are used
        logging.getLogger(__name__).warning("knowledge index not loaded: %s", exc)


def create_app(settings: Settings | None = None, *, rasa_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """Build the gateway application for ``settings`` (default: :func:`get_settings`).

    ``rasa_transport`` replaces the HTTP transport to Rasa and the action server (tests pass a fake).
    """
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.rasa = RasaClient(
            settings.rasa_url,
            settings.actions_url,
            timeout=settings.rasa_timeout,
            token=settings.rasa_token,
            transport=rasa_transport,
        )
        app.state.wechat = wechat.WeChatRuntime.open(settings)
        # Load the knowledge index in the background so the first question does not wait for it.
        threading.Thread(target=_warm_knowledge, args=(settings,), name="warm-knowledge", daemon=True).start()
        yield
        # WeChat answers still on their way need Rasa: let them finish first (Rasa's timeout bounds each of them).
        await app.state.wechat.aclose(drain_timeout=settings.rasa_timeout + 5.0)
        await app.state.rasa.aclose()

    app = FastAPIOffline(
        title="智办 政务服务智能助手 API",
        version="0.1.0",
        description="示例市政务服务智能导办：对话、知识检索与办件接口。",
        lifespan=lifespan,
    )
    app.dependency_overrides[get_settings] = lambda: settings
    app.state.chat_limits = chat.ChatLimits.from_settings(settings)
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization"],
            max_age=600,
        )

    @app.middleware("http")
    async def limit_body_size(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        # knowledge sheets uploaded on the admin page are larger than any other request
        limit = (
            admin_routes.request_limit_bytes(settings)
            if request.url.path == admin_routes.IMPORT_PATH
            else voice_routes.asr_request_limit_bytes(settings)
            if request.url.path == voice_routes.ASR_PATH
            else MAX_BODY_BYTES
        )
        if length is not None and (not length.isdigit() or int(length) > limit):
            return JSONResponse(error_body("http_413", "请求内容太大。"), status_code=413)
        return await call_next(request)

    install_error_handlers(app)
    app.include_router(chat.router)
    app.include_router(applications.router)
    app.include_router(staff_routes.router)
    app.include_router(health.router)
    app.include_router(knowledge.router)
    app.include_router(web.router)
    app.include_router(wechat.router)
    app.include_router(ratings.router)
    app.include_router(voice_routes.router)
    app.include_router(audio_stream.router)
    app.include_router(admin_routes.router)
    app.include_router(agent_routes.router)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    document_errors(app)
    return app
