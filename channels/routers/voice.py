"""Voice endpoints of the gateway: text-to-speech for the page's 朗读 button, and speech recognition for voice input.

Both are rate-limited per client address with the chat API's limit (``app.state.chat_limits``), on their own counters.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile as StarletteUploadFile

from assistant.settings import Settings
from channels.deps import SettingsDep
from channels.errors import GatewayError, InvalidInput, TooManyRequests
from channels.ratelimit import wait_seconds
from channels.schemas import ErrorResponse
from voice.asr import AsrError, Recognizer, get_recognizer
from voice.audio import AudioError, decode
from voice.tts import NothingToSay, TtsUnavailable, get_synthesizer

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["voice"])


def _error(description: str, **extra: Any) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description, **extra}


def check_rate(request: Request, kind: str) -> None:
    """Count one ``kind`` request ("tts", "asr") of this client address against the chat API's per-address limit.

    Raises:
        TooManyRequests: the address sent too many such requests in the last minute.
    """
    client = request.client.host if request.client else "unknown"
    wait = request.app.state.chat_limits.by_ip.check(f"{kind}:{client}")
    if wait:
        raise TooManyRequests(wait_seconds(wait))


# --- text-to-speech: POST /api/v1/tts ------------------------------------------------------------------------------
class TtsRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "补办社保卡请带身份证原件，一般5个工作日办结。", "elder": True}]},
    )

    text: str = Field(..., description="要朗读的文字（一条回复的 text；最多 2,000 字，可配置）。")
    elder: bool = Field(False, description="长辈版：语速更慢、音量更大。")


class TtsUnavailableError(GatewayError):
    status_code = 503
    code = "tts_unavailable"
    default_message = "语音朗读暂时不可用，请稍后再试，或直接阅读文字回答。"


@router.post(
    "/tts",
    response_class=Response,
    summary="把一条回复转成语音（MP3）",
    description=(
        "把文字读成语音，返回 `audio/mpeg`（24 kHz 单声道 MP3），供页面的“朗读”按钮播放。\n\n"
        "- 号码逐位读（手机号的 1 读作“幺”），金额、日期、时间按数量读；列表符号、链接、表情等不读；\n"
        "- `elder: true`（长辈版）语速更慢、音量更大；\n"
        "- 响应头 `X-TTS-Backend` 说明由哪个语音引擎朗读：`edge-tts`（在线）或 `espeak-ng`（离线备用）；\n"
        "- 相同的文字再次请求时直接取缓存。"
    ),
    responses={
        200: {
            "description": "MP3 语音",
            "content": {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}},
            "headers": {"X-TTS-Backend": {"description": "朗读的引擎", "schema": {"type": "string"}}},
        },
        413: _error("请求体超过 64 KB（http_413）"),
        422: _error("文字为空、太长、没有可朗读的内容，或请求格式不对（invalid_request）"),
        429: _error("请求太频繁（rate_limited；按来源地址每分钟限流）"),
        503: _error("所有语音引擎都不可用（tts_unavailable）"),
    },
)
async def tts(body: TtsRequest, request: Request, settings: SettingsDep) -> Response:
    check_rate(request, "tts")
    if len(body.text) > settings.tts_max_chars:
        raise InvalidInput(f"朗读的文字太长，请控制在{settings.tts_max_chars}字以内。")
    if not body.text.strip():
        raise InvalidInput("没有需要朗读的文字。")
    synthesizer = get_synthesizer(settings)
    try:
        speech = await synthesizer.synthesize(body.text, profile="elder" if body.elder else "standard", fmt="mp3")
    except NothingToSay as exc:
        raise InvalidInput("这段内容里没有可以朗读的文字。", context=str(exc)) from exc
    except TtsUnavailable as exc:
        raise TtsUnavailableError(context=str(exc)) from exc
    return Response(
        speech.audio,
        media_type="audio/mpeg",
        headers={"X-TTS-Backend": speech.backend, "Cache-Control": "private, max-age=3600"},
    )


# --- speech recognition: POST /api/v1/asr (helper "asr") -----------------------------------------------------------
#: Path of the recognition route; the gateway's body-size check lets it take audio up to ``asr_max_bytes``.
ASR_PATH = "/api/v1/asr"

#: Audio types the route accepts (what MediaRecorder produces in Chromium and Firefox, and WAV from other clients).
ASR_TYPES = {
    "audio/webm": "webm",
    "audio/ogg": "ogg",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "video/webm": "webm",  # Chromium's MediaRecorder labels audio-only recordings so in some versions
}

#: Room for the multipart envelope around the audio.
_MULTIPART_OVERHEAD = 16 * 1024


def asr_request_limit_bytes(settings: Settings) -> int:
    """Largest request body POST /api/v1/asr accepts (the gateway's body-size check uses it for that path)."""
    return settings.asr_max_bytes + _MULTIPART_OVERHEAD


class AsrResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "我想补办社保卡需要带什么材料", "seconds": 3.2}]}
    )

    text: str = Field(..., description="识别出的文字（简体，已规范化，可直接作为聊天消息发送）。")
    seconds: float = Field(..., description="录音时长（秒）。")


class AsrUnavailableError(GatewayError):
    status_code = 503
    code = "asr_unavailable"
    default_message = "语音识别暂时不可用，请稍后再试，或直接输入文字。"


class AudioTooLarge(GatewayError):
    status_code = 413
    code = "audio_too_large"
    default_message = "录音文件太大，请说得简短一些（60秒以内）。"


class UnsupportedAudio(GatewayError):
    status_code = 415
    code = "unsupported_audio"
    default_message = "不支持这种录音格式，请用 WebM、Ogg 或 WAV 格式上传。"


class NoSpeech(InvalidInput):
    code = "no_speech"
    default_message = "没有听清您说的话，请靠近话筒再说一遍，或直接输入文字。"


def recognizer_for(settings: SettingsDep) -> Recognizer:
    """The gateway's recognizer (shared; Whisper loads on the first request, once). Tests override this dependency."""
    return get_recognizer(settings)


RecognizerDep = Annotated[Recognizer, Depends(recognizer_for)]


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it grows past ``limit`` (a chunked upload has no Content-Length)."""
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > limit:
            raise AudioTooLarge(context=f"body over {limit} bytes")
    return bytes(data)


async def _uploaded_audio(request: Request, settings: Settings) -> tuple[bytes, str]:
    """(audio bytes, media type) from a multipart form (field ``audio``) or a raw audio body."""
    content_type = _media_type(request.headers.get("content-type", ""))
    if content_type == "multipart/form-data":
        async with request.form(max_files=1, max_fields=5) as form:
            upload = form.get("audio")
            if not isinstance(upload, StarletteUploadFile):
                raise InvalidInput("请在表单字段 audio 中上传录音文件。", context=f"form fields {list(form.keys())}")
            data = await upload.read(settings.asr_max_bytes + 1)
            return data, _media_type(upload.content_type or "")
    return await _read_body(request, settings.asr_max_bytes), content_type


@router.post(
    ASR_PATH.removeprefix(router.prefix),
    response_model=AsrResponse,
    summary="语音识别：把一段录音转成文字",
    description=(
        "上传一段普通话录音，返回识别出的文字，供页面的“按住说话”使用。\n\n"
        "- 两种上传方式：`multipart/form-data`（文件字段 `audio`），或直接把录音作为请求体，"
        "`Content-Type` 为 `audio/webm`、`audio/ogg` 或 `audio/wav`；\n"
        "- 录音最长 60 秒、最大 2 MB（可配置）；\n"
        "- 识别结果是简体中文，事项名称（社保卡、公积金、居住证……）按知识库的写法纠正；\n"
        "- 识别在本机完成（faster-whisper），录音不保存。"
    ),
    responses={
        413: _error("录音超过大小限制（audio_too_large / http_413）"),
        415: _error("不支持的录音格式（unsupported_audio）"),
        422: _error("录音为空、太长、无法解码，或没有听到说话（invalid_request / no_speech）"),
        429: _error("请求太频繁（rate_limited；按来源地址每分钟限流）"),
        503: _error("语音识别暂时不可用（asr_unavailable）"),
    },
)
async def asr(request: Request, settings: SettingsDep, recognizer: RecognizerDep) -> AsrResponse:
    check_rate(request, "asr")
    data, media_type = await _uploaded_audio(request, settings)
    if media_type not in ASR_TYPES:
        raise UnsupportedAudio(context=f"content type {media_type!r}")
    if len(data) > settings.asr_max_bytes:
        raise AudioTooLarge(
            f"录音文件太大，请控制在{settings.asr_max_bytes // (1024 * 1024) or 1} MB 以内。",
            context=f"{len(data)} bytes",
        )
    if not data:
        raise InvalidInput("没有收到录音，请按住按钮说话后再松开。", context="empty body")
    try:
        pcm = await run_in_threadpool(decode, data)
    except AudioError as exc:
        raise InvalidInput("无法读取这段录音，请重新录制后再试。", context=str(exc)) from exc
    if pcm.duration > settings.asr_max_seconds:
        raise InvalidInput(f"录音太长了，请控制在{settings.asr_max_seconds:g}秒以内。", context=f"{pcm.duration:.1f} s")
    if pcm.duration < 0.1:
        raise InvalidInput("录音太短了，请按住按钮说完再松开。", context=f"{pcm.duration:.3f} s")
    try:
        transcript = await recognizer.transcribe(pcm)
    except AsrError as exc:
        raise AsrUnavailableError(context=str(exc)) from exc
    if not transcript.text:
        raise NoSpeech(context=f"{pcm.duration:.1f} s, nothing recognised")
    log.info("asr: %.1f s of %s in %.2f s (%s)", pcm.duration, media_type, transcript.seconds_taken, transcript.backend)
    return AsrResponse(text=transcript.text, seconds=round(pcm.duration, 2))
