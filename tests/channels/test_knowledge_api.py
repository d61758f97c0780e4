"""Knowledge endpoints of the gateway over a small knowledge base with the real offline embedder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from assistant.settings import Settings
from channels.main import create_app
from knowledge.service import ensure_index, reset_searchers
from tests.channels.fake_rasa import FakeRasa


@pytest.fixture
def client(kb_settings: Settings) -> Iterator[TestClient]:
    ensure_index(kb_settings)
    with TestClient(create_app(kb_settings, rasa_transport=FakeRasa().transport())) as test_client:
        yield test_client
    reset_searchers()


def test_search_returns_candidates_and_cited_passages(client: TestClient) -> None:
    body = client.get("/api/v1/knowledge/search", params={"q": "社保卡丢了怎么补办", "k": 3}).json()
    assert body["candidates"][0]["code"] == "P02"
    hit = body["hits"][0]
    assert hit["citation"]["item_name"] == "社会保障卡补领换领"
    assert hit["citation"]["section"] and hit["citation"]["source"] and hit["citation"]["updated_at"]
    assert 0 <= body["confidence"] <= 1


def test_answer_is_extractive_with_citation(client: TestClient) -> None:
    body = client.get("/api/v1/knowledge/answer", params={"q": "高龄津贴一个月发多少钱", "item": "P24"}).json()
    assert body["status"] == "answered"
    assert body["citations"][0]["item_code"] == "P24"
    assert body["confidence"] == 1.0


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"q": ""}, 422, "请输入要查询的问题"),  # empty
        ({"q": "   "}, 422, "请输入要查询的问题"),  # whitespace only
        ({"q": "😀😀"}, 422, "请输入要查询的问题"),  # emoji only
        ({"q": "查" * 5000}, 422, "太长"),  # 5,000 characters
        ({}, 422, "缺少必填项"),  # no query at all
        ({"q": "社保卡", "aspect": "colour"}, 422, "aspect"),  # unknown aspect
        ({"q": "社保卡", "item": "X99"}, 422, "没有事项"),  # unknown item
    ],
)
def test_bad_queries_get_a_chinese_4xx(client: TestClient, params: dict[str, str], status: int, fragment: str) -> None:
    path = "/api/v1/knowledge/answer" if "item" in params or "aspect" in params else "/api/v1/knowledge/search"
    response = client.get(path, params=params)
    assert response.status_code == status
    assert fragment in response.json()["error"]["message"]


@pytest.mark.parametrize("q", ["社保卡'; DROP TABLE x; --", "<img src=x onerror=alert(1)>社保卡"])
def test_fragments_are_searched_as_text(client: TestClient, q: str) -> None:
    assert client.get("/api/v1/knowledge/search", params={"q": q}).status_code == 200


def test_missing_index_is_503_not_a_build_inside_the_request(settings: Settings, kb_copy) -> None:
    unbuilt = settings.model_copy(update={"kb_dir": kb_copy})
    with TestClient(create_app(unbuilt, rasa_transport=FakeRasa().transport())) as client:
        response = client.get("/api/v1/knowledge/search", params={"q": "社保卡"})
    reset_searchers()
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "knowledge_unavailable"
