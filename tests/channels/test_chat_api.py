"""The chat API against a fake Rasa (MockTransport) and, for network faults, against real sockets."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from assistant.crypto import cipher_for
from assistant.settings import Settings
from assistant.vault import PLACEHOLDER
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
    assert first["state"] == {"current_item": None, "active_form": None, "form_progress": None, "ended": False}
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


# --- the conversation state ------------------------------------------------------------------------------------------
FORM_STATE = {"form": "social_security_card", "stage": "fields", "values": {"reason": "损坏"}, "skipped": []}


def test_each_answer_carries_the_state_from_the_tracker(
    client: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    first = client.post("/api/v1/chat", json={"text": "社保卡坏了"}).json()
    conversation = first["session_id"].split(".")[0]
    fake_rasa.slots[conversation] = {
        "current_item": "P02",
        "app_form": "social_security_card",
        "form_status": "filling",
        "app_state": cipher_for(settings).encrypt_json(FORM_STATE),
    }
    state = client.post("/api/v1/chat", json={"text": "我要补办", "session_id": first["session_id"]}).json()["state"]
    assert state == {
        "current_item": {"code": "P02", "name": "社会保障卡补领换领"},
        "active_form": {"code": "social_security_card", "name": "社会保障卡补领换领申请", "status": "filling"},
        "form_progress": {"answered": 1, "total": 7, "stage": "fields"},
        "ended": False,
    }
    fake_rasa.slots[conversation] = {}
    fake_rasa.intent_of = lambda text: "goodbye" if text == "再见" else "greet"
    bye = client.post("/api/v1/chat", json={"text": "再见", "session_id": first["session_id"]}).json()["state"]
    assert bye == {"current_item": None, "active_form": None, "form_progress": None, "ended": True}


def test_an_unreadable_tracker_keeps_the_replies_and_gives_a_null_state(
    client: TestClient, fake_rasa: FakeRasa, caplog: pytest.LogCaptureFixture
) -> None:
    fake_rasa.tracker_status = 500
    response = client.post("/api/v1/chat", json={"text": "你好"})
    assert response.status_code == 200
    assert response.json()["replies"][0]["text"] == "您好"
    assert response.json()["state"] is None
    assert "conversation state not read" in caplog.text


def test_custom_replies_of_unknown_type_become_cards_and_items_become_text(
    client: TestClient, fake_rasa: FakeRasa
) -> None:
    odd: list[dict[str, Any]] = [
        {"custom": {"type": "carousel", "text": "x", "items": [{"text": "第一行"}, "第二行", 3, None]}},
        {"custom": {"text": "无类型"}},
    ]
    fake_rasa.reply = lambda sender, text: odd
    replies = client.post("/api/v1/chat", json={"text": "你好"}).json()["replies"]
    assert [r["type"] for r in replies] == ["card", "card"]
    assert replies[0]["items"] == ["第一行", "第二行", "3"]


# --- streaming -------------------------------------------------------------------------------------------------------
def events_of(text: str) -> list[tuple[str, Any]]:
    """The (event, data) pairs of a Server-Sent Events body; every data is one line of JSON."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


TWO_MESSAGES: list[dict[str, Any]] = [
    {"text": "好的，我们来填写《社会保障卡补领换领申请》。"},
    {"text": "（第1项，共7项）为什么补换卡？", "buttons": [{"title": "损坏", "payload": "损坏"}]},
]


def test_stream_sends_replies_then_state_then_done(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda sender, text: TWO_MESSAGES
    response = client.post("/api/v1/chat/stream", json={"text": "我要补办社保卡", "elder": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    events = events_of(response.text)
    assert [name for name, _ in events] == ["reply", "reply", "state", "done"]
    assert events[0][1]["text"] == TWO_MESSAGES[0]["text"]
    assert events[1][1]["type"] == "buttons" and events[1][1]["buttons"] == [{"title": "损坏", "payload": "损坏"}]
    assert events[2][1]["active_form"] is None
    session_id = events[3][1]["session_id"]
    assert fake_rasa.received[-1] == {
        "sender": session_id.split(".")[0],
        "message": "我要补办社保卡",
        "metadata": {"elder": True},
    }
    # the same session goes on, through either route
    again = client.post("/api/v1/chat/stream", json={"text": "损坏", "session_id": session_id})
    assert events_of(again.text)[-1] == ("done", {"session_id": session_id})
    assert client.post("/api/v1/chat", json={"text": "嗯", "session_id": session_id}).json()["session_id"] == session_id


def test_stream_redacts_numbers_and_normalises_like_chat(client: TestClient, fake_rasa: FakeRasa) -> None:
    client.post("/api/v1/chat/stream", json={"text": "身份證號 11010519491231002X"})
    sent = fake_rasa.received[-1]["message"]
    assert sent.startswith("身份证号 ") and "11010519491231002X" not in sent and PLACEHOLDER.search(sent)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": ""}, 422, "invalid_request"),  # empty
        ({"text": "办" * 2001}, 422, "invalid_request"),  # too long
        ({"text": "你好", "colour": "red"}, 422, "invalid_request"),  # unknown field
        ({"text": "你好", "session_id": "0" * 32 + "." + "0" * 24}, 400, "invalid_session"),  # not ours
    ],
)
def test_stream_refuses_bad_requests_with_json_errors(
    client: TestClient, fake_rasa: FakeRasa, body: dict[str, object], status: int, code: str
) -> None:
    response = client.post("/api/v1/chat/stream", json=body)
    assert response.headers["content-type"].startswith("application/json")
    assert_chinese_error(response, status, code)
    assert fake_rasa.received == []


def test_stream_shares_the_rate_limits_of_chat(settings: Settings, fake_rasa: FakeRasa) -> None:
    limited = settings.model_copy(update={"rate_limit_session": 2})
    with TestClient(create_app(limited, rasa_transport=fake_rasa.transport())) as client:
        session_id = client.post("/api/v1/chat", json={"text": "你好"}).json()["session_id"]
        assert client.post("/api/v1/chat", json={"text": "在吗", "session_id": session_id}).status_code == 200
        assert client.post("/api/v1/chat/stream", json={"text": "在吗", "session_id": session_id}).status_code == 200
        refused = client.post("/api/v1/chat/stream", json={"text": "在吗", "session_id": session_id})
    assert_chinese_error(refused, 429, "rate_limited")
    assert int(refused.headers["retry-after"]) >= 1


def test_stream_failures_become_an_error_event_after_what_was_sent(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda sender, text: TWO_MESSAGES
    fake_rasa.stream_break_after = 1  # Rasa's connection breaks after the first message
    events = events_of(client.post("/api/v1/chat/stream", json={"text": "你好"}).text)
    assert [name for name, _ in events] == ["reply", "error"]
    error = events[1][1]
    assert error["code"] == "assistant_unavailable" and "12345" in error["message"]
    assert error["session_id"].count(".") == 1

    fake_rasa.stream_break_after = None
    fake_rasa.rasa_status = 500
    events = events_of(client.post("/api/v1/chat/stream", json={"text": "你好"}).text)
    assert [name for name, _ in events] == ["error"]


def test_stream_silence_with_the_action_server_down_is_an_error(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda sender, text: []
    fake_rasa.actions_up = False
    events = events_of(client.post("/api/v1/chat/stream", json={"text": "你好"}).text)
    assert [name for name, _ in events] == ["error"]
    fake_rasa.actions_up = True
    events = events_of(client.post("/api/v1/chat/stream", json={"text": "你好"}).text)
    assert [name for name, _ in events] == ["state", "done"]


def test_stream_with_an_unreadable_tracker_sends_a_null_state(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.tracker_status = 500
    events = events_of(client.post("/api/v1/chat/stream", json={"text": "你好"}).text)
    assert [name for name, _ in events] == ["reply", "state", "done"]
    assert events[1][1] is None


def test_rasa_client_yields_each_message_as_it_is_written() -> None:
    fake = FakeRasa(reply=lambda sender, text: TWO_MESSAGES * 2, stream_delay=0.1)

    async def scenario() -> list[float]:
        client = RasaClient("http://rasa", "http://actions", timeout=2, transport=fake.transport())
        received = []
        async for message in client.stream("c1", "你好"):
            received.append(asyncio.get_running_loop().time())
            assert message["text"]
        await client.aclose()
        return received

    received = asyncio.run(scenario())
    assert len(received) == 4
    assert received[0] < fake.streamed_at[1]  # the first message was in hand before Rasa wrote the second


@pytest.mark.parametrize(
    ("line", "context"),
    [
        (b"not json\n", "not JSON"),  # garbage
        (b"[1, 2]\n", "unexpected message"),  # JSON, but not a message
    ],
)
def test_rasa_client_refuses_a_broken_stream(line: bytes, context: str) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=line))

    async def scenario() -> None:
        client = RasaClient("http://rasa", "http://actions", timeout=2, transport=transport)
        with pytest.raises(AssistantUnavailable, match=context):
            async for _ in client.stream("c1", "你好"):
                pass
        await client.aclose()

    asyncio.run(scenario())


@pytest.fixture
def served(settings: Settings) -> Iterator[tuple[str, FakeRasa]]:
    """The gateway really served by uvicorn (TestClient buffers a streamed body), with a slow fake Rasa."""
    fake = FakeRasa(reply=lambda sender, text: TWO_MESSAGES, stream_delay=0.4)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, rasa_transport=fake.transport()),
            host="127.0.0.1",
            port=settings.gateway_port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{settings.gateway_port}", fake
    server.should_exit = True
    thread.join(10)


def test_the_gateway_passes_each_reply_on_as_it_comes(served: tuple[str, FakeRasa]) -> None:
    url, _ = served
    arrived: list[tuple[str, float]] = []
    started = time.monotonic()
    with httpx.stream("POST", f"{url}/api/v1/chat/stream", json={"text": "你好"}, timeout=10) as response:
        for line in response.iter_lines():
            if line.startswith("event: "):
                arrived.append((line.removeprefix("event: "), time.monotonic() - started))
    assert [name for name, _ in arrived] == ["reply", "reply", "state", "done"]
    # Rasa writes the second message 0.4 s after the first: the first is with the client well before that
    assert arrived[1][1] - arrived[0][1] > 0.25


def test_openapi_describes_chat_streaming_and_the_state(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    chat = spec["paths"]["/api/v1/chat"]["post"]
    stream = spec["paths"]["/api/v1/chat/stream"]["post"]
    for operation in (chat, stream):
        assert operation["summary"] and len(operation["description"]) > 100
        assert operation["tags"] == ["chat"]
        for status in ("400", "422", "429"):
            assert operation["responses"][status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorResponse"
            }
    assert "503" in chat["responses"]
    assert "event: state" in stream["responses"]["200"]["content"]["text/event-stream"]["example"]
    for event in ("`reply`", "`state`", "`done`", "`error`"):
        assert event in stream["description"]

    schemas = spec["components"]["schemas"]
    assert schemas["ChatResponse"]["properties"]["state"]["anyOf"][0] == {
        "$ref": "#/components/schemas/ConversationState"
    }
    state = schemas["ConversationState"]
    assert set(state["properties"]) == {"current_item", "active_form", "form_progress", "ended"}
    assert all(p.get("description") for p in state["properties"].values())
    assert state["examples"][0]["form_progress"] == {"answered": 3, "total": 7, "stage": "fields"}
    assert schemas["ActiveForm"]["properties"]["status"]["enum"] == ["filling", "paused", "submitted", "cancelled"]
    assert schemas["FormProgress"]["properties"]["stage"]["enum"] == [
        "resume",
        "reuse",
        "fields",
        "materials",
        "confirm",
    ]
    reply_type = schemas["Reply"]["properties"]["type"]
    assert reply_type["enum"] == ["text", "buttons", "answer", "checklist", "card", "form_summary", "handoff"]
    assert all(kind in reply_type["description"] for kind in reply_type["enum"])
    assert schemas["ChatRequest"]["examples"] and schemas["ChatResponse"]["examples"]


def test_openapi_gives_every_error_response_the_error_shape(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # FastAPI's default 422 body: the gateway never sends it
    assert set(schemas["ErrorResponse"]["properties"]) == {"error"}
    errors = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    errors += 1
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)
    assert errors > 20
    # and every reference resolves
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(spec)))
    assert refs <= set(schemas)
