"""The chat API's state and streaming through the real gateway, Rasa server (the trained model) and action server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.e2e.conversation import Conversation
from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


class StatefulConversation(Conversation):
    """A conversation that keeps the last ``state`` of each answer."""

    state: dict[str, Any] | None = None

    def say(self, text: str) -> list[dict[str, Any]]:
        response = self.stack.chat(text, self.session_id, elder=self.elder)
        assert response.status_code == 200, response.text
        body = response.json()
        self.session_id = body["session_id"]
        self.state = body["state"]
        assert self.state is not None, "the gateway could not read the tracker"
        replies: list[dict[str, Any]] = body["replies"]
        return replies

    def stream(self, text: str) -> list[tuple[str, Any]]:
        """Send ``text`` through POST /api/v1/chat/stream; the (event, data) pairs in the order they came."""
        body: dict[str, object] = {"text": text, "session_id": self.session_id}
        events = []
        with httpx.stream("POST", f"{self.stack.url}/api/v1/chat/stream", json=body, timeout=30) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            name = ""
            for line in response.iter_lines():
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    events.append((name, json.loads(line.removeprefix("data: "))))
        return events


@pytest.fixture(scope="module")
def warm(stack: Stack) -> Stack:
    """The action server loads the knowledge index on the first question; on a busy machine that can take longer than
    the gateway waits (``ZHIBAN_RASA_TIMEOUT``), so ask once before the conversation under test."""
    for _ in range(3):
        if stack.chat("社保卡在哪里办", timeout=60).status_code == 200:
            break
    return stack


def test_state_follows_the_item_and_the_form_and_streaming_goes_on_with_it(warm: Stack) -> None:
    stack = warm
    person = StatefulConversation(stack)
    person.say("你好")
    assert person.state == {"current_item": None, "active_form": None, "form_progress": None, "ended": False}

    person.say("社保卡丢了怎么补办")
    assert person.state is not None
    assert person.state["current_item"] == {"code": "P02", "name": "社会保障卡补领换领"}
    assert person.state["active_form"] is None

    opened = person.say("我要申请补办社保卡")
    assert "社会保障卡补领换领申请" in "\n".join(r["text"] for r in opened)
    assert person.state["active_form"] == {
        "code": "social_security_card",
        "name": "社会保障卡补领换领申请",
        "status": "filling",
    }
    first = person.state["form_progress"]
    assert first["stage"] == "fields" and first["answered"] == 0 and first["total"] >= 5
    # the count the form itself asks with: "（第1项，共N项）"
    assert any(f"第1项，共{first['total']}项" in r["text"] for r in opened), opened

    person.say("卡被人偷了")
    assert person.state["form_progress"]["answered"] == 1

    # the same conversation through the stream: replies as they come, then the state, then done
    events = person.stream("我自己办")
    names = [name for name, _ in events]
    assert names[-2:] == ["state", "done"] and names.count("reply") >= 1 and set(names) == {"reply", "state", "done"}
    assert events[-1][1] == {"session_id": person.session_id}
    streamed = events[-2][1]
    assert streamed["active_form"]["status"] == "filling"
    assert streamed["form_progress"]["answered"] == 2
    assert any(
        f"第3项，共{streamed['form_progress']['total']}项" in data["text"] for name, data in events if name == "reply"
    )

    person.say("取消申请")  # the form is closed in the same turn
    assert person.state["active_form"] is None and person.state["form_progress"] is None

    person.say("好的，再见")
    assert person.state["ended"] is True
