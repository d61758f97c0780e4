"""The chat API against a fake Rasa (MockTransport) and, for network faults, against real sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.settings import Settings
from channels.errors import AssistantUnavailable
from channels.main import MAX_BODY_BYTES, create_app
from channels.rasa_client import RasaClient
from tests.channels.fake_rasa import FakeRasa
from tests.utils.net import free_ports, silent_server


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def client(settings: Settings, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    with TestClient(create_app(settings, rasa_transport=fake_rasa.transport())) as test_client:
        yield test_client


def assert_chinese_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    assert "Traceback" not in response.text
    message: str = error["message"]
    return message


def test_first_message_gets_a_signed_session_that_is_kept(client: TestClient, fake_rasa: FakeRasa) -> None:
    first = client.post("/api/v1/chat", json={"text": "你好"}).json()
    assert first["replies"] == [
        {
            "type": "text",
            "text": "您好",
            "buttons": [],
            "items": [],
            "citations": [],
            "item_code": "",
            "ticket": "",
            "title": "",
            "receipt_no": "",
            "links": [],
        }
    ]
    session_id = first["session_id"]
    second = client.post("/api/v1/chat", json={"text": "在吗", "session_id": session_id}).json()
    assert second["session_id"] == session_id
    senders = {body["sender"] for body in fake_rasa.received}
    assert senders == {session_id.split(".")[0]}


def test_message_is_normalised_before_rasa(client: TestClient, fake_rasa: FakeRasa) -> None:
    client.post("/api/v1/chat", json={"text": "  身份證　過期了\u200b ", "elder": True})
    assert fake_rasa.received[-1]["message"] == "身份证 过期了"
    assert fake_rasa.received[-1]["metadata"] == {"elder": True}


def test_buttons_and_custom_replies_are_rendered(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda sender, text: [
        {"text": "您想办哪一项？", "buttons": [{"title": "社保卡申领", "payload": "/choose"}]},
        {
            "custom": {
                "type": "checklist",
                "text": "材料清单",
                "items": ["身份证原件"],
                "citations": [{"item_code": "P01", "item_name": "社会保障卡申领", "section": "申请材料"}],
            }
        },
    ]
    replies = client.post("/api/v1/chat", json={"text": "社保卡"}).json()["replies"]
    assert replies[0]["type"] == "buttons"
    assert replies[0]["buttons"] == [{"title": "社保卡申领", "payload": "/choose"}]
    assert replies[1]["type"] == "checklist"
    assert replies[1]["citations"][0]["section"] == "申请材料"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"text": ""}, "不能为空"),  # empty
        ({"text": " \n\t\u3000 "}, "不能为空"),  # only whitespace
        ({"text": "\u200b\u200b"}, "不能为空"),  # only invisible characters
        ({"text": "办" * 2001}, "2000字以内"),  # over the limit
        ({}, "缺少必填项"),  # no text at all
        ({"text": 123}, "应为文字"),  # not a string
        ({"text": "你好", "colour": "red"}, "不支持"),  # unknown field
    ],
)
def test_bad_messages_get_a_chinese_422(
    client: TestClient, fake_rasa: FakeRasa, body: dict[str, object], fragment: str
) -> None:
    message = assert_chinese_error(client.post("/api/v1/chat", json=body), 422, "invalid_request")
    assert fragment in message
    assert fake_rasa.received == []


def test_a_message_of_exactly_the_limit_is_accepted(client: TestClient) -> None:
    assert client.post("/api/v1/chat", json={"text": "办" * 2000}).status_code == 200


def test_malformed_json_gets_a_chinese_422(client: TestClient) -> None:
    response = client.post("/api/v1/chat", content=b"{not json", headers={"content-type": "application/json"})
    assert_chinese_error(response, 422, "invalid_request")


@pytest.mark.parametrize(
    "session_id",
    [
        "not-a-session",  # malformed
        "0" * 32 + "." + "0" * 24,  # well-formed but not signed by us
    ],
)
def test_foreign_session_ids_are_refused(client: TestClient, session_id: str) -> None:
    response = client.post("/api/v1/chat", json={"text": "你好", "session_id": session_id})
    assert_chinese_error(response, 400, "invalid_session")


def test_oversized_body_is_refused_before_parsing(client: TestClient) -> None:
    response = client.post(
        "/api/v1/chat", content=b"x" * (MAX_BODY_BYTES + 1), headers={"content-type": "application/json"}
    )
    assert_chinese_error(response, 413, "http_413")


def test_unknown_path_and_wrong_method_answer_in_chinese(client: TestClient) -> None:
    assert_chinese_error(client.get("/api/v1/nothing"), 404, "http_404")
    assert_chinese_error(client.get("/api/v1/chat"), 405, "http_405")


def test_rasa_error_becomes_503(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.rasa_status = 500
    assert_chinese_error(client.post("/api/v1/chat", json={"text": "你好"}), 503, "assistant_unavailable")


def test_silence_with_the_action_server_down_becomes_503(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda sender, text: []
    fake_rasa.actions_up = False
    assert_chinese_error(client.post("/api/v1/chat", json={"text": "你好"}), 503, "assistant_unavailable")
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["parts"] == {"gateway": True, "rasa": True, "actions": False}


def test_silence_with_everything_up_is_an_empty_answer(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda sender, text: []
    assert client.post("/api/v1/chat", json={"text": "嗯"}).json()["replies"] == []


def test_rasa_not_running_answers_503_at_once(settings: Settings) -> None:
    rasa_port, actions_port = [port for port in free_ports(3) if port != settings.gateway_port][:2]
    settings = settings.model_copy(update={"rasa_port": rasa_port, "actions_port": actions_port})
    with TestClient(create_app(settings)) as client:
        started = time.monotonic()
        response = client.post("/api/v1/chat", json={"text": "你好"})
        assert time.monotonic() - started < 2
        assert_chinese_error(response, 503, "assistant_unavailable")
        assert client.get("/readyz").json()["parts"] == {"gateway": True, "rasa": False, "actions": False}


def test_rasa_that_never_answers_gets_503_after_the_timeout(settings: Settings) -> None:
    with silent_server() as port:
        settings = settings.model_copy(update={"rasa_port": port, "rasa_timeout": 1.0})
        with TestClient(create_app(settings)) as client:
            started = time.monotonic()
            response = client.post("/api/v1/chat", json={"text": "你好"})
            elapsed = time.monotonic() - started
    assert_chinese_error(response, 503, "assistant_unavailable")
    assert 0.9 <= elapsed < 5


def test_health_and_page_and_offline_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    page = client.get("/")
    assert page.status_code == 200 and "智办" in page.text
    assert "http" not in "".join(line for line in page.text.splitlines() if "src=" in line or "href=" in line)
    docs = client.get("/docs").text
    assert "cdn" not in docs.lower()
    assert client.get("/static/chat.js").status_code == 200
    assert "/api/v1/chat" in client.get("/openapi.json").json()["paths"]


def test_tracker_reads_slots_and_events_of_one_conversation() -> None:
    fake = FakeRasa(slots={"c1": {"current_item": "P02"}})

    async def scenario() -> None:
        client = RasaClient("http://rasa", "http://actions", timeout=2, transport=fake.transport())
        await client.send("c1", "社保卡丢了")
        tracker = await client.tracker("c1")
        assert tracker["slots"] == {"current_item": "P02"}
        assert [e["event"] for e in tracker["events"]] == ["user", "bot"]
        assert "events" not in await client.tracker("c1", events="NONE")
        fake.tracker_status = 500
        with pytest.raises(AssistantUnavailable):
            await client.tracker("c1")
        await client.aclose()

    asyncio.run(scenario())
