"""The application store: SQL through SQLAlchemy (a SQLite file by default, PostgreSQL by URL).

Holds what the assistant hands over to people (handoff tickets, complaints) and the applications people submit
(:mod:`assistant.applications`). Engines are created lazily, one per database URL per process; the schema is brought to the
newest Alembic revision (``assistant/migrations``) on first use, under a file lock so that processes starting together do not
race.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, DateTime, Engine, Integer, String, Text, create_engine, event, inspect, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from assistant.settings import Settings


class Base(DeclarativeBase):
    pass


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Ticket(Base):
    """A conversation handed to a person: a handoff (the bot could not help or was asked to) or a complaint."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # handoff | complaint
    reason: Mapped[str] = mapped_column(String(32))  # requested | not_found | complaint
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    item_code: Mapped[str] = mapped_column(String(64), default="")
    item_name: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text)
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | claimed | closed (assistant/agent_desk.py)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    assignee: Mapped[str] = mapped_column(String(64), default="")  # username of the agent who claimed it
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, default=None)
    resolution: Mapped[str] = mapped_column(Text, default="")  # what the agent did, written when closing

    @property
    def number(self) -> str:
        """The number people are told (e.g. GD-20261130-000042)."""
        return f"GD-{self.created_at:%Y%m%d}-{self.id:06d}"


_engines: dict[str, Engine] = {}
_factories: dict[str, sessionmaker[Session]] = {}
_lock = threading.Lock()


def driver_url(url: str) -> str:
    """``postgresql://…`` with the driver this environment has (psycopg 3); other URLs unchanged."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def engine_for(url: str) -> Engine:
    """The process's engine for ``url``, with the schema at the newest revision."""
    url = driver_url(url)
    with _lock:
        if url not in _engines:
            engine = create_engine(url, pool_pre_ping=True)
            if engine.dialect.name == "sqlite":

                @event.listens_for(engine, "connect")
                def _sqlite_pragmas(connection: Any, record: Any) -> None:
                    cursor = connection.cursor()
                    cursor.execute("PRAGMA journal_mode=WAL")  # the gateway reads while the action server writes
                    cursor.execute("PRAGMA busy_timeout=5000")
                    cursor.close()

            migrate(engine)
            _engines[url] = engine
            _factories[url] = sessionmaker(engine, expire_on_commit=False)
        return _engines[url]


MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision``.

    A database made before migrations existed (its tables created directly) is stamped with the first revision, whose
    tables it already has, and upgraded from there.
    """
    lock_path = (
        Path(tempfile.gettempdir()) / f"zhiban-migrate-{hashlib.sha256(str(engine.url).encode()).hexdigest()[:16]}.lock"
    )
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            tables = set(inspect(engine).get_table_names())
            config = alembic_config(engine)
            if "tickets" in tables and "alembic_version" not in tables:
                command.stamp(config, "0001")
            command.upgrade(config, revision)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = driver_url(settings.app_database_url)
    engine_for(url)
    with _factories[url].begin() as session:
        yield session


def add_ticket(settings: Settings, **fields: Any) -> Ticket:
    with session_scope(settings) as session:
        ticket = Ticket(**fields)
        session.add(ticket)
        session.flush()
        return ticket


def tickets(settings: Settings, conversation_id: str | None = None) -> list[Ticket]:
    with session_scope(settings) as session:
        query = select(Ticket).order_by(Ticket.id)
        if conversation_id is not None:
            query = query.where(Ticket.conversation_id == conversation_id)
        return list(session.scalars(query))
