"""The turn log: one row per message a person sent, saying how the assistant dealt with it. The analytics read it.

A turn's *outcome* is derived from the messages Rasa sent back (:func:`outcome_of`, pure), in this order of precedence:

============  ======================================================================================================
``handoff``   a ``handoff`` reply (a ticket for a person was opened: asked for, or after repeated failed searches)
``not_found`` a reply marked ``"outcome": "not_found"``: the knowledge base had nothing for the question
              (``actions/answer.py``: its not-found texts travel as custom text replies carrying that field)
``asked``     the assistant asked which item was meant (the clarification's buttons choose a service item)
``form``      an application form's summary or a submitted application (a card with 受理编号 and its download links)
``answered``  a knowledge answer, a personal checklist, or a progress card
``other``     everything else (greetings, chit-chat, form questions, refusals, nothing at all)
============  ======================================================================================================

Only the question of a turn whose search found nothing is kept (``question``), for the list of unanswered questions; it is
the text the gateway sent to Rasa, so long numbers are already vault placeholders, and those are reduced to 〔号码〕 here. All
other turns store an empty question. :func:`record_turn` never raises: a turn that cannot be logged is logged as a
warning and the conversation goes on. Turns older than ``ZHIBAN_ANALYTICS_RETENTION_DAYS`` are deleted, at most once an
hour per process, by the next turn that is recorded (:func:`prune`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, String, Text, delete
from sqlalchemy.orm import Mapped, mapped_column

from assistant.settings import Settings
from assistant.store import Base, now, session_scope
from assistant.vault import PLACEHOLDER

log = logging.getLogger(__name__)

CHANNELS = ("h5", "mini", "wechat", "phone")
OUTCOMES = ("answered", "asked", "not_found", "handoff", "form", "other")

#: Longest question kept (characters); the chat API accepts longer messages, the list of unanswered questions does not
#: need them.
MAX_QUESTION_CHARS = 500

#: Seconds between two deletions of expired turns in one process.
PRUNE_INTERVAL = 3600.0

#: Button payloads of a clarification ("您问的可能是下面几项中的一项"): each chooses a service item.
_CLARIFY_PREFIXES = ('/ask_service{"service_item"', '/guide_me{"service_item"')


class Turn(Base):
    __tablename__ = "turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    channel: Mapped[str] = mapped_column(String(8))
    conversation_id: Mapped[str] = mapped_column(String(128))
    elder: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(16))
    item_code: Mapped[str] = mapped_column(String(64), default="")
    question: Mapped[str] = mapped_column(Text, default="")  # only for turns whose search found nothing
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class TurnOutcome:
    outcome: str
    item_code: str  # the item the turn was about (the last one a structured reply named), or ""
    found_nothing: bool  # the knowledge base had nothing for the question (its text is kept)


def _custom(message: Mapping[str, Any]) -> Mapping[str, Any]:
    custom = message.get("custom")
    return custom if isinstance(custom, Mapping) else {}


def _is_clarification(message: Mapping[str, Any]) -> bool:
    buttons = [b for b in message.get("buttons") or [] if isinstance(b, Mapping)]
    return bool(buttons) and all(str(b.get("payload", "")).startswith(_CLARIFY_PREFIXES) for b in buttons)


def outcome_of(messages: Sequence[Mapping[str, Any]]) -> TurnOutcome:
    """How the assistant dealt with a turn, from the messages Rasa's REST channel returned for it (see the module doc)."""
    kinds: set[str] = set()
    item_code = ""
    for message in messages:
        custom = _custom(message)
        kind = str(custom.get("type") or "")
        if custom.get("item_code"):
            item_code = str(custom["item_code"])
        if kind == "handoff":
            kinds.add("handoff")
        elif custom.get("outcome") == "not_found":
            kinds.add("not_found")
        elif kind == "form_summary" or (custom.get("receipt_no") and custom.get("links")):
            kinds.add("form")
        elif kind in {"answer", "checklist"} or (kind == "card" and custom.get("receipt_no")):
            kinds.add("answered")
        elif not custom and _is_clarification(message):
            kinds.add("asked")
    outcome = next((o for o in ("handoff", "not_found", "asked", "form", "answered") if o in kinds), "other")
    return TurnOutcome(outcome, item_code[:64], "not_found" in kinds)


def stored_question(text: str) -> str:
    """The question as the turn log keeps it: vault placeholders reduced to 〔号码〕, cut to :data:`MAX_QUESTION_CHARS`.

    A button payload (``/intent{…}``) is not a question and gives "".
    """
    text = text.strip()
    if text.startswith("/"):
        return ""
    return PLACEHOLDER.sub("〔号码〕", text)[:MAX_QUESTION_CHARS]


def make_turn(
    *,
    channel: str,
    conversation_id: str,
    elder: bool,
    messages: Sequence[Mapping[str, Any]],
    question: str,
    latency_ms: int,
    at: dt.datetime | None = None,
) -> Turn:
    """The row for one turn (not stored)."""
    result = outcome_of(messages)
    return Turn(
        at=(at or now()).astimezone(dt.UTC),  # SQLite keeps no offset: store every moment in UTC
        channel=channel[:8],
        conversation_id=conversation_id[:128],
        elder=elder,
        outcome=result.outcome,
        item_code=result.item_code,
        question=stored_question(question) if result.found_nothing else "",
        latency_ms=max(0, min(int(latency_ms), 2**31 - 1)),
    )


_last_prune = 0.0
_prune_lock = threading.Lock()


def prune(settings: Settings, *, at: dt.datetime | None = None) -> int:
    """Delete the turns older than ``settings.analytics_retention_days``; returns how many were deleted."""
    cutoff = (at or now()) - dt.timedelta(days=settings.analytics_retention_days)
    with session_scope(settings) as session:
        result = session.execute(delete(Turn).where(Turn.at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)


def _prune_due() -> bool:
    global _last_prune
    with _prune_lock:
        if time.monotonic() - _last_prune < PRUNE_INTERVAL and _last_prune:
            return False
        _last_prune = time.monotonic()
        return True


def record_turn(
    settings: Settings,
    *,
    channel: str,
    conversation_id: str,
    elder: bool,
    messages: Sequence[Mapping[str, Any]],
    question: str,
    latency_ms: int,
    at: dt.datetime | None = None,
) -> None:
    """Store one turn (one INSERT; call it in a worker thread). Never raises: a failure is logged and ignored."""
    try:
        turn = make_turn(
            channel=channel,
            conversation_id=conversation_id,
            elder=elder,
            messages=messages,
            question=question,
            latency_ms=latency_ms,
            at=at,
        )
        with session_scope(settings) as session:
            session.add(turn)
    except Exception as exc:  # the turn log must never break a conversation
        log.warning("turn not logged (%s: %s)", type(exc).__name__, exc)
        return
    if _prune_due():
        try:
            deleted = prune(settings)
            if deleted:
                log.info("turn log: deleted %d turns older than %d days", deleted, settings.analytics_retention_days)
        except Exception as exc:
            log.warning("turn log not pruned (%s: %s)", type(exc).__name__, exc)
