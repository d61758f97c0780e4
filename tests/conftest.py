"""Fixtures shared by all tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.settings import Settings, get_settings
from tests.utils.net import free_port


@pytest.fixture(autouse=True)
def _clean_settings_cache() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for one test: its own data directory and free ports."""
    return Settings(
        env="test",
        data_dir=tmp_path / "var",
        gateway_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        rasa_timeout=2.0,
    )
