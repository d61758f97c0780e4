"""Voice on the H5 page in a real browser: 朗读 (POST /api/v1/tts, played from a blob: URL) and 按住说话 (MediaRecorder →
POST /api/v1/asr → the text is sent as the person's message).

Chromium gets a fake microphone that plays a WAV made at test time by espeak-ng (``--use-file-for-fake-audio-capture``,
once per opened microphone: ``%noloop``), and auto-accepts the permission prompt. Behind /api/v1/asr is the real Whisper
recognizer (loaded once, before the tests), and behind /api/v1/tts the real espeak-ng backend (tts_backends="espeak").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from channels.routers import voice as voice_routes
from channels.routers.voice import recognizer_for
from tests.channels.fake_rasa import FakeRasa
from tests.voice.asr_set import espeak_available, speak
from tests.web.conftest import LOST_STEPS, Gateway, axe, launch_chromium
from tests.web.test_page import MEASURE_CONTROLS, MEASURE_TEXT, ask, converse
from voice.asr import Transcript
from voice.audio import Pcm, concat, silence, to_wav
from voice.tts import TtsUnavailable

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed (make system-deps)"),
]

QUESTION = "社保卡丢了怎么补办"
HOLD_SECONDS = 3.5  # the question lasts about 2.5 s in the fake microphone, silence follows


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The question spoken by espeak-ng, after 0.3 s and before 10 s of silence, as 16-bit PCM WAV (what Chromium reads)."""
    speech = speak(QUESTION)
    path = tmp_path_factory.mktemp("mic") / "question.wav"
    path.write_bytes(to_wav(concat([silence(0.3, speech.rate), speech, silence(10.0, speech.rate)])))
    return path


@pytest.fixture(scope="module")
def browser(playwright: Any, question_wav: Path) -> Iterator[Any]:
    """This module's chromium (it overrides the package's ``browser``): a fake microphone playing the question."""
    chromium = launch_chromium(
        playwright,
        [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={question_wav}%noloop",
            "--autoplay-policy=user-gesture-required",  # as on a phone: audio plays after a tap only
        ],
    )
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def whisper_ready(gateway: Gateway) -> None:
    """Whisper assembled and loaded in the gateway before the tests (a second of silence: no speech, 422)."""
    response = httpx.post(
        gateway.url + voice_routes.ASR_PATH,
        content=to_wav(silence(1.0, 16000)),
        headers={"Content-Type": "audio/wav"},
        timeout=120,
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "no_speech", response.text


class Requests:
    """The page's requests to one API path, with their bodies and answers."""

    def __init__(self, page: Any, path: str) -> None:
        self.sent: list[Any] = []
        self.answers: list[Any] = []
        page.on("request", lambda r: self.sent.append(r) if r.url.endswith(path) else None)
        page.on("response", lambda r: self.answers.append(r) if r.url.endswith(path) else None)


def hold_to_talk(page: Any, seconds: float) -> None:
    box = page.locator("#talk").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(seconds * 1000)
    page.mouse.up()


def reader_state(page: Any) -> dict[str, Any]:
    state: dict[str, Any] = page.evaluate(
        """() => { const a = document.getElementById('reader');
                   return {src: a.src, paused: a.paused, time: a.currentTime, duration: a.duration}; }"""
    )
    return state


def echo(sender: str, text: str) -> list[dict[str, Any]]:
    """The fake Rasa's answer: what it was asked (Whisper base hears espeak-ng's robotic 社保卡 but little else)."""
    return [{"recipient_id": sender, "text": "您问的是：" + text}]


# --- 按住说话 ----------------------------------------------------------------------------------------------------------
def test_holding_the_button_records_and_sends_what_was_said(
    new_page: Any, fake_rasa: FakeRasa, whisper_ready: None
) -> None:
    page = new_page()
    fake_rasa.reply = echo
    talk = page.locator("#talk")
    assert talk.inner_text() == "按住说话" and talk.get_attribute("aria-pressed") == "false"
    asr = Requests(page, "/api/v1/asr")
    box = talk.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    # recording is visible: the button is pressed and says what to do, the line counts the seconds
    page.wait_for_function("() => document.querySelector('#voice-line .elapsed')?.textContent === '1 秒'")
    assert talk.get_attribute("aria-pressed") == "true" and talk.inner_text() == "松开发送"
    assert "正在录音" in page.locator("#voice-line").inner_text()
    page.wait_for_function("() => document.querySelector('#voice-line .elapsed')?.textContent === '3 秒'")
    page.wait_for_timeout((HOLD_SECONDS - 3) * 1000)
    page.mouse.up()
    assert talk.get_attribute("aria-pressed") == "false" and talk.inner_text() == "按住说话"

    page.wait_for_selector(".msg.me", timeout=30_000)
    said = page.locator(".msg.me").inner_text()
    assert "社保卡" in said, said
    assert fake_rasa.received[-1]["message"] == said  # sent as the person's message
    assert fake_rasa.received[-1]["metadata"] == {"elder": False}
    # and the fake Rasa's answer to it is shown
    page.wait_for_function("() => document.querySelectorAll('.msg.bot').length === 2")
    assert page.locator(".msg.bot").last.locator(".text").inner_text() == "您问的是：" + said
    assert page.input_value("#text") == ""
    assert page.locator("#voice-line").inner_text() == ""

    (request,) = asr.sent
    assert request.method == "POST"
    assert request.headers["content-type"].startswith("audio/webm")
    (answer,) = asr.answers
    assert answer.status == 200
    assert answer.json()["text"] == said and HOLD_SECONDS - 0.5 < answer.json()["seconds"] < HOLD_SECONDS + 1
    # the focus stays on the button: a phone's keyboard does not pop up
    assert page.evaluate("document.activeElement.id") == "talk"


def test_keyboard_starts_and_stops_in_elder_mode(new_page: Any, fake_rasa: FakeRasa, whisper_ready: None) -> None:
    page = new_page()
    fake_rasa.reply = echo
    page.click("#elder")
    talk = page.locator("#talk")
    size = talk.bounding_box()
    assert size["width"] >= 60 and size["height"] >= 60, size  # a main control in 长辈版
    assert "空格键" in page.locator("#" + talk.get_attribute("aria-describedby")).inner_text()

    # Esc cancels: nothing is sent
    asr = Requests(page, "/api/v1/asr")
    talk.focus()
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelector('#voice-line .elapsed') !== null")
    assert talk.get_attribute("aria-pressed") == "true" and talk.inner_text() == "结束并发送"
    assert "空格键" in page.locator("#voice-line").inner_text()
    page.keyboard.press("Escape")
    page.wait_for_function("() => document.getElementById('voice-line').textContent === '已取消录音。'")
    assert talk.get_attribute("aria-pressed") == "false"

    # Space starts, Enter ends and sends
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelector('#voice-line .elapsed')?.textContent === '3 秒'")
    page.wait_for_timeout((HOLD_SECONDS - 3) * 1000)
    page.keyboard.press("Enter")
    page.wait_for_selector(".msg.me", timeout=30_000)
    said = page.locator(".msg.me").inner_text()
    assert "社保卡" in said, said
    assert fake_rasa.received[-1]["metadata"] == {"elder": True}
    page.wait_for_function("() => document.querySelectorAll('.msg.bot').length === 2")
    assert page.locator(".msg.bot").last.locator(".text").inner_text() == "您问的是：" + said
    assert len(asr.sent) == 1
    assert page.evaluate("document.activeElement.id") == "talk"


def test_a_finger_holds_it_too(page: Any, fake_rasa: FakeRasa, recognizer: Hears) -> None:
    recognizer.text = QUESTION
    page.evaluate(
        """() => { window.pointerTypes = [];
                   document.getElementById('talk').addEventListener('pointerdown', (e) => pointerTypes.push(e.pointerType)); }"""
    )
    box = page.locator("#talk").bounding_box()
    point = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}
    touch = page.context.new_cdp_session(page)
    touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]})
    page.wait_for_function("() => document.querySelector('#voice-line .elapsed')?.textContent === '1 秒'")
    page.wait_for_timeout(300)
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_selector(".reply-answer")
    assert page.evaluate("window.pointerTypes") == ["touch"]
    assert recognizer.heard and recognizer.heard[0] > 1.0
    assert fake_rasa.received[-1]["message"] == QUESTION


def test_a_click_is_too_short_to_send(page: Any, fake_rasa: FakeRasa) -> None:
    asr = Requests(page, "/api/v1/asr")
    hold_to_talk(page, 0.2)
    line = page.locator("#voice-line")
    page.wait_for_function("() => document.getElementById('voice-line').textContent.includes('太短')")
    assert "按住按钮说话" in line.inner_text()
    assert "error" in line.get_attribute("class")
    assert asr.sent == [] and fake_rasa.received == []
    assert page.locator("#talk").get_attribute("aria-pressed") == "false"


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ("NotAllowedError", "没有使用麦克风的权限"),  # permission denied
        ("NotFoundError", "没有找到麦克风"),  # no microphone
        ("NotReadableError", "麦克风正被其他程序使用"),
    ],
)
def test_microphone_problems_are_explained(page: Any, fake_rasa: FakeRasa, error: str, message: str) -> None:
    page.evaluate(
        "(name) => { navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('no', name)); }", error
    )
    hold_to_talk(page, 0.5)
    line = page.locator("#voice-line")
    page.wait_for_function("(m) => document.getElementById('voice-line').textContent.includes(m)", arg=message)
    assert "直接输入文字" in line.inner_text() and "error" in line.get_attribute("class")
    assert page.locator("#talk").get_attribute("aria-pressed") == "false"
    assert fake_rasa.received == []


def test_a_browser_without_recording_is_told_so(page: Any) -> None:
    page.evaluate("() => { delete window.MediaRecorder; }")
    hold_to_talk(page, 0.3)
    assert page.locator("#voice-line").inner_text() == "您的浏览器不支持语音输入，请直接输入文字。"


@dataclass
class Hears:
    """A recognizer that hears ``text`` ("" like Whisper on noise) and keeps the recordings' durations."""

    text: str
    heard: list[float] = field(default_factory=list)

    async def transcribe(self, pcm: Pcm) -> Transcript:
        self.heard.append(pcm.duration)
        return Transcript(self.text, "fake", pcm.duration, 0.0)


@pytest.fixture
def recognizer(gateway: Gateway) -> Iterator[Hears]:
    """A fake recognizer behind the gateway's /api/v1/asr for one test."""
    fake = Hears("")
    gateway.app.dependency_overrides[recognizer_for] = lambda: fake
    yield fake
    gateway.app.dependency_overrides.pop(recognizer_for)


def test_nothing_recognised_is_explained_and_nothing_is_sent(page: Any, fake_rasa: FakeRasa, recognizer: Hears) -> None:
    hold_to_talk(page, 1.5)
    page.wait_for_function("() => document.getElementById('voice-line').textContent.includes('没有听清')")
    assert recognizer.heard and recognizer.heard[0] > 1.0
    # the gateway's own message (no_speech)
    assert page.locator("#voice-line").inner_text() == voice_routes.NoSpeech.default_message
    assert fake_rasa.received == [] and page.locator(".msg.me").count() == 0
    assert page.input_value("#text") == ""


def test_recording_ends_by_itself_after_60_seconds(page: Any, fake_rasa: FakeRasa, recognizer: Hears) -> None:
    recognizer.text = QUESTION
    asr = Requests(page, "/api/v1/asr")
    box = page.locator("#talk").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_function("() => document.querySelector('#voice-line .elapsed')?.textContent === '1 秒'")
    assert "最长60秒" in page.locator("#voice-line").inner_text()
    page.evaluate("() => { const now = Date.now; Date.now = () => now() + 59000; }")  # a minute later
    page.wait_for_function("() => document.getElementById('voice-line').textContent.includes('录音已满60秒')")
    assert page.locator("#talk").get_attribute("aria-pressed") == "false"  # still held, but no longer recording
    page.wait_for_selector(".reply-answer")
    page.mouse.up()
    assert len(asr.sent) == 1 and fake_rasa.received[-1]["message"] == QUESTION
    assert page.locator(".msg.me").inner_text() == QUESTION


# --- 朗读 -------------------------------------------------------------------------------------------------------------
def test_read_aloud_plays_the_reply_and_stops(page: Any, fake_rasa: FakeRasa) -> None:
    tts = Requests(page, "/api/v1/tts")
    ask(page, QUESTION)
    read = page.locator(".reply-answer .read")
    assert read.inner_text() == "朗读" and read.get_attribute("aria-pressed") == "false"
    read.click()
    assert read.inner_text() == "停止" and read.get_attribute("aria-pressed") == "true"
    page.wait_for_function("() => document.getElementById('reader').currentTime > 0.5", timeout=15_000)
    state = reader_state(page)
    assert state["src"].startswith("blob:") and not state["paused"]
    (request,) = tts.sent
    body = request.post_data_json
    assert body["elder"] is False
    assert body["text"].startswith("【社会保障卡补换】办理流程\n社保卡丢失后这样补办：")
    assert all(step in body["text"] for step in LOST_STEPS)
    (answer,) = tts.answers
    assert answer.status == 200 and answer.headers["content-type"] == "audio/mpeg"
    assert answer.headers["x-tts-backend"] == "espeak-ng"

    read.click()  # 停止
    assert read.inner_text() == "朗读" and read.get_attribute("aria-pressed") == "false"
    assert reader_state(page)["paused"]

    # one reply speaking at a time: a second reply's 朗读 stops the first
    ask(page, "你好")
    second = page.locator(".msg.bot .read").last
    read.click()
    page.wait_for_function("() => !document.getElementById('reader').paused")
    assert len(tts.sent) == 1  # the first reply's speech is kept, not fetched again
    second.click()
    assert read.get_attribute("aria-pressed") == "false" and second.get_attribute("aria-pressed") == "true"
    # the short reply plays to its end, then the button is 朗读 again
    page.wait_for_function("() => document.getElementById('reader').ended", timeout=15_000)
    page.wait_for_function("(el) => el.getAttribute('aria-pressed') === 'false'", arg=second.element_handle())
    assert second.inner_text() == "朗读"
    assert [r.post_data_json["text"] for r in tts.sent][1] == "您好，请问您想办理什么业务？"


def test_elder_mode_asks_for_the_elder_voice(page: Any, fake_rasa: FakeRasa) -> None:
    tts = Requests(page, "/api/v1/tts")
    ask(page, "你好")
    read = page.locator(".msg.bot .read").last
    durations = {}
    for elder in (False, True):
        if elder:
            page.click("#elder")
            size = read.bounding_box()
            assert size["width"] >= 60 and size["height"] >= 60, size  # a main control in 长辈版
        before = reader_state(page)["src"]
        read.click()
        page.wait_for_function(
            "(before) => { const a = document.getElementById('reader'); return a.src !== before && a.currentTime > 0.2; }",
            arg=before,
            timeout=15_000,
        )
        durations[elder] = reader_state(page)["duration"]
        read.click()
    assert [r.post_data_json["elder"] for r in tts.sent] == [False, True]
    # the gateway spoke the elder profile: espeak-ng at 125 instead of 160 words a minute
    assert durations[True] > 1.15 * durations[False], durations


def test_read_aloud_failures_are_shown_in_the_page(
    page: Any, fake_rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialogs: list[str] = []

    def dialog(d: Any) -> None:  # alert() is not how the page reports a failure
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)

    class Broken:
        async def synthesize(self, *args: Any, **kwargs: Any) -> Any:
            raise TtsUnavailable(["espeak-ng: test"])

    monkeypatch.setattr(voice_routes, "get_synthesizer", lambda settings: Broken())
    ask(page, "你好")
    read = page.locator(".msg.bot .read").last
    read.click()
    error = page.locator(".msg.bot .read-error").last
    error.wait_for()
    assert error.inner_text() == voice_routes.TtsUnavailableError.default_message
    assert error.get_attribute("role") == "alert"
    assert read.inner_text() == "朗读" and read.get_attribute("aria-pressed") == "false"

    # the engine is back: 朗读 tries again, and the message goes
    monkeypatch.undo()
    read.click()
    page.wait_for_function("() => document.getElementById('reader').currentTime > 0.2", timeout=15_000)
    assert page.locator(".msg.bot .read-error").count() == 0

    # a reply with nothing to say: the gateway's 422 message
    fake_rasa.reply = lambda sender, text: [{"recipient_id": sender, "text": "👍"}]
    ask(page, "谢谢")
    page.locator(".msg.bot .read").last.click()
    page.locator(".msg.bot").last.locator(".read-error").wait_for()
    assert page.locator(".msg.bot").last.locator(".read-error").inner_text() == "这段内容里没有可以朗读的文字。"
    assert dialogs == []


# --- both together, and the rules of the page ---------------------------------------------------------------------
def test_recording_stops_the_reading_and_esc_cancels_it(page: Any, fake_rasa: FakeRasa) -> None:
    asr = Requests(page, "/api/v1/asr")
    ask(page, "你好")
    read = page.locator(".msg.bot .read").last
    read.click()
    page.wait_for_function("() => !document.getElementById('reader').paused")
    box = page.locator("#talk").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    assert reader_state(page)["paused"] and read.get_attribute("aria-pressed") == "false"
    page.wait_for_function("() => document.querySelector('#voice-line .elapsed') !== null")
    # Esc, and the button let go in the same moment (before the recorder has stopped): cancelled all the same
    page.evaluate(
        """() => { document.dispatchEvent(new KeyboardEvent("keydown", {key: "Escape", bubbles: true}));
                   document.getElementById("talk").dispatchEvent(new PointerEvent("pointerup", {bubbles: true})); }"""
    )
    page.mouse.up()
    page.wait_for_function("() => document.getElementById('voice-line').textContent === '已取消录音。'")
    page.wait_for_timeout(500)
    assert asr.sent == [] and page.locator("#voice-line").inner_text() == "已取消录音。"
    assert fake_rasa.received[-1]["message"] == "你好"


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_axe_and_sizes_while_reading_and_recording(new_page: Any, axe_source: str, elder: bool) -> None:
    page = new_page(bypass_csp=True)
    if elder:
        page.click("#elder")
    converse(page)
    page.locator(".reply-answer .read").click()
    page.wait_for_function("() => !document.getElementById('reader').paused", timeout=15_000)
    box = page.locator("#talk").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_function("() => document.querySelector('#voice-line .elapsed') !== null")
    try:
        assert axe(page, axe_source) == []
        texts = [t for t in page.evaluate(MEASURE_TEXT) if t["text"].startswith(("正在录音", "0 秒", "1 秒", "松开"))]
        assert len(texts) >= 2, texts
        assert all(t["contrast"] >= (7 if elder else 4.5) for t in texts), texts
        assert all(t["size"] >= (18 if elder else 14) for t in texts), texts
        controls = [c for c in page.evaluate(MEASURE_CONTROLS) if c["id"] == "talk" or "read" in c["cls"].split()]
        least = 60 if elder else 44
        assert len(controls) >= 4 and all(c["width"] >= least and c["height"] >= least for c in controls), controls
    finally:
        page.keyboard.press("Escape")
        page.mouse.up()


def test_the_policy_lets_the_page_play_blob_audio_and_nothing_else(page: Any) -> None:
    policy = page.request.get("/").headers["content-security-policy"]
    assert "media-src 'self' blob:" in policy
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert "speechSynthesis" not in (Path(__file__).parents[2] / "channels" / "static" / "chat.js").read_text("utf-8")
