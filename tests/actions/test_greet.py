from __future__ import annotations

from typing import Any

import pytest

from actions.greet import has_been_greeted


def user(text: str) -> dict[str, Any]:
    return {"event": "user", "text": text}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


SESSION = {"event": "session_started"}


@pytest.mark.parametrize(
    ("events", "greeted"),
    [
        ([], False),  # a brand-new conversation
        ([SESSION, action("action_listen"), user("你好")], False),  # first greeting
        ([SESSION, user("你好"), action("action_greet"), user("在吗")], True),  # greeted earlier this session
        ([action("action_greet"), SESSION, user("你好")], False),  # greeted in an earlier session only
        ([SESSION, user("谢谢"), action("utter_thank"), user("你好")], False),  # other actions do not count
    ],
)
def test_has_been_greeted(events: list[dict[str, Any]], greeted: bool) -> None:
    assert has_been_greeted(events) is greeted
