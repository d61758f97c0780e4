from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.errors import InvalidSession
from channels.sessions import conversation_of, issue_session

SECRET = "a-test-secret-of-some-length"


def test_issued_session_round_trips() -> None:
    session = issue_session(SECRET)
    assert conversation_of(session, SECRET) == session.split(".")[0]
    assert issue_session(SECRET) != session


def test_session_from_another_secret_is_refused() -> None:
    with pytest.raises(InvalidSession):
        conversation_of(issue_session("another-secret-entirely"), SECRET)


@given(st.text(max_size=80))
def test_arbitrary_strings_are_refused(text: str) -> None:
    with pytest.raises(InvalidSession):
        conversation_of(text, SECRET)


@given(st.integers(min_value=0, max_value=56), st.sampled_from("0123456789abcdef"))
def test_any_changed_character_is_refused(position: int, replacement: str) -> None:
    session = issue_session(SECRET)
    if position == 32 or session[position] == replacement:
        return
    tampered = session[:position] + replacement + session[position + 1 :]
    with pytest.raises(InvalidSession):
        conversation_of(tampered, SECRET)
