"""Scripted stand-ins for a phone call's parts: speech in and out, Rasa, the endpointer and the call's transport.

The fake recogniser "hears" text that the fake caller packed into the audio bytes, so a test says what the caller
says in plain Chinese and checks what the assistant said (``CallRecord.said``) and sent to Rasa.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.settings import Settings
from channels.errors import AssistantUnavailable
from voice.audio import Pcm
from voice.phone.dialogue import Audio, CallEvent, HangUp, Key, PhoneDialogue, PhoneServices


def speech_pcm(text: str, rate: int = 8000) -> Pcm:
    """Audio that the fake recogniser hears as ``text``."""
    data = text.encode("utf-8")
    return Pcm(data + b"\0" * (len(data) % 2), rate)


@dataclass(frozen=True)
class FakeSpeech:
    audio: bytes
    rate: int
    fmt: str = "pcm"
    backend: str = "fake"
    text_spoken: str = ""


@dataclass
class FakeSynthesizer:
    """10 ms of silence per character, at the rate asked for; records each request."""

    requests: list[tuple[str, str, str, int | None]] = field(default_factory=list)
    delay: float = 0.0

    async def speak(self, text: str, profile: str, fmt: str, rate: int | None) -> Any:
        self.requests.append((text, profile, fmt, rate))
        if self.delay:
            await asyncio.sleep(self.delay)
        out_rate = rate or 16000
        return FakeSpeech(bytes(2 * out_rate // 100 * len(text)), out_rate, fmt, "fake", text)


@dataclass(frozen=True)
class FakeTranscript:
    text: str
    backend: str = "fake"
    duration: float = 0.0
    seconds_taken: float = 0.0


@dataclass
class FakeRecognizer:
    heard: list[int] = field(default_factory=list)  # sample rates of what it was given

    async def transcribe(self, pcm: Pcm) -> Any:
        self.heard.append(pcm.rate)
        return FakeTranscript(pcm.samples.rstrip(b"\0").decode("utf-8", errors="replace"))


class FakeEndpointer:
    """Every chunk with any non-zero byte is one whole utterance."""

    started = False

    def feed(self, chunk: Pcm) -> Pcm | None:
        return chunk if chunk.samples.strip(b"\0") else None

    def finish(self) -> Pcm | None:
        return None


@dataclass
class ScriptedRasa:
    """Answers with ``reply(text)``; "再见" makes the tracker report the goodbye intent; ``down`` fails every send."""

    reply: Callable[[str], list[dict[str, Any]]] = lambda text: [{"text": f"关于“{text}”的回答。"}]
    down: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        if self.down:
            raise AssistantUnavailable(context="scripted: Rasa down")
        self.received.append({"sender": sender, "message": text, "metadata": metadata})
        return self.reply(text)

    async def tracker(self, sender: str, *, events: str = "ALL") -> dict[str, Any]:
        last = self.received[-1]["message"] if self.received else ""
        intent = "goodbye" if "再见" in last else "ask_service"
        return {"sender_id": sender, "latest_message": {"text": last, "intent": {"name": intent}}}


async def fake_redact(conversation_id: str, text: str) -> str:
    return re.sub(r"\d{11,}", "〔号码#00000000〕", text)


#: One thing the caller does after the assistant has finished speaking.
Step = tuple[str, ...]  # ("say", text) | ("key", digit) | ("silence",) | ("hangup",)


@dataclass
class FakeCall:
    """The transport of one call: collects played audio and calls, and plays the caller's part of ``script``.

    When the assistant has finished speaking (``wait_played``) and listens again, the next step is delivered; when
    the script is used up the caller hangs up.
    """

    script: list[Step]
    rate: int = 8000
    played: list[Pcm] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    transfer_ok: bool = True
    dialogue: PhoneDialogue | None = None
    closed: int = 0
    _waiting: asyncio.Future[None] | None = None

    def _next(self) -> None:
        """Deliver the next step as soon as the dialogue listens again (a say may be followed by more says)."""
        if self._waiting is None or self._waiting.done():
            self._waiting = asyncio.ensure_future(self._deliver_when_listening())

    async def _deliver_when_listening(self) -> None:
        assert self.dialogue is not None
        while not self.dialogue._listening:
            await asyncio.sleep(0.005)
        if not self.script:
            self.dialogue.deliver(HangUp())
            return
        step = self.script.pop(0)
        event: CallEvent | None
        if step[0] == "say":
            event = Audio(speech_pcm(step[1], self.rate))
        elif step[0] == "key":
            event = Key(step[1])
        elif step[0] == "hangup":
            event = HangUp()
        else:
            event = None  # silence: nothing at all
        if event is not None:
            self.dialogue.deliver(event)

    async def play(self, pcm: Pcm) -> None:
        assert pcm.rate == self.rate
        self.played.append(pcm)

    async def wait_played(self) -> None:
        await asyncio.sleep(0)
        self._next()

    async def stop_playing(self) -> None:
        self.actions.append("stop_playing")

    async def transfer(self, uri: str) -> bool:
        self.actions.append(f"transfer {uri}")
        return self.transfer_ok

    async def hang_up(self) -> None:
        self.actions.append("hang_up")

    async def close(self) -> None:
        self.closed += 1


def phone_services(settings: Settings, rasa: Any, synthesizer: Any = None, recognizer: Any = None) -> PhoneServices:
    return PhoneServices(
        settings=settings,
        synthesizer=synthesizer or FakeSynthesizer(),
        recognizer=recognizer or FakeRecognizer(),
        rasa=rasa,
        redact=fake_redact,
        endpointer=lambda rate: FakeEndpointer(),
    )


async def run_call(
    settings: Settings, script: Sequence[Step], rasa: Any = None, **call_options: Any
) -> tuple[Any, FakeCall, Any]:
    """Run one scripted call to its end; returns (record, call, rasa)."""
    rasa = rasa or ScriptedRasa()
    call = FakeCall(list(script), **call_options)
    dialogue = PhoneDialogue(phone_services(settings, rasa), call, "call-1@10.0.0.1")
    call.dialogue = dialogue
    record = await asyncio.wait_for(dialogue.run(), timeout=10)
    return record, call, rasa


# --- real audio, fake understanding (for the SIP and audio-stream tests) ---------------------------------------------
def tone(seconds: float, rate: int = 8000, hz: float = 440.0, amplitude: int = 8000) -> Pcm:
    """A sine tone: audible, and easy to tell from silence by its energy."""
    import numpy as np

    t = np.arange(round(seconds * rate)) / rate
    return Pcm((amplitude * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes(), rate)


def rms(pcm: Pcm) -> float:
    import numpy as np

    samples = pcm.array().astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


@dataclass
class ToneSynthesizer:
    """30 ms of a 440 Hz tone per character: the caller hears that the assistant spoke, and for how long."""

    seconds_per_char: float = 0.03
    requests: list[str] = field(default_factory=list)

    async def speak(self, text: str, profile: str, fmt: str, rate: int | None) -> Any:
        self.requests.append(text)
        pcm = tone(self.seconds_per_char * len(text), rate or 16000)
        return FakeSpeech(pcm.samples, pcm.rate, fmt, "tone", text)


@dataclass
class FixedRecognizer:
    """Hears ``text`` in any audio; keeps the length of each utterance it was given."""

    text: str = "社保卡丢了怎么补办"
    durations: list[float] = field(default_factory=list)

    async def transcribe(self, pcm: Pcm) -> Any:
        self.durations.append(pcm.duration)
        return FakeTranscript(self.text, duration=pcm.duration)


class EnergyEndpointer:
    """A plain energy endpointer: speech after 60 ms above ``threshold``, the end after ``tail`` seconds below it."""

    def __init__(self, rate: int, threshold: float = 500.0, tail: float = 0.5) -> None:
        self.rate, self.threshold, self.tail = rate, threshold, tail
        self.started = False
        self._voiced = 0
        self._quiet = 0.0
        self._buffer = bytearray()

    def feed(self, chunk: Pcm) -> Pcm | None:
        loud = rms(chunk) > self.threshold
        if not self.started:
            self._voiced = self._voiced + 1 if loud else 0
            self._buffer += chunk.samples
            if self._voiced * chunk.duration >= 0.06:
                self.started = True
                keep = 2 * round(0.2 * self.rate)
                self._buffer = self._buffer[-keep:]
            else:
                self._buffer = self._buffer[-2 * round(0.2 * self.rate) :]
            return None
        self._buffer += chunk.samples
        self._quiet = 0.0 if loud else self._quiet + chunk.duration
        if self._quiet >= self.tail:
            return Pcm(bytes(self._buffer), self.rate)
        return None

    def finish(self) -> Pcm | None:
        return Pcm(bytes(self._buffer), self.rate) if self.started else None
