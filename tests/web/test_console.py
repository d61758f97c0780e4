"""The agent-assist console in a real browser (Debian's chromium via Playwright) against the real gateway with a small
knowledge index and a fake Rasa holding the handed-over conversation: sign in through the login page, ask about a
caller's words, copy a suggestion (read back from the clipboard), mark it helpful (the row is in the database), open the
handoff queue, see the summary and the masked history, claim and close the ticket, and copy the filled draft 工单."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from assistant import agent_desk as desk
from assistant.store import Ticket
from assistant.workorder import CHINA_TIME
from tests.utils import handoffs
from tests.utils.handoffs import PHONE
from tests.web.conftest import Pages, StaffGateway, axe, staff_gateway

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaffGateway]:
    """The gateway with a small knowledge index (社保卡申领/补换, 高龄津贴, its policy) and an agent (li.agent)."""
    with staff_gateway(tmp_path_factory.mktemp("console"), admin="boss", agent="li.agent", knowledge=True) as served:
        yield served


def handed_over(site: StaffGateway) -> Ticket:
    """The handed-over conversation of tests/utils/handoffs.py, its ticket made 12 minutes ago."""
    return handoffs.handed_over(site.settings, site.rasa, created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=12))


@pytest.fixture
def open_console(pages: Pages, site: StaffGateway) -> Callable[..., Any]:
    """Opens the console as the agent, through the login page, in a context that may use the clipboard."""

    def opener(bypass_csp: bool = False, fake_clock: bool = False) -> Any:
        page = pages.signed_in(
            site,
            site.agent,
            "/staff/",
            width=1280,
            height=900,
            clipboard=True,
            bypass_csp=bypass_csp,
            fake_clock=fake_clock,
            timeout_ms=15_000,
        )
        page.locator("#staff-user").wait_for()
        return page

    return opener


def ask(page: Any, text: str) -> Any:
    page.get_by_label("来电人说的话").fill(text)
    page.get_by_label("来电人说的话").press("Enter")
    page.locator("#suggestions .summary-note").wait_for()
    return page.locator("#suggestions .suggestion")


def clipboard(page: Any) -> str:
    text: str = page.evaluate("navigator.clipboard.readText()")
    return text


def test_the_agent_console_end_to_end(open_console: Any, site: StaffGateway) -> None:
    ticket = handed_over(site)
    page = open_console()
    assert page.title() == "坐席辅助工作台 · 智办"

    # the caller's words → three suggestions with their source and confidence, announced politely
    cards = ask(page, f"社保卡丢了要带什么材料，在哪里办？我电话{PHONE}")
    assert page.locator("#suggestions").get_attribute("aria-live") == "polite"
    assert cards.count() == 3
    assert cards.nth(0).locator("h3").inner_text() == "建议1：社会保障卡补领换领 · 申请材料"
    assert cards.nth(1).locator("h3").inner_text() == "建议2：社会保障卡补领换领 · 办理地点和时间"
    for i in range(3):
        card = cards.nth(i)
        assert card.locator(".source").inner_text().startswith("来源：")
        assert "更新于" in card.locator(".source").inner_text()
        shown = card.locator(".confidence-text").inner_text()
        value = float(card.locator("meter").get_attribute("value"))
        assert shown == f"置信度 {round(value * 100)}%" and 0 <= value <= 1
    assert cards.nth(0).locator(".badge").inner_text() == "把握较大"
    assert page.get_by_label("来电人说的话").input_value() == ""  # asked: the box is ready for the next words
    assert page.locator("#call-log li").all_inner_texts() == ["社保卡丢了要带什么材料，在哪里办？我电话138****5678"]

    # 复制 puts the answer on the clipboard
    first = cards.nth(0)
    first.get_by_role("button", name="复制").click()
    page.wait_for_function("() => document.getElementById('copy-status').textContent.includes('已复制')")
    copied = clipboard(page)
    assert copied.startswith("【社会保障卡补领换领】申请材料：") and "居民身份证" in copied

    # 有帮助 is sent once and stored
    first.get_by_role("button", name="有帮助").click()
    first.locator(".feedback-state", has_text="已反馈：有帮助").wait_for()
    assert first.get_by_role("button", name="有帮助").is_disabled()
    assert first.get_by_role("button", name="没帮助").is_disabled()
    (row,) = desk.feedback(site.settings)
    assert (row.staff, row.item_code, row.section, row.rank, row.helpful) == ("li.agent", "P02", "申请材料", 1, True)
    assert PHONE not in row.query and "138****5678" in row.query

    # the draft 工单 of the call
    assert page.get_by_label("事项").input_value() == "P02 社会保障卡补领换领"
    assert "联系电话：138****5678" in page.get_by_label("关键信息").input_value()
    assert page.get_by_label("来源").input_value() == "12345热线"

    # the queue → the handed-over conversation
    item = page.locator(f".queue-item[data-number='{ticket.number}']")
    item.wait_for()
    assert "12分钟前" in item.inner_text() and "来电人要求转人工" in item.inner_text()
    item.click()
    page.locator("#ticket-title", has_text=ticket.number).wait_for()
    assert page.evaluate("document.activeElement.id") == "ticket-title"
    assert "社保卡丢了怎么补办" in page.locator("#ticket-summary").inner_text()
    turns = page.locator("#history li")
    assert turns.count() == 7
    assert "先挂失，再补领。" in turns.nth(1).inner_text() and "智能助手" in turns.nth(1).inner_text()
    assert "（点击了选项）" in turns.nth(2).inner_text()
    assert "我的电话是138****5678，明天能去办吗" in turns.nth(3).inner_text()
    assert "（已转人工，工单 GD-x）" in turns.nth(6).inner_text()
    assert "2026-11-30 14:00" in turns.nth(0).inner_text()
    assert PHONE not in page.content() and "〔号码#" not in page.content()

    # its draft replaces the call's
    assert "社保卡丢了怎么补办" in page.get_by_label("诉求").input_value()
    facts = page.get_by_label("关键信息").input_value()
    tomorrow = dt.datetime.now(CHINA_TIME).date() + dt.timedelta(days=1)  # the page's draft is made now, in China time
    assert (
        "联系电话：138****5678" in facts
        and f"日期：{tomorrow:%Y-%m-%d}（明天）" in facts
        and "是否已挂失：已挂失" in facts
    )
    assert page.get_by_label("来源").input_value() == "网页智能客服"

    # 接单, then 办结
    page.get_by_role("button", name="接单", exact=True).click()
    page.locator("#ticket-notice", has_text="已接单").wait_for()
    assert (
        desk.find_ticket(site.settings, ticket.number).status,
        desk.find_ticket(site.settings, ticket.number).assignee,
    ) == (
        "claimed",
        "li.agent",
    )
    page.get_by_role("button", name="办结", exact=True).click()  # no resolution yet: refused in Chinese, nothing sent
    assert page.locator("#ticket-error").inner_text() == "请填写办理结果。"
    page.get_by_label("办理结果").fill("已回电告知补领材料和地点")
    page.get_by_role("button", name="办结", exact=True).click()
    page.locator("#ticket-notice", has_text="工单已办结").wait_for()
    closed = desk.find_ticket(site.settings, ticket.number)
    assert (closed.status, closed.resolution) == ("closed", "已回电告知补领材料和地点")
    page.locator("#queue .empty").wait_for()  # nothing waits any more

    # the draft, edited, is copied whole
    page.get_by_label("事项").fill("P02 社会保障卡补领换领（已核实）")
    page.get_by_role("button", name="复制工单").click()
    page.wait_for_function("() => document.getElementById('copy-status').textContent.includes('工单草稿已复制')")
    lines = clipboard(page).splitlines()
    assert lines[0].startswith("诉求：") and lines[1] == "事项：P02 社会保障卡补领换领（已核实）"
    handed_at = desk.aware(ticket.created_at).astimezone(CHINA_TIME)
    assert lines[2].startswith("关键信息：联系电话：138****5678")
    assert lines[3:] == ["来源：网页智能客服", f"时间：{handed_at:%Y-%m-%d %H:%M}"]


def test_errors_keep_the_words_and_nothing_known_is_said_honestly(open_console: Any, site: StaffGateway) -> None:
    page = open_console()
    page.get_by_role("button", name="查询建议答复").click()
    assert page.locator("#ask-error").inner_text() == "请先输入来电人说的话。"
    cards = ask(page, "今天天气怎么样")
    assert cards.count() == 0
    assert "没有把握" in page.locator("#suggestions .summary-note").inner_text()
    page.get_by_label("来电人说的话").fill("😀😀")
    page.get_by_label("来电人说的话").press("Enter")
    page.locator("#ask-error", has_text="请输入来电人所说的内容").wait_for()
    assert page.get_by_label("来电人说的话").input_value() == "😀😀"  # kept to correct


def test_the_console_is_keyboard_usable_and_passes_axe(open_console: Any, site: StaffGateway, axe_source: str) -> None:
    handed_over(site)
    page = open_console(bypass_csp=True)
    page.get_by_label("来电人说的话").focus()
    page.keyboard.type("社保卡丢了怎么补办")
    page.keyboard.press("Enter")
    page.locator("#suggestions .suggestion").first.wait_for()
    page.keyboard.press("Tab")  # from the notes to the ask button, all real buttons
    assert page.evaluate("document.activeElement.id") == "ask"
    page.locator(".queue-item").first.focus()
    page.keyboard.press("Enter")
    page.locator("#history li").first.wait_for()
    assert axe(page, axe_source) == []


def test_the_queue_refreshes_itself_every_15_seconds(open_console: Any, site: StaffGateway) -> None:
    page = open_console(fake_clock=True)
    page.locator("#queue li").first.wait_for()
    waiting = page.locator(".queue-item").count()
    ticket = handed_over(site)
    page.clock.fast_forward(14_000)
    page.wait_for_timeout(300)
    assert page.locator(".queue-item").count() == waiting  # not yet
    page.clock.fast_forward(1_500)
    page.locator(f".queue-item[data-number='{ticket.number}']").wait_for()
