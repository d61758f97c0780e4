"""Keeping personal numbers out of the dialogue engine: the gateway swaps them for placeholders before Rasa sees a message.

ID, phone and bank card numbers a person types would otherwise be stored as they are in Rasa's tracker store (every user
message is). The gateway replaces every long number — 11 or more digits, spaces and dashes inside allowed, an ID's final X
included — with a placeholder such as 〔号码#3f9a1c2e〕 and keeps the number encrypted in the application store, bound to the
conversation. The action server puts the numbers back (:func:`restore`) only where it needs them: to validate a form answer.
Numbers are kept for :data:`RETENTION` and then deleted.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy import DateTime, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from assistant.crypto import cipher_for
from assistant.settings import Settings
from assistant.store import Base, now, session_scope
from nlu.extract import RECEIPT

RETENTION = dt.timedelta(days=1)
_NUMBER = re.compile(r"(?<![0-9A-Za-z])\+?[0-9](?:[0-9\s\-－—]*[0-9])?[Xx]?(?![0-9A-Za-z])")
PLACEHOLDER = re.compile(r"〔号码#([0-9a-f]{8})〕")
MIN_DIGITS = 11


class VaultEntry(Base):
    __tablename__ = "vault"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    ref: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(Text)  # encrypted
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


def long_numbers(text: str) -> list[tuple[int, int]]:
    """Spans of the numbers to keep out of the dialogue engine (not 受理编号 such as SBK-20261121-000123)."""
    receipts = [m.span() for m in RECEIPT.finditer(text)]
    spans = []
    for match in _NUMBER.finditer(text):
        inside_receipt = any(s <= match.start() < e for s, e in receipts)
        if not inside_receipt and sum(ch.isdigit() for ch in match.group()) >= MIN_DIGITS:
            spans.append(match.span())
    return spans


def redact(settings: Settings, conversation_id: str, text: str) -> str:
    """``text`` with every long number replaced by a placeholder; the numbers are stored encrypted."""
    spans = long_numbers(text)
    if not spans:
        return text
    cipher = cipher_for(settings)
    pieces, entries, last = [], [], 0
    for start, end in spans:
        ref = secrets.token_hex(4)
        pieces += [text[last:start], f"〔号码#{ref}〕"]
        entries.append(VaultEntry(conversation_id=conversation_id, ref=ref, value=cipher.encrypt(text[start:end])))
        last = end
    pieces.append(text[last:])
    with session_scope(settings) as session:
        session.execute(delete(VaultEntry).where(VaultEntry.created_at < now() - RETENTION))
        session.add_all(entries)
    return "".join(pieces)


def restore(settings: Settings, conversation_id: str, text: str) -> str:
    """``text`` with this conversation's placeholders replaced by the numbers (unknown or expired ones stay as they are)."""
    refs = PLACEHOLDER.findall(text)
    if not refs:
        return text
    cipher = cipher_for(settings)
    with session_scope(settings) as session:
        rows = session.scalars(
            select(VaultEntry).where(VaultEntry.conversation_id == conversation_id, VaultEntry.ref.in_(refs))
        )
        values = {row.ref: cipher.decrypt(row.value) for row in rows}
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
