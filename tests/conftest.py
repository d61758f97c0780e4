"""Fixtures shared by all tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.settings import Settings, get_settings
from tests.utils.knowledge import copy_knowledge_base
from tests.utils.net import free_ports
from tests.utils.postgres import new_database, running_postgres

_databases = itertools.count()


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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """One throw-away PostgreSQL server for the whole run (started when a test first needs it)."""
    with running_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The settings of an empty application store: a SQLite file, or a new database on a real PostgreSQL server."""
    if request.param == "sqlite":
        return settings
    url = new_database(request.getfixturevalue("postgres_server"), f"t{next(_databases)}")
    return settings.model_copy(update={"database_url": url})
