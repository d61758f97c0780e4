"""Staff sign-in (login, logout, who am I) and the admins' account management.

``POST /api/v1/staff/login`` returns a token for scripts (``Authorization: Bearer …``) and sets the HttpOnly session cookie
the staff pages use; see :mod:`channels.auth` for how requests are authenticated and why the cookie is safe from CSRF.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from assistant import staff
from channels.auth import AdminDep, AgentDep, check_origin, clear_session_cookie, set_session_cookie
from channels.deps import SettingsDep
from channels.errors import Forbidden, GatewayError, InvalidInput, NotFound, Unauthorized

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["staff"])

Role = Literal["agent", "admin"]
Username = Annotated[str, Path(min_length=1, max_length=64, description="用户名")]


class Credentials(BaseModel):
    username: str = Field(..., min_length=1, max_length=64, description="用户名")
    password: str = Field(..., min_length=1, max_length=256, description="密码")


class UserView(BaseModel):
    username: str
    display_name: str
    role: Role


class LoginResult(BaseModel):
    token: str = Field(..., description="会话令牌，脚本可放在 Authorization: Bearer 中使用；网页用 Cookie")
    user: UserView
    expires_at: dt.datetime


class AccountView(UserView):
    active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None
    locked_until: dt.datetime | None


class NewAccount(BaseModel):
    username: str = Field(..., min_length=1, max_length=64, description="用户名：3到32位小写字母、数字或 _ . -")
    display_name: str = Field("", max_length=64, description="显示名（姓名），空则用用户名")
    # plain strings, checked by the store, whose refusal names the allowed roles in Chinese
    role: str = Field("agent", max_length=16, description="agent 工作人员 / admin 管理员")
    password: str = Field(..., min_length=1, max_length=256, description="初始密码：至少10个字符，至少两类字符")


class AccountChange(BaseModel):
    display_name: str | None = Field(None, max_length=64, description="新的显示名")
    role: str | None = Field(None, max_length=16, description="新角色：agent 工作人员 / admin 管理员")
    active: bool | None = Field(None, description="false 停用（并让其所有登录失效），true 重新启用")
    password: str | None = Field(None, min_length=1, max_length=256, description="重设密码（并让其所有登录失效）")


def user_view(user: staff.StaffUser) -> UserView:
    return UserView(username=user.username, display_name=user.display_name, role=user.role)


def account_view(account: staff.StaffAccount) -> AccountView:
    return AccountView(
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        active=account.active,
        created_at=account.created_at,
        last_login_at=account.last_login_at,
        locked_until=account.locked_until,
    )


def translated(exc: staff.StaffError) -> GatewayError:
    """The gateway error for a store error (its Chinese message kept)."""
    if isinstance(exc, staff.AccountNotFound):
        return NotFound(exc.message, context=exc.context)
    if isinstance(exc, staff.AccountExists):
        return InvalidInput(exc.message, context=exc.context, status_code=409, code="account_exists")
    if isinstance(exc, staff.LastAdmin):
        return InvalidInput(exc.message, context=exc.context, status_code=409, code="last_admin")
    return InvalidInput(exc.message, context=exc.context)


@router.post(
    "/staff/login",
    response_model=LoginResult,
    summary="工作人员登录",
    responses={401: {"description": "用户名或密码不正确"}, 429: {"description": "密码错误次数过多，账号暂时锁定"}},
)
async def login(credentials: Credentials, request: Request, response: Response, settings: SettingsDep) -> LoginResult:
    check_origin(request, settings)  # a foreign page must not sign the browser in to someone else's account either
    username = credentials.username.strip().lower()  # usernames are lower case; people type Wang.Wu anyway
    try:
        user = await run_in_threadpool(staff.authenticate, settings, username, credentials.password)
    except staff.AccountLocked as exc:
        log.warning("staff login refused for %r: locked until %s", username, exc.until.isoformat())
        raise GatewayError(exc.message, context=exc.context, status_code=429, code="account_locked") from exc
    except staff.AuthenticationFailed as exc:
        log.warning("staff login failed for %r", username)
        raise Unauthorized(exc.message, context=exc.context, code="login_failed") from exc
    opened = await run_in_threadpool(staff.open_session, settings, user)
    set_session_cookie(response, settings, opened.token, opened.expires_at)
    log.info("staff login: %s (%s)", user.username, user.role)
    return LoginResult(token=opened.token, user=user_view(user), expires_at=opened.expires_at)


@router.post("/staff/logout", status_code=status.HTTP_204_NO_CONTENT, summary="退出登录")
async def logout(request: Request, settings: SettingsDep, user: AgentDep) -> Response:
    await run_in_threadpool(staff.revoke_session, settings, request.state.staff_token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, settings)
    return response


@router.get("/staff/me", response_model=UserView, summary="当前登录的工作人员")
async def me(user: AgentDep) -> UserView:
    return user_view(user)


@router.get("/admin/users", response_model=list[AccountView], summary="工作人员账号列表（管理员）")
async def list_accounts(settings: SettingsDep, admin: AdminDep) -> list[AccountView]:
    return [account_view(a) for a in await run_in_threadpool(staff.list_users, settings)]


@router.post(
    "/admin/users",
    response_model=AccountView,
    status_code=status.HTTP_201_CREATED,
    summary="新建工作人员账号（管理员）",
    responses={409: {"description": "用户名已被使用"}, 422: {"description": "用户名、显示名或密码不符合要求"}},
)
async def create_account(new: NewAccount, settings: SettingsDep, admin: AdminDep) -> AccountView:
    try:
        account = await run_in_threadpool(
            lambda: staff.create_user(
                settings, new.username, new.password, role=new.role, display_name=new.display_name
            )
        )
    except staff.StaffError as exc:
        raise translated(exc) from exc
    log.info("staff account %s (%s) created by %s", account.username, account.role, admin.username)
    return account_view(account)


@router.post(
    "/admin/users/{username}",
    response_model=AccountView,
    summary="修改工作人员账号：显示名、角色、启用/停用、重设密码（管理员）",
    responses={404: {"description": "没有这个账号"}, 409: {"description": "会导致没有可用的管理员"}},
)
async def change_account(
    username: Username, change: AccountChange, settings: SettingsDep, admin: AdminDep
) -> AccountView:
    if username == admin.username and (change.active is False or (change.role is not None and change.role != "admin")):
        raise Forbidden("不能停用自己的账号或取消自己的管理员角色，请让另一位管理员操作。", code="self_change")

    try:
        account = await run_in_threadpool(
            lambda: staff.update_user(
                settings,
                username,
                display_name=change.display_name,
                role=change.role,
                active=change.active,
                password=change.password,
            )
        )
    except staff.StaffError as exc:
        raise translated(exc) from exc
    log.info("staff account %s changed by %s: %s", username, admin.username, change.model_dump(exclude={"password"},
             exclude_none=True) | ({"password": "reset"} if change.password is not None else {}))  # fmt: skip
    return account_view(account)
