"""The agent-assist console in a real browser (Debian's chromium via Playwright) against the real gateway with a small
knowledge index and a fake Rasa holding the handed-over conversation: sign in through the login page, ask about a
caller's words, copy a suggestion (read back from the clipboard), mark it helpful (the row is in the database), open the
handoff queue, see the summary and the masked history, claim and close the ticket, and copy the filled draft 工单."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from assistant import agent_desk as desk
from assistant.settings import Settings
from assistant.store import Ticket, add_ticket
from assistant.vault import redact
from assistant.workorder import CHINA_TIME
from channels.main import create_app
from knowledge.service import ensure_index, reset_searchers
from tests.channels.fake_rasa import FakeRasa
from tests.utils.knowledge import copy_knowledge_base
from tests.utils.net import free_ports
from tests.utils.staff import StaffLogin, make_staff
from tests.web.test_page import axe

pytestmark = pytest.mark.slow

PHONE = "13812345678"
CONVERSATION = "c0ffee" + "0" * 26
STARTED = dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC).timestamp()  # 14:00 in China


@dataclass
class Desk:
    url: str
    settings: Settings
    rasa: FakeRasa
    agent: StaffLogin


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """The gateway served over HTTP with a small knowledge index (社保卡申领/补换, 高龄津贴, its policy) and an agent."""
    root = tmp_path_factory.mktemp("console")
    ports = free_ports(3)
    settings = Settings(
        env="test",
        data_dir=root / "var",
        kb_dir=copy_knowledge_base(root / "kb"),
        gateway_port=ports[0],
        rasa_port=ports[1],
        actions_port=ports[2],
        rasa_timeout=2.0,
    )
    ensure_index(settings)
    agent = make_staff(settings, "agent", username="li.agent")
    rasa = FakeRasa()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, rasa_transport=rasa.transport()), host="127.0.0.1", port=ports[0],
                       log_level="warning", lifespan="on")
    )  # fmt: skip
    thread = threading.Thread(target=server.run, name="console-gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the gateway did not start")
        time.sleep(0.05)
    try:
        yield Desk(f"http://127.0.0.1:{ports[0]}", settings, rasa, agent)
    finally:
        server.should_exit = True
        thread.join(10)
        reset_searchers()


def handed_over(site: Desk) -> Ticket:
    """A ticket as actions/handoff.py makes it, its conversation in the fake Rasa (the phone number vaulted by the gateway)."""
    said = redact(site.settings, CONVERSATION, f"我的电话是{PHONE}，明天能去办吗")
    site.rasa.events[CONVERSATION] = [
        {"event": "user", "text": "社保卡丢了怎么补办", "timestamp": STARTED + 1, "parse_data": {}},
        {
            "event": "bot",
            "text": None,
            "timestamp": STARTED + 2,
            "data": {
                "custom": {"type": "answer", "title": "【社会保障卡补领换领】办理流程", "text": "先挂失，再补领。"}
            },
        },
        {"event": "user", "text": said, "timestamp": STARTED + 3, "parse_data": {}},
        {"event": "user", "text": "转人工", "timestamp": STARTED + 4, "parse_data": {}},
        {"event": "bot", "text": "好的，正在为您转接人工服务。", "timestamp": STARTED + 5},
    ]
    return add_ticket(
        site.settings,
        kind="handoff",
        reason="requested",
        conversation_id=CONVERSATION,
        item_code="P02",
        item_name="社会保障卡补领换领",
        summary="事项：社会保障卡补领换领\n诉求：社保卡丢了怎么补办；我的电话是138****5678，明天能去办吗；转人工",
        questions=["社保卡丢了怎么补办", "我的电话是138****5678，明天能去办吗", "转人工"],
        facts={},
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=12),
    )


@pytest.fixture
def open_console(browser: Any, site: Desk) -> Iterator[Any]:
    """Opens the console in a fresh context that may use the clipboard; script errors and refused loads fail the test."""
    contexts: list[Any] = []
    problems: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and "status of" not in message.text:  # refused API calls are tested on purpose
            problems.append(message.text)

    def opener(bypass_csp: bool = False, fake_clock: bool = False) -> Any:
        context = browser.new_context(
            locale="zh-CN",
            base_url=site.url,
            viewport={"width": 1280, "height": 900},
            permissions=["clipboard-read", "clipboard-write"],
            bypass_csp=bypass_csp,  # only to inject axe-core
        )
        context.set_default_timeout(15_000)
        context.route(
            "**/*", lambda route: route.continue_() if route.request.url.startswith(site.url) else route.abort()
        )
        contexts.append(context)
        if fake_clock:
            context.clock.install()  # timers run as usual until the test moves the clock on
        page = context.new_page()
        page.on("console", console)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto("/staff/")
        page.wait_for_url(f"{site.url}/staff/login.html?next=%2Fstaff%2F")  # signed out: the login page first
        page.get_by_label("用户名").fill(site.agent.username)
        page.get_by_label("密码").fill(site.agent.password)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{site.url}/staff/")
        page.locator("#staff-user").wait_for()
        return page

    yield opener
    for context in contexts:
        context.close()
    assert problems == []


def ask(page: Any, text: str) -> Any:
    page.get_by_label("来电人说的话").fill(text)
    page.get_by_label("来电人说的话").press("Enter")
    page.locator("#suggestions .summary-note").wait_for()
    return page.locator("#suggestions .suggestion")


def clipboard(page: Any) -> str:
    text: str = page.evaluate("navigator.clipboard.readText()")
    return text


def test_the_agent_console_end_to_end(open_console: Any, site: Desk) -> None:
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
    assert turns.count() == 5
    assert "先挂失，再补领。" in turns.nth(1).inner_text() and "智能助手" in turns.nth(1).inner_text()
    assert "我的电话是138****5678，明天能去办吗" in turns.nth(2).inner_text()
    assert "2026-11-30 14:00" in turns.nth(0).inner_text()
    assert PHONE not in page.content() and "〔号码#" not in page.content()

    # its draft replaces the call's
    assert "社保卡丢了怎么补办" in page.get_by_label("诉求").input_value()
    facts = page.get_by_label("关键信息").input_value()
    assert "联系电话：138****5678" in facts and "日期：2026-12-01（明天）" in facts
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


def test_errors_keep_the_words_and_nothing_known_is_said_honestly(open_console: Any, site: Desk) -> None:
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


def test_the_console_is_keyboard_usable_and_passes_axe(open_console: Any, site: Desk, axe_source: str) -> None:
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


def test_the_queue_refreshes_itself_every_15_seconds(open_console: Any, site: Desk) -> None:
    page = open_console(fake_clock=True)
    page.locator("#queue li").first.wait_for()
    waiting = page.locator(".queue-item").count()
    ticket = handed_over(site)
    page.clock.fast_forward(14_000)
    page.wait_for_timeout(300)
    assert page.locator(".queue-item").count() == waiting  # not yet
    page.clock.fast_forward(1_500)
    page.locator(f".queue-item[data-number='{ticket.number}']").wait_for()
