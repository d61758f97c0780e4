"""好差评 in a real browser: on the H5 page the inline panel offers itself at the end of a conversation, works by keyboard,
keeps 长辈版's sizes and passes axe-core; on the admin page 差评回访 an admin closes a follow-up with its result."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from assistant import ratings
from assistant.settings import Settings
from tests.channels.fake_rasa import FakeRasa
from tests.web.conftest import Pages, StaffGateway, axe, scripted_reply, staff_gateway
from tests.web.test_page import ask, assert_no_horizontal_scrolling, converse, elder_checks, press_until_disabled

pytestmark = pytest.mark.slow

LEVELS = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]

MEASURE_RATING = """() => [...document.querySelectorAll(
    "#rating .rating-choice, #rating input, #rating button, #rating textarea, #rate-open")]
  .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 1 && r.height > 1; })
  .map((el) => { const r = el.getBoundingClientRect();
                 return { what: el.id || el.className || el.tagName, text: (el.textContent || "").trim().slice(0, 8),
                          width: r.width, height: r.height }; })"""


def with_handoff(sender: str, text: str) -> list[dict[str, Any]]:
    """The scripted assistant, which hands over to a person when asked (actions/handoff.py's payload)."""
    if text in ("转人工", "/handoff"):
        return [
            {"recipient_id": sender, "text": "好的，正在为您转接人工服务。"},
            {"recipient_id": sender, "custom": {"type": "handoff", "text": "", "ticket": "GD-20261130-000007"}},
        ]
    return scripted_reply(sender, text)


def focus_rating_choices(page: Any) -> None:
    """From the question box, Shift+Tab back into the radio group of the panel (it sits between the log and the box)."""
    page.focus("#text")
    for _ in range(8):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.name") == "rating-score":
            return
    pytest.fail("the rating choices cannot be reached by keyboard")


def choose_by_keyboard(page: Any, label: str) -> None:
    focus_rating_choices(page)
    for _ in range(6):
        if page.get_by_role("radio", name=label, exact=True).is_checked():
            return
        page.keyboard.press("ArrowDown")
    pytest.fail(f"{label} cannot be chosen with the arrow keys")


def test_after_a_handoff_the_panel_appears_and_a_bad_rating_gets_a_followup_number(
    page: Any, fake_rasa: FakeRasa
) -> None:
    fake_rasa.reply = with_handoff
    panel = page.locator("#rating")
    ask(page, "你好")
    assert panel.is_hidden()  # not after an ordinary answer
    ask(page, "转人工")
    panel.wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "text"  # offered, not forced: the focus stays put
    assert panel.locator("h2").inner_text() == "服务评价"
    radios = panel.get_by_role("radio")
    assert [r.evaluate("el => el.labels[0].textContent.trim()") for r in radios.all()] == LEVELS
    # inline in the page, below the conversation, not a dialog over it
    assert page.locator("[role=dialog], dialog").count() == 0
    log_box, panel_box = page.locator("#log").bounding_box(), panel.bounding_box()
    assert panel_box["y"] >= log_box["y"] + log_box["height"]

    choose_by_keyboard(page, "不满意")
    assert page.evaluate("document.querySelector('input[name=rating-score]:checked').value") == "2"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "rating-comment"
    page.keyboard.type("等了很久，电话13812345678")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "rating-submit"
    with page.expect_response("**/api/v1/rating") as sent:
        page.keyboard.press("Enter")
    request = sent.value.request.post_data_json
    assert request["score"] == 2 and request["channel"] == "h5"
    assert request["session_id"] == page.evaluate("sessionStorage.getItem('zhiban.session')")
    number = page.locator("#rating-followup")
    number.wait_for()
    assert re.fullmatch(r"HC-\d{8}-\d{6}", number.inner_text())
    assert number.inner_text() in page.locator("#rating-result").inner_text()
    assert "很抱歉" in page.locator("#rating-result").inner_text()
    assert page.locator("#rating-form").is_hidden() and page.locator("#rating-change").is_visible()

    # another ending of the same conversation does not offer it again; 修改评价 reopens the choices
    ask(page, "转人工")
    assert page.locator("#rating-form").is_hidden()
    page.click("#rating-change")
    assert page.get_by_role("radio", name="不满意", exact=True).is_checked()
    page.get_by_role("radio", name="满意", exact=True).check()
    page.click("#rating-submit")
    page.wait_for_function("() => document.getElementById('rating-result').textContent.includes('已更新为“满意”')")


@pytest.mark.parametrize(
    "ending",
    [
        "receipt",  # an application submitted: a card with its 受理编号
        "ended",  # the chat response's state says the conversation ended
    ],
)
def test_the_panel_offers_itself_at_other_endings(page: Any, fake_rasa: FakeRasa, ending: str) -> None:
    if ending == "receipt":
        fake_rasa.reply = lambda sender, text: [
            {
                "recipient_id": sender,
                "custom": {"type": "card", "title": "申请已提交", "text": "受理编号：SBK-20261130-000001（请记下）。",
                           "receipt_no": "SBK-20261130-000001"},
            }
        ]  # fmt: skip
        ask(page, "提交")
    else:
        ask(page, "你好")
        assert page.locator("#rating").is_hidden()
        page.evaluate(
            """() => document.dispatchEvent(new CustomEvent("zhiban:turn", {detail: {replies: [],
                 state: {ended: true}, session_id: sessionStorage.getItem("zhiban.session")}}))"""
        )
    page.locator("#rating").wait_for(state="visible")
    assert page.locator("#rating-form").is_visible()


def test_the_header_control_opens_it_and_explains_when_there_is_nothing_to_rate_yet(page: Any) -> None:
    page.click("#rate-open")
    panel = page.locator("#rating")
    assert panel.is_visible() and page.locator("#rating-form").is_hidden()
    assert "请先提问" in panel.inner_text()
    ask(page, "你好")
    page.click("#rate-open")
    assert page.locator("#rating-form").is_visible()
    assert page.evaluate("document.activeElement.id") == "rating-title"  # focus moved to the panel it opened
    page.click("#rating-later")
    assert panel.is_hidden() and page.evaluate("document.activeElement.id") == "text"


def test_mistakes_are_explained_in_chinese_and_nothing_typed_is_lost(page: Any, gateway: Any) -> None:
    ask(page, "你好")
    page.click("#rate-open")
    page.fill("#rating-comment", "说明很清楚")
    page.click("#rating-submit")  # no level chosen
    error = page.locator("#rating-error")
    assert "请先选择" in error.inner_text()
    assert page.evaluate("document.activeElement.name") == "rating-score"
    assert not [url for url in gateway.requests if url.endswith("/api/v1/rating")]

    # a refusal by the gateway (here: a session it did not sign) is shown, and the choice and comment stay
    page.evaluate(
        "sessionStorage.setItem('zhiban.session', '0123456789abcdef0123456789abcdef.000000000000000000000000')"
    )
    page.click("#rating-later")
    page.click("#rate-open")
    page.get_by_role("radio", name="基本满意", exact=True).check()
    page.fill("#rating-comment", "说明很清楚")
    page.click("#rating-submit")
    page.wait_for_function("() => document.getElementById('rating-error').textContent.includes('会话编号')")
    assert "还在" in error.inner_text()
    assert page.input_value("#rating-comment") == "说明很清楚"
    assert page.get_by_role("radio", name="基本满意", exact=True).is_checked()


def test_elder_mode_sizes_and_contrast(new_page: Any, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = with_handoff
    page = new_page()
    page.click("#elder")
    converse(page)
    ask(page, "转人工")
    page.locator("#rating").wait_for(state="visible")
    measured = page.evaluate(MEASURE_RATING)
    assert {m["text"] for m in measured} >= {*LEVELS, "提交评价", "暂不评价", "评价"}
    too_small = [m for m in measured if m["width"] < 60 or m["height"] < 60]
    assert not too_small, too_small
    elder_checks(page)  # type size, line height, contrast and control sizes of the whole page, the panel included
    choose_by_keyboard(page, "非常不满意")
    elder_checks(page)  # the chosen level too
    # at the largest type the choices still fit the screen
    press_until_disabled(page, "#bigger")
    assert_no_horizontal_scrolling(page)
    assert not [m for m in page.evaluate(MEASURE_RATING) if m["width"] < 60 or m["height"] < 60]


def test_standard_mode_targets(page: Any, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = with_handoff
    ask(page, "转人工")
    page.locator("#rating").wait_for(state="visible")
    assert not [m for m in page.evaluate(MEASURE_RATING) if m["width"] < 44 or m["height"] < 44]


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_axe_finds_no_serious_violations_in_the_panel(
    new_page: Any, fake_rasa: FakeRasa, axe_source: str, elder: bool
) -> None:
    fake_rasa.reply = with_handoff
    page = new_page(bypass_csp=True)
    if elder:
        page.click("#elder")
    ask(page, "转人工")
    page.locator("#rating").wait_for(state="visible")
    page.get_by_role("radio", name="满意", exact=True).check()
    assert axe(page, axe_source) == []
    page.click("#rating-submit")
    page.locator("#rating-result p").first.wait_for()
    assert axe(page, axe_source) == []


def test_no_horizontal_scrolling_at_200_percent_zoom_in_elder_mode(new_page: Any, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = with_handoff
    page = new_page(width=320, height=640, scale=2)  # a 640 px window zoomed to 200%
    page.click("#elder")
    press_until_disabled(page, "#bigger")
    ask(page, "转人工")
    page.locator("#rating").wait_for(state="visible")
    choose_by_keyboard(page, "非常不满意")
    page.click("#rating-submit")
    page.locator("#rating-followup").wait_for()
    assert_no_horizontal_scrolling(page)


# --- the admin page 差评回访 -------------------------------------------------------------------------------------
def seed(settings: Settings) -> None:
    """Three ratings, two of them 差评."""
    ratings.rate(
        settings, conversation_id="c-slow", channel="h5", score=1, comment="等了很久，电话13812345678", item_code="P02"
    )
    ratings.rate(settings, conversation_id="c-vague", channel="wechat", score=2, comment="答非所问")
    ratings.rate(settings, conversation_id="c-good", channel="h5", score=5, comment="很方便")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaffGateway]:
    """A gateway whose store is known (unlike the chat page's), with an admin (director), an agent and the ratings."""
    with staff_gateway(tmp_path_factory.mktemp("ratings-web"), admin="director", agent="li.si", seed=seed) as served:
        yield served


def test_an_admin_closes_a_followup_with_its_result(pages: Pages, site: StaffGateway, axe_source: str) -> None:
    page = pages.signed_in(site, site.admin, "/admin/followups.html", bypass_csp=True)
    cards = page.locator("article.followup")
    cards.first.wait_for()
    assert page.title() == "差评回访 · 智办管理后台"
    assert cards.count() == 2  # the good rating has no follow-up
    slow = cards.first
    assert "非常不满意" in slow.inner_text() and "等了很久，电话〔号码已隐去〕" in slow.inner_text()
    assert "13812345678" not in page.content()
    assert "P02" in slow.inner_text() and "公众号" in cards.nth(1).inner_text()
    assert axe(page, axe_source) == []

    number = slow.get_attribute("data-number")
    slow.get_by_role("button", name="办结").click()  # no result yet
    error = slow.locator(".error")
    error.wait_for()
    assert "请填写处理结果" in error.inner_text()
    assert slow.get_by_label("处理结果").get_attribute("aria-invalid") == "true"

    slow.get_by_label("处理结果").fill("已核实：当天窗口人手不足。已增加值班人员，并回电致歉。")
    slow.get_by_role("button", name="办结").click()
    page.wait_for_function("() => document.getElementById('notice').textContent.includes('已办结')")
    page.wait_for_function("() => document.querySelectorAll('article.followup').length === 1")
    assert number not in page.locator("#followups").inner_text()
    closed = ratings.find_followup(site.settings, number)
    assert closed is not None and closed.status == "closed" and closed.assignee == "director"

    page.select_option("#status", "closed")
    page.wait_for_function("(n) => document.getElementById('followups').textContent.includes(n)", arg=number)
    done = page.locator("article.followup").first
    assert "已增加值班人员" in done.inner_text() and "director" in done.inner_text()
    assert done.get_by_role("button", name="办结").count() == 0
    assert axe(page, axe_source) == []


def test_agents_are_kept_out_of_the_followups_page(pages: Pages, site: StaffGateway) -> None:
    page = pages.signed_in(site, site.agent, "/admin/followups.html")
    page.wait_for_function("() => document.body.textContent.includes('没有此页面的权限')")
    assert page.locator("article.followup").count() == 0
