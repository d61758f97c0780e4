"""The applicant's printable summary and the staff API of applications."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant import applications as apps
from assistant.printable import summary_path
from assistant.settings import Settings
from assistant.store import session_scope
from channels.main import create_app
from tests.channels.fake_rasa import FakeRasa
from tests.utils.applications import submit_card_application
from tests.utils.staff import StaffLogin, make_staff

ID = "11010519491231002X"


@pytest.fixture
def agent(settings: Settings) -> StaffLogin:
    return make_staff(settings, "agent", username="wang.wu")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, rasa_transport=FakeRasa().transport())) as test_client:
        yield test_client


@pytest.fixture
def receipt(settings: Settings) -> apps.Receipt:
    created, _ = submit_card_application(
        settings,
        user="u",
        key="k",
        answers={"holder_id_number": ID},
        summary=["持卡人姓名：张三", "身份证号：110***********002X"],
        proofs=[ID[-4:]],
    )
    return created


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_staff_moves_an_application_through_its_lifecycle(
    client: TestClient, settings: Settings, receipt: apps.Receipt, agent: StaffLogin
) -> None:
    url = f"/api/v1/staff/applications/{receipt.receipt_no}"
    for status in ("accepted", "reviewing", "correction"):
        response = client.post(f"{url}/status", json={"status": status, "note": "补交照片"}, headers=agent.headers)
        assert response.status_code == 200, response.text
    body = client.get(url, headers=agent.headers).json()
    assert body["status"] == "correction" and body["status_label"] == "需补正"
    assert [h["label"] for h in body["history"]] == ["已提交", "已受理", "审核中", "需补正"]
    assert ID not in str(body)


def test_the_signed_in_staff_member_is_recorded_as_the_actor(
    client: TestClient, settings: Settings, receipt: apps.Receipt, agent: StaffLogin
) -> None:
    url = f"/api/v1/staff/applications/{receipt.receipt_no}/status"
    # an "actor" in the body is not trusted: the account that is signed in made the change
    response = client.post(url, json={"status": "accepted", "actor": "someone-else"}, headers=agent.headers)
    assert response.status_code == 200, response.text
    with session_scope(settings) as session:
        actors = list(session.scalars(select(apps.ApplicationEvent.actor).order_by(apps.ApplicationEvent.id)))
    assert actors == ["applicant", "wang.wu"]


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"status": "completed"}, 409, "invalid_transition"),  # 已提交 cannot jump to 已办结
        ({"status": "archived"}, 422, "invalid_request"),
        ({"note": "x"}, 422, "invalid_request"),
    ],
)
def test_staff_move_refusals(
    client: TestClient, receipt: apps.Receipt, agent: StaffLogin, payload: dict[str, str], status: int, code: str
) -> None:
    url = f"/api/v1/staff/applications/{receipt.receipt_no}/status"
    response = client.post(url, json=payload, headers=agent.headers)
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json()["error"]["message"])


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),  # anonymous
        (bearer("not-a-session-token-of-this-gateway"), 401),
        ({"Authorization": "Basic abc"}, 401),  # not a bearer token, and no cookie
    ],
)
def test_staff_routes_refuse_anonymous_and_wrong_tokens(
    client: TestClient, receipt: apps.Receipt, headers: dict[str, str], status: int
) -> None:
    url = f"/api/v1/staff/applications/{receipt.receipt_no}"
    assert client.get(url, headers=headers).status_code == status
    assert client.post(f"{url}/status", json={"status": "accepted"}, headers=headers).status_code == status


def test_refused_requests_change_nothing(client: TestClient, settings: Settings, receipt: apps.Receipt) -> None:
    response = client.post(f"/api/v1/staff/applications/{receipt.receipt_no}/status", json={"status": "accepted"})
    assert response.status_code == 401 and response.json()["error"]["message"] == "请先登录工作人员账号。"
    found = apps.find(settings, receipt.receipt_no)
    assert found is not None and found.status == "submitted"


def test_unknown_application_is_404(client: TestClient, agent: StaffLogin) -> None:
    response = client.get("/api/v1/staff/applications/SBK-20990101-000001", headers=agent.headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_printable_summary_needs_the_signed_link(client: TestClient, settings: Settings, receipt: apps.Receipt) -> None:
    path = summary_path(settings.secret_key, receipt.receipt_no)
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert receipt.receipt_no in page.text and "110***********002X" in page.text and ID not in page.text
    pdf = client.get(path + "&format=pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and b"STSong-Light" in pdf.content
    forged = client.get(f"/api/v1/applications/{receipt.receipt_no}/summary?token={'0' * 32}")
    assert forged.status_code == 403
    other = client.get(path.replace(receipt.receipt_no, "SBK-20990101-000001"))
    assert other.status_code == 403  # a link is bound to its own receipt number
