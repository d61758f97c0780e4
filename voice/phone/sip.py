"""The SIP endpoint: answers calls with pjsua2 (PyPI ``pjsua2-python`` 2.15) and runs a :class:`PhoneDialogue` per call.

Threads::

    pj thread      creates the pjsua2 Endpoint, polls SIP events (``libHandleEvents``) and runs every pjsua2 call the
                   rest of the program asks for (answer, hang up, transfer, port clean-up), so that pjsua2 objects are
                   only touched and destroyed where they were made
    media clock    pjmedia's own thread (the null sound device's clock): calls each call's :class:`CallPort` every
                   20 ms to take the caller's audio and to give the assistant's
    event loop     asyncio (the caller of :meth:`SipPhone.start`): the dialogues; registered with pj
                   (``libRegisterThread``) in case a pjsua2 object is released there

There is no sound card: the endpoint uses pjmedia's null audio device, and each call's audio goes through a custom
media port (:class:`CallPort`, an ``AudioMediaPort`` subclass; the SWIG director calls ``onFrameReceived`` and
``onFrameRequested`` from the media clock) connected both ways to the call in the conference bridge. The bridge
converts between the codec's rate (PCMU/PCMA 8 kHz, G.722 16 kHz) and the port's ``sip_rate``. DTMF arrives as
RFC 2833 events (``onDtmfDigit``). Calls beyond ``sip_max_calls`` are refused with 486 Busy Here.

Exception tree::

    SipError        the endpoint could not start (port taken, bad address) or a call operation failed
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

import pjsua2 as pj  # type: ignore[import-untyped]  # no type information shipped

from assistant.settings import Settings
from voice.audio import Pcm, resample
from voice.phone.dialogue import Audio, CallRecord, HangUp, Key, PhoneDialogue, PhoneServices

log = logging.getLogger(__name__)

T = TypeVar("T")

FRAME_MS = 20
#: Codec preference: G.711 first (every PBX has it), G.722 for wideband; the rest are switched off.
CODEC_PRIORITIES = {"PCMU/8000/1": 255, "PCMA/8000/1": 254, "G722/16000/1": 253}
#: Seconds to wait for a REFER's final NOTIFY before the transfer counts as failed.
TRANSFER_TIMEOUT = 15.0


class SipError(RuntimeError):
    """The SIP endpoint could not start, or a call operation failed; ``context`` has pjsua2's words."""

    def __init__(self, message: str, *, context: str = "") -> None:
        self.context = context
        super().__init__(f"{message} ({context})" if context else message)


# --- SWIG vectors without SWIG iterators ----------------------------------------------------------------------------
# Two SWIG modules in one process share SWIG's runtime type table, and the first one loaded owns "SwigPyIterator": with
# faiss loaded first (the knowledge search), iterating a pjsua2 vector runs faiss's iterator code, which releases the GIL
# and crashes. So vectors are read by index, and the audio bytes straight from the vector's buffer.


def items(vector: Any) -> list[Any]:
    """The elements of a pjsua2 vector, read by index (never through a SWIG iterator). Keep ``vector`` alive while
    using them: they point into it."""
    return [vector[i] for i in range(len(vector))]


_POINTER = ctypes.sizeof(ctypes.c_void_p)


def vector_bytes(vector: Any) -> bytes:
    """The contents of a pjsua2 ``ByteVector`` (a ``std::vector<unsigned char>``) as bytes, copied from its buffer.

    libstdc++ lays a vector out as three pointers (begin, end, end of storage); the length is checked against the
    vector's own size, and a mismatch falls back to reading element by element.
    """
    address = int(vector.this)
    begin = ctypes.c_void_p.from_address(address).value or 0
    end = ctypes.c_void_p.from_address(address + _POINTER).value or 0
    size = len(vector)
    if end - begin == size and (begin or not size):
        return ctypes.string_at(begin, size) if size else b""
    return bytes(vector[i] for i in range(size))


# --- the pj thread ----------------------------------------------------------------------------------------------------
class _PjThread:
    """Owns the pjsua2 Endpoint; runs submitted functions between SIP event polls."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, setup: Callable[[], None], teardown: Callable[[], None], poll: Callable[[], None]) -> None:
        ready: Future[None] = Future()

        def main() -> None:
            try:
                setup()
            except BaseException as exc:
                ready.set_exception(exc)
                return
            ready.set_result(None)
            try:
                while not self._stop.is_set():
                    self._run_jobs()
                    poll()
                self._run_jobs()
            finally:
                teardown()

        self._thread = threading.Thread(target=main, name="pjsua2", daemon=True)
        self._thread.start()
        ready.result(timeout=30)

    def _run_jobs(self) -> None:
        while True:
            try:
                job, future = self._jobs.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as exc:
                future.set_exception(exc)

    def submit(self, job: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        if self._thread is None or not self._thread.is_alive():
            future.set_exception(SipError("the SIP endpoint is not running"))
            return future
        self._jobs.put((job, future))
        return future

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def current(self) -> bool:
        return threading.current_thread() is self._thread


# --- one call ---------------------------------------------------------------------------------------------------------
class CallPort(pj.AudioMediaPort):  # type: ignore[misc]  # pjsua2 ships no type information
    """The call's audio in the conference bridge: hands the caller's frames to the event loop, plays queued audio."""

    def __init__(self, rate: int) -> None:
        super().__init__()
        self.rate = rate
        self._on_audio: Callable[[bytes], None] | None = None
        self._out = bytearray()
        self._lock = threading.Lock()
        self.frame_bytes = 2 * rate * FRAME_MS // 1000

    def create(self, name: str) -> None:
        fmt = pj.MediaFormatAudio()
        fmt.init(pj.PJMEDIA_FORMAT_PCM, self.rate, 1, FRAME_MS * 1000, 16)
        self.createPort(name, fmt)

    # media clock thread
    def onFrameRequested(self, frame: Any) -> None:
        with self._lock:
            size = frame.size or self.frame_bytes
            chunk = bytes(self._out[:size])
            del self._out[:size]
        frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
        frame.buf = pj.ByteVector(chunk + bytes(size - len(chunk)))

    def onFrameReceived(self, frame: Any) -> None:
        on_audio = self._on_audio
        if on_audio is not None and frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and frame.size:
            on_audio(vector_bytes(frame.buf))

    def attach(self, on_audio: Callable[[bytes], None]) -> None:
        """Serve a call: its audio goes to ``on_audio``."""
        self.clear()
        self._on_audio = on_audio

    def detach(self) -> None:
        self._on_audio = None
        self.clear()

    # any thread
    def queue_audio(self, samples: bytes) -> None:
        with self._lock:
            self._out += samples

    def clear(self) -> None:
        with self._lock:
            self._out.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._out)


class SipCall(pj.Call):  # type: ignore[misc]
    """One incoming call (pj thread): answers, wires the media port, reports keys, hang-up and transfer results."""

    def __init__(self, phone: SipPhone, account: pj.Account, call_id: int) -> None:
        super().__init__(account, call_id)
        self.phone = phone
        self.port: CallPort | None = None
        self.channel: SipChannel | None = None
        self.sip_call_id = ""
        self.disconnected = False
        self.transfer_result: Future[bool] | None = None

    def onCallState(self, prm: Any) -> None:
        info = self.getInfo()
        self.sip_call_id = self.sip_call_id or info.callIdString
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.disconnected = True
            log.info("SIP call %s disconnected (%s %s)", info.callIdString, info.lastStatusCode, info.lastReason)
            if self.transfer_result is not None and not self.transfer_result.done():
                self.transfer_result.set_result(False)
            self.phone._call_gone(self)

    def onCallMediaState(self, prm: Any) -> None:
        info = self.getInfo()
        for media in items(info.media):
            if media.type != pj.PJMEDIA_TYPE_AUDIO or media.status != pj.PJSUA_CALL_MEDIA_ACTIVE:
                continue
            audio = self.getAudioMedia(media.index)
            if self.port is None:
                channel = SipChannel(self.phone, self)
                self.port = self.phone._take_port()
                self.port.attach(channel.heard)
                self.channel = channel
            audio.startTransmit(self.port)
            self.port.startTransmit(audio)
            if self.channel is not None and not self.channel.started:
                self.channel.started = True
                self.phone._call_connected(self)

    def onDtmfDigit(self, prm: Any) -> None:
        log.info("SIP call %s key %s (method %s)", self.sip_call_id, prm.digit, prm.method)
        if self.channel is not None:
            self.channel.event(Key(str(prm.digit)))

    def onCallTransferStatus(self, prm: Any) -> None:
        log.info("SIP transfer status %s %s (final: %s)", prm.statusCode, prm.reason, prm.finalNotify)
        if self.transfer_result is None or self.transfer_result.done():
            return
        if prm.finalNotify or prm.statusCode >= 300:
            self.transfer_result.set_result(200 <= prm.statusCode < 300)

    def release(self) -> None:
        """Give the media port back for the next call (pj thread)."""
        port, self.port = self.port, None
        if port is not None:
            self.phone._give_back(port)


class SipChannel:
    """A :class:`CallChannel` over one SIP call; every pjsua2 operation runs on the pj thread."""

    def __init__(self, phone: SipPhone, call: SipCall) -> None:
        self.phone = phone
        # dropped (pj thread) when the call is gone, so that the pjsua2 Call is destroyed there and never after the
        # library (a Call outliving libDestroy aborts the process)
        self.call: SipCall | None = call
        self.rate = phone.settings.sip_rate
        self.dialogue: PhoneDialogue | None = None
        self.started = False
        self._ended = False

    # from the media clock and the pj thread
    def heard(self, samples: bytes) -> None:
        self.event(Audio(Pcm(samples, self.rate)))

    def event(self, event: Audio | Key | HangUp) -> None:
        dialogue = self.dialogue
        if dialogue is not None:
            self.phone.loop.call_soon_threadsafe(dialogue.deliver, event)

    # CallChannel (event loop)
    def _port(self) -> CallPort | None:
        call = self.call
        return None if call is None or call.disconnected else call.port

    async def play(self, pcm: Pcm) -> None:
        port = self._port()
        if port is not None:
            port.queue_audio((pcm if pcm.rate == self.rate else resample(pcm, self.rate)).samples)

    async def wait_played(self) -> None:
        while (port := self._port()) is not None and port.pending:
            await asyncio.sleep(FRAME_MS / 1000)
        await asyncio.sleep(2 * FRAME_MS / 1000)  # the last frame leaves the bridge

    async def stop_playing(self) -> None:
        port = self._port()
        if port is not None:
            port.clear()

    async def transfer(self, uri: str) -> bool:
        result: Future[bool] = Future()

        def refer() -> None:
            call = self.call
            if call is None or call.disconnected:
                raise SipError("the call has ended")
            call.transfer_result = result
            call.xfer(uri, pj.CallOpParam(True))

        try:
            await asyncio.wrap_future(self.phone.pj.submit(refer))
            return await asyncio.wait_for(asyncio.wrap_future(result), TRANSFER_TIMEOUT)
        except (TimeoutError, pj.Error, SipError) as exc:
            log.warning("SIP transfer to %s failed: %s", uri, _pj_reason(exc))
            return False

    async def hang_up(self) -> None:
        def hangup() -> None:
            call = self.call
            if call is not None and not call.disconnected:
                prm = pj.CallOpParam()
                prm.statusCode = pj.PJSIP_SC_OK
                call.hangup(prm)

        with contextlib.suppress(pj.Error, SipError):
            await asyncio.wrap_future(self.phone.pj.submit(hangup))

    async def close(self) -> None:
        self._ended = True


@dataclass(frozen=True)
class CallStats:
    active: int
    answered: int
    refused: int


class _Account(pj.Account):  # type: ignore[misc]
    def __init__(self, phone: SipPhone) -> None:
        super().__init__()
        self.phone = phone

    def onIncomingCall(self, prm: Any) -> None:
        self.phone._incoming(self, prm.callId)


class SipPhone:
    """The SIP endpoint: :meth:`start` in a running event loop, :meth:`stop` to hang up every call and shut down."""

    def __init__(self, settings: Settings, services: PhoneServices) -> None:
        self.settings = settings
        self.services = services
        self.pj = _PjThread()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._endpoint: pj.Endpoint | None = None
        self._account: _Account | None = None
        self._calls: dict[int, SipCall] = {}  # pj thread only
        self._refused: dict[int, SipCall] = {}  # pj thread only
        # Media ports are reused, never destroyed while the library runs: the conference bridge removes a port
        # asynchronously (pjmedia 2.14+) and may still touch it after its destructor freed its memory.
        self._ports: list[CallPort] = []  # pj thread only
        self._free_ports: list[CallPort] = []  # pj thread only
        self._dialogues: set[asyncio.Task[CallRecord]] = set()
        self.records: list[CallRecord] = []
        self.answered = 0
        self.refused = 0

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the dialogues run on (known once :meth:`start` ran)."""
        if self._loop is None:
            raise SipError("the SIP endpoint is not started")
        return self._loop

    # lifecycle (event loop)
    async def start(self) -> None:
        """Open the UDP transport and answer calls from now on.

        Raises:
            SipError: pjsua2 refused the configuration (e.g. the port is taken).
        """
        self._loop = asyncio.get_running_loop()
        try:
            await asyncio.to_thread(self.pj.start, self._setup, self._teardown, self._poll)
        except pj.Error as exc:
            raise SipError(
                f"SIP 端点无法启动：{self.settings.sip_host}:{self.settings.sip_port}",
                context=_pj_reason(exc),
            ) from exc
        assert self._endpoint is not None
        if not self._endpoint.libIsThreadRegistered():
            self._endpoint.libRegisterThread("asyncio")
        log.info("SIP endpoint listening on udp %s:%d", self.settings.sip_host, self.settings.sip_port)

    async def stop(self) -> None:
        """Hang up every call, let the dialogues finish their clean-up, and destroy the endpoint."""
        for task in list(self._dialogues):
            task.cancel()
        if self._dialogues:
            await asyncio.wait(self._dialogues, timeout=5)
        with contextlib.suppress(SipError, pj.Error):
            await asyncio.wrap_future(self.pj.submit(self._hangup_all))
        await asyncio.to_thread(self.pj.stop)

    @property
    def stats(self) -> CallStats:
        return CallStats(len(self._dialogues), self.answered, self.refused)

    # pj thread
    def _setup(self) -> None:
        settings = self.settings
        gc.collect()  # an Endpoint left over (in a reference cycle) would keep pjlib up for a thread it does not know
        endpoint = pj.Endpoint()
        endpoint.libCreate()
        config = pj.EpConfig()
        config.uaConfig.threadCnt = 0  # SIP events are polled by the pj thread
        config.uaConfig.mainThreadOnly = False
        config.uaConfig.maxCalls = max(settings.sip_max_calls + 2, 4)
        config.uaConfig.userAgent = "zhiban-phone"
        config.logConfig.level = 3
        config.logConfig.consoleLevel = 2 if settings.log_level != "DEBUG" else 4
        config.medConfig.clockRate = settings.sip_rate
        config.medConfig.sndClockRate = settings.sip_rate
        config.medConfig.channelCount = 1
        config.medConfig.noVad = True  # silence suppression would starve the endpointer of frames
        config.medConfig.ecTailLen = 0
        endpoint.libInit(config)
        transport = pj.TransportConfig()
        transport.port = settings.sip_port
        transport.boundAddress = settings.sip_host if settings.sip_host not in ("0.0.0.0", "") else ""
        if settings.sip_public_address:
            transport.publicAddress = settings.sip_public_address
        self._endpoint = endpoint
        try:
            endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
            endpoint.audDevManager().setNullDev()
            codecs = endpoint.codecEnum2()
            for codec_id in [codec.codecId for codec in items(codecs)]:
                endpoint.codecSetPriority(codec_id, CODEC_PRIORITIES.get(codec_id, 0))
            endpoint.libStart()
            account_config = pj.AccountConfig()
            host = settings.sip_public_address or settings.sip_host
            account_config.idUri = f"sip:zhiban@{host}:{settings.sip_port}"
            account_config.mediaConfig.transportConfig.boundAddress = transport.boundAddress
            if settings.sip_public_address:
                account_config.mediaConfig.transportConfig.publicAddress = settings.sip_public_address
            account = _Account(self)
            account.create(account_config, True)
            self._account = account
        except BaseException:
            # the traceback keeps this frame: no pjsua2 object may stay referenced from it after the library is gone
            del endpoint
            self._teardown()
            raise

    def _take_port(self) -> CallPort:
        if self._free_ports:
            return self._free_ports.pop()
        port = CallPort(self.settings.sip_rate)
        port.create(f"zhiban{len(self._ports)}")
        self._ports.append(port)
        return port

    def _give_back(self, port: CallPort) -> None:
        port.detach()
        if port not in self._free_ports:
            self._free_ports.append(port)

    def _poll(self) -> None:
        if self._endpoint is not None:
            self._endpoint.libHandleEvents(10)

    def _teardown(self) -> None:
        endpoint, self._endpoint = self._endpoint, None
        if endpoint is None:
            return
        with contextlib.suppress(Exception):
            endpoint.hangupAllCalls()
            deadline = time.monotonic() + 2
            while self._calls and time.monotonic() < deadline:
                endpoint.libHandleEvents(20)
        for call in list(self._calls.values()):
            self._call_gone(call)
        self._calls.clear()
        self._refused.clear()
        gc.collect()  # pjsua2 objects in reference cycles must go before the library
        if self._account is not None:
            with contextlib.suppress(Exception):
                self._account.shutdown()
            self._account = None
        for port in self._ports:
            # never destroyed (see _ports): the C++ object stays with the process, so no destructor reaches into a
            # library that is gone
            port.detach()
            port.__disown__()
        self._ports.clear()
        self._free_ports.clear()
        endpoint.libDestroy()
        del endpoint  # the last reference: pjlib shuts down with it, and the next start begins afresh

    def _hangup_all(self) -> None:
        if self._endpoint is not None:
            self._endpoint.hangupAllCalls()

    def _incoming(self, account: _Account, call_id: int) -> None:
        call = SipCall(self, account, call_id)
        prm = pj.CallOpParam()
        if len(self._calls) >= self.settings.sip_max_calls:
            self.refused += 1
            log.warning("SIP call refused: %d calls already", len(self._calls))
            prm.statusCode = pj.PJSIP_SC_BUSY_HERE
            self._refused[call_id] = call  # kept until pjsua2 reports it disconnected
            call.hangup(prm)
            return
        self._calls[call_id] = call
        self.answered += 1
        prm.statusCode = pj.PJSIP_SC_OK
        call.answer(prm)

    def _call_connected(self, call: SipCall) -> None:
        channel = call.channel
        assert channel is not None
        self.loop.call_soon_threadsafe(self._start_dialogue, channel, call.sip_call_id or f"pj-{id(call)}")

    def _call_gone(self, call: SipCall) -> None:
        call.release()
        channel, call.channel = call.channel, None
        if channel is not None:
            channel.event(HangUp())
            channel.call = None
        self._calls = {k: v for k, v in self._calls.items() if v is not call}
        self._refused = {k: v for k, v in self._refused.items() if v is not call}

    # event loop
    def _start_dialogue(self, channel: SipChannel, call_id: str) -> None:
        dialogue = PhoneDialogue(self.services, channel, call_id)
        channel.dialogue = dialogue
        if channel.call is None or channel.call.disconnected:
            dialogue.deliver(HangUp())
        task = self.loop.create_task(dialogue.run(), name=f"call {call_id}")
        self._dialogues.add(task)
        task.add_done_callback(self._dialogue_done)

    def _dialogue_done(self, task: asyncio.Task[CallRecord]) -> None:
        self._dialogues.discard(task)
        if not task.cancelled() and task.exception() is None:
            self.records.append(task.result())


def _pj_reason(exc: BaseException) -> str:
    info = getattr(exc, "info", None)
    if callable(info):
        with contextlib.suppress(Exception):
            return str(info())
    return repr(exc)
