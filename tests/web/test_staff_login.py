"""The staff login page and the admin accounts page in a real browser (Debian's chromium via Playwright) against the real
gateway: signing in lands on ?next= (same-site paths only), a wrong password shows the Chinese error in the form, signed-out
visitors are sent to the login page, agents are kept out of admin pages, and an admin creates an agent."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from assistant import staff
from assistant.settings import Settings
from channels.main import create_app
from tests.channels.fake_rasa import FakeRasa
from tests.utils.net import free_ports
from tests.utils.staff import StaffLogin, make_staff
from tests.web.test_page import axe

pytestmark = pytest.mark.slow


@dataclass
class StaffSite:
    url: str
    settings: Settings
    admin: StaffLogin
    agent: StaffLogin


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaffSite]:
    """The gateway served over HTTP with an admin and an agent account (its store is known, unlike the chat gateway's)."""
    ports = free_ports(3)
    settings = Settings(
        env="test",
        data_dir=tmp_path_factory.mktemp("staff-web") / "var",
        gateway_port=ports[0],
        rasa_port=ports[1],
        actions_port=ports[2],
        rasa_timeout=2.0,
    )
    admin = make_staff(settings, "admin", username="boss")
    agent = make_staff(settings, "agent", username="wang.wu")
    app = create_app(settings, rasa_transport=FakeRasa().transport())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=ports[0], log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="staff-gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the gateway did not start")
        time.sleep(0.05)
    try:
        yield StaffSite(f"http://127.0.0.1:{ports[0]}", settings, admin, agent)
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def open_page(browser: Any, site: StaffSite) -> Iterator[Any]:
    """Opens a path in a fresh browser context (no cookie); script errors and policy violations fail the test."""
    contexts: list[Any] = []
    problems: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and "status of" not in message.text:  # refused API calls are tested on purpose
            problems.append(message.text)

    def opener(path: str, bypass_csp: bool = False) -> Any:
        # bypass_csp only to inject axe-core; the pages themselves run under their policy
        context = browser.new_context(locale="zh-CN", base_url=site.url, bypass_csp=bypass_csp)
        context.set_default_timeout(10_000)
        context.route(
            "**/*", lambda route: route.continue_() if route.request.url.startswith(site.url) else route.abort()
        )
        contexts.append(context)
        page = context.new_page()
        page.on("console", console)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(path)
        return page

    yield opener
    for context in contexts:
        context.close()
    assert problems == []


def sign_in(page: Any, login: StaffLogin, password: str | None = None) -> None:
    page.get_by_label("用户名").fill(login.username)
    page.get_by_label("密码").fill(password or login.password)
    page.get_by_role("button", name="登录").click()


def test_signing_in_lands_on_next(open_page: Any, site: StaffSite) -> None:
    page = open_page("/staff/login.html?next=/admin/users.html%3Fx%3D1")
    assert page.title() == "工作人员登录 · 智办"
    assert page.evaluate("document.activeElement.id") == "username"
    sign_in(page, site.admin)
    page.wait_for_url(f"{site.url}/admin/users.html?x=1")
    page.locator("#users-body tr[data-username='boss']").wait_for()
    assert page.locator("#staff-user").inner_text() == f"{site.admin.display_name}（管理员）"
    cookie = next(c for c in page.context.cookies() if c["name"] == "zhiban_staff")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # page scripts cannot read the session


@pytest.mark.parametrize(
    "target",
    ["//evil.example/steal", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_next_never_leaves_the_site(open_page: Any, site: StaffSite, target: str) -> None:
    page = open_page("/staff/login.html?next=" + target)
    sign_in(page, site.agent)
    page.wait_for_url(f"{site.url}/staff/")  # the console, whatever it shows


def test_a_wrong_password_shows_the_chinese_error_in_the_form(open_page: Any, site: StaffSite) -> None:
    page = open_page("/staff/login.html")
    sign_in(page, site.agent, password="Not-the-password-1")
    error = page.locator("#login-error")
    error.wait_for()
    assert error.inner_text() == "用户名或密码不正确。" and error.get_attribute("role") == "alert"
    assert page.url.endswith("/staff/login.html")
    assert page.get_by_label("用户名").input_value() == site.agent.username  # the name stays, to try again
    assert page.get_by_label("密码").get_attribute("aria-invalid") == "true"
    page.get_by_label("用户名").fill("")
    page.get_by_role("button", name="登录").click()
    assert page.locator("#login-error").inner_text() == "请输入用户名。"


def test_signed_out_visitors_are_sent_to_the_login_page(open_page: Any, site: StaffSite) -> None:
    page = open_page("/admin/users.html")
    page.wait_for_url(f"{site.url}/staff/login.html?next=%2Fadmin%2Fusers.html")
    sign_in(page, site.admin)
    page.wait_for_url(f"{site.url}/admin/users.html")


def test_agents_see_no_admin_page(open_page: Any, site: StaffSite) -> None:
    page = open_page("/staff/login.html?next=/admin/users.html")
    sign_in(page, site.agent)
    page.wait_for_url(f"{site.url}/admin/users.html")
    notice = page.get_by_role("alert").filter(has_text="您的账号没有此页面的权限。")
    notice.wait_for()
    assert page.locator("main").inner_text() == "您的账号没有此页面的权限。"  # nothing else of the page is left
    assert page.locator("#create-form").count() == 0


def test_an_admin_creates_an_agent_and_disables_it(open_page: Any, site: StaffSite) -> None:
    page = open_page("/staff/login.html?next=/admin/users.html")
    sign_in(page, site.admin)
    page.locator("#users-body tr[data-username='boss']").wait_for()
    # a weak password first: the Chinese reason is shown and what was typed stays
    page.get_by_label("用户名", exact=True).fill("zhao.liu")
    page.get_by_label("显示名（姓名）").fill("赵六")
    page.get_by_label("初始密码").fill("short")
    page.get_by_role("button", name="创建账号").click()
    page.locator("#create-error").wait_for()
    assert "至少需要10个字符" in page.locator("#create-error").inner_text()
    assert page.get_by_label("用户名", exact=True).input_value() == "zhao.liu"
    assert page.get_by_label("初始密码").get_attribute("aria-invalid") == "true"

    page.get_by_label("初始密码").fill("Zhao-liu-2026")
    page.get_by_role("button", name="创建账号").click()
    row = page.locator("#users-body tr[data-username='zhao.liu']")
    row.wait_for()
    assert page.locator("#notice").inner_text() == "已创建工作人员账号 zhao.liu（赵六）。"
    assert page.locator("#create-error").is_hidden()
    assert staff.authenticate(site.settings, "zhao.liu", "Zhao-liu-2026").role == "agent"

    row.get_by_role("button", name="停用").click()
    page.locator("#notice", has_text="已停用 zhao.liu").wait_for()
    assert "已停用" in page.locator("#users-body tr[data-username='zhao.liu']").inner_text()
    assert not staff.get_user(site.settings, "zhao.liu").active
    # the admin's own row offers no way to lock themselves out
    own = page.locator("#users-body tr[data-username='boss']")
    assert own.get_by_role("button", name="停用").count() == 0 and own.locator("select").is_disabled()


def test_signing_out(open_page: Any, site: StaffSite) -> None:
    page = open_page("/staff/login.html?next=/admin/users.html")
    sign_in(page, site.admin)
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{site.url}/staff/login.html")
    page.goto("/admin/users.html")
    page.wait_for_url(f"{site.url}/staff/login.html?next=%2Fadmin%2Fusers.html")


def test_axe_finds_no_serious_violations(open_page: Any, site: StaffSite, axe_source: str) -> None:
    page = open_page("/staff/login.html?next=/admin/users.html", bypass_csp=True)
    assert axe(page, axe_source) == []
    sign_in(page, site.agent, password="Not-the-password-1")
    page.locator("#login-error").wait_for()
    assert axe(page, axe_source) == []  # with the error shown
    sign_in(page, site.admin)
    page.locator("#users-body tr[data-username='boss']").wait_for()
    page.locator("#users-body tr[data-username='boss']").get_by_role("button", name="重设密码").click()
    assert axe(page, axe_source) == []
