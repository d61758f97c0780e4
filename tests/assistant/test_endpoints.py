from __future__ import annotations

import pytest
import yaml

from assistant.endpoints import tracker_store_config, write_endpoints
from assistant.settings import Settings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # the default: a SQLite file
        ("sqlite:////srv/zhiban/rasa.db", {"type": "SQL", "dialect": "sqlite", "db": "/srv/zhiban/rasa.db"}),
        # PostgreSQL with every part
        (
            "postgresql://rasa:pw@db.internal:5433/tracker",
            {
                "type": "SQL",
                "dialect": "postgresql",
                "url": "db.internal",
                "db": "tracker",
                "username": "rasa",
                "password": "pw",
                "port": 5433,
            },
        ),
        # a driver name and a query string are passed on
        (
            "postgresql+psycopg2://u@h/t?sslmode=require",
            {
                "type": "SQL",
                "dialect": "postgresql+psycopg2",
                "url": "h",
                "db": "t",
                "username": "u",
                "query": {"sslmode": "require"},
            },
        ),
    ],
)
def test_tracker_store_config(url: str, expected: dict[str, object]) -> None:
    assert tracker_store_config(url) == expected


def test_endpoints_file_points_at_the_action_server(settings: Settings) -> None:
    path = write_endpoints(settings)
    rendered = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert rendered["action_endpoint"]["url"] == f"http://127.0.0.1:{settings.actions_port}/webhook"
    assert rendered["tracker_store"]["db"] == str(settings.data_dir / "rasa-tracker.db")
    assert path.stat().st_mode & 0o077 == 0
