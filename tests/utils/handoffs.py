"""A handed-over conversation for the agent console's tests: the ticket actions/handoff.py makes, and the conversation
behind it in the fake Rasa's tracker (the person gave a phone number, which the gateway vaulted before Rasa saw it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from assistant.settings import Settings
from assistant.store import Ticket, add_ticket
from assistant.vault import redact
from tests.channels.fake_rasa import FakeRasa

PHONE = "13812345678"
CONVERSATION = "a" * 32
STARTED = dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC).timestamp()  # 14:00 in China


def handed_over(settings: Settings, rasa: FakeRasa, conversation: str = CONVERSATION, **fields: Any) -> Ticket:
    """Puts the conversation in ``rasa``'s tracker and adds its ticket to the store; ``fields`` override the ticket's.

    The history an agent sees (action_listen is not a turn): 社保卡丢了怎么补办 · 先挂失，再补领。 · a clicked option ·
    我的电话是138****5678，明天能去办吗 · 转人工 · 好的，正在为您转接人工服务。 · the handoff to ticket GD-x.
    """
    said = redact(settings, conversation, f"我的电话是{PHONE}，明天能去办吗")
    assert PHONE not in said
    rasa.events[conversation] = [
        {"event": "action", "name": "action_listen", "timestamp": STARTED},
        {"event": "user", "text": "社保卡丢了怎么补办", "timestamp": STARTED + 1, "parse_data": {}},
        {
            "event": "bot",
            "text": None,
            "timestamp": STARTED + 2,
            "data": {
                "custom": {"type": "answer", "title": "【社会保障卡补领换领】办理流程", "text": "先挂失，再补领。"}
            },
        },
        {"event": "user", "text": '/choose_item{"item_code":"P02"}', "timestamp": STARTED + 3, "parse_data": {}},
        {"event": "user", "text": said, "timestamp": STARTED + 4, "parse_data": {}},
        {"event": "user", "text": "转人工", "timestamp": STARTED + 5, "parse_data": {}},
        {"event": "bot", "text": "好的，正在为您转接人工服务。", "timestamp": STARTED + 6},
        {
            "event": "bot",
            "text": None,
            "timestamp": STARTED + 7,
            "data": {"custom": {"type": "handoff", "ticket": "GD-x"}},
        },
    ]
    values: dict[str, Any] = {
        "kind": "handoff",
        "reason": "requested",
        "conversation_id": conversation,
        "item_code": "P02",
        "item_name": "社会保障卡补领换领",
        "summary": "事项：社会保障卡补领换领\n诉求：社保卡丢了怎么补办；我的电话是138****5678，明天能去办吗",
        "questions": ["社保卡丢了怎么补办", "我的电话是138****5678，明天能去办吗"],
        "facts": {"是否已挂失": "已挂失"},
        "created_at": dt.datetime.fromtimestamp(STARTED + 7, dt.UTC),
    }
    return add_ticket(settings, **(values | fields))
