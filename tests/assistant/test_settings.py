from __future__ import annotations

import pytest

from assistant.crypto import generate_key
from assistant.settings import DEVELOPMENT_SECRET, SettingsError, load_settings


def test_defaults_are_loopback_and_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ZHIBAN_HOST", "ZHIBAN_DATABASE_URL", "ZHIBAN_TRACKER_STORE_URL", "ZHIBAN_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.host == "127.0.0.1"
    assert settings.app_database_url.startswith("sqlite:///")
    assert settings.rasa_tracker_url.endswith("rasa-tracker.db")
    assert settings.models_dir == settings.data_dir / "models"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        # a port must be a number in range
        ("ZHIBAN_GATEWAY_PORT", "eighty", "ZHIBAN_GATEWAY_PORT"),
        ("ZHIBAN_RASA_PORT", "70000", "ZHIBAN_RASA_PORT"),
        # a timeout must be positive
        ("ZHIBAN_RASA_TIMEOUT", "0", "ZHIBAN_RASA_TIMEOUT"),
        # only the three known modes
        ("ZHIBAN_ENV", "staging", "ZHIBAN_ENV"),
        # a database must be given as a URL
        ("ZHIBAN_DATABASE_URL", "/var/lib/zhiban.db", "ZHIBAN_DATABASE_URL"),
        # a short secret is refused
        ("ZHIBAN_SECRET_KEY", "short", "ZHIBAN_SECRET_KEY"),
        ("ZHIBAN_LOG_LEVEL", "LOUD", "ZHIBAN_LOG_LEVEL"),
        # the data key must be 32 bytes of URL-safe base64
        ("ZHIBAN_DATA_KEY", "not-a-key", "ZHIBAN_DATA_KEY"),
        ("ZHIBAN_DATA_KEY", "c2hvcnQ=", "ZHIBAN_DATA_KEY"),
        ("ZHIBAN_DATA_KEY", "密钥" * 22, "ZHIBAN_DATA_KEY"),
        ("ZHIBAN_CORS_ORIGINS", "zwfw.example.gov.cn", "ZHIBAN_CORS_ORIGINS"),
        ("ZHIBAN_RATE_LIMIT_IP", "-1", "ZHIBAN_RATE_LIMIT_IP"),
    ],
)
def test_invalid_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert named in str(raised.value)


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIBAN_ENV", "production")
    monkeypatch.setenv("ZHIBAN_DATA_KEY", generate_key())
    monkeypatch.setenv("ZHIBAN_SECRET_KEY", DEVELOPMENT_SECRET)
    with pytest.raises(SettingsError, match="ZHIBAN_SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("ZHIBAN_SECRET_KEY", "a-real-secret-of-enough-length")
    assert load_settings().env == "production"


def test_production_refuses_the_development_data_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIBAN_ENV", "production")
    monkeypatch.setenv("ZHIBAN_SECRET_KEY", "a-real-secret-of-enough-length")
    with pytest.raises(SettingsError, match="ZHIBAN_DATA_KEY"):
        load_settings()


def test_ports_must_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIBAN_GATEWAY_PORT", "5005")
    monkeypatch.setenv("ZHIBAN_RASA_PORT", "5005")
    with pytest.raises(SettingsError, match="must differ"):
        load_settings()


def test_models_dir_can_be_moved(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("ZHIBAN_MODELS_DIR", str(tmp_path / "models"))
    assert load_settings().models_dir == tmp_path / "models"


def test_readme_lists_every_setting() -> None:
    from assistant.settings import PROJECT_ROOT, Settings

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        variable = field.alias or f"ZHIBAN_{name.upper()}"
        assert f"`{variable}`" in readme, variable
