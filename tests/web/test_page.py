"""The H5 chat page in a real browser (Debian's chromium via Playwright) against the real gateway and a fake Rasa.

长辈版 numbers (docs/channels.md): body text 24 px by default, 18–32 px with A-/A+, nothing below 18 px, line height ≥ 1.3,
text contrast ≥ 4.5:1, main controls (长辈版, 发送, reply buttons, 朗读, 按住说话) ≥ 60×60 px and all others ≥ 44×44 px, no
horizontal scrolling at 200% zoom. Voice (朗读, 按住说话) in a browser with a fake microphone: test_voice_page.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from assistant.crypto import cipher_for
from assistant.settings import Settings
from tests.channels.fake_rasa import FakeRasa
from tests.web.conftest import LOST_STEPS, MATERIALS, Gateway, axe

pytestmark = pytest.mark.slow

# Every visible element with its own text: font size, line height, and the contrast of its colour on the background
# actually behind it (the nearest ancestor with a background, semi-transparent layers composited).
MEASURE_TEXT = """() => {
  const rgba = (s) => { const m = s.match(/[\\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
                               return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (el) => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let out = [255, 255, 255];
    for (const c of layers.reverse()) { out = out.map((v, i) => c[i] * c[3] + v * (1 - c[3])); }
    return out;
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && r.right > 0 && r.bottom > -10000 && s.visibility === "visible" && s.opacity !== "0";
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el) || el.closest("script, style") || el.disabled) continue;
    const s = getComputedStyle(el);
    const fg = rgba(s.color), bg = background(el);
    const ink = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
    const [hi, lo] = [lum(ink), lum(bg)].sort((a, b) => b - a);
    out.push({ text: el.textContent.trim().slice(0, 20), tag: el.tagName, size: parseFloat(s.fontSize),
               lineHeight: s.lineHeight === "normal" ? 0 : parseFloat(s.lineHeight), contrast: (hi + 0.05) / (lo + 0.05) });
  }
  return out;
}"""

MEASURE_CONTROLS = """() => [...document.querySelectorAll("button, a[href], textarea, input, select, [tabindex]")]
  .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 1 && r.height > 1 && r.right > 0; })
  .map((el) => { const r = el.getBoundingClientRect();
                 return { id: el.id, cls: el.className, text: (el.textContent || "").trim().slice(0, 12),
                          width: r.width, height: r.height,
                          main: el.matches("#send, #elder, .buttons button, .read, #talk") }; })"""


def ask(page: Any, text: str) -> None:
    bot_before = page.locator(".msg.bot, .msg.error").count()
    page.fill("#text", text)
    page.press("#text", "Enter")
    page.wait_for_function("(n) => document.querySelectorAll('.msg.bot, .msg.error').length > n", arg=bot_before)


def converse(page: Any) -> None:
    """A conversation showing every kind of reply: an answer with citations, a clarification, a checklist with a link."""
    ask(page, "社保卡丢了怎么补办")
    ask(page, "社保卡")
    page.get_by_role("button", name="社会保障卡补换").click()
    page.wait_for_selector(".reply-checklist")


def test_question_gets_the_answer_with_its_citation_and_buttons_lead_on(page: Any, fake_rasa: FakeRasa) -> None:
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.locator("h1").inner_text().startswith("智办")
    ask(page, "社保卡丢了怎么补办")
    answer = page.locator(".reply-answer")
    assert answer.locator("h3").inner_text() == "【社会保障卡补换】办理流程"
    assert answer.locator(".items li").all_inner_texts() == LOST_STEPS
    assert answer.locator(".source").inner_text() == "来源：社会保障卡补换 · 办理流程"
    # the list and the source line are shown once, not repeated by the text
    assert answer.inner_text().count("来源：") == 1
    assert answer.inner_text().count(LOST_STEPS[0]) == 1
    assert "社保卡丢失后这样补办：" in answer.locator(".text").inner_text()
    assert page.input_value("#text") == ""

    ask(page, "社保卡")
    choices = page.locator(".msg.bot").last.locator(".buttons button")
    assert choices.all_inner_texts() == ["社会保障卡申领", "社会保障卡补换"]
    assert all(tag == "BUTTON" for tag in choices.evaluate_all("els => els.map(e => e.tagName)"))
    choices.nth(1).click()
    checklist = page.locator(".reply-checklist")
    checklist.wait_for()
    assert page.locator(".msg.me").last.inner_text() == "社会保障卡补换"  # the title is shown, the payload is sent
    assert fake_rasa.received[-1]["message"] == '/choose_item{"item_code":"P02"}'
    assert checklist.locator(".items li").all_inner_texts() == MATERIALS
    assert checklist.locator(".source").inner_text() == "来源：社会保障卡补换 · 申请材料"
    link = checklist.locator(".links a")
    assert link.inner_text() == "下载申请表（示例）" and link.get_attribute("href", timeout=1000).endswith(
        "/static/chat.css"
    )
    assert page.locator(".msg.bot").last.inner_text().startswith("还有其他问题吗？")

    # one conversation: the session issued on the first message is kept and sent back
    senders = {body["sender"] for body in fake_rasa.received}
    assert len(senders) == 1 and len(fake_rasa.received) == 3
    session = page.evaluate("sessionStorage.getItem('zhiban.session')")
    assert session.split(".")[0] in senders
    assert [body["metadata"] for body in fake_rasa.received] == [{"elder": False}] * 3


def test_line_breaks_of_a_plain_reply_are_kept(page: Any, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda sender, text: [{"recipient_id": sender, "text": "第一行\n第二行"}]
    ask(page, "你好")
    reply = page.locator(".msg.bot").last
    assert reply.locator(".text").inner_text() == "第一行\n第二行"
    assert reply.locator(".text").evaluate("el => getComputedStyle(el).whiteSpace") == "pre-wrap"


def test_errors_are_shown_in_chinese_and_the_typed_text_is_kept(page: Any, fake_rasa: FakeRasa) -> None:
    fake_rasa.rasa_status = 500
    ask(page, "我的医保怎么转移")
    error = page.locator(".msg.error").last
    assert "助手" in error.inner_text() or "暂时" in error.inner_text()
    assert re.search(r"[\u4e00-\u9fff]", error.inner_text())
    assert "输入框" in error.inner_text()
    assert page.input_value("#text") == "我的医保怎么转移"
    # the service is back: the same text can be sent again
    fake_rasa.rasa_status = 200
    page.click("#send")
    page.wait_for_function("() => document.querySelectorAll('.msg.bot').length >= 2")
    assert page.input_value("#text") == ""


def test_a_refused_message_is_explained_and_kept(page: Any, fake_rasa: FakeRasa) -> None:
    page.evaluate("document.getElementById('text').removeAttribute('maxlength')")
    long_text = "办" * 2001
    ask(page, long_text)
    assert "2000字以内" in page.locator(".msg.error").last.inner_text()
    assert page.input_value("#text") == long_text
    assert fake_rasa.received == []


def press_until_disabled(page: Any, button: str) -> None:
    """Clicks A+ (``#bigger``) or A- (``#smaller``) until it is disabled: the largest or the smallest type."""
    for _ in range(10):
        if page.locator(button).is_disabled():
            return
        page.click(button)


def assert_no_horizontal_scrolling(page: Any) -> None:
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
    )
    assert widths["scroll"] <= widths["client"], widths


def elder_checks(page: Any) -> None:
    texts = page.evaluate(MEASURE_TEXT)
    assert len(texts) > 10
    small = [t for t in texts if t["size"] < 18]
    assert not small, small
    tight = [t for t in texts if t["lineHeight"] < 1.3 * t["size"]]
    assert not tight, tight
    faint = [t for t in texts if t["contrast"] < 4.5]
    assert not faint, faint
    controls = page.evaluate(MEASURE_CONTROLS)
    mains = [c for c in controls if c["main"]]
    assert {c["id"] for c in mains} >= {"send", "elder", "talk"} and len(mains) >= 5
    assert [c for c in mains if c["text"] == "朗读"], mains
    too_small = [c for c in mains if c["width"] < 60 or c["height"] < 60]
    too_small += [c for c in controls if c["width"] < 44 or c["height"] < 44]
    assert not too_small, too_small


def test_elder_mode_large_type_big_controls_and_elder_flag(new_page: Any, fake_rasa: FakeRasa) -> None:
    page = new_page()
    switch = page.locator("#elder")
    assert switch.get_attribute("aria-pressed") == "false"
    assert page.locator("#bigger").is_hidden()
    switch.click()
    assert switch.get_attribute("aria-pressed") == "true"
    body = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body >= 24
    converse(page)
    elder_checks(page)
    assert [body["metadata"] for body in fake_rasa.received] == [{"elder": True}] * 3

    # A+ up to at least 30 px, A- down to 18 px, and the rules hold at both ends
    press_until_disabled(page, "#bigger")
    largest = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert largest >= 30
    assert page.locator("#size-now").inner_text() == str(round(largest))
    elder_checks(page)
    press_until_disabled(page, "#smaller")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == 18
    elder_checks(page)

    # remembered: a new page of the same browser opens in 长辈版 at the chosen size
    page.click("#bigger")
    page.reload()
    assert page.locator("#elder").get_attribute("aria-pressed") == "true"
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == 20
    assert page.evaluate("localStorage.getItem('zhiban.elder')") == "1"
    # and off again
    page.click("#elder")
    assert page.locator("#elder").get_attribute("aria-pressed") == "false"
    ask(page, "你好")
    assert fake_rasa.received[-1]["metadata"] == {"elder": False}


def test_standard_mode_controls_and_contrast(page: Any) -> None:
    converse(page)
    texts = page.evaluate(MEASURE_TEXT)
    assert not [t for t in texts if t["contrast"] < 4.5]
    controls = page.evaluate(MEASURE_CONTROLS)
    assert not [c for c in controls if c["width"] < 44 or c["height"] < 44]


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_no_horizontal_scrolling_at_200_percent_zoom(new_page: Any, elder: bool) -> None:
    # 640 device pixels wide at a scale of 2: the page lays out in 320 CSS px, as a 640 px window zoomed to 200%
    page = new_page(width=320, height=640, scale=2)
    assert page.evaluate("window.innerWidth") == 320
    if elder:
        page.click("#elder")
        press_until_disabled(page, "#bigger")
    converse(page)
    ask(page, "社保卡丢了怎么补办")
    assert_no_horizontal_scrolling(page)
    # the question box and the send button stay on screen
    send = page.locator("#send").bounding_box()
    assert send is not None and send["x"] + send["width"] <= 320


def test_keyboard_only(page: Any, fake_rasa: FakeRasa) -> None:
    order = []
    for _ in range(12):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.className"))
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("none", ""), order[-1]
        if order[-1] == "send":
            break
    assert "elder" in order and "text" in order and "send" in order
    assert order.index("elder") < order.index("text") < order.index("send")

    # 长辈版 by keyboard: Space on the switch
    page.focus("#elder")
    page.keyboard.press("Space")
    assert page.locator("#elder").get_attribute("aria-pressed") == "true"

    # Enter in the question box sends; Shift+Enter makes a new line
    page.focus("#text")
    page.keyboard.type("社保卡")
    page.keyboard.press("Shift+Enter")
    assert page.input_value("#text") == "社保卡\n"
    page.fill("#text", "社保卡")
    page.keyboard.press("Enter")
    page.wait_for_selector(".buttons button")
    assert fake_rasa.received[-1]["message"] == "社保卡"
    assert fake_rasa.received[-1]["metadata"] == {"elder": True}
    assert page.evaluate("document.activeElement.id") == "text"

    # the reply buttons are reachable backwards from the question box and work with Enter
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.textContent") == "社会保障卡补换":
            break
    assert page.evaluate("document.activeElement.textContent") == "社会保障卡补换"
    page.keyboard.press("Enter")
    page.wait_for_selector(".reply-checklist")
    assert fake_rasa.received[-1]["message"].startswith("/choose_item")


def test_new_bot_messages_are_announced(page: Any) -> None:
    log = page.locator("#log")
    assert log.get_attribute("aria-live") == "polite"
    ask(page, "社保卡丢了怎么补办")
    assert page.locator("#log .reply-answer").count() == 1
    assert page.locator("label[for=text]").inner_text() == "请输入您的问题"
    assert page.locator("h2").count() >= 1


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_axe_finds_no_serious_violations(new_page: Any, axe_source: str, elder: bool) -> None:
    page = new_page(bypass_csp=True)
    if elder:
        page.click("#elder")
    converse(page)
    assert axe(page, axe_source) == []


def test_the_page_loads_nothing_from_outside(page: Any, gateway: Gateway) -> None:
    converse(page)
    page.click("#elder")
    page.reload()
    page.wait_for_load_state("networkidle")
    assert gateway.requests, "no request was recorded"
    outside = [url for url in gateway.requests if not url.startswith(gateway.url + "/")]
    assert outside == []
    assert any(url.endswith("/api/v1/chat") for url in gateway.requests)
    assert any(url.endswith("/static/chat.js") for url in gateway.requests)
    # and the browser is told to refuse anything else
    policy = page.request.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_the_status_line_shows_the_item_and_how_far_the_form_has_got(
    new_page: Any, fake_rasa: FakeRasa, axe_source: str, tmp_path: Any, elder: bool
) -> None:
    page = new_page(bypass_csp=True)
    if elder:
        page.click("#elder")
    status = page.locator("#status")
    assert status.get_attribute("role") == "status" and status.get_attribute("aria-live") == "polite"
    assert status.inner_text() == "" and status.bounding_box()["height"] == 0
    cipher = cipher_for(Settings(env="test", data_dir=tmp_path))  # the gateway's (default test) data key
    form = {"form": "social_security_card", "stage": "fields", "values": {"reason": "损坏"}, "skipped": []}
    try:
        fake_rasa.default_slots = {"current_item": "P02"}
        ask(page, "社保卡丢了怎么补办")
        assert status.inner_text() == "当前事项：社会保障卡补领换领"

        fake_rasa.default_slots = {
            "current_item": "P02",
            "app_form": "social_security_card",
            "form_status": "filling",
            "app_state": cipher.encrypt_json(form),
        }
        ask(page, "我要补办")
        assert status.inner_text() == "正在填写：社会保障卡补领换领申请 · 已填 1/7 项"
        shown = [t for t in page.evaluate(MEASURE_TEXT) if t["text"].startswith("正在填写")]
        assert len(shown) == 1
        assert shown[0]["size"] >= (18 if elder else 14)
        assert shown[0]["lineHeight"] >= 1.3 * shown[0]["size"]
        assert shown[0]["contrast"] >= (7 if elder else 4.5)
        assert axe(page, axe_source) == []

        fake_rasa.tracker_status = 500  # the state cannot be read: the last line stays
        ask(page, "你好")
        assert status.inner_text() == "正在填写：社会保障卡补领换领申请 · 已填 1/7 项"
        page.reload()  # and a reload of the same conversation shows it again
        assert status.inner_text() == "正在填写：社会保障卡补领换领申请 · 已填 1/7 项"

        fake_rasa.tracker_status = 200
        fake_rasa.default_slots = {"app_form": "social_security_card", "form_status": "submitted"}
        ask(page, "确认提交")
        assert status.inner_text() == "已提交：社会保障卡补领换领申请"
        fake_rasa.default_slots = {}
        fake_rasa.intent_of = lambda text: "goodbye"
        ask(page, "再见")
        assert status.inner_text().startswith("对话已结束")
    finally:
        fake_rasa.default_slots = {}
        fake_rasa.tracker_status = 200
        fake_rasa.intent_of = lambda text: None
