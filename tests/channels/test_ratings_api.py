"""好差评 API: citizens rate their conversation with the signed session id; admins list and close the follow-ups."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant import ratings
from assistant.settings import Settings
from channels.main import create_app
from channels.routers.ratings import WECHAT_INVITATION, wechat_rating
from channels.sessions import issue_session
from tests.channels import test_wechat as wx
from tests.channels.fake_rasa import FakeRasa
from tests.utils.staff import StaffLogin, make_staff


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def client(settings: Settings, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    with TestClient(create_app(settings, rasa_transport=fake_rasa.transport())) as test_client:
        yield test_client


@pytest.fixture
def admin(settings: Settings) -> StaffLogin:
    return make_staff(settings, role="admin")


@pytest.fixture
def agent(settings: Settings) -> StaffLogin:
    return make_staff(settings, role="agent")


def chat(client: TestClient) -> str:
    """A conversation's session id, as the page holds it after the first answer."""
    session_id: str = client.post("/api/v1/chat", json={"text": "你好"}).json()["session_id"]
    return session_id


def assert_chinese_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    message: str = error["message"]
    return message


def test_a_good_rating_is_thanked_and_opens_no_followup(
    client: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    session_id = chat(client)
    fake_rasa.slots[session_id.split(".")[0]] = {"current_item": "P02"}
    response = client.post("/api/v1/rating", json={"session_id": session_id, "score": 4, "comment": "回答很清楚"})
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "score": 4,
        "level": "满意",
        "followup_number": None,
        "replaced": False,
        "message": "感谢您的评价（满意）！我们会继续努力。",
    }
    assert ratings.followups(settings, None) == []
    rated = ratings.rating_of(settings, session_id.split(".")[0])
    assert rated is not None and rated.score == 4


def test_a_bad_rating_gets_a_followup_number_with_the_item_and_masked_comment(
    client: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    session_id = chat(client)
    conversation = session_id.split(".")[0]
    fake_rasa.slots[conversation] = {"current_item": "P02"}
    body = client.post(
        "/api/v1/rating",
        json={
            "session_id": session_id,
            "score": 2,
            "comment": "没说清楚要带什么，我电话13812345678",
            "channel": "mini",
        },
    ).json()
    assert body["level"] == "不满意"
    assert body["followup_number"].startswith("HC-") and body["followup_number"] in body["message"]
    [followup] = ratings.followups(settings)
    assert (followup.number, followup.item_code, followup.channel) == (body["followup_number"], "P02", "mini")
    assert followup.conversation_id == conversation
    assert "13812345678" not in followup.comment and ratings.MASK in followup.comment


def test_rating_again_replaces_the_earlier_one(client: TestClient, settings: Settings) -> None:
    session_id = chat(client)
    client.post("/api/v1/rating", json={"session_id": session_id, "score": 3})
    body = client.post("/api/v1/rating", json={"session_id": session_id, "score": 5}).json()
    assert body["replaced"] and body["message"] == "您的评价已更新为“非常满意”，感谢您的反馈！"
    rated = ratings.rating_of(settings, session_id.split(".")[0])
    assert rated is not None and rated.score == 5


def test_a_rating_is_kept_when_rasa_cannot_be_asked_for_the_item(
    client: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    session_id = chat(client)
    fake_rasa.tracker_status = 500
    body = client.post("/api/v1/rating", json={"session_id": session_id, "score": 1}).json()
    assert body["level"] == "非常不满意" and body["followup_number"]
    assert ratings.followups(settings)[0].item_code == ""


@pytest.mark.parametrize(
    ("payload", "status", "code", "words"),
    [
        ({"score": 4, "comment": "好" * 501}, 422, "invalid_request", "500字以内"),  # comment too long
        ({"score": 0}, 422, "invalid_request", "五个等级"),  # below the scale
        ({"score": 6}, 422, "invalid_request", "五个等级"),  # above it
        ({"score": "4"}, 422, "invalid_request", ""),  # a string is not a score
        ({"score": 4, "channel": "fax"}, 422, "invalid_request", ""),  # unknown channel
        ({"score": 4, "extra": 1}, 422, "invalid_request", ""),  # unknown field
    ],
)
def test_unusable_ratings_are_refused_in_chinese_and_nothing_is_stored(
    client: TestClient, settings: Settings, payload: dict[str, object], status: int, code: str, words: str
) -> None:
    session_id = chat(client)
    message = assert_chinese_error(
        client.post("/api/v1/rating", json={"session_id": session_id, **payload}), status, code
    )
    assert words in message
    assert ratings.rating_of(settings, session_id.split(".")[0]) is None


@pytest.mark.parametrize(
    "session_id",
    [
        "0123456789abcdef0123456789abcdef.000000000000000000000000",  # well-formed, not signed by this gateway
        "not-a-session",  # malformed
        "",  # empty
    ],
)
def test_a_forged_session_cannot_rate(client: TestClient, settings: Settings, session_id: str) -> None:
    response = client.post("/api/v1/rating", json={"session_id": session_id, "score": 1})
    assert_chinese_error(response, 400, "invalid_session")
    assert ratings.followups(settings, None) == []


def test_a_session_signed_with_another_secret_is_refused(client: TestClient) -> None:
    foreign = issue_session("another-gateway-secret-value")
    assert_chinese_error(
        client.post("/api/v1/rating", json={"session_id": foreign, "score": 5}), 400, "invalid_session"
    )


def test_ratings_count_against_the_chat_rate_limit(settings: Settings) -> None:
    limited = settings.model_copy(update={"rate_limit_session": 2})
    with TestClient(create_app(limited, rasa_transport=FakeRasa().transport())) as client:
        session_id = chat(client)  # the first message of the session carries no id, so it is not counted per session
        assert client.post("/api/v1/rating", json={"session_id": session_id, "score": 5}).status_code == 200
        assert client.post("/api/v1/rating", json={"session_id": session_id, "score": 4}).status_code == 200
        response = client.post("/api/v1/rating", json={"session_id": session_id, "score": 3})
        assert_chinese_error(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) >= 1


# --- admin: follow-ups -------------------------------------------------------------------------------------------
def bad_rating(client: TestClient, comment: str = "等了很久") -> str:
    number: str = client.post(
        "/api/v1/rating", json={"session_id": chat(client), "score": 1, "comment": comment}
    ).json()["followup_number"]
    return number


def test_admin_lists_and_closes_followups(client: TestClient, admin: StaffLogin) -> None:
    first, second = bad_rating(client, "等了很久"), bad_rating(client, "答非所问")
    client.post("/api/v1/rating", json={"session_id": chat(client), "score": 5})  # a good one has no follow-up
    listed = client.get("/api/v1/admin/followups", headers=admin.headers).json()["followups"]
    assert [f["number"] for f in listed] == [first, second]  # the longest-waiting first
    assert listed[0]["comment"] == "等了很久" and listed[0]["level"] == "非常不满意"
    assert listed[0]["status_label"] == "待回访" and listed[0]["channel_label"] == "网页"

    closed = client.post(
        f"/api/v1/admin/followups/{first}/close",
        json={"result": "已核实，回电致歉并说明办理流程"},
        headers=admin.headers,
    )
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed" and closed.json()["assignee"] == admin.username
    assert closed.json()["closed_at"]
    open_now = client.get("/api/v1/admin/followups?status=open", headers=admin.headers).json()["followups"]
    assert [f["number"] for f in open_now] == [second]
    done = client.get("/api/v1/admin/followups?status=closed", headers=admin.headers).json()["followups"]
    assert [(f["number"], f["result"]) for f in done] == [(first, "已核实，回电致歉并说明办理流程")]
    everything = client.get("/api/v1/admin/followups?status=all", headers=admin.headers).json()["followups"]
    assert {f["number"] for f in everything} == {first, second}


@pytest.mark.parametrize(
    ("number", "result", "status", "code"),
    [
        ("HC-20990101-000099", "已处理", 404, "not_found"),  # unknown number
        (None, "   ", 422, "invalid_request"),  # empty result
        (None, "好" * 1001, 422, "invalid_request"),  # result too long
    ],
)
def test_closing_refusals(
    client: TestClient, admin: StaffLogin, number: str | None, result: str, status: int, code: str
) -> None:
    real = bad_rating(client)
    response = client.post(
        f"/api/v1/admin/followups/{number or real}/close", json={"result": result}, headers=admin.headers
    )
    assert_chinese_error(response, status, code)
    listed = client.get("/api/v1/admin/followups", headers=admin.headers).json()["followups"]
    assert [f["number"] for f in listed] == [real]  # still open


def test_a_followup_is_closed_once(client: TestClient, admin: StaffLogin) -> None:
    number = bad_rating(client)
    url = f"/api/v1/admin/followups/{number}/close"
    assert client.post(url, json={"result": "已回访"}, headers=admin.headers).status_code == 200
    assert_chinese_error(client.post(url, json={"result": "又一次"}, headers=admin.headers), 409, "followup_closed")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/admin/followups"), ("POST", "/api/v1/admin/followups/{number}/close")],
)
def test_followups_are_refused_anonymously_and_to_agents(
    client: TestClient, agent: StaffLogin, settings: Settings, method: str, path: str
) -> None:
    number = bad_rating(client)
    url = path.format(number=number)
    body = {"result": "已回访"} if method == "POST" else None
    assert_chinese_error(client.request(method, url, json=body), 401, "unauthorized")
    assert_chinese_error(
        client.request(method, url, json=body, headers={"Authorization": "Bearer not-a-token"}), 401, "unauthorized"
    )
    assert_chinese_error(client.request(method, url, json=body, headers=agent.headers), 403, "forbidden")
    assert ratings.followups(settings)[0].status == "open"


def test_openapi_describes_the_rating_routes_in_chinese(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/api/v1/rating"]["post"]["summary"] == "评价这次对话（好差评）"
    assert "管理员" in paths["/api/v1/admin/followups"]["get"]["summary"]
    assert "管理员" in paths["/api/v1/admin/followups/{number}/close"]["post"]["summary"]


# --- WeChat: "评价N …" messages ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("评价4 说得很清楚", (4, "说得很清楚")),
        ("评价 1，等了太久", (1, "等了太久")),  # a space and Chinese punctuation between
        ("评价5", (5, "")),  # no comment
        ("评价　３，很好", (3, "很好")),  # full-width space and digit, as typed on a phone
        ("评价 2：\n第一行\n第二行", (2, "第一行\n第二行")),  # a comment on several lines
        ("评价6", None),  # outside the scale
        ("评价45", None),  # a longer number is something else
        ("我想评价一下", None),  # not the rating form: goes to the assistant
        ("评价一下社保卡", None),
    ],
)
def test_wechat_rating_messages(text: str, expected: tuple[int, str] | None) -> None:
    assert wechat_rating(text) == expected


def handoff_reply(sender: str, text: str) -> list[dict[str, Any]]:
    if text == "转人工":
        return [
            {
                "recipient_id": sender,
                "custom": {"type": "handoff", "text": "已为您转人工。", "ticket": "GD-20261130-000003"},
            }
        ]
    return [{"recipient_id": sender, "text": "您好，请问您想办理什么业务？"}]


@pytest.fixture
def wx_client(settings: Settings, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    fake_rasa.reply = handoff_reply
    wx_settings = settings.model_copy(update={"wechat_token": wx.TOKEN})  # plaintext mode: passive replies
    with TestClient(create_app(wx_settings, rasa_transport=fake_rasa.transport())) as test_client:
        yield test_client


def say_on_wechat(client: TestClient, text: str, msg_id: int) -> str:
    content: str = wx.reply_of(wx.post_mp(client, wx.xml_push(msg_id=msg_id, Content=text))).content
    return content


def test_wechat_invites_a_rating_after_a_handoff_and_records_it(
    wx_client: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    assert WECHAT_INVITATION not in say_on_wechat(wx_client, "你好", 1)  # not after an ordinary answer
    answer = say_on_wechat(wx_client, "转人工", 2)
    assert "GD-20261130-000003" in answer and answer.endswith(WECHAT_INVITATION)
    fake_rasa.slots[f"wx-mp-{wx.OPENID}"] = {"current_item": "P02"}
    sent_to_rasa = len(fake_rasa.received)

    thanked = say_on_wechat(wx_client, "评价１ 等了很久也没人回复，电话13812345678", 3)  # full-width digit
    [followup] = ratings.followups(settings)
    assert followup.number in thanked and "很抱歉" in thanked
    assert (followup.channel, followup.conversation_id, followup.item_code) == ("wechat", f"wx-mp-{wx.OPENID}", "P02")
    assert followup.comment == f"等了很久也没人回复，电话{ratings.MASK}"
    assert say_on_wechat(wx_client, "评价", 4) == WECHAT_INVITATION
    assert say_on_wechat(wx_client, "评价9", 5) == "您好，请问您想办理什么业务？"  # not a level: the assistant answers
    assert len(fake_rasa.received) == sent_to_rasa + 1  # the rating messages never reached Rasa
