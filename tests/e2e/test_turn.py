"""Conversations through the real gateway, Rasa server and action server."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def texts(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [reply["text"] for reply in response.json()["replies"]]


def test_a_chinese_greeting_is_answered_by_the_custom_action(stack: Stack) -> None:
    first = stack.chat("你好")
    assert any("智办" in text and "请问您想办什么事" in text for text in texts(first))

    # action_greet reads the conversation: the second greeting in the same session is short.
    session_id = first.json()["session_id"]
    again = texts(stack.chat("您好，在吗", session_id))
    assert again and not any("智办" in text for text in again)


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        ("谢谢你", "不"),  # 不客气 / 不用谢
        ("好的，再见", "再见"),
        ("早上好", "智办"),
        ("您好，請問在嗎", "智办"),  # traditional characters are simplified before Rasa
    ],
)
def test_small_talk(stack: Stack, message: str, fragment: str) -> None:
    assert any(fragment in text for text in texts(stack.chat(message)))


def test_sessions_do_not_share_state(stack: Stack) -> None:
    a = stack.chat("你好")
    texts(stack.chat("你好", a.json()["session_id"]))
    b = texts(stack.chat("你好"))
    assert any("智办" in text for text in b)


def test_readiness_reports_every_part(stack: Stack) -> None:
    ready = httpx.get(f"{stack.url}/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "parts": {"gateway": True, "rasa": True, "actions": True}}


def test_bad_input_through_the_real_gateway(stack: Stack) -> None:
    response = stack.chat("办" * 2001)
    assert response.status_code == 422
    assert "2000字以内" in response.json()["error"]["message"]
