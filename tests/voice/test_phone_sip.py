"""The SIP endpoint answering a real SIP call on loopback, placed by a pjsua2 caller in another process.

Speech is faked (a tone for the assistant's voice, a fixed transcript for the caller's), so the test is about SIP:
answering, the call's audio both ways through the media port, RFC 2833 keys, hang-up and the release of the call.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import Settings
from tests.utils.net import free_ports
from tests.voice.phone_doubles import (
    EnergyEndpointer,
    FixedRecognizer,
    ScriptedRasa,
    ToneSynthesizer,
    fake_redact,
    rms,
    tone,
)
from voice.audio import read_wav, to_wav
from voice.phone.dialogue import PhoneServices
from voice.phone.sip import SipError, SipPhone, items, vector_bytes

CALLER = Path(__file__).with_name("sip_caller.py")


def sip_settings(settings: Settings, **extra: Any) -> Settings:
    (port,) = free_ports(1)
    return settings.model_copy(
        update={"sip_host": "127.0.0.1", "sip_port": port, "phone_silence_seconds": 8.0, **extra}
    )


def services(settings: Settings, rasa: ScriptedRasa, recognizer: FixedRecognizer) -> PhoneServices:
    return PhoneServices(
        settings=settings,
        synthesizer=ToneSynthesizer(),
        recognizer=recognizer,
        rasa=rasa,
        redact=fake_redact,
        endpointer=lambda rate: EnergyEndpointer(rate),
    )


async def place_call(settings: Settings, *args: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(CALLER), "--uri", f"sip:zhiban@127.0.0.1:{settings.sip_port}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_a_call_is_answered_heard_answered_repeated_on_star_and_released(settings: Settings, tmp_path: Path) -> None:
    phone_settings = sip_settings(settings)
    question = tmp_path / "question.wav"
    question.write_bytes(to_wav(tone(1.5, 8000, hz=300, amplitude=6000)))
    recording = tmp_path / "heard.wav"
    rasa = ScriptedRasa()
    recognizer = FixedRecognizer()

    async def scenario() -> tuple[dict[str, Any], SipPhone]:
        phone = SipPhone(phone_settings, services(phone_settings, rasa, recognizer))
        await phone.start()
        try:
            # greeting ≈ 2.4 s of tone; the question at 3 s; the answer; * at 8 s repeats it; hang up at 11 s
            result = await place_call(
                phone_settings, "--play", str(question), "--play-after", "3", "--record", str(recording),
                "--dtmf", "*@8", "--duration", "11",
            )  # fmt: skip
            for _ in range(100):
                if not phone.stats.active:
                    break
                await asyncio.sleep(0.05)
            return result, phone
        finally:
            await phone.stop()

    result, phone = asyncio.run(scenario())
    assert result["connected"] and result["hung_up_by"] == "caller"
    assert phone.stats.active == 0 and phone.stats.answered == 1
    (record,) = phone.records
    assert record.outcome == "caller_hung_up"
    # the caller's 1.5 s question reached the endpointer whole (plus its 0.5 s tail)
    assert len(recognizer.durations) == 1 and 1.5 <= recognizer.durations[0] <= 2.6
    assert [r["message"] for r in rasa.received] == ["社保卡丢了怎么补办"]
    assert record.said[-1] == record.said[-2] == "关于“社保卡丢了怎么补办”的回答。"  # * repeated the answer
    heard = read_wav(recording)
    assert heard.duration > 9
    second = heard.rate
    greeting = heard.__class__(heard.samples[: 2 * 2 * second], heard.rate)
    assert rms(greeting) > 1000  # the greeting's tone came through the call
    assert not phone._calls


@pytest.mark.slow
def test_calls_beyond_the_limit_are_refused_busy(settings: Settings) -> None:
    phone_settings = sip_settings(settings, sip_max_calls=1)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], SipPhone]:
        phone = SipPhone(phone_settings, services(phone_settings, ScriptedRasa(), FixedRecognizer()))
        await phone.start()
        try:
            first = asyncio.create_task(place_call(phone_settings, "--duration", "3"))
            await asyncio.sleep(1.0)
            second = await place_call(phone_settings, "--duration", "1")
            return await first, second, phone
        finally:
            await phone.stop()

    first, second, phone = asyncio.run(scenario())
    assert first["connected"]
    assert not second["connected"] and second["status"] == 486
    assert phone.stats.refused == 1


def test_a_taken_port_is_reported_as_a_sip_error(settings: Settings) -> None:
    import socket

    phone_settings = sip_settings(settings)
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", phone_settings.sip_port))

    async def scenario() -> None:
        phone = SipPhone(phone_settings, services(phone_settings, ScriptedRasa(), FixedRecognizer()))
        await phone.start()

    try:
        with pytest.raises(SipError, match=str(phone_settings.sip_port)):
            asyncio.run(scenario())
    finally:
        blocker.close()


@pytest.mark.parametrize("data", [b"", b"\x01", bytes(range(256)) + bytes(64), bytes(640)])
def test_audio_is_read_from_pjsua2_vectors_without_swig_iterators(data: bytes) -> None:
    import pjsua2 as pj  # type: ignore[import-untyped]

    frame = pj.MediaFrame()
    frame.buf = pj.ByteVector(data)
    assert vector_bytes(frame.buf) == data
    assert [b for b in items(pj.ByteVector(data))] == list(data)
