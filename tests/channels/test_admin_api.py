"""Admin API: who may use it, knowledge import (all or nothing, Chinese row errors), background rebuild (one at a time,
searchable afterwards), and analytics figures from a seeded turn log and ratings.

The index is built with a deterministic hash embedder registered under the configured name, so these tests exercise the
real import, index, reload and search code without loading the sentence model (BM25 finds the imported rows).
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import select

from assistant import ratings
from assistant.analytics import LOCAL_TZ
from assistant.settings import Settings
from assistant.store import session_scope
from assistant.turn_log import Turn, record_turn
from channels.main import create_app
from knowledge import maintenance, service
from knowledge.maintenance import exclusive
from knowledge.service import ensure_index, reset_searchers
from tests.channels.fake_rasa import FakeRasa
from tests.utils.knowledge import HashEmbedder
from tests.utils.staff import StaffLogin, fast_hashing, make_staff

GOOD_CSV = "编号,问题,答案\nHZ-001,护照怎么办理,携带身份证到出入境接待大厅申请，约7个工作日出证。\n"
BAD_CSV = "编号,问题,答案\nHZ-001,护照怎么办理,\nHZ-001,港澳通行证续签,可在自助签注机办理。\n,,\nHZ-003,,没有问题\n"


@pytest.fixture
def admin_settings(kb_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setattr(service, "make_embedder", lambda spec: HashEmbedder(spec, 32))
    fast_hashing(monkeypatch)
    ensure_index(kb_settings)
    yield kb_settings
    reset_searchers()


@pytest.fixture
def client(admin_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(admin_settings, rasa_transport=FakeRasa().transport())) as test_client:
        yield test_client


@pytest.fixture
def admin(admin_settings: Settings) -> StaffLogin:
    return make_staff(admin_settings, "admin")


def upload(client: TestClient, admin: StaffLogin, name: str, content: bytes | str) -> Any:
    data = content.encode() if isinstance(content, str) else content
    return client.post("/api/v1/admin/knowledge/import", files={"file": (name, data)}, headers=admin.headers)


def wait_for_rebuild(client: TestClient, admin: StaffLogin, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status: dict[str, Any] = client.get("/api/v1/admin/knowledge/status", headers=admin.headers).json()
        if not status["running"] or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def faq_files(settings: Settings) -> dict[str, str]:
    folder = settings.knowledge_dir / "faq"
    return {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*")} if folder.exists() else {}


ROUTES = [
    ("GET", "/api/v1/admin/analytics"),
    ("GET", "/api/v1/admin/analytics/charts"),
    ("GET", "/api/v1/admin/knowledge/status"),
    ("POST", "/api/v1/admin/knowledge/rebuild"),
    ("POST", "/api/v1/admin/knowledge/import"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_gets_401_and_agents_403(
    client: TestClient, admin_settings: Settings, method: str, path: str
) -> None:
    anonymous = client.request(method, path)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["message"] == "请先登录工作人员账号。"
    agent = make_staff(admin_settings, "agent")
    refused = client.request(method, path, headers=agent.headers)
    assert refused.status_code == 403 and "权限" in refused.json()["error"]["message"]


def test_imported_sheet_is_searchable_after_the_rebuild(client: TestClient, admin: StaffLogin) -> None:
    before = client.get("/api/v1/admin/knowledge/status", headers=admin.headers).json()
    assert before["faqs"] == 0 and before["up_to_date"] and not before["running"]

    response = upload(client, admin, "出入境问答.csv", GOOD_CSV)
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == 1 and response.json()["file"] == "faq/出入境问答.jsonl"
    stale = client.get("/api/v1/admin/knowledge/status", headers=admin.headers).json()
    assert stale["faqs"] == 1 and not stale["up_to_date"]
    search = client.get("/api/v1/knowledge/search", params={"q": "护照怎么办理", "k": 10}).json()
    assert "HZ-001" not in [c["code"] for c in search["candidates"]]  # not before the rebuild

    started = client.post("/api/v1/admin/knowledge/rebuild", headers=admin.headers)
    assert started.status_code == 202
    status = wait_for_rebuild(client, admin)
    assert not status["running"] and status["last_error"] == "" and status["up_to_date"]
    assert status["passages"] > before["passages"] and status["finished_at"]
    search = client.get("/api/v1/knowledge/search", params={"q": "护照怎么办理", "k": 10}).json()
    assert "HZ-001" in [c["code"] for c in search["candidates"]]  # (the hash embedder's dense ranks are random)


def test_excel_upload(client: TestClient, admin: StaffLogin, admin_settings: Settings) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["问题", "答案"], ["居住证怎么办", "带身份证和居住证明到派出所申请。"]):
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    response = upload(client, admin, "居住证.xlsx", data.getvalue())
    assert response.status_code == 200, response.text
    assert "居住证怎么办" in faq_files(admin_settings)["居住证.jsonl"]


def test_bad_sheet_lists_every_problem_by_row_and_changes_nothing(
    client: TestClient, admin: StaffLogin, admin_settings: Settings
) -> None:
    assert upload(client, admin, "hotline.csv", GOOD_CSV).status_code == 200
    kept = faq_files(admin_settings)
    response = upload(client, admin, "hotline.csv", BAD_CSV)  # same name: would replace the earlier import
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "import_failed" and "3个问题" in error["message"] and "没有任何改动" in error["message"]
    assert [(d["row"], d["message"]) for d in error["detail"]] == [
        (2, "第2行: 答案为空"),
        (3, "第3行: 编号 HZ-001 与第2行重复"),
        (5, "第5行: 问题为空"),
    ]
    assert faq_files(admin_settings) == kept


@pytest.mark.parametrize(
    ("name", "content", "status", "fragment"),
    [
        ("notes.txt", "问题,答案", 422, "只支持 .xlsx、.csv 和 .jsonl"),  # another kind of file
        ("old.xls", b"\xd0\xcf\x11\xe0", 422, "另存为 .xlsx"),  # old Excel
        ("broken.xlsx", b"PK\x03\x04 not really", 422, "不是有效的 Excel 文件"),  # damaged workbook
        ("lines.jsonl", '{"question": "护照"}\nnot json\n', 422, "第2行"),  # JSON Lines with a broken line
        ("empty.csv", "", 422, "文件是空的"),  # nothing in it
    ],
)
def test_unusable_files_get_a_chinese_422(
    client: TestClient, admin: StaffLogin, admin_settings: Settings, name: str, content: str | bytes, status: int,
    fragment: str,
) -> None:  # fmt: skip
    response = upload(client, admin, name, content)
    assert response.status_code == status
    body = response.json()["error"]
    assert fragment in body["message"] + "".join(d["message"] for d in body["detail"])
    assert faq_files(admin_settings) == {}


def test_the_bundled_sample_corpus_is_never_imported_into(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    fast_hashing(monkeypatch)
    assert settings.kb_dir is None  # the knowledge base shipped inside the code folder
    before = sorted(p.name for p in settings.knowledge_dir.rglob("*"))
    admin = make_staff(settings, "admin")
    with TestClient(create_app(settings, rasa_transport=FakeRasa().transport())) as client:
        response = upload(client, admin, "faq.csv", "问题,答案\n护照怎么办,到出入境窗口办理\n")
    assert response.status_code == 422
    body = response.json()["error"]
    assert "ZHIBAN_KB_DIR" in body["message"] + "".join(d["message"] for d in body["detail"])
    assert sorted(p.name for p in settings.knowledge_dir.rglob("*")) == before


def test_upload_limit(admin_settings: Settings, admin: StaffLogin) -> None:
    small = admin_settings.model_copy(update={"kb_upload_max_mb": 0.001})  # about 1 KB
    with TestClient(create_app(small, rasa_transport=FakeRasa().transport())) as client:
        rows = "".join(f"Q{i},问题{i}的内容,答案{i}的内容\n" for i in range(60))
        response = upload(client, admin, "big.csv", "编号,问题,答案\n" + rows)
        assert response.status_code == 413 and "MB" in response.json()["error"]["message"]
        assert upload(client, admin, "small.csv", GOOD_CSV).status_code == 200
    assert list(faq_files(admin_settings)) == ["small.jsonl"]


@pytest.mark.parametrize("name", ["../../escape.csv", "..\\..\\escape.csv", "/etc/escape.csv", "a/b/escape.csv"])
def test_uploaded_file_names_cannot_leave_the_faq_folder(
    client: TestClient, admin: StaffLogin, admin_settings: Settings, name: str
) -> None:
    assert upload(client, admin, name, GOOD_CSV).status_code == 200
    assert list(faq_files(admin_settings)) == ["escape.jsonl"]
    assert not list(admin_settings.knowledge_dir.parent.glob("**/escape.csv"))


def test_second_rebuild_while_one_runs_is_409(
    client: TestClient, admin: StaffLogin, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real = ensure_index

    def slow(settings: Settings, **kwargs: Any) -> Any:
        release.wait(30)
        return real(settings, **kwargs)

    monkeypatch.setattr(maintenance, "ensure_index", slow)
    assert client.post("/api/v1/admin/knowledge/rebuild", headers=admin.headers).status_code == 202
    second = client.post("/api/v1/admin/knowledge/rebuild", headers=admin.headers)
    assert second.status_code == 409 and second.json()["error"]["code"] == "knowledge_busy"
    assert upload(client, admin, "hotline.csv", GOOD_CSV).status_code == 409  # no import during a rebuild either
    assert client.get("/api/v1/admin/knowledge/status", headers=admin.headers).json()["running"]
    release.set()
    assert not wait_for_rebuild(client, admin)["running"]
    assert client.post("/api/v1/admin/knowledge/rebuild", headers=admin.headers).status_code == 202
    wait_for_rebuild(client, admin)


def test_rebuild_refused_while_another_process_holds_the_knowledge_base(
    client: TestClient, admin: StaffLogin, admin_settings: Settings
) -> None:
    with exclusive(admin_settings):  # e.g. `zhiban kb build` or another gateway worker
        assert client.post("/api/v1/admin/knowledge/rebuild", headers=admin.headers).status_code == 409


def test_failed_rebuild_is_reported_in_chinese(client: TestClient, admin: StaffLogin, admin_settings: Settings) -> None:
    broken = admin_settings.knowledge_dir / "items" / "P01.yml"
    broken.write_text("code: P01\nname: [unterminated\n", encoding="utf-8")
    assert client.post("/api/v1/admin/knowledge/rebuild", headers=admin.headers).status_code == 202
    status = wait_for_rebuild(client, admin)
    assert status["last_error"].startswith("知识库有") and "未能重建索引" in status["last_error"]
    assert status["corpus_error"]
    assert client.get("/api/v1/knowledge/search", params={"q": "社保卡"}).status_code == 200  # old index still answers


# --- analytics ------------------------------------------------------------------------------------------------------
def seed(settings: Settings, today: dt.date) -> None:
    noon = dt.datetime.combine(today, dt.time(12), LOCAL_TZ)
    answered = [{"custom": {"type": "answer", "text": "…", "item_code": "P02"}}]
    not_found = [{"custom": {"type": "text", "text": "抱歉", "outcome": "not_found"}}]
    handoff: list[dict[str, Any]] = [
        {"text": "已为您转接"},
        {"custom": {"type": "handoff", "text": "", "ticket": "GD-1"}},
    ]
    log: list[tuple[str, list[dict[str, Any]], str, int]] = [
        ("a", answered, "社保卡怎么补", 0),
        ("b", not_found, "火星签证怎么办", 0),
        ("b", handoff, "转人工", 0),
        ("c", not_found, "火星签证怎么办？", 1),
        ("d", answered, "", 1),
        ("e", answered, "", 40),  # outside a 30-day period
    ]
    for conversation, messages, question, days_ago in log:
        record_turn(settings, channel="h5", conversation_id=conversation, elder=False, messages=messages,
                    question=question, latency_ms=200, at=noon - dt.timedelta(days=days_ago))  # fmt: skip
    for conversation, score in (("a", 5), ("b", 1), ("d", 4)):
        ratings.rate(settings, conversation_id=conversation, channel="h5", score=score, at=noon.astimezone(dt.UTC))


def test_analytics_figures(client: TestClient, admin: StaffLogin, admin_settings: Settings) -> None:
    seed(admin_settings, dt.datetime.now(LOCAL_TZ).date())
    body = client.get("/api/v1/admin/analytics", params={"days": 30}, headers=admin.headers).json()
    assert len(body["series"]["days"]) == 30 and body["series"]["turns"][-2:] == [2, 3]
    summary = body["summary"]
    assert (summary["turns"], summary["conversations"], summary["resolved"], summary["handed_over"]) == (5, 4, 2, 1)
    assert summary["resolution_rate"] == 0.5 and summary["handoff_rate"] == 0.25
    assert summary["not_found_rate"] == pytest.approx(2 / 4)
    assert body["top_unanswered"][0]["text"] in {"火星签证怎么办", "火星签证怎么办？"}
    assert body["top_unanswered"][0]["count"] == 2 and len(body["top_unanswered"]) == 1
    assert body["ratings"]["count"] == 3 and body["ratings"]["average"] == pytest.approx(10 / 3)
    assert body["ratings"]["distribution"] == {"5": 1, "4": 1, "3": 0, "2": 0, "1": 1}

    charts = client.get("/api/v1/admin/analytics/charts", params={"days": 7}, headers=admin.headers).json()
    assert [c["id"] for c in charts["charts"]] == ["chart-volume", "chart-rates", "chart-ratings", "chart-unanswered"]
    assert all(c["svg"].startswith("<svg") and c["table"]["rows"] for c in charts["charts"])
    assert charts["analytics"]["summary"]["turns"] == 5


@pytest.mark.parametrize("days", ["0", "367", "abc"])
def test_bad_period_is_a_422(client: TestClient, admin: StaffLogin, days: str) -> None:
    response = client.get("/api/v1/admin/analytics", params={"days": days}, headers=admin.headers)
    assert response.status_code == 422 and response.json()["error"]["message"]


def test_chat_turns_are_logged(admin_settings: Settings) -> None:
    """Both chat routes record each turn (one row, with the outcome of Rasa's replies); a failed turn is not recorded."""
    not_found = {"type": "text", "text": "抱歉", "outcome": "not_found"}
    fake = FakeRasa(reply=lambda sender, text: [{"recipient_id": sender, "custom": not_found}])
    with TestClient(create_app(admin_settings, rasa_transport=fake.transport())) as client:
        assert client.post("/api/v1/chat", json={"text": "火星签证", "elder": True}).status_code == 200
        assert "event: done" in client.post("/api/v1/chat/stream", json={"text": "火星签证？"}).text
        fake.rasa_status = 500
        assert client.post("/api/v1/chat", json={"text": "月球户口"}).status_code == 503
        admin = make_staff(admin_settings, "admin")
        body = client.get("/api/v1/admin/analytics", params={"days": 1}, headers=admin.headers).json()
    assert body["summary"]["turns"] == 2 and body["summary"]["not_found_turns"] == 2
    assert body["top_unanswered"][0]["count"] == 2 and body["top_unanswered"][0]["text"] in {
        "火星签证",
        "火星签证?",
    }  # NFKC: ？→?


def test_wechat_turns_are_logged(admin_settings: Settings) -> None:
    from tests.channels.test_wechat import OPENID, TOKEN, post_mp, xml_push

    answered = {"type": "answer", "text": "补办社保卡……", "item_code": "P02"}
    fake = FakeRasa(reply=lambda sender, text: [{"recipient_id": sender, "custom": answered}])
    settings = admin_settings.model_copy(update={"wechat_token": TOKEN})
    with TestClient(create_app(settings, rasa_transport=fake.transport())) as client:
        assert post_mp(client, xml_push(Content="社保卡怎么补办")).status_code == 200
        admin = make_staff(settings, "admin")
        body = client.get("/api/v1/admin/analytics", params={"days": 1}, headers=admin.headers).json()
    assert body["summary"]["turns"] == 1 and body["summary"]["resolved"] == 1
    assert [(c["channel"], c["turns"]) for c in body["channels"]] == [("wechat", 1)]
    with session_scope(settings) as session:
        (turn,) = session.scalars(select(Turn))
        assert (turn.conversation_id, turn.item_code, turn.question) == (f"wx-mp-{OPENID}", "P02", "")
