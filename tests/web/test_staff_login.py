"""The staff login page and the admin accounts page in a real browser (Debian's chromium via Playwright) against the real
gateway: signing in lands on ?next= (same-site paths only), a wrong password shows the Chinese error in the form, signed-out
visitors are sent to the login page, agents are kept out of admin pages, and an admin creates an agent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant import staff
from tests.web.conftest import Pages, StaffGateway, axe, sign_in, staff_gateway

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaffGateway]:
    """The gateway with an admin (boss) and an agent (wang.wu)."""
    with staff_gateway(tmp_path_factory.mktemp("staff-web"), admin="boss", agent="wang.wu") as served:
        yield served


def test_signing_in_lands_on_next(pages: Pages, site: StaffGateway) -> None:
    page = pages.open(site, "/staff/login.html?next=/admin/users.html%3Fx%3D1")
    assert page.title() == "工作人员登录 · 智办"
    assert page.evaluate("document.activeElement.id") == "username"
    sign_in(page, site, site.admin, lands_on="/admin/users.html?x=1")
    page.locator("#users-body tr[data-username='boss']").wait_for()
    assert page.locator("#staff-user").inner_text() == f"{site.admin.display_name}（管理员）"
    cookie = next(c for c in page.context.cookies() if c["name"] == "zhiban_staff")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # page scripts cannot read the session


@pytest.mark.parametrize(
    "target",
    ["//evil.example/steal", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_next_never_leaves_the_site(pages: Pages, site: StaffGateway, target: str) -> None:
    page = pages.open(site, "/staff/login.html?next=" + target)
    sign_in(page, site, site.agent, lands_on="/staff/")  # the console, whatever it shows


def test_a_wrong_password_shows_the_chinese_error_in_the_form(pages: Pages, site: StaffGateway) -> None:
    page = pages.open(site, "/staff/login.html")
    sign_in(page, site, site.agent, password="Not-the-password-1")
    error = page.locator("#login-error")
    error.wait_for()
    assert error.inner_text() == "用户名或密码不正确。" and error.get_attribute("role") == "alert"
    assert page.url.endswith("/staff/login.html")
    assert page.get_by_label("用户名").input_value() == site.agent.username  # the name stays, to try again
    assert page.get_by_label("密码").get_attribute("aria-invalid") == "true"
    page.get_by_label("用户名").fill("")
    page.get_by_role("button", name="登录").click()
    assert page.locator("#login-error").inner_text() == "请输入用户名。"


def test_signed_out_visitors_are_sent_to_the_login_page(pages: Pages, site: StaffGateway) -> None:
    page = pages.open(site, "/admin/users.html")
    page.wait_for_url(f"{site.url}/staff/login.html?next=%2Fadmin%2Fusers.html")
    sign_in(page, site, site.admin, lands_on="/admin/users.html")


def test_agents_see_no_admin_page(pages: Pages, site: StaffGateway) -> None:
    page = pages.open(site, "/staff/login.html?next=/admin/users.html")
    sign_in(page, site, site.agent, lands_on="/admin/users.html")
    notice = page.get_by_role("alert").filter(has_text="您的账号没有此页面的权限。")
    notice.wait_for()
    assert page.locator("main").inner_text() == "您的账号没有此页面的权限。"  # nothing else of the page is left
    assert page.locator("#create-form").count() == 0


def test_an_admin_creates_an_agent_and_disables_it(pages: Pages, site: StaffGateway) -> None:
    page = pages.open(site, "/staff/login.html?next=/admin/users.html")
    sign_in(page, site, site.admin)
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


def test_signing_out(pages: Pages, site: StaffGateway) -> None:
    page = pages.open(site, "/staff/login.html?next=/admin/users.html")
    sign_in(page, site, site.admin)
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{site.url}/staff/login.html")
    page.goto("/admin/users.html")
    page.wait_for_url(f"{site.url}/staff/login.html?next=%2Fadmin%2Fusers.html")


def test_axe_finds_no_serious_violations(pages: Pages, site: StaffGateway, axe_source: str) -> None:
    page = pages.open(site, "/staff/login.html?next=/admin/users.html", bypass_csp=True)
    assert axe(page, axe_source) == []
    sign_in(page, site, site.agent, password="Not-the-password-1")
    page.locator("#login-error").wait_for()
    assert axe(page, axe_source) == []  # with the error shown
    sign_in(page, site, site.admin)
    page.locator("#users-body tr[data-username='boss']").wait_for()
    page.locator("#users-body tr[data-username='boss']").get_by_role("button", name="重设密码").click()
    assert axe(page, axe_source) == []
