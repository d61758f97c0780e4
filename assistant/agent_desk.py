"""The agent's desk: feedback on suggested answers, and the queue of conversations the assistant handed to people.

Feedback rows (table ``suggestion_feedback``) say which suggestion helped whom; the query is stored masked with the vault's
rule (no phone, ID or card number is stored whole). Tickets (:class:`assistant.store.Ticket`) move ``open`` → ``claimed`` (an
agent took it) → ``closed`` (with a resolution); an open ticket may also be closed directly. Moves that make no sense raise
:class:`TicketConflict`, unknown numbers :class:`TicketNotFound`; the gateway turns them into Chinese 409 and 404 answers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal, cast

from sqlalchemy import (
    Boolean,
    CursorResult,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    Update,
    and_,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from assistant.settings import Settings
from assistant.store import Base, Ticket, now, session_scope
from assistant.workorder import mask_numbers

#: Longest query or note kept (a pasted call transcript is cut).
MAX_TEXT = 2000

#: Ticket statuses shown in the queue.
WAITING = ("open", "claimed")

_NUMBER = re.compile(r"GD-(\d{8})-(\d{6})")


class SuggestionFeedback(Base):
    """An agent's 有帮助 / 没帮助 on one suggested answer."""

    __tablename__ = "suggestion_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    staff: Mapped[str] = mapped_column(String(64), index=True)  # username
    query: Mapped[str] = mapped_column(Text)  # masked
    item_code: Mapped[str] = mapped_column(String(64), index=True)
    section: Mapped[str] = mapped_column(String(64))
    rank: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    helpful: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")  # masked


class TicketNotFound(LookupError):
    def __init__(self, number: str) -> None:
        super().__init__(f"no ticket {number!r}")
        self.number = number


class TicketConflict(ValueError):
    """A move the ticket's state does not allow: it is closed already, or another agent has claimed it."""

    def __init__(self, number: str, reason: Literal["closed", "claimed"], assignee: str = "") -> None:
        super().__init__(f"ticket {number} is {reason}" + (f" by {assignee}" if assignee else ""))
        self.number = number
        self.reason = reason
        self.assignee = assignee


def aware(moment: dt.datetime) -> dt.datetime:
    """``moment`` with its time zone (SQLite gives back naive datetimes; the store writes UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def clean(text: str) -> str:
    """Free text as stored: masked, trimmed and cut to :data:`MAX_TEXT`."""
    return mask_numbers(text.strip())[:MAX_TEXT]


def record_feedback(
    settings: Settings,
    *,
    staff: str,
    query: str,
    item_code: str,
    section: str,
    rank: int,
    confidence: float,
    helpful: bool,
    note: str = "",
) -> SuggestionFeedback:
    """Store one agent's verdict on one suggestion (query and note masked)."""
    with session_scope(settings) as session:
        row = SuggestionFeedback(
            staff=staff,
            query=clean(query),
            item_code=item_code,
            section=section,
            rank=rank,
            confidence=confidence,
            helpful=helpful,
            note=clean(note),
        )
        session.add(row)
        session.flush()
        return row


def feedback(settings: Settings, item_code: str | None = None) -> list[SuggestionFeedback]:
    """Stored feedback, oldest first (of one item when ``item_code`` is given)."""
    with session_scope(settings) as session:
        query = select(SuggestionFeedback).order_by(SuggestionFeedback.id)
        if item_code is not None:
            query = query.where(SuggestionFeedback.item_code == item_code)
        return list(session.scalars(query))


def ticket_id(number: str) -> int | None:
    """The row id in a ticket number (GD-20261130-000042 → 42), None if it is not one."""
    match = _NUMBER.fullmatch(number.strip().upper())
    return int(match.group(2)) if match else None


def find_ticket(settings: Settings, number: str) -> Ticket:
    """The ticket with this number.

    Raises:
        TicketNotFound: no ticket has this number.
    """
    row_id = ticket_id(number)
    with session_scope(settings) as session:
        ticket = session.get(Ticket, row_id) if row_id is not None else None
        # the number also carries the day: GD-20261201-000042 does not name ticket 42 of 30 November
        if ticket is None or ticket.number != number.strip().upper():
            raise TicketNotFound(number)
        return ticket


def waiting_tickets(settings: Settings) -> list[Ticket]:
    """Open and claimed tickets, newest first."""
    with session_scope(settings) as session:
        query = select(Ticket).where(Ticket.status.in_(WAITING)).order_by(Ticket.created_at.desc(), Ticket.id.desc())
        return list(session.scalars(query))


def _changed(session: Session, statement: Update) -> int:
    """Run an UPDATE; the number of rows it changed."""
    result = cast("CursorResult[Any]", session.execute(statement))
    return result.rowcount


def _conflict(ticket: Ticket) -> TicketConflict:
    return TicketConflict(ticket.number, "closed" if ticket.status == "closed" else "claimed", ticket.assignee)


# Moves are single conditional UPDATEs (compare and set): of two agents claiming at once exactly one changes the row,
# on SQLite as on PostgreSQL, without holding a lock between reading and writing.


def claim(settings: Settings, number: str, username: str) -> Ticket:
    """``username`` takes the ticket (claiming one's own ticket again changes nothing).

    Raises:
        TicketNotFound: no ticket has this number.
        TicketConflict: it is closed, or another agent has claimed it.
    """
    ticket = find_ticket(settings, number)
    with session_scope(settings) as session:
        moved = _changed(
            session,
            update(Ticket)
            .where(Ticket.id == ticket.id, Ticket.status == "open")
            .values(status="claimed", assignee=username, claimed_at=now()),
        )
    ticket = find_ticket(settings, number)
    if moved == 1 or (ticket.status == "claimed" and ticket.assignee == username):
        return ticket
    raise _conflict(ticket)


def close(settings: Settings, number: str, username: str, resolution: str, *, override: bool = False) -> Ticket:
    """``username`` closes the ticket with ``resolution`` (stored masked); an open ticket is claimed on the way.

    Args:
        override: close it even when another agent has claimed it (admins).

    Raises:
        TicketNotFound: no ticket has this number.
        TicketConflict: it is closed already, or another agent has claimed it (and not ``override``).
    """
    ticket = find_ticket(settings, number)
    moment = now()
    mine = Ticket.status == "claimed" if override else and_(Ticket.status == "claimed", Ticket.assignee == username)
    with session_scope(settings) as session:
        moved = _changed(
            session,
            update(Ticket)
            .where(Ticket.id == ticket.id, or_(Ticket.status == "open", mine))
            .values(
                status="closed",
                closed_at=moment,
                resolution=clean(resolution),
                assignee=case((Ticket.status == "open", username), else_=Ticket.assignee),
                claimed_at=func.coalesce(Ticket.claimed_at, moment),
            ),
        )
    ticket = find_ticket(settings, number)
    if moved == 1:
        return ticket
    raise _conflict(ticket)
