"""Fixtures shared by all tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.settings import Settings, get_settings
from tests.utils.knowledge import copy_knowledge_base
from tests.utils.net import free_ports


@pytest.fixture(autouse=True)
def _clean_settings_cache() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for one test: its own data directory and free ports."""
    gateway, rasa, actions = free_ports(3)
    return Settings(
        env="test",
        data_dir=tmp_path / "var",
        gateway_port=gateway,
        rasa_port=rasa,
        actions_port=actions,
        rasa_timeout=2.0,
    )


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A small writable knowledge base (three items and one policy of the bundled one)."""
    return copy_knowledge_base(tmp_path / "kb")


@pytest.fixture
def kb_settings(settings: Settings, kb_copy: Path) -> Settings:
    return settings.model_copy(update={"kb_dir": kb_copy})
