"""Staff sign-in and access control of the gateway.

The key test enumerates every staff route of the app — every path under /api/v1/staff/ (but the login), /api/v1/admin/ and
/api/v1/agent/, and every route whose dependencies include the staff sign-in — so routes added later are covered without
touching this file, and calls each one anonymously, with made-up credentials, with expired, revoked and disabled sessions
(always 401) and, for admin routes, as an agent (403).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from assistant import staff
from assistant.settings import Settings
from assistant.store import now
from channels.auth import COOKIE_NAME, current_staff, require_admin
from channels.main import create_app
from tests.channels.fake_rasa import FakeRasa
from tests.utils.staff import StaffLogin, fast_hashing, make_staff

STAFF_PREFIXES = ("/api/v1/staff/", "/api/v1/admin/", "/api/v1/agent/")
PUBLIC_STAFF_ROUTES = {("POST", "/api/v1/staff/login")}


@pytest.fixture
def app(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    fast_hashing(monkeypatch)
    return create_app(settings, rasa_transport=FakeRasa().transport())


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def admin(settings: Settings, app: FastAPI) -> StaffLogin:
    return make_staff(settings, "admin", username="boss")


@pytest.fixture
def agent(settings: Settings, app: FastAPI) -> StaffLogin:
    return make_staff(settings, "agent", username="wang.wu")


# --- the routes ------------------------------------------------------------------------------------------------------
def calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    """Every dependency function of ``dependant``, however deeply nested."""
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from calls(sub)


def api_routes(app: FastAPI) -> Iterator[tuple[str, set[str], set[Callable[..., Any]]]]:
    """(path, methods, dependency functions) of every HTTP route, also those of included routers."""
    for route in iter_route_contexts(app.routes):
        dependant: Dependant | None = getattr(route, "dependant", None)
        if dependant is not None and route.path and route.methods:
            yield route.path, set(route.methods), set(calls(dependant))


def staff_routes(app: FastAPI) -> list[tuple[str, str, bool]]:
    """(method, path, admin only) of every route that must refuse anonymous callers."""
    found = []
    for path, methods, deps in api_routes(app):
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            if (method, path) in PUBLIC_STAFF_ROUTES:
                continue
            if path.startswith(STAFF_PREFIXES) or current_staff in deps:
                found.append((method, path, require_admin in deps))
    found.sort(key=lambda route: route[1] == "/api/v1/staff/logout")  # last: it ends the session the others use
    return found


def concrete(path: str) -> str:
    """The path with a plausible value in every parameter."""
    return re.sub(r"\{[^}]+\}", "x-1", path)


def call_all(client: TestClient, routes: list[tuple[str, str, bool]], **kwargs: Any) -> dict[str, int]:
    statuses = {}
    for method, path, _ in routes:
        response = client.request(method, concrete(path), **kwargs)
        statuses[f"{method} {path}"] = response.status_code
        if response.status_code in (401, 403):
            error = response.json()["error"]
            assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error
    return statuses


def test_the_enumeration_finds_the_staff_routes(app: FastAPI) -> None:
    routes = {(method, path): admin_only for method, path, admin_only in staff_routes(app)}
    assert routes[("GET", "/api/v1/staff/me")] is False
    assert routes[("POST", "/api/v1/staff/logout")] is False
    assert routes[("GET", "/api/v1/staff/applications/{receipt_no}")] is False
    assert routes[("POST", "/api/v1/staff/applications/{receipt_no}/status")] is False
    assert routes[("GET", "/api/v1/admin/users")] is True
    assert routes[("POST", "/api/v1/admin/users/{username}")] is True
    # a path that looks like a staff route must use the sign-in; an admin path must also require an admin
    for path, methods, deps in api_routes(app):
        if path.startswith(STAFF_PREFIXES) and not {(m, path) for m in methods} <= PUBLIC_STAFF_ROUTES:
            assert current_staff in deps, f"{path} does not check who is signed in"
        if path.startswith("/api/v1/admin/"):
            assert require_admin in deps, f"{path} is an admin route that agents could use"


def test_every_staff_route_refuses_anonymous_callers(client: TestClient, app: FastAPI) -> None:
    routes = staff_routes(app)
    statuses = call_all(client, routes)
    assert statuses == dict.fromkeys(statuses, 401)
    assert statuses == call_all(client, routes, json={})  # with a body too: the sign-in is checked first


@pytest.mark.parametrize(
    "credentials",
    [
        {"headers": {"Authorization": "Bearer made-up-token-0123456789abcdefghijklmnopq"}},
        {"headers": {"Authorization": "Bearer "}},  # empty bearer
        {"headers": {"Authorization": "Basic Ym9zczpwYXNzd29yZA=="}},  # not a bearer token
        {"cookies": {COOKIE_NAME: "made-up-token-0123456789abcdefghijklmnopq"}},
    ],
    ids=["bearer", "empty-bearer", "basic", "cookie"],
)
def test_every_staff_route_refuses_made_up_credentials(
    client: TestClient, app: FastAPI, admin: StaffLogin, credentials: dict[str, Any]
) -> None:
    cookies = credentials.pop("cookies", None)
    if cookies:
        client.cookies.update(cookies)
    statuses = call_all(client, staff_routes(app), **credentials)
    assert statuses == dict.fromkeys(statuses, 401)


@pytest.mark.parametrize("how", ["expired", "revoked", "disabled", "password reset"])
@pytest.mark.parametrize("via", ["bearer", "cookie"])
def test_every_staff_route_refuses_ended_sessions(
    client: TestClient,
    app: FastAPI,
    settings: Settings,
    admin: StaffLogin,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    via: str,
) -> None:
    victim = make_staff(settings, "admin", username="li.si")
    if how == "expired":
        later = now() + dt.timedelta(hours=settings.staff_session_hours, seconds=1)
        monkeypatch.setattr(staff, "now", lambda: later)
    elif how == "revoked":
        staff.revoke_session(settings, victim.token)
    elif how == "disabled":
        staff.deactivate(settings, victim.username)
    else:
        staff.set_password(settings, victim.username, "Another-password-3")
    if via == "cookie":
        client.cookies.update(victim.cookies)
        statuses = call_all(client, staff_routes(app))
    else:
        statuses = call_all(client, staff_routes(app), headers=victim.headers)
    assert statuses == dict.fromkeys(statuses, 401)


@pytest.mark.parametrize("via", ["bearer", "cookie"])
def test_agents_are_refused_on_every_admin_route(client: TestClient, app: FastAPI, agent: StaffLogin, via: str) -> None:
    routes = staff_routes(app)
    admin_routes = [r for r in routes if r[2]]
    assert admin_routes
    if via == "cookie":
        client.cookies.update(agent.cookies)
        statuses = call_all(client, admin_routes)
        agent_statuses = call_all(client, [r for r in routes if not r[2]])
    else:
        statuses = call_all(client, admin_routes, headers=agent.headers)
        agent_statuses = call_all(client, [r for r in routes if not r[2]], headers=agent.headers)
    assert statuses == dict.fromkeys(statuses, 403)
    # the same agent gets past the sign-in on every other staff route (what it then answers is each route's business)
    assert not [route for route, status in agent_statuses.items() if status in (401, 403)]


def test_an_admin_gets_past_every_staff_route_that_reads(client: TestClient, app: FastAPI, admin: StaffLogin) -> None:
    # reads only: a POST without a body may already do something (a knowledge rebuild), which is not this test's business
    statuses = call_all(client, [r for r in staff_routes(app) if r[0] == "GET"], headers=admin.headers)
    assert not [route for route, status in statuses.items() if status in (401, 403)], statuses


# --- login, logout, me -----------------------------------------------------------------------------------------------
def test_login_sets_a_strict_httponly_cookie_and_returns_a_token(client: TestClient, agent: StaffLogin) -> None:
    response = client.post("/api/v1/staff/login", json={"username": "Wang.Wu ", "password": agent.password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"] == {"username": "wang.wu", "display_name": agent.display_name, "role": "agent"}
    assert dt.datetime.fromisoformat(body["expires_at"]) > dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}={body['token']};")
    for attribute in ("HttpOnly", "Path=/", "SameSite=strict"):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain http in development and tests
    assert client.get("/api/v1/staff/me").json()["username"] == "wang.wu"  # by the cookie
    client.cookies.clear()
    me = client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json() == body["user"]


def test_the_cookie_is_secure_in_production(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    fast_hashing(monkeypatch)
    production = settings.model_copy(update={"env": "production"})
    login = make_staff(production, "agent")
    with TestClient(create_app(production, rasa_transport=FakeRasa().transport())) as client:
        response = client.post("/api/v1/staff/login", json={"username": login.username, "password": login.password})
    assert response.status_code == 200 and "Secure" in response.headers["set-cookie"]


def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: TestClient, agent: StaffLogin, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="channels.routers.staff"):
        wrong = client.post("/api/v1/staff/login", json={"username": "wang.wu", "password": "Not-the-password-1"})
        unknown = client.post("/api/v1/staff/login", json={"username": "nobody", "password": "Not-the-password-1"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == {"code": "login_failed", "message": "用户名或密码不正确。", "detail": []}
    assert "set-cookie" not in wrong.headers
    logged = caplog.text
    assert "wang.wu" in logged and "nobody" in logged and "Not-the-password-1" not in logged


def test_repeated_wrong_passwords_lock_the_account(client: TestClient, agent: StaffLogin) -> None:
    for _ in range(staff.MAX_FAILED_LOGINS - 1):
        assert client.post("/api/v1/staff/login", json={"username": "wang.wu", "password": "x"}).status_code == 401
    locked = client.post("/api/v1/staff/login", json={"username": "wang.wu", "password": "x"})
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "account_locked"
    right = client.post("/api/v1/staff/login", json={"username": "wang.wu", "password": agent.password})
    assert right.status_code == 429 and "15分钟" in right.json()["error"]["message"]


@pytest.mark.parametrize(
    "payload",
    [{}, {"username": "wang.wu"}, {"username": "", "password": "x"}, {"username": "wang.wu", "password": "x" * 300}],
)
def test_malformed_logins_are_422_in_chinese(client: TestClient, payload: dict[str, str]) -> None:
    response = client.post("/api/v1/staff/login", json=payload)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_logout_ends_the_session_and_clears_the_cookie(client: TestClient, agent: StaffLogin) -> None:
    client.post("/api/v1/staff/login", json={"username": agent.username, "password": agent.password})
    response = client.post("/api/v1/staff/logout")
    assert response.status_code == 204
    assert f'{COOKIE_NAME}=""' in response.headers["set-cookie"] and "Max-Age=0" in response.headers["set-cookie"]
    assert client.get("/api/v1/staff/me").status_code == 401
    # the bearer session from make_staff is a different session and stays open
    assert client.get("/api/v1/staff/me", headers=agent.headers).status_code == 200
    assert client.post("/api/v1/staff/logout", headers=agent.headers).status_code == 204
    assert client.get("/api/v1/staff/me", headers=agent.headers).status_code == 401


# --- CSRF: Origin of cookie-authenticated changes ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),  # not sent by a browser page (scripts, curl)
        ("http://testserver", True),  # this gateway's own pages
        ("https://zwfw.example.gov.cn", True),  # listed in ZHIBAN_CORS_ORIGINS
        ("https://evil.example", False),
        ("http://testserver.evil.example", False),
        ("null", False),  # sandboxed frames and file:// pages
    ],
)
def test_cookie_changes_need_a_trusted_origin(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, origin: str | None, allowed: bool
) -> None:
    fast_hashing(monkeypatch)
    configured = settings.model_copy(update={"cors_origins": "https://zwfw.example.gov.cn"})
    admin = make_staff(configured, "admin", username="boss")
    headers = {"Origin": origin} if origin else {}
    payload = {"username": "li.si", "password": "Li-si-password-1", "role": "agent"}
    with TestClient(create_app(configured, rasa_transport=FakeRasa().transport())) as client:
        client.cookies.update(admin.cookies)
        response = client.post("/api/v1/admin/users", json=payload, headers=headers)
        assert client.get("/api/v1/admin/users", headers=headers).status_code == 200  # reading is not a change
    if allowed:
        assert response.status_code == 201, response.text
    else:
        assert response.status_code == 403 and response.json()["error"]["code"] == "bad_origin"
        assert [a.username for a in staff.list_users(configured)] == ["boss"]  # nothing was created


def test_bearer_tokens_need_no_origin_check(client: TestClient, admin: StaffLogin) -> None:
    payload = {"username": "li.si", "password": "Li-si-password-1"}
    headers = admin.headers | {"Origin": "https://evil.example"}
    assert client.post("/api/v1/admin/users", json=payload, headers=headers).status_code == 201


def test_a_foreign_page_cannot_sign_the_browser_in(client: TestClient, agent: StaffLogin) -> None:
    response = client.post(
        "/api/v1/staff/login",
        json={"username": agent.username, "password": agent.password},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403 and "set-cookie" not in response.headers


# --- admin account management ----------------------------------------------------------------------------------------
def test_an_admin_manages_accounts(client: TestClient, admin: StaffLogin) -> None:
    created = client.post(
        "/api/v1/admin/users",
        json={"username": "li.si", "display_name": "李四", "password": "Li-si-password-1"},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json() | {"created_at": None} == {
        "username": "li.si", "display_name": "李四", "role": "agent", "active": True,
        "created_at": None, "last_login_at": None, "locked_until": None,
    }  # fmt: skip
    login = client.post("/api/v1/staff/login", json={"username": "li.si", "password": "Li-si-password-1"}).json()
    li = {"Authorization": f"Bearer {login['token']}"}
    client.cookies.clear()
    url = "/api/v1/admin/users/li.si"
    assert (
        client.post(url, json={"role": "admin", "display_name": "李四（组长）"}, headers=admin.headers).status_code
        == 200
    )
    assert client.get("/api/v1/staff/me", headers=li).json()["role"] == "admin"
    assert client.post(url, json={"active": False}, headers=admin.headers).json()["active"] is False
    assert client.get("/api/v1/staff/me", headers=li).status_code == 401
    assert (
        client.post(url, json={"active": True, "password": "New-li-password-2"}, headers=admin.headers).status_code
        == 200
    )
    relogin = client.post("/api/v1/staff/login", json={"username": "li.si", "password": "New-li-password-2"})
    assert relogin.status_code == 200
    listed = client.get("/api/v1/admin/users", headers=admin.headers).json()
    assert [(a["username"], a["role"], a["active"]) for a in listed] == [
        ("boss", "admin", True),
        ("li.si", "admin", True),
    ]
    assert "password" not in str(listed) and "argon2" not in str(listed)


@pytest.mark.parametrize(
    ("payload", "status", "code", "words"),
    [
        ({"username": "boss", "password": "Li-si-password-1"}, 409, "account_exists", "已经有人使用"),
        ({"username": "LiSi", "password": "Li-si-password-1"}, 422, "invalid_request", "用户名"),
        ({"username": "li.si", "password": "short"}, 422, "invalid_request", "至少需要10个字符"),
        ({"username": "li.si", "password": "Li-si-password-1", "role": "root"}, 422, "invalid_request", "角色"),
        ({"username": "li.si"}, 422, "invalid_request", "缺少必填项"),
    ],
)
def test_account_creation_refusals(
    client: TestClient, admin: StaffLogin, payload: dict[str, str], status: int, code: str, words: str
) -> None:
    response = client.post("/api/v1/admin/users", json=payload, headers=admin.headers)
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert words in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"active": False}, 403, "self_change"),  # an admin cannot lock themselves out
        ({"role": "agent"}, 403, "self_change"),
        ({"display_name": "张主任"}, 200, None),
    ],
)
def test_admins_cannot_disable_or_demote_themselves(
    client: TestClient, admin: StaffLogin, change: dict[str, Any], status: int, code: str | None
) -> None:
    response = client.post("/api/v1/admin/users/boss", json=change, headers=admin.headers)
    assert response.status_code == status
    if code:
        assert response.json()["error"]["code"] == code


def test_changing_an_unknown_account_is_404(client: TestClient, admin: StaffLogin) -> None:
    response = client.post("/api/v1/admin/users/nobody", json={"active": False}, headers=admin.headers)
    assert response.status_code == 404 and response.json()["error"]["message"] == "没有这个账号。"


# --- the staff and admin pages ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "media"),
    [
        ("/staff/login.html", "text/html"),
        ("/staff/staff.js", "text/javascript"),
        ("/staff/staff.css", "text/css"),
        ("/admin/users.html", "text/html"),
        ("/admin/users.js", "text/javascript"),
    ],
)
def test_pages_are_served_with_the_page_policy(client: TestClient, path: str, media: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith(media)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/staff/..%2Fchat.js",  # the chat page's script, one folder up
        "/staff/%2e%2e%2findex.html",
        "/admin/..%2F..%2Fmain.py",
        "/staff/.hidden.js",
        "/staff/login.html%00.js",
        "/staff/nothing.html",
        "/admin/users.py",
    ],
)
def test_nothing_outside_the_page_folders_is_served(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404 and "text/html" not in response.headers["content-type"]


def test_page_markup_has_no_inline_script_or_style(client: TestClient) -> None:
    for path in ("/staff/login.html", "/admin/users.html"):
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "<style" not in html and " style=" not in html
        assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers either
