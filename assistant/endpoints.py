"""Rasa's endpoints file, rendered from the settings for each run (never edited by hand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

from assistant.settings import Settings


def tracker_store_config(url: str) -> dict[str, Any]:
    """Rasa's SQL tracker-store section for a SQLAlchemy URL (SQLite file or PostgreSQL server)."""
    parsed = make_url(url)
    dialect = parsed.get_backend_name()
    if dialect == "sqlite":
        return {"type": "SQL", "dialect": "sqlite", "db": parsed.database or ""}
    config: dict[str, Any] = {
        "type": "SQL",
        "dialect": parsed.drivername,
        "url": parsed.host,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
    }
    if parsed.port:
        config["port"] = parsed.port
    if parsed.query:
        config["query"] = dict(parsed.query)
    return {k: v for k, v in config.items() if v is not None}


def render_endpoints(settings: Settings) -> dict[str, Any]:
    return {
        "action_endpoint": {"url": f"{settings.actions_url}/webhook"},
        "tracker_store": tracker_store_config(settings.rasa_tracker_url),
    }


def write_endpoints(settings: Settings) -> Path:
    """Write the endpoints file into the run directory and return its path."""
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    path = settings.run_dir / "endpoints.yml"
    text = "# Rendered by zhiban from the ZHIBAN_* settings; edits are overwritten.\n"
    text += yaml.safe_dump(render_endpoints(settings), allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)  # it may carry a database password
    return path
