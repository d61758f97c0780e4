"""The agent-assist console's API over a small knowledge index (real offline embedder) and a fake Rasa for the history."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant import agent_desk as desk
from assistant.settings import Settings
from assistant.workorder import CHINA_TIME
from channels.main import create_app
from channels.routers.agent import age_text
from knowledge.service import ensure_index, reset_searchers
from tests.channels.fake_rasa import FakeRasa
from tests.utils.handoffs import PHONE, handed_over
from tests.utils.knowledge import copy_knowledge_base
from tests.utils.staff import StaffLogin, fast_hashing, make_staff

ID = "11010519491231002X"


@pytest.fixture(scope="module")
def index_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings whose small knowledge base is indexed (and its searcher loaded) once for the module; each test gets its
    own data directory."""
    root = tmp_path_factory.mktemp("agent")
    settings = Settings(env="test", data_dir=root / "var", kb_dir=copy_knowledge_base(root / "kb"))
    ensure_index(settings)
    yield settings
    reset_searchers()


@pytest.fixture
def agent_settings(settings: Settings, index_settings: Settings) -> Settings:
    return settings.model_copy(
        update={"kb_dir": index_settings.kb_dir, "index_dir_override": index_settings.index_root}
    )


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def client(agent_settings: Settings, rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    fast_hashing(monkeypatch)
    with TestClient(create_app(agent_settings, rasa_transport=rasa.transport())) as test_client:
        yield test_client


@pytest.fixture
def agent(agent_settings: Settings, client: TestClient) -> StaffLogin:
    return make_staff(agent_settings, "agent", username="li.agent")


def test_suggestions_come_with_sources_confidence_and_a_draft(client: TestClient, agent: StaffLogin) -> None:
    response = client.post(
        "/api/v1/agent/suggest",
        json={"text": f"社保卡丢了要带什么材料，在哪里办？我电话{PHONE}"},
        headers=agent.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "answered" and body["note"]
    suggestions = body["suggestions"]
    assert [s["rank"] for s in suggestions] == [1, 2, 3]
    assert [(s["item_code"], s["section"]) for s in suggestions[:2]] == [("P02", "申请材料"), ("P02", "办理地点和时间")]
    for suggestion in suggestions:
        assert 0 <= suggestion["confidence"] <= 1 and suggestion["level"] in ("high", "medium", "low")
        citation = suggestion["citations"][0]
        assert citation["item_name"] and citation["section"] and citation["source"] and citation["updated_at"]
        assert suggestion["text"]
    assert suggestions[0]["confidence"] == body["confidence"] and suggestions[0]["level"] == "high"
    draft = body["draft"]
    assert draft["item"] == "P02 社会保障卡补领换领"
    assert {"kind": "phone", "label": "联系电话", "value": "138****5678"} in draft["facts"]
    assert draft["channel"] == "12345热线"
    assert draft["text"].startswith("诉求：社保卡丢了要带什么材料")
    assert PHONE not in response.text


def test_a_follow_up_uses_the_earlier_words(client: TestClient, agent: StaffLogin) -> None:
    body = client.post(
        "/api/v1/agent/suggest", json={"text": "那要带什么材料", "context": ["我的社保卡丢了"]}, headers=agent.headers
    ).json()
    assert body["used_context"] and body["suggestions"][0]["item_code"] == "P02"
    assert "我的社保卡丢了" in body["draft"]["request"]


def test_nothing_known_is_said_honestly(client: TestClient, agent: StaffLogin) -> None:
    body = client.post("/api/v1/agent/suggest", json={"text": "今天天气怎么样"}, headers=agent.headers).json()
    assert body["status"] == "not_found" and body["suggestions"] == []
    assert "没有把握" in body["note"]
    assert body["draft"]["item"] == "未确定"


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"text": ""}, "请输入来电人所说的内容"),  # empty
        ({"text": "😀😀"}, "请输入来电人所说的内容"),  # nothing searchable
        ({"text": "查" * 2001}, "太长"),  # over ZHIBAN_MAX_MESSAGE_CHARS
        ({"text": "社保卡", "context": ["查" * 2001]}, "太长"),
        ({"text": 3}, "应为文字"),
        ({}, None),  # no text at all: same as empty
    ],
)
def test_bad_suggest_requests_get_a_chinese_422(
    client: TestClient, agent: StaffLogin, payload: dict[str, Any], fragment: str | None
) -> None:
    response = client.post("/api/v1/agent/suggest", json=payload, headers=agent.headers)
    assert response.status_code == 422
    assert (fragment or "请输入来电人所说的内容") in response.json()["error"]["message"]


def test_feedback_is_stored_masked_with_the_agent(
    client: TestClient, agent: StaffLogin, agent_settings: Settings
) -> None:
    payload = {
        "query": f"社保卡丢了，身份证{ID}",
        "item_code": "P02",
        "section": "办理流程",
        "rank": 1,
        "confidence": 0.95,
        "helpful": True,
    }
    response = client.post("/api/v1/agent/feedback", json=payload, headers=agent.headers)
    assert response.status_code == 200, response.text
    (row,) = desk.feedback(agent_settings)
    assert response.json() == {"id": row.id, "helpful": True}
    assert (row.staff, row.item_code, row.section, row.rank, row.helpful) == ("li.agent", "P02", "办理流程", 1, True)
    assert row.query == "社保卡丢了，身份证110***********002X"
    bad = client.post("/api/v1/agent/feedback", json=payload | {"confidence": 3}, headers=agent.headers)
    assert bad.status_code == 422


def test_the_queue_lists_waiting_tickets_newest_first(
    client: TestClient, agent: StaffLogin, agent_settings: Settings, rasa: FakeRasa
) -> None:
    at = dt.datetime.now(dt.UTC)
    older = handed_over(agent_settings, rasa, "b" * 32, created_at=at - dt.timedelta(hours=3))
    newer = handed_over(
        agent_settings, rasa, "wx-mp-oPerson", reason="not_found", created_at=at - dt.timedelta(minutes=5)
    )
    done = handed_over(agent_settings, rasa, "c" * 32)
    desk.close(agent_settings, done.number, "someone", "已处理")
    body = client.get("/api/v1/agent/handoffs", headers=agent.headers).json()
    assert [t["number"] for t in body["tickets"]] == [newer.number, older.number]
    first, second = body["tickets"]
    assert (first["reason_label"], first["channel"], first["status_label"]) == (
        "智能助手未能解答",
        "微信公众号",
        "待接单",
    )
    assert first["item_name"] == "社会保障卡补领换领" and "诉求" in first["summary"]
    assert second["age"] == "3小时前" and second["age_minutes"] >= 180


def test_ticket_detail_has_the_masked_history_and_a_draft(
    client: TestClient, agent: StaffLogin, agent_settings: Settings, rasa: FakeRasa
) -> None:
    ticket = handed_over(agent_settings, rasa)
    response = client.get(f"/api/v1/agent/handoffs/{ticket.number}", headers=agent.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["history_available"]
    assert [(t["role"], t["text"]) for t in body["history"]] == [
        ("user", "社保卡丢了怎么补办"),
        ("bot", "先挂失，再补领。"),
        ("user", "（点击了选项）"),
        ("user", "我的电话是138****5678，明天能去办吗"),  # the vaulted number put back, then masked
        ("user", "转人工"),
        ("bot", "好的，正在为您转接人工服务。"),
        ("bot", "（已转人工，工单 GD-x）"),
    ]
    assert body["history"][0]["time"] == "2026-11-30T14:00:01+08:00"
    draft = body["draft"]
    assert draft["item"] == "P02 社会保障卡补领换领" and draft["channel"] == "网页智能客服"
    assert draft["time"] == "2026-11-30 14:00"
    facts = {(f["label"], f["value"]) for f in draft["facts"]}
    assert {("联系电话", "138****5678"), ("日期", "2026-12-01（明天）"), ("是否已挂失", "已挂失")} <= facts
    assert "社保卡丢了怎么补办" in draft["request"]
    assert body["facts"] == {"是否已挂失": "已挂失"}
    assert PHONE not in response.text and "〔号码#" not in response.text


def test_without_rasa_the_detail_still_comes_from_the_ticket(
    client: TestClient, agent: StaffLogin, agent_settings: Settings, rasa: FakeRasa
) -> None:
    ticket = handed_over(agent_settings, rasa)
    rasa.tracker_status = 500
    body = client.get(f"/api/v1/agent/handoffs/{ticket.number}", headers=agent.headers).json()
    assert body["history_available"] is False and body["history"] == []
    assert "社保卡丢了怎么补办" in body["draft"]["request"]
    # the ticket's questions were masked when it was made: the phone cannot be recognised again, the date can (明天 of the
    # day the ticket was made, in China time)
    made = desk.aware(ticket.created_at).astimezone(CHINA_TIME).date()
    assert ("日期", f"{made + dt.timedelta(days=1):%Y-%m-%d}（明天）") in {
        (f["label"], f["value"]) for f in body["draft"]["facts"]
    }
    assert PHONE not in str(body)


def test_claim_and_close(client: TestClient, agent: StaffLogin, agent_settings: Settings, rasa: FakeRasa) -> None:
    number = handed_over(agent_settings, rasa).number
    claimed = client.post(f"/api/v1/agent/handoffs/{number}/claim", headers=agent.headers)
    assert claimed.status_code == 200, claimed.text
    assert (claimed.json()["status_label"], claimed.json()["assignee"]) == ("处理中", "li.agent")

    other = make_staff(agent_settings, "agent", username="zhao.agent")
    taken = client.post(f"/api/v1/agent/handoffs/{number}/claim", headers=other.headers)
    assert taken.status_code == 409 and "已由 li.agent 接单" in taken.json()["error"]["message"]
    assert (
        client.post(
            f"/api/v1/agent/handoffs/{number}/close", json={"resolution": "x"}, headers=other.headers
        ).status_code
        == 409
    )

    empty = client.post(f"/api/v1/agent/handoffs/{number}/close", json={"resolution": "  "}, headers=agent.headers)
    assert empty.status_code == 422 and "请填写办理结果" in empty.json()["error"]["message"]
    closed = client.post(
        f"/api/v1/agent/handoffs/{number}/close",
        json={"resolution": f"已回电{PHONE}说明补办流程"},
        headers=agent.headers,
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status_label"] == "已办结" and closed.json()["resolution"] == "已回电138****5678说明补办流程"
    assert client.get("/api/v1/agent/handoffs", headers=agent.headers).json()["tickets"] == []

    again = client.post(
        f"/api/v1/agent/handoffs/{number}/close", json={"resolution": "再办一次"}, headers=agent.headers
    )
    assert again.status_code == 409 and "已经办结" in again.json()["error"]["message"]


def test_an_admin_may_close_a_ticket_claimed_by_someone_else(
    client: TestClient, agent: StaffLogin, agent_settings: Settings, rasa: FakeRasa
) -> None:
    number = handed_over(agent_settings, rasa).number
    client.post(f"/api/v1/agent/handoffs/{number}/claim", headers=agent.headers)
    admin = make_staff(agent_settings, "admin", username="boss")
    closed = client.post(f"/api/v1/agent/handoffs/{number}/close", json={"resolution": "代办结"}, headers=admin.headers)
    assert closed.status_code == 200 and closed.json()["assignee"] == "li.agent"


@pytest.mark.parametrize("number", ["GD-20261130-999999", "GD-x", "nothing"])
@pytest.mark.parametrize("action", ["", "/claim", "/close"])
def test_unknown_ticket_numbers_get_a_chinese_404(
    client: TestClient, agent: StaffLogin, number: str, action: str
) -> None:
    url = f"/api/v1/agent/handoffs/{number}{action}"
    response = (
        client.get(url, headers=agent.headers)
        if not action
        else client.post(url, json={"resolution": "x"}, headers=agent.headers)
    )
    assert response.status_code == 404
    assert "没有找到工单" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/agent/suggest"),
        ("POST", "/api/v1/agent/feedback"),
        ("GET", "/api/v1/agent/handoffs"),
        ("GET", "/api/v1/agent/handoffs/GD-20261130-000001"),
        ("POST", "/api/v1/agent/handoffs/GD-20261130-000001/claim"),
        ("POST", "/api/v1/agent/handoffs/GD-20261130-000001/close"),
    ],
)
def test_every_route_needs_a_signed_in_agent(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, content=json.dumps({"text": "社保卡"}))
    assert response.status_code == 401
    assert "登录" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(0, "刚刚"), (1, "1分钟前"), (59, "59分钟前"), (60, "1小时前"), (1439, "23小时前"), (2880, "2天前")],
)
def test_ages_in_words(minutes: int, text: str) -> None:
    assert age_text(minutes) == text
