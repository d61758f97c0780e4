"""What the WeChat channel has to remember across gateway workers: the pushes already taken, and the choices offered.

WeChat sends a message again (three tries in all) when it has no answer within 5 seconds, and with several gateway workers
a retry may reach another worker than the first copy did. Every push is therefore *claimed* by inserting its key into
``wechat_messages``: the unique constraint lets exactly one worker win, whatever the timing, so only that one asks Rasa.
The winner then records how it answered (:func:`settle`) so a retry gets the same passive reply, or ``success`` when the
answer goes out as a customer-service message.

The buttons of the last reply are kept per conversation (``wechat_choices``) so that a later "1" or "第一个" can be sent to
Rasa as the chosen button's payload, whichever worker receives it. Rows are deleted after :data:`RETENTION`; replies are
stored encrypted, like everything else that may repeat what a person typed.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import DateTime, Integer, String, Text, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from assistant.crypto import cipher_for
from assistant.settings import Settings
from assistant.store import Base, now, session_scope

RETENTION = dt.timedelta(days=1)

#: Claimed; the answer is not known yet.
PENDING = "pending"
#: Answered in the HTTP response; ``reply`` holds the text, for retries.
PASSIVE = "passive"
#: Answered "success"; the answer goes (or went) out as a customer-service message.
PUSHED = "pushed"
#: Answered "success" with nothing to say.
DONE = "done"


class WeChatMessage(Base):
    __tablename__ = "wechat_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    reply: Mapped[str] = mapped_column(Text, default="")  # encrypted, or empty
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)


class WeChatChoices(Base):
    __tablename__ = "wechat_choices"

    conversation_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    buttons: Mapped[str] = mapped_column(Text)  # JSON list of [title, payload]
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)


def claim(settings: Settings, key: str) -> bool:
    """Take the push ``key``: True for the first copy, False for every later one (in any worker)."""
    try:
        with session_scope(settings) as session:
            cutoff = now() - RETENTION
            session.execute(delete(WeChatMessage).where(WeChatMessage.created_at < cutoff))
            session.execute(delete(WeChatChoices).where(WeChatChoices.updated_at < cutoff))
            session.add(WeChatMessage(key=key, state=PENDING, reply=""))
    except IntegrityError:
        return False
    return True


def settle(settings: Settings, key: str, state: str, reply: str = "") -> None:
    """Record how the claimed push ``key`` was answered."""
    stored = cipher_for(settings).encrypt(reply) if reply else ""
    with session_scope(settings) as session:
        row = session.scalar(select(WeChatMessage).where(WeChatMessage.key == key))
        if row is not None:
            row.state, row.reply = state, stored


def outcome(settings: Settings, key: str) -> tuple[str, str] | None:
    """The state of push ``key`` and its passive reply ("" unless the state is :data:`PASSIVE`); None if unknown."""
    with session_scope(settings) as session:
        row = session.scalar(select(WeChatMessage).where(WeChatMessage.key == key))
        if row is None:
            return None
        state, stored = row.state, row.reply
    return state, cipher_for(settings).decrypt(stored) if stored else ""


def remember_buttons(settings: Settings, conversation_id: str, buttons: list[tuple[str, str]]) -> None:
    """Keep the (title, payload) buttons just offered in ``conversation_id``; an empty list forgets the earlier ones."""
    try:
        with session_scope(settings) as session:
            session.execute(delete(WeChatChoices).where(WeChatChoices.conversation_id == conversation_id))
            if buttons:
                encoded = json.dumps([list(b) for b in buttons], ensure_ascii=False)
                session.add(WeChatChoices(conversation_id=conversation_id, buttons=encoded))
    except IntegrityError:
        pass  # two answers in one conversation finished together; the other one's buttons are kept


def remembered_buttons(settings: Settings, conversation_id: str) -> list[tuple[str, str]]:
    """The buttons last offered in ``conversation_id`` (none after :data:`RETENTION`)."""
    with session_scope(settings) as session:
        row = session.get(WeChatChoices, conversation_id)
        if row is None or _aware(row.updated_at) < now() - RETENTION:
            return []
        decoded = json.loads(row.buttons)
    return [(str(title), str(payload)) for title, payload in decoded]


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands datetimes back without their time zone; they were stored in UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
