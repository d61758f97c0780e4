"""The FunASR websocket client against a local fake server that speaks the runtime's protocol."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pytest

from assistant.settings import Settings
from tests.utils.net import free_port
from tests.voice.fake_funasr import FakeFunAsr, running
from voice.asr import AsrUnavailable, Recognizer, make_recognizer
from voice.asr.funasr import FunAsrConfig, FunAsrRecognizer
from voice.audio import Pcm, chunks, resample

SECOND_8K = Pcm(bytes(range(256)) * 62 + bytes(128), 8000)  # one second of (odd-sounding) 8 kHz audio


def scenario(fake: FakeFunAsr, body: Callable[[FakeFunAsr], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with running(fake):
            return await body(fake)

    return asyncio.run(main())


def recognizer(fake: FakeFunAsr, **config: Any) -> FunAsrRecognizer:
    return FunAsrRecognizer(FunAsrConfig(url=fake.url, **{"timeout": 2.0, **config}))


def test_offline_mode_sends_config_audio_and_end_flag_and_reads_the_result() -> None:
    fake = FakeFunAsr(text="我想补办社保卡")

    async def body(fake: FakeFunAsr) -> Any:
        return await recognizer(fake, hotwords=("社保卡", "公积金")).transcribe(SECOND_8K)

    transcript = scenario(fake, body)
    assert (transcript.text, transcript.backend, transcript.duration) == ("我想补办社保卡", "funasr", 1.0)
    (start,) = fake.starts
    assert start["mode"] == "offline" and start["is_speaking"] is True
    assert (start["wav_format"], start["audio_fs"], start["chunk_size"], start["itn"]) == (
        "pcm",
        16000,
        [5, 10, 5],
        True,
    )
    assert start["wav_name"].startswith("zhiban-")
    # hotwords travel as a JSON *string* of word → weight, as the protocol wants
    assert json.loads(start["hotwords"]) == {"社保卡": 20, "公积金": 20}
    # one second resampled to 16 kHz s16, in 60 ms messages, then the end flag
    assert fake.audio_bytes == 32000 and fake.ends == 1
    assert {len(a) for a in fake.audio[:-1]} == {1920}


def test_without_hotwords_none_are_sent() -> None:
    fake = FakeFunAsr()
    scenario(fake, lambda f: recognizer(f).transcribe(SECOND_8K))
    assert "hotwords" not in fake.starts[0]


def test_traditional_characters_and_full_width_text_are_normalised() -> None:
    fake = FakeFunAsr(text="我想補辦社保卡，ＡＢＣ")
    # as typed chat is normalised: NFKC (full-width → half-width) and 繁→简
    assert scenario(fake, lambda f: recognizer(f).transcribe(SECOND_8K)).text == "我想补办社保卡,ABC"


def test_online_mode_streams_partials_that_add_up_to_the_text() -> None:
    fake = FakeFunAsr(text="公积金租房提取怎么办理")
    partials: list[str] = []

    async def body(fake: FakeFunAsr) -> str:
        async with recognizer(fake, mode="online").session(partials.append) as session:
            for frame in chunks(Pcm(SECOND_8K.samples * 2, 8000), 20):  # the phone's 20 ms frames
                await session.feed(Pcm(frame, 8000))
                await asyncio.sleep(0)
            return await session.finish()

    assert scenario(fake, body) == "公积金租房提取怎么办理"
    assert fake.starts[0]["mode"] == "online"
    assert len(partials) >= 2 and partials[-1] == "公积金租房提取怎么办理"
    assert all(partials[-1].startswith(p) for p in partials)  # each partial extends the previous one


def test_two_pass_mode_keeps_the_corrected_sentence_not_the_previews() -> None:
    fake = FakeFunAsr(text="外地人怎么办居住证")

    async def body(fake: FakeFunAsr) -> str:
        async with recognizer(fake, mode="2pass").session() as session:
            for frame in chunks(Pcm(SECOND_8K.samples * 2, 8000), 20):
                await session.feed(Pcm(frame, 8000))
                await asyncio.sleep(0)
            return await session.finish()

    assert scenario(fake, body) == "外地人怎么办居住证"


@pytest.mark.parametrize(
    ("behaviour", "fragment"),
    [
        ("reject", "connecting"),  # the handshake is refused with HTTP 500
        ("close", "closed the connection"),  # the server drops the connection after the start message
        ("garbage", "malformed result"),  # an HTML error page instead of JSON
        ("binary", "binary data"),
        ("no_text", "without text"),
        ("silent", "no final result within"),  # never answers: the timeout ends the wait
    ],
)
def test_server_failures_are_asr_unavailable(behaviour: str, fragment: str) -> None:
    fake = FakeFunAsr(behaviour=behaviour)
    started = time.monotonic()
    with pytest.raises(AsrUnavailable) as caught:
        scenario(fake, lambda f: recognizer(f, timeout=0.5).transcribe(SECOND_8K))
    assert fragment in str(caught.value)
    assert fake.url in caught.value.context
    assert time.monotonic() - started < 5


def test_nothing_listening_is_asr_unavailable() -> None:
    config = FunAsrConfig(url=f"ws://127.0.0.1:{free_port()}", timeout=1.0)
    with pytest.raises(AsrUnavailable, match="connecting"):
        asyncio.run(FunAsrRecognizer(config).transcribe(SECOND_8K))


def test_the_settings_choose_funasr_with_the_knowledge_base_hotwords(settings: Settings) -> None:
    custom = settings.model_copy(
        update={"asr_backend": "funasr", "asr_funasr_url": "ws://asr.example:10095", "asr_funasr_mode": "2pass"}
    )
    made = make_recognizer(custom)
    assert isinstance(made, FunAsrRecognizer) and isinstance(made, Recognizer)
    assert (made.config.url, made.config.mode, made.config.timeout) == ("ws://asr.example:10095", "2pass", 10.0)
    assert {"社保卡", "公积金", "高龄津贴"} <= set(made.config.hotwords)
    without = make_recognizer(custom.model_copy(update={"asr_hotwords": False}))
    assert isinstance(without, FunAsrRecognizer) and without.config.hotwords == ()


@pytest.mark.parametrize("url", ["http://127.0.0.1:10095", "127.0.0.1:10095", ""])
def test_a_funasr_url_must_be_a_websocket_url(url: str) -> None:
    with pytest.raises(ValueError, match="ws://"):
        Settings(asr_funasr_url=url)


def test_phone_frames_are_resampled_as_one_stream() -> None:
    # 20 ms frames at 8 kHz, resampled one by one, would click at every frame boundary
    t = np.arange(8000) / 8000
    tone = Pcm((0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes(), 8000)
    fake = FakeFunAsr()

    async def body(fake: FakeFunAsr) -> str:
        async with recognizer(fake).session() as session:
            for frame in chunks(tone, 20):
                await session.feed(Pcm(frame, 8000))
            return await session.finish()

    scenario(fake, body)
    sent = np.frombuffer(b"".join(fake.audio), dtype="<i2").astype(np.int32)
    whole = resample(tone, 16000).array().astype(np.int32)
    assert len(sent) == len(whole)
    assert np.max(np.abs(sent - whole)) < 200  # the same stream, give or take rounding
