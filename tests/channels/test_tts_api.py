"""POST /api/v1/tts: speech for the page's 朗读 button, against the fake edge-tts service and the real espeak-ng."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from assistant.settings import Settings
from channels.main import create_app
from tests.channels.fake_rasa import FakeRasa
from tests.channels.test_chat_api import assert_chinese_error
from tests.utils.net import free_port
from tests.voice.fake_edge_tts import FakeEdgeTTS
from voice.audio import decode


@pytest.fixture
def fake_edge() -> Iterator[FakeEdgeTTS]:
    with FakeEdgeTTS().running() as server:
        yield server


def client_for(settings: Settings) -> TestClient:
    return TestClient(create_app(settings, rasa_transport=FakeRasa().transport()))


@pytest.fixture
def tts_settings(settings: Settings, fake_edge: FakeEdgeTTS) -> Settings:
    return settings.model_copy(update={"tts_edge_url": fake_edge.url, "tts_timeout": 1.0, "tts_backoff": 0.01})


@pytest.fixture
def client(tts_settings: Settings) -> Iterator[TestClient]:
    with client_for(tts_settings) as test_client:
        yield test_client


def test_a_reply_is_read_as_mp3_by_edge_tts(client: TestClient, fake_edge: FakeEdgeTTS) -> None:
    response = client.post("/api/v1/tts", json={"text": "补办社保卡请带身份证原件，一般5个工作日办结。"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["x-tts-backend"] == "edge-tts"
    speech = decode(response.content)
    assert speech.rate == 24000 and speech.duration > 2
    assert fake_edge.requests[0].text == "补办社保卡请带身份证原件，一般五个工作日办结。"
    assert fake_edge.requests[0].prosody("rate") == "+0%"


def test_elder_is_slower_and_louder(client: TestClient, fake_edge: FakeEdgeTTS) -> None:
    assert client.post("/api/v1/tts", json={"text": "您好。", "elder": True}).status_code == 200
    request = fake_edge.requests[0]
    assert (request.prosody("rate"), request.prosody("volume")) == ("-20%", "+20%")


def test_repeats_come_from_the_cache(client: TestClient, fake_edge: FakeEdgeTTS, tts_settings: Settings) -> None:
    first = client.post("/api/v1/tts", json={"text": "您好。"})
    second = client.post("/api/v1/tts", json={"text": "您好。"})
    assert second.content == first.content and fake_edge.connections == 1
    assert list((tts_settings.data_dir / "tts-cache").glob("*.speech"))


def test_espeak_reads_when_edge_tts_fails(client: TestClient, fake_edge: FakeEdgeTTS) -> None:
    fake_edge.mode = "close_mid_stream"
    response = client.post("/api/v1/tts", json={"text": "您好。"})
    assert response.status_code == 200
    assert response.headers["x-tts-backend"] == "espeak-ng"
    assert decode(response.content).duration > 0.3


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"text": "字" * 2001}, "2000字以内"),  # too long
        ({"text": "   "}, "没有需要朗读"),  # empty
        ({"text": "😀👍**"}, "没有可以朗读"),  # nothing speakable
        ({"text": "你好", "voice": "x"}, "不支持这个字段"),  # unknown field
        ({}, "缺少必填项"),  # no text
    ],
)
def test_bad_requests_get_chinese_errors(client: TestClient, body: dict[str, object], fragment: str) -> None:
    message = assert_chinese_error(client.post("/api/v1/tts", json=body), 422, "invalid_request")
    assert fragment in message


def test_no_backend_gives_503_in_chinese(settings: Settings) -> None:
    nowhere = settings.model_copy(
        update={"tts_backends": "edge", "tts_edge_url": f"ws://127.0.0.1:{free_port()}/x?a=b", "tts_backoff": 0}
    )
    with client_for(nowhere) as client:
        message = assert_chinese_error(client.post("/api/v1/tts", json={"text": "您好"}), 503, "tts_unavailable")
    assert "文字" in message


def test_rate_limited_per_address(tts_settings: Settings) -> None:
    with client_for(tts_settings.model_copy(update={"rate_limit_ip": 2})) as client:
        for _ in range(2):
            assert client.post("/api/v1/tts", json={"text": "您好。"}).status_code == 200
        response = client.post("/api/v1/tts", json={"text": "您好。"})
        assert_chinese_error(response, 429, "rate_limited")
        assert int(response.headers["retry-after"]) >= 1
        # the chat's own count is separate
        assert client.post("/api/v1/chat", json={"text": "你好"}).status_code == 200


def test_documented_in_openapi(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/tts"]["post"]
    assert "audio/mpeg" in operation["responses"]["200"]["content"]
    assert "X-TTS-Backend" in operation["responses"]["200"]["headers"]
