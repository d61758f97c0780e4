"""Rate limits and CORS of the chat API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from assistant.settings import Settings
from channels.main import create_app
from channels.ratelimit import RateLimiter, wait_seconds
from tests.channels.fake_rasa import FakeRasa


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_window() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 60, clock=clock)
    assert [limiter.check("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.check("a") == pytest.approx(60.0)
    assert limiter.check("b") == 0.0  # keys are counted apart
    clock.now += 30
    assert limiter.check("a") == pytest.approx(30.0)
    clock.now += 30.5
    assert limiter.check("a") == 0.0  # the oldest event left the window


def test_unlimited_and_idle_keys_forgotten() -> None:
    assert all(RateLimiter(0).check("x") == 0.0 for _ in range(1000))
    clock = Clock()
    limiter = RateLimiter(1, 10, clock=clock, max_keys=5)
    for i in range(5):
        limiter.check(str(i))
    clock.now += 11
    limiter.check("new")
    assert len(limiter._events) <= 2


@pytest.mark.parametrize(("seconds", "told"), [(0.01, 1), (1.0, 1), (1.2, 2), (59.9, 60)])
def test_wait_seconds(seconds: float, told: int) -> None:
    assert wait_seconds(seconds) == told


@pytest.fixture
def limited(settings: Settings) -> Iterator[TestClient]:
    limited_settings = settings.model_copy(
        update={"rate_limit_session": 3, "rate_limit_ip": 5, "cors_origins": "https://zwfw.example.gov.cn"}
    )
    with TestClient(create_app(limited_settings, rasa_transport=FakeRasa().transport())) as client:
        yield client


def test_a_session_over_its_limit_gets_429_in_chinese(limited: TestClient) -> None:
    first = limited.post("/api/v1/chat", json={"text": "你好"}).json()
    session = first["session_id"]
    statuses = [
        limited.post("/api/v1/chat", json={"text": "在吗", "session_id": session}).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 200]  # the first message had no session yet
    refused = limited.post("/api/v1/chat", json={"text": "在吗", "session_id": session})
    assert refused.json()["error"]["code"] == "rate_limited" and "秒再试" in refused.json()["error"]["message"]
    assert int(refused.headers["Retry-After"]) >= 1


def test_an_address_over_its_limit_gets_429_even_with_new_sessions(limited: TestClient) -> None:
    statuses = [limited.post("/api/v1/chat", json={"text": "你好"}).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def test_cors_allows_only_the_configured_origin(limited: TestClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = limited.options("/api/v1/chat", headers={"Origin": "https://zwfw.example.gov.cn", **preflight})
    assert allowed.headers.get("access-control-allow-origin") == "https://zwfw.example.gov.cn"
    other = limited.options("/api/v1/chat", headers={"Origin": "https://evil.example.com", **preflight})
    assert "access-control-allow-origin" not in other.headers


def test_no_cors_headers_without_configuration(settings: Settings) -> None:
    with TestClient(create_app(settings, rasa_transport=FakeRasa().transport())) as client:
        response = client.post("/api/v1/chat", json={"text": "你好"}, headers={"Origin": "https://zwfw.example.gov.cn"})
    assert response.status_code == 200 and "access-control-allow-origin" not in response.headers
