"""Reading a test store back: what someone with the database files in hand would see."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import inspect, text

from assistant.settings import Settings
from assistant.store import engine_for


def stored_text(settings: Settings, tables: Iterable[str] | None = None) -> str:
    """Every row of ``tables`` (default: every table) of the application store, as text."""
    engine = engine_for(settings.app_database_url)
    names = list(tables) if tables is not None else inspect(engine).get_table_names()
    with engine.connect() as connection:
        return "\n".join(
            str(tuple(row)) for table in names for row in connection.execute(text(f'SELECT * FROM "{table}"'))
        )
