"""The conversation loop of one phone call, independent of how the audio travels (SIP or a switch's audio stream).

A call goes: greeting → listen (voice-activity endpointing) → speech recognition → Rasa → speech → listen … until the
caller hangs up, says goodbye, stays silent twice, or is handed to a person. Elder-friendly throughout: the slow
"elder" voice, "再说一遍" (or the * key) repeats the last answer without asking Rasa, numbers and dates the caller gives
are read back for confirmation before they are used, and 0 hands the call to a person (the assistant opens a ticket
with a summary; the call is transferred when ``phone_transfer_uri`` is set, otherwise the caller is told that staff
will call back). Barge-in is not supported: the caller's audio is ignored while the assistant speaks, but a key press
stops the playback at once.

The transport is a :class:`CallChannel`; the transport feeds caller events (:class:`Audio`, :class:`Key`,
:class:`HangUp`) into :meth:`PhoneDialogue.deliver` from the event loop's thread. Every path ends in
:meth:`PhoneDialogue.run`'s ``finally``: pending synthesis is cancelled, the channel is hung up if still up and
closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from assistant.settings import Settings
from channels.errors import AssistantUnavailable
from voice.audio import Pcm, resample
from voice.phone.spoken import (
    PROMPTS,
    Choice,
    Fact,
    choice_from_speech,
    confirmation,
    is_repeat_request,
    key_facts,
    read_back,
    spoken_reply,
)
from voice.speech_text import for_speech

log = logging.getLogger(__name__)

#: What a caller says to be handed to a person (Rasa's handoff intent understands it).
HANDOFF_MESSAGE = "转人工"
#: Rasa's intent when the caller says goodbye.
GOODBYE_INTENT = "goodbye"


# --- what the dialogue needs from the outside ------------------------------------------------------------------------
class SpeechLike(Protocol):
    @property
    def audio(self) -> bytes: ...
    @property
    def rate(self) -> int: ...
    @property
    def fmt(self) -> str: ...


class SynthesizerLike(Protocol):
    """:class:`voice.tts.Synthesizer`: ``speak`` takes text already prepared by :func:`voice.speech_text.for_speech`."""

    async def speak(self, spoken: str, profile: Any, fmt: Any, rate: int | None) -> Any: ...


class TranscriptLike(Protocol):
    @property
    def text(self) -> str: ...


class RecognizerLike(Protocol):
    async def transcribe(self, pcm: Pcm) -> Any: ...


class RasaLike(Protocol):
    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]: ...
    async def tracker(self, sender: str, *, events: str = "ALL") -> dict[str, Any]: ...


class Endpointer(Protocol):
    """Finds one utterance in a stream of audio chunks (see :mod:`voice.phone.listen`)."""

    @property
    def started(self) -> bool:
        """Whether speech has begun (the silence timeout no longer applies)."""
        ...

    def feed(self, chunk: Pcm) -> Pcm | None:
        """Add a chunk; the utterance once its end is detected, else None."""
        ...

    def finish(self) -> Pcm | None:
        """The utterance so far (the caller spoke too long), or None if there was no speech."""
        ...


class CallChannel(Protocol):
    """One call's transport: plays audio to the caller and controls the call. Caller events arrive separately."""

    @property
    def rate(self) -> int:
        """Sample rate of the audio in both directions."""
        ...

    async def play(self, pcm: Pcm) -> None:
        """Queue audio for the caller (returns before it has been heard)."""
        ...

    async def wait_played(self) -> None:
        """Return when everything queued has been played."""
        ...

    async def stop_playing(self) -> None:
        """Drop the audio not yet played."""
        ...

    async def transfer(self, uri: str) -> bool:
        """Hand the call to ``uri``; True when the other side accepted it (the call then ends for us)."""
        ...

    async def hang_up(self) -> None: ...

    async def close(self) -> None:
        """Release the transport's resources (called once, last)."""
        ...


@dataclass(frozen=True)
class Audio:
    pcm: Pcm


@dataclass(frozen=True)
class Key:
    digit: str


@dataclass(frozen=True)
class HangUp:
    pass


CallEvent = Audio | Key | HangUp


@dataclass
class PhoneServices:
    """What every call shares: settings, speech in and out, Rasa, the vault and the endpointer factory."""

    settings: Settings
    synthesizer: SynthesizerLike
    recognizer: RecognizerLike
    rasa: RasaLike
    #: (conversation id, text) → text with long numbers replaced by vault placeholders
    redact: Callable[[str, str], Awaitable[str]]
    #: sample rate → a fresh endpointer for one utterance
    endpointer: Callable[[int], Endpointer]


# --- results ----------------------------------------------------------------------------------------------------------
@dataclass
class TurnTiming:
    """Monotonic timestamps and durations (seconds) of one turn, for the latency benchmark."""

    endpoint_at: float = 0.0  # the endpointer reported the end of the utterance
    vad_tail: float = 0.0  # audio between the end of the speech and its detection (the endpointer's ``tail``)
    asr: float = 0.0
    rasa: float = 0.0
    tts_first: float = 0.0  # synthesis of the first sentence
    first_audio_at: float = 0.0  # the first audio of the answer was queued for the caller
    text: str = ""


Outcome = Literal["caller_hung_up", "goodbye", "silence", "transferred", "handed_off", "unavailable"]


@dataclass
class CallRecord:
    """What happened in a call (for logs and tests)."""

    sender: str
    outcome: Outcome | None = None
    said: list[str] = field(default_factory=list)  # everything the assistant said, in order
    heard: list[str] = field(default_factory=list)  # what the recogniser heard
    ticket: str = ""
    turns: list[TurnTiming] = field(default_factory=list)


class CallEnded(Exception):
    """The caller hung up; unwinds the dialogue to its cleanup."""


def sender_for(call_id: str) -> str:
    """Rasa's sender id for a call: stable per call, without the call id's own characters (SIP Call-IDs hold hosts)."""
    return "phone-" + hashlib.sha256(call_id.encode("utf-8")).hexdigest()[:24]


# --- the loop -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Heard:
    kind: Literal["speech", "key", "silence"]
    text: str = ""
    timing: TurnTiming | None = None


class PhoneDialogue:
    """The conversation of one call. Create it, connect the transport's events to :meth:`deliver`, await :meth:`run`."""

    def __init__(self, services: PhoneServices, channel: CallChannel, call_id: str) -> None:
        self.services = services
        self.settings = services.settings
        self.channel = channel
        self.record = CallRecord(sender_for(call_id))
        self._events: asyncio.Queue[CallEvent] = asyncio.Queue()
        self._listening = False
        self._interrupt = asyncio.Event()
        self._hung_up = False
        self._last_answer = ""
        self._choices: tuple[Choice, ...] = ()
        self._pending: list[Fact] = []  # facts read back, waiting for 对 / 不对
        self._pending_text = ""
        self._failures = 0  # Rasa failures in a row
        self._tasks: set[asyncio.Task[Any]] = set()

    # events from the transport (on the event loop's thread)
    def deliver(self, event: CallEvent) -> None:
        """Take one caller event. Audio is kept only while listening (no barge-in); keys and hang-up interrupt speech."""
        if isinstance(event, Audio):
            if self._listening:
                self._events.put_nowait(event)
            return
        if isinstance(event, HangUp):
            self._hung_up = True
        self._events.put_nowait(event)
        self._interrupt.set()

    @property
    def metadata(self) -> dict[str, Any]:
        return {"elder": True, "channel": "phone"}

    async def run(self) -> CallRecord:
        """Hold the conversation until it ends; never raises for a caller's behaviour or a failing backend."""
        try:
            await self._converse()
        except CallEnded:
            self.record.outcome = self.record.outcome or "caller_hung_up"
        except Exception:
            log.exception("phone call %s failed", self.record.sender)
            self.record.outcome = self.record.outcome or "unavailable"
        finally:
            await self._release()
        log.info(
            "phone call %s ended: %s after %d turns", self.record.sender, self.record.outcome, len(self.record.turns)
        )
        return self.record

    async def _release(self) -> None:
        self._listening = False
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        self._tasks.clear()
        if not self._hung_up:
            with contextlib.suppress(Exception):
                await self.channel.stop_playing()
            with contextlib.suppress(Exception):
                await self.channel.hang_up()
        with contextlib.suppress(Exception):
            await self.channel.close()
        while not self._events.empty():
            self._events.get_nowait()

    async def _converse(self) -> None:
        await self.say(PROMPTS["greeting"])
        silences = 0
        while True:
            heard = await self._listen()
            if heard.kind == "silence":
                silences += 1
                if silences >= 2:
                    await self.say(PROMPTS["goodbye_silent"])
                    self.record.outcome = "silence"
                    return
                await self.say(PROMPTS["still_there"])
                continue
            silences = 0
            if await self._respond(heard):
                return

    async def _respond(self, heard: _Heard) -> bool:
        """Act on what the caller said or pressed; True when the call is over."""
        if self._pending:
            return await self._confirm(heard)
        if heard.kind == "key":
            return await self._key(heard.text)
        text = heard.text
        if not text:
            await self.say(PROMPTS["not_heard"])
            return False
        if is_repeat_request(text):
            await self.say(self._last_answer or PROMPTS["nothing_to_repeat"], remember=False)
            return False
        chosen = choice_from_speech(text, self._choices) if self._choices else None
        if chosen is not None:
            return await self._ask(self._choices[chosen].payload, heard.timing)
        facts = key_facts(text)
        if facts:
            self._pending, self._pending_text = facts, text
            await self.say(read_back(facts), remember=False)
            return False
        return await self._ask(text, heard.timing)

    async def _confirm(self, heard: _Heard) -> bool:
        """The caller's answer to a read-back: 对/1 sends the message, 不对/2 asks again, a new number is read back."""
        if heard.kind == "key":
            answer = {"1": True, "2": False}.get(heard.text)
            if answer is None and heard.text == "0":
                self._pending = []
                return await self._key("0")
        else:
            answer = confirmation(heard.text)
            if answer is None and key_facts(heard.text):
                self._pending = []  # the caller said the number again instead: read the new one back
                return await self._respond(heard)
        if answer is None:
            await self.say(read_back(self._pending), remember=False)
            return False
        text, self._pending = self._pending_text, []
        if answer:
            return await self._ask(text, heard.timing)
        await self.say(PROMPTS["confirmed_no"])
        return False

    async def _key(self, digit: str) -> bool:
        """Act on a key outside a confirmation; True when the call is over."""
        if digit == "*":
            await self.say(self._last_answer or PROMPTS["greeting"], remember=False)
            return False
        if digit == "0":
            await self.say(PROMPTS["transferring"])
            return await self._ask(HANDOFF_MESSAGE, None)
        if digit.isdigit() and self._choices:
            index = int(digit) - 1
            if 0 <= index < len(self._choices):
                return await self._ask(self._choices[index].payload, None)
            await self.say(PROMPTS["no_such_choice"] + self._last_answer, remember=False)
        return False

    async def _ask(self, text: str, timing: TurnTiming | None) -> bool:
        """Send ``text`` to Rasa and speak the answer; True when the call is over."""
        sender = self.record.sender
        timing = timing or TurnTiming()
        started = time.monotonic()
        try:
            message = await self.services.redact(sender, text)
            messages = await self.services.rasa.send(sender, message, metadata=self.metadata)
        except AssistantUnavailable as exc:
            log.warning("phone call %s: assistant unavailable: %s", sender, exc.context)
            self._failures += 1
            if self._failures >= 2:
                await self.say(PROMPTS["unavailable_goodbye"])
                self.record.outcome = "unavailable"
                return True
            await self.say(PROMPTS["unavailable"])
            return False
        self._failures = 0
        timing.rasa = time.monotonic() - started
        timing.text = text
        spoken = spoken_reply(messages)
        log.info("phone call %s answered: %s", sender, " ".join(spoken.text.split())[:120])
        self._choices = spoken.choices
        self.record.turns.append(timing)  # filled in while the answer is spoken (the caller may hang up meanwhile)
        await self.say(spoken.text or PROMPTS["empty_answer"], timing=timing)
        log.info(
            "phone call %s turn: vad tail %.2f s, asr %.2f s, rasa %.2f s, tts first audio %.2f s",
            sender, timing.vad_tail, timing.asr, timing.rasa, timing.tts_first,
        )  # fmt: skip
        if spoken.ticket:
            self.record.ticket = spoken.ticket
            await self._hand_over()
            return True
        if await self._said_goodbye():
            self.record.outcome = "goodbye"
            return True
        return False

    async def _hand_over(self) -> None:
        uri = self.settings.phone_transfer_uri
        if uri:
            await self.channel.wait_played()
            if await self.channel.transfer(uri):
                self.record.outcome = "transferred"
                self._hung_up = True  # the call now belongs to the person it was transferred to
                return
            log.warning("phone call %s: transfer to %s failed", self.record.sender, uri)
        await self.say(PROMPTS["no_agent"])
        self.record.outcome = "handed_off"

    async def _said_goodbye(self) -> bool:
        try:
            tracker = await self.services.rasa.tracker(self.record.sender, events="NONE")
        except AssistantUnavailable:
            return False
        intent = (tracker.get("latest_message") or {}).get("intent") or {}
        return isinstance(intent, dict) and intent.get("name") == GOODBYE_INTENT

    # speaking ------------------------------------------------------------------------------------------------------
    async def say(self, text: str, *, remember: bool = True, timing: TurnTiming | None = None) -> None:
        """Speak ``text`` sentence by sentence (the next sentence is synthesised while one plays) and wait until it has
        been heard, or a key or hang-up interrupts it."""
        if self._hung_up:
            raise CallEnded
        sentences = for_speech(text, sources=False)
        if not sentences:
            return
        self.record.said.append(text)
        if remember and text not in PROMPTS.values():
            self._last_answer = text
        if self._events.empty():
            self._interrupt.clear()  # a key pressed while the assistant was thinking cuts this speech short at once
        next_audio = self._spawn(self._synthesize(sentences[0]))
        for i in range(len(sentences)):
            started = time.monotonic()
            pcm = await self._until_interrupted(next_audio)
            if pcm is None:
                break
            if i == 0 and timing is not None:
                timing.tts_first = time.monotonic() - started
                timing.first_audio_at = time.monotonic()
            if i + 1 < len(sentences):
                next_audio = self._spawn(self._synthesize(sentences[i + 1]))
            await self.channel.play(pcm)
        else:
            await self._until_interrupted(self._spawn(self.channel.wait_played()))
        if self._interrupt.is_set():
            await self.channel.stop_playing()
        if self._hung_up:
            raise CallEnded

    async def _synthesize(self, sentence: str) -> Pcm:
        speech = await self.services.synthesizer.speak(sentence, "elder", "pcm", self.channel.rate)
        pcm = Pcm(speech.audio, speech.rate)
        return pcm if pcm.rate == self.channel.rate else resample(pcm, self.channel.rate)

    def _spawn(self, awaitable: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _until_interrupted(self, task: asyncio.Task[Any]) -> Any:
        """The task's result, or None (task cancelled) when a key or hang-up comes first."""
        waiter = self._spawn(self._interrupt.wait())
        try:
            done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if task in done:
            return task.result()
        task.cancel()
        return None

    # listening -----------------------------------------------------------------------------------------------------
    async def _listen(self) -> _Heard:
        """The caller's next utterance (transcribed), key, or silence (nothing for ``phone_silence_seconds``)."""
        if self._hung_up:
            raise CallEnded
        endpointer = self.services.endpointer(self.channel.rate)
        self._listening = True
        deadline = time.monotonic() + self.settings.phone_silence_seconds
        try:
            while True:
                timeout = deadline - time.monotonic()
                try:
                    event = await asyncio.wait_for(self._events.get(), timeout=max(timeout, 0.0))
                except TimeoutError:
                    if endpointer.started:
                        utterance = endpointer.finish()
                        if utterance is not None:
                            return await self._transcribe(utterance, endpointer)
                    return _Heard("silence")
                if isinstance(event, HangUp):
                    raise CallEnded
                if isinstance(event, Key):
                    return _Heard("key", event.digit)
                was_started = endpointer.started
                utterance = endpointer.feed(event.pcm)
                if utterance is not None:
                    return await self._transcribe(utterance, endpointer)
                if endpointer.started and not was_started:
                    # the endpointer cuts long utterances itself; this only guards against a stalled audio stream
                    deadline = time.monotonic() + self.settings.asr_vad_max_utterance_s + 2.0
        finally:
            self._listening = False

    async def _transcribe(self, utterance: Pcm, endpointer: Endpointer) -> _Heard:
        timing = TurnTiming(endpoint_at=time.monotonic(), vad_tail=float(getattr(endpointer, "tail", 0.0)))
        self._listening = False
        started = time.monotonic()
        transcript = await self.services.recognizer.transcribe(utterance)
        timing.asr = time.monotonic() - started
        text = str(transcript.text).strip()
        self.record.heard.append(text)
        log.info("phone call %s heard: %s", self.record.sender, text)
        return _Heard("speech", text, timing)


__all__: Sequence[str] = [
    "Audio",
    "CallChannel",
    "CallEvent",
    "CallRecord",
    "Endpointer",
    "HangUp",
    "Key",
    "PhoneDialogue",
    "PhoneServices",
    "TurnTiming",
    "sender_for",
]
