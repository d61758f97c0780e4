"""Who is calling a staff route: the signed-in staff member, from a bearer token or the session cookie.

Use the ``Annotated`` aliases in route signatures::

    @router.get("/agent/queue")
    async def queue(user: AgentDep) -> ...      # any signed-in staff member (agent or admin)

    @router.post("/admin/things")
    async def change(user: AdminDep) -> ...     # admins only

Anonymous requests and unknown, expired or revoked sessions get 401 (:class:`~channels.errors.Unauthorized`), a signed-in
agent on an admin route 403 (:class:`~channels.errors.Forbidden`). Citizens' routes use neither and need no sign-in.

Credentials, in this order:

1. ``Authorization: Bearer <token>`` — scripts and tests; the token is the one ``POST /api/v1/staff/login`` returns.
2. the cookie ``zhiban_staff`` that the same login sets — the staff pages. It is HttpOnly (page scripts cannot read it),
   ``SameSite=Strict`` (other sites' pages do not send it), ``Secure`` in production, path ``/``.

CSRF: besides SameSite, a request that is authenticated by the cookie and changes something (POST, PUT, PATCH, DELETE) is
refused (403) when its ``Origin`` header names another site: it must be this gateway's own host or one of
``ZHIBAN_CORS_ORIGINS``. Browsers send ``Origin`` on every such request; a request without it (not from a browser page)
passes. Bearer tokens are never sent by browsers on their own, so they need no such check.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from assistant import staff
from assistant.settings import Settings
from assistant.staff import StaffUser
from assistant.store import now
from channels.deps import SettingsDep
from channels.errors import Forbidden, Unauthorized

__all__ = [
    "COOKIE_NAME",
    "AdminDep",
    "AgentDep",
    "StaffUser",
    "current_staff",
    "require_admin",
]

COOKIE_NAME = "zhiban_staff"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

SIGN_IN_FIRST = "请先登录工作人员账号。"
SIGNED_OUT = "登录已过期或已退出，请重新登录工作人员账号。"
NOT_ALLOWED = "您的账号没有此操作的权限。"
FOREIGN_ORIGIN = "请求来源不被允许，请在本系统的页面上操作。"


def credentials(request: Request) -> tuple[str, bool]:
    """The token the request carries and whether it came from the cookie; ``("", False)`` when there is none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip(), False
    cookie = request.cookies.get(COOKIE_NAME, "")
    return (cookie, True) if cookie else ("", False)


def origin_allowed(request: Request, settings: Settings) -> bool:
    """Whether the request's ``Origin`` (if any) is this gateway or one of the configured CORS origins."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin.rstrip("/") in settings.cors_origin_list:
        return True
    parts = urlsplit(origin)
    # compare host[:port] only: behind a TLS-terminating proxy the gateway itself may see http while the page is https
    return bool(parts.netloc) and parts.netloc.lower() == request.headers.get("host", "").lower()


def check_origin(request: Request, settings: Settings) -> None:
    """Refuse (403) a state-changing browser request sent from another site's page."""
    if request.method in UNSAFE_METHODS and not origin_allowed(request, settings):
        raise Forbidden(FOREIGN_ORIGIN, context=f"origin {request.headers.get('origin')!r} refused", code="bad_origin")


async def current_staff(request: Request, settings: SettingsDep) -> StaffUser:
    """The signed-in staff member (agent or admin); 401 otherwise."""
    token, from_cookie = credentials(request)
    if not token:
        raise Unauthorized(SIGN_IN_FIRST, context="no staff credentials")
    if from_cookie:
        check_origin(request, settings)
    user = await run_in_threadpool(staff.session_user, settings, token)
    if user is None:
        raise Unauthorized(SIGNED_OUT, context="unknown, expired or revoked staff session")
    request.state.staff_token = token
    return user


AgentDep = Annotated[StaffUser, Depends(current_staff)]


async def require_admin(user: AgentDep) -> StaffUser:
    """The signed-in staff member if an admin; 403 for an agent."""
    if user.role != "admin":
        raise Forbidden(NOT_ALLOWED, context=f"{user.username} ({user.role}) on an admin route")
    return user


AdminDep = Annotated[StaffUser, Depends(require_admin)]


def set_session_cookie(response: Response, settings: Settings, token: str, expires_at: dt.datetime) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=max(0, int((expires_at - now()).total_seconds())),
        path="/",
        secure=settings.env == "production",
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", secure=settings.env == "production", httponly=True, samesite="strict")
