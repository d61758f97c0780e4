"""The agent's desk in the application store: suggestion feedback (masked) and the handoff queue (claim, close), on SQLite
and PostgreSQL, and the migration that adds them."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from assistant import agent_desk as desk
from assistant.settings import Settings
from assistant.store import Ticket, add_ticket, alembic_config, migrate
from tests.utils.stores import stored_text

PHONE = "13812345678"
ID = "11010519491231002X"


def ticket(settings: Settings, **fields: object) -> Ticket:
    values: dict[str, object] = {
        "kind": "handoff",
        "reason": "requested",
        "conversation_id": "c1",
        "item_code": "P02",
        "item_name": "社会保障卡补领换领",
        "summary": "事项：社会保障卡补领换领\n诉求：社保卡丢了怎么补办",
        "questions": ["社保卡丢了怎么补办"],
        "facts": {},
    }
    return add_ticket(settings, **(values | fields))


def test_feedback_is_stored_with_numbers_masked(store: Settings) -> None:
    row = desk.record_feedback(
        store,
        staff="agent1",
        query=f"我电话{PHONE}，身份证{ID}，社保卡丢了怎么补办",
        item_code="P02",
        section="办理流程",
        rank=1,
        confidence=0.996,
        helpful=True,
        note=f"来电人留了电话 {PHONE}",
    )
    desk.record_feedback(
        store,
        staff="agent2",
        query="社保卡",
        item_code="P01",
        section="事项概述",
        rank=2,
        confidence=0.4,
        helpful=False,
    )
    assert row.query == "我电话138****5678，身份证110***********002X，社保卡丢了怎么补办"
    assert row.note == "来电人留了电话 138****5678"
    rows = desk.feedback(store)
    assert [(r.staff, r.item_code, r.rank, r.helpful) for r in rows] == [
        ("agent1", "P02", 1, True),
        ("agent2", "P01", 2, False),
    ]
    assert rows[0].confidence == pytest.approx(0.996)
    assert [r.staff for r in desk.feedback(store, item_code="P01")] == ["agent2"]
    everything = stored_text(store)
    assert PHONE not in everything and ID not in everything


def test_feedback_text_is_cut(store: Settings) -> None:
    row = desk.record_feedback(
        store, staff="a", query="查" * 5000, item_code="P02", section="s", rank=1, confidence=0.5, helpful=True
    )
    assert len(row.query) == desk.MAX_TEXT


def test_the_queue_holds_open_and_claimed_tickets_newest_first(store: Settings) -> None:
    first = ticket(store)
    second = ticket(store, conversation_id="c2")
    closed = ticket(store, conversation_id="c3")
    desk.close(store, closed.number, "agent1", "已电话回复")
    desk.claim(store, first.number, "agent1")
    assert [(t.number, t.status) for t in desk.waiting_tickets(store)] == [
        (second.number, "open"),
        (first.number, "claimed"),
    ]


def test_claim_and_close(store: Settings) -> None:
    number = ticket(store).number
    claimed = desk.claim(store, number, "agent1")
    assert (claimed.status, claimed.assignee) == ("claimed", "agent1")
    assert claimed.claimed_at is not None
    again = desk.claim(store, number, "agent1")  # claiming one's own ticket again changes nothing
    assert desk.aware(again.claimed_at) == desk.aware(claimed.claimed_at)  # type: ignore[arg-type]
    with pytest.raises(desk.TicketConflict) as taken:
        desk.claim(store, number, "agent2")
    assert (taken.value.reason, taken.value.assignee) == ("claimed", "agent1")
    with pytest.raises(desk.TicketConflict):
        desk.close(store, number, "agent2", "我来办")  # someone else's ticket
    done = desk.close(store, number, "agent1", f"已回电 {PHONE}，告知补办流程")
    assert (done.status, done.assignee, done.resolution) == ("closed", "agent1", "已回电 138****5678，告知补办流程")
    assert done.closed_at is not None
    stored = desk.find_ticket(store, number)
    assert stored.status == "closed" and stored.resolution == done.resolution
    with pytest.raises(desk.TicketConflict) as closed_again:
        desk.close(store, number, "agent1", "again")
    with pytest.raises(desk.TicketConflict) as claimed_after:
        desk.claim(store, number, "agent1")
    assert closed_again.value.reason == claimed_after.value.reason == "closed"


def test_an_open_ticket_can_be_closed_directly_and_admins_may_override(store: Settings) -> None:
    direct = desk.close(store, ticket(store).number, "agent1", "来电人已自行办理")
    assert (direct.status, direct.assignee) == ("closed", "agent1") and direct.claimed_at is not None
    other = ticket(store).number
    desk.claim(store, other, "agent1")
    overridden = desk.close(store, other, "admin1", "代为办结", override=True)
    assert (overridden.status, overridden.assignee) == ("closed", "agent1")


def test_concurrent_claims_give_the_ticket_to_one_agent(store: Settings) -> None:
    number = ticket(store).number
    winners: list[str] = []
    losers: list[str] = []
    barrier = threading.Barrier(4)

    def take(agent: str) -> None:
        barrier.wait()
        try:
            desk.claim(store, number, agent)
            winners.append(agent)
        except desk.TicketConflict:
            losers.append(agent)

    threads = [threading.Thread(target=take, args=(f"agent{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1 and len(losers) == 3
    assert desk.find_ticket(store, number).assignee == winners[0]


@pytest.mark.parametrize(
    "number",
    [
        "GD-20261130-999999",  # no such id
        "GD-19991231-{id:06d}",  # the right id on another day
        "gd-{day}-{id:06d}x",  # not a number at all
        "",
        "../../etc/passwd",
    ],
)
def test_unknown_numbers_are_not_found(store: Settings, number: str) -> None:
    made = ticket(store)
    number = number.format(id=made.id, day=f"{made.created_at:%Y%m%d}")
    with pytest.raises(desk.TicketNotFound):
        desk.find_ticket(store, number)
    with pytest.raises(desk.TicketNotFound):
        desk.claim(store, number, "agent1")


def test_numbers_are_read_case_insensitively(store: Settings) -> None:
    made = ticket(store)
    assert desk.find_ticket(store, made.number.lower()).id == made.id


@pytest.mark.parametrize(
    ("number", "row_id"),
    [
        ("GD-20261130-000042", 42),
        (" gd-20261130-000042 ", 42),
        ("GD-2026113-000042", None),
        ("SBK-20261130-000042", None),
    ],
)
def test_ticket_ids(number: str, row_id: int | None) -> None:
    assert desk.ticket_id(number) == row_id


def test_the_migration_keeps_existing_tickets_and_goes_back(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0004")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO tickets (kind, reason, conversation_id, item_code, item_name, summary, questions, facts, "
                "status, created_at) VALUES ('handoff', 'requested', 'c1', '', '', 's', '[]', '{}', 'open', :at)"
            ),
            {"at": dt.datetime(2026, 11, 30, tzinfo=dt.UTC)},
        )
    migrate(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("tickets")}
    assert {"assignee", "claimed_at", "closed_at", "resolution"} <= columns
    assert "suggestion_feedback" in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT assignee, resolution, status FROM tickets")).one() == ("", "", "open")
    command.downgrade(alembic_config(engine), "0006_agent-1")
    assert "suggestion_feedback" not in inspect(engine).get_table_names()
    assert "assignee" not in {c["name"] for c in inspect(engine).get_columns("tickets")}
