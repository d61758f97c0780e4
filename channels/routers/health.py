"""Liveness and readiness for load balancers and `zhiban run`."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from channels.deps import RasaDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="网关进程存活")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="网关、Rasa 与动作服务是否都能服务")
async def readyz(rasa: RasaDep) -> JSONResponse:
    parts = {"gateway": True, "rasa": await rasa.rasa_ready(), "actions": await rasa.actions_ready()}
    ready = all(parts.values())
    return JSONResponse({"ready": ready, "parts": parts}, status_code=200 if ready else 503)
