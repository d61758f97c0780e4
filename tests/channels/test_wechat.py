"""The WeChat channel: signatures, plaintext and secure mode, retries, the reply budget, splitting, mini-program pushes.

Rasa is faked with ``httpx.MockTransport`` (optionally slow); WeChat's server API is a real HTTP server on loopback
(:mod:`tests.channels.fake_wechat`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import xmltodict
from fastapi.testclient import TestClient
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

from assistant import wechat_store
from assistant.settings import Settings, SettingsError, load_settings
from channels.main import create_app
from channels.schemas import reply_from_rasa
from channels.wechat import MAX_TEXT_BYTES, choice_number, chosen_payload, render, split_text
from channels.wechat_api import WeChatAPI, WeChatAPIError
from tests.channels.fake_rasa import FakeRasa
from tests.channels.fake_wechat import APP_ID, APP_SECRET, FakeWeChat, fake_wechat_server

# The official example of WeChat's documentation: this token, timestamp and nonce sign to this signature.
TOKEN = "AAAAA"
TIMESTAMP = "1714036504"
NONCE = "1514711492"
SIGNATURE = "f464b24fc39322e44b38aa78f5edd27bd1441696"

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, like the console's EncodingAESKey
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
ACCOUNT = "gh_0123456789ab"
ID_NUMBER = "11010519491231002X"

BUTTONS = [
    {"title": "社保卡申领", "payload": '/ask_service{"service_item": "P01"}'},
    {"title": "社保卡补领换领", "payload": '/ask_service{"service_item": "P02"}'},
]


@dataclass
class SlowRasa:
    """:class:`FakeRasa` whose webhook answers after ``delay`` seconds (an async MockTransport handler)."""

    fake: FakeRasa = field(default_factory=FakeRasa)
    delay: float = 0.0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/webhooks/rest/webhook" and self.delay:
            await asyncio.sleep(self.delay)
        return self.fake.handle(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


@pytest.fixture
def wechat() -> Iterator[FakeWeChat]:
    with fake_wechat_server() as fake:
        yield fake


@pytest.fixture
def rasa() -> SlowRasa:
    return SlowRasa()


@pytest.fixture
def wx_settings(settings: Settings, wechat: FakeWeChat) -> Settings:
    return settings.model_copy(
        update={
            "wechat_token": TOKEN,
            "wechat_app_id": APP_ID,
            "wechat_app_secret": APP_SECRET,
            "wechat_aes_key": AES_KEY,
            "wechat_api_base": wechat.base_url,
        }
    )


@pytest.fixture
def client(wx_settings: Settings, rasa: SlowRasa) -> Iterator[TestClient]:
    with TestClient(create_app(wx_settings, rasa_transport=rasa.transport())) as test_client:
        yield test_client


def signed(**extra: str) -> dict[str, str]:
    return {"signature": SIGNATURE, "timestamp": TIMESTAMP, "nonce": NONCE, "openid": OPENID, **extra}


def xml_push(msg_type: str = "text", msg_id: int | None = 1, create_time: int = 1714036504, **fields: str) -> str:
    nodes = "".join(f"<{name}><![CDATA[{value}]]></{name}>" for name, value in fields.items())
    msg = f"<MsgId>{msg_id}</MsgId>" if msg_id is not None else ""
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{nodes}{msg}</xml>"
    )


def post_mp(client: TestClient, body: str, **params: str) -> httpx.Response:
    return client.post(
        "/wechat/mp", params=signed(**params), content=body.encode(), headers={"content-type": "text/xml"}
    )


def reply_of(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    message = parse_message(response.text)
    assert message.type == "text"
    assert (message.source, message.target) == (ACCOUNT, OPENID)
    return message


def assert_chinese_error(response: httpx.Response, status: int, fragment: str) -> None:
    assert response.status_code == status
    message = response.json()["error"]["message"]
    assert fragment in message and any("\u4e00" <= ch <= "\u9fff" for ch in message)


# URL check and the switch ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/wechat/mp", "/wechat/mini"])
def test_url_check_echoes_with_the_official_signature(client: TestClient, path: str) -> None:
    response = client.get(path, params=signed(echostr="5923767914207185447"))
    assert response.status_code == 200 and response.text == "5923767914207185447"


@pytest.mark.parametrize(
    "params",
    [
        {"signature": "0" * 40, "timestamp": TIMESTAMP, "nonce": NONCE},  # forged signature
        {"signature": SIGNATURE, "timestamp": "1714036505", "nonce": NONCE},  # another timestamp
        {},  # no parameters at all
    ],
)
def test_bad_signature_is_refused(client: TestClient, rasa: SlowRasa, params: dict[str, str]) -> None:
    assert_chinese_error(client.get("/wechat/mp", params={**params, "echostr": "x"}), 403, "签名校验失败")
    push = client.post("/wechat/mp", params=params, content=xml_push(Content="你好").encode())
    assert_chinese_error(push, 403, "签名校验失败")
    assert_chinese_error(client.post("/wechat/mini", params=params, json={"MsgType": "text"}), 403, "签名校验失败")
    assert rasa.fake.received == []


def test_disabled_channel_answers_404(settings: Settings) -> None:
    with TestClient(create_app(settings, rasa_transport=FakeRasa().transport())) as plain:
        for response in (
            plain.get("/wechat/mp", params=signed(echostr="1")),
            plain.get("/wechat/mini", params=signed(echostr="1")),
            plain.post("/wechat/mp", params=signed(), content=xml_push(Content="你好").encode()),
            plain.post("/wechat/mini", params=signed(), json={"MsgType": "text", "Content": "你好"}),
        ):
            assert_chinese_error(response, 404, "未启用")


# Plaintext mode -------------------------------------------------------------------------------------------------------


def test_text_gets_a_passive_reply_with_numbered_buttons_and_a_number_picks_one(
    client: TestClient, rasa: SlowRasa
) -> None:
    rasa.fake.reply = lambda sender, text: [{"text": "您想办哪一项？", "buttons": BUTTONS}]
    message = reply_of(post_mp(client, xml_push(Content="社保卡", msg_id=101)))
    assert message.content == "您想办哪一项？\n\n回复数字选择：\n1. 社保卡申领\n2. 社保卡补领换领"
    assert rasa.fake.received[-1]["sender"] == f"wx-mp-{OPENID}"
    assert rasa.fake.received[-1]["message"] == "社保卡"

    post_mp(client, xml_push(Content="1", msg_id=102))
    assert rasa.fake.received[-1]["message"] == BUTTONS[0]["payload"]
    for msg_id, answer, button in ((103, "１", 0), (104, "第二个", 1), (105, "第1项", 0)):  # full width, ordinals
        post_mp(client, xml_push(Content=answer, msg_id=msg_id))
        assert rasa.fake.received[-1]["message"] == BUTTONS[button]["payload"]


def test_a_number_without_offered_buttons_is_sent_as_typed(client: TestClient, rasa: SlowRasa) -> None:
    rasa.fake.reply = lambda sender, text: [{"text": "好的"}]
    post_mp(client, xml_push(Content="3", msg_id=201))
    assert rasa.fake.received[-1]["message"] == "3"
    rasa.fake.reply = lambda sender, text: [{"text": "请选择", "buttons": BUTTONS}]
    post_mp(client, xml_push(Content="社保卡", msg_id=202))
    post_mp(client, xml_push(Content="3", msg_id=203))  # only two were offered
    assert rasa.fake.received[-1]["message"] == "3"


def test_long_numbers_never_reach_rasa(client: TestClient, rasa: SlowRasa) -> None:
    post_mp(client, xml_push(Content=f"我的身份证号是{ID_NUMBER}", msg_id=301))
    sent = rasa.fake.received[-1]["message"]
    assert ID_NUMBER not in sent and "〔号码#" in sent


def test_rasa_failure_is_told_in_chinese(client: TestClient, rasa: SlowRasa) -> None:
    rasa.fake.rasa_status = 500
    message = reply_of(post_mp(client, xml_push(Content="你好", msg_id=401)))
    assert "暂时无法回答" in message.content


@pytest.mark.parametrize(
    "body",
    [
        xml_push("image", PicUrl="http://example.invalid/a.jpg", MediaId="m1"),
        xml_push("voice", MediaId="m2", Format="amr"),  # 语音识别 not enabled
        xml_push("location", Location_X="23.1", Location_Y="113.3", Scale="20", Label="某地"),
    ],
)
def test_other_message_types_get_the_chinese_notice(client: TestClient, rasa: SlowRasa, body: str) -> None:
    assert "目前只能处理文字消息" in reply_of(post_mp(client, body)).content
    assert rasa.fake.received == []


def test_voice_with_recognition_is_handled_as_text(client: TestClient, rasa: SlowRasa) -> None:
    post_mp(client, xml_push("voice", msg_id=501, MediaId="m3", Format="amr", Recognition="社保卡怎么补办"))
    assert rasa.fake.received[-1]["message"] == "社保卡怎么补办"


def test_following_the_account_is_welcomed_once(client: TestClient, rasa: SlowRasa) -> None:
    rasa.fake.reply = lambda sender, text: [{"text": "您好！我是智办，请问要办什么事？"}]
    follow = xml_push("event", msg_id=None, Event="subscribe", EventKey="")
    assert reply_of(post_mp(client, follow)).content == "您好！我是智办，请问要办什么事？"
    assert reply_of(post_mp(client, follow)).content == "您好！我是智办，请问要办什么事？"  # WeChat's retry
    assert [body["message"] for body in rasa.fake.received] == ["你好"]
    unfollow = xml_push("event", msg_id=None, create_time=1714036600, Event="unsubscribe", EventKey="")
    assert post_mp(client, unfollow).text == "success"
    assert len(rasa.fake.received) == 1


def test_malformed_push_is_refused_in_chinese(client: TestClient, rasa: SlowRasa) -> None:
    assert_chinese_error(post_mp(client, "<xml><unclosed>"), 422, "无法解析")
    assert_chinese_error(post_mp(client, "<xml><MsgType>text</MsgType></xml>"), 422, "无法解析")  # no sender
    assert_chinese_error(client.post("/wechat/mini", params=signed(), content=b"[1, 2"), 422, "无法解析")
    assert_chinese_error(client.post("/wechat/mini", params=signed(), json={"Encrypt": "x"}), 422, "无法解析")
    assert rasa.fake.received == []


# Secure mode -----------------------------------------------------------------------------------------------------------


def test_secure_mode_round_trip(client: TestClient, rasa: SlowRasa) -> None:
    rasa.fake.reply = lambda sender, text: [{"text": f"收到：{text}"}]
    platform = WeChatCrypto(TOKEN, AES_KEY, APP_ID)  # what WeChat holds
    envelope = xmltodict.parse(platform.encrypt_message(xml_push(Content="办居住证", msg_id=601), NONCE, TIMESTAMP))[
        "xml"
    ]
    body = (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    )

    response = post_mp(client, body, encrypt_type="aes", msg_signature=envelope["MsgSignature"])
    assert response.status_code == 200
    answer = xmltodict.parse(response.text)["xml"]
    plain = platform.decrypt_message(response.text, answer["MsgSignature"], answer["TimeStamp"], answer["Nonce"])
    message = parse_message(plain)
    assert (message.content, message.target) == ("收到：办居住证", OPENID)
    assert OPENID not in response.text and "办居住证" not in response.text

    forged = post_mp(client, body, encrypt_type="aes", msg_signature="0" * 40)
    assert_chinese_error(forged, 403, "签名校验失败")
    assert len(rasa.fake.received) == 1


def test_secure_mode_from_another_app_is_refused(client: TestClient, rasa: SlowRasa) -> None:
    other = WeChatCrypto(TOKEN, AES_KEY, "wxffffffffffffffff")
    envelope = xmltodict.parse(other.encrypt_message(xml_push(Content="你好", msg_id=602), NONCE, TIMESTAMP))["xml"]
    body = f"<xml><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    response = post_mp(client, body, encrypt_type="aes", msg_signature=envelope["MsgSignature"])
    assert_chinese_error(response, 422, "无法解析")
    assert rasa.fake.received == []


# Retries ---------------------------------------------------------------------------------------------------------------


def test_sequential_retries_reach_rasa_once_and_get_the_same_reply(client: TestClient, rasa: SlowRasa) -> None:
    rasa.fake.reply = lambda sender, text: [{"text": "请带上身份证原件。"}]
    body = xml_push(Content="要带什么", msg_id=701)
    contents = [reply_of(post_mp(client, body)).content for _ in range(3)]
    assert contents == ["请带上身份证原件。"] * 3
    assert len(rasa.fake.received) == 1


def test_concurrent_retries_reach_rasa_once(client: TestClient, rasa: SlowRasa) -> None:
    rasa.fake.reply = lambda sender, text: [{"text": "请带上身份证原件。"}]
    rasa.delay = 0.5
    body = xml_push(Content="要带什么", msg_id=702)

    def post(_: int) -> tuple[float, float, httpx.Response]:
        started = time.monotonic()
        response = post_mp(client, body)
        return started, time.monotonic(), response

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(post, range(3)))
    assert max(start for start, _, _ in results) < min(end for _, end, _ in results)  # the three overlapped
    assert [reply_of(r).content for _, _, r in results] == ["请带上身份证原件。"] * 3
    assert len(rasa.fake.received) == 1


def test_the_store_lets_one_claim_win(wx_settings: Settings) -> None:
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda _: wechat_store.claim(wx_settings, "mp:msg:42"), range(8)))
    assert won.count(True) == 1
    wechat_store.settle(wx_settings, "mp:msg:42", wechat_store.PASSIVE, "答复")
    assert wechat_store.outcome(wx_settings, "mp:msg:42") == (wechat_store.PASSIVE, "答复")


# The reply budget and the customer-service API ---------------------------------------------------------------------------


def test_slow_rasa_answers_success_in_time_and_sends_the_answer_later(
    wx_settings: Settings, rasa: SlowRasa, wechat: FakeWeChat, caplog: pytest.LogCaptureFixture
) -> None:
    settings = wx_settings.model_copy(update={"wechat_reply_budget": 0.5})
    rasa.fake.reply = lambda sender, text: [{"text": "高龄津贴每月发放。", "buttons": BUTTONS[:1]}]
    rasa.delay = 1.5
    with TestClient(create_app(settings, rasa_transport=rasa.transport())) as client:
        started = time.monotonic()
        response = post_mp(client, xml_push(Content="高龄津贴", msg_id=801))
        elapsed = time.monotonic() - started
        assert response.text == "success" and elapsed < 1.0
        assert post_mp(client, xml_push(Content="高龄津贴", msg_id=801)).text == "success"  # a retry meanwhile

        (sent,) = wechat.wait_for_messages(1)
        assert sent["touser"] == OPENID and sent["msgtype"] == "text"
        assert sent["text"]["content"] == "高龄津贴每月发放。\n\n回复数字选择：\n1. 社保卡申领"
        assert len(wechat.token_requests) == 1
        assert wechat.token_requests[0] == {"grant_type": "client_credential", "appid": APP_ID, "secret": APP_SECRET}

        wechat.expire_tokens()  # WeChat now answers 42001 for the cached token
        with caplog.at_level(logging.INFO):
            assert post_mp(client, xml_push(Content="第二个问题", msg_id=802)).text == "success"
            assert len(wechat.wait_for_messages(2)) == 2
    assert wechat.refused == [42001]
    assert len(wechat.token_requests) == 2
    assert wechat.messages[1]["access_token"] == "TOKEN-2"
    assert len(rasa.fake.received) == 2
    assert "第二个问题" not in caplog.text and "高龄津贴" not in caplog.text


def test_undeliverable_answer_is_logged_without_its_text(
    wx_settings: Settings, rasa: SlowRasa, wechat: FakeWeChat, caplog: pytest.LogCaptureFixture
) -> None:
    settings = wx_settings.model_copy(update={"wechat_reply_budget": 0.2, "wechat_app_secret": "wrong-secret"})
    rasa.fake.reply = lambda sender, text: [{"text": "机密的答复内容"}]
    rasa.delay = 0.5
    with caplog.at_level(logging.WARNING), TestClient(create_app(settings, rasa_transport=rasa.transport())) as client:
        assert post_mp(client, xml_push(Content="你好", msg_id=803)).text == "success"
        deadline = time.monotonic() + 5
        while "not sent" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/healthz").status_code == 200  # the gateway lives on
    assert "40125" in caplog.text and "机密的答复内容" not in caplog.text and "wrong-secret" not in caplog.text
    assert wechat.messages == []


def test_long_answer_is_split_under_2048_bytes(client: TestClient, rasa: SlowRasa, wechat: FakeWeChat) -> None:
    lines = [f"{i}. 申请材料第{i}项：居民身份证原件及复印件一份，户口簿原件及复印件一份。" for i in range(1, 61)]
    rasa.fake.reply = lambda sender, text: [{"text": "\n".join(lines), "buttons": BUTTONS}]
    expected = split_text(render([reply_from_rasa(m) for m in rasa.fake.reply("", "")]).text)
    assert len(expected) >= 3
    first = reply_of(post_mp(client, xml_push(Content="要带什么材料", msg_id=901))).content
    rest = [m["text"]["content"] for m in wechat.wait_for_messages(len(expected) - 1)]
    parts = [first, *rest]
    assert parts == expected
    assert all(len(part.encode("utf-8")) < 2048 for part in parts)
    assert "\n".join(parts).replace("\n\n", "\n").split("\n") == [
        *lines,
        "回复数字选择：",
        "1. 社保卡申领",
        "2. 社保卡补领换领",
    ]
    assert {m["touser"] for m in wechat.messages} == {OPENID}


# Mini-program ----------------------------------------------------------------------------------------------------------


def test_mini_program_text_is_answered_through_the_api(client: TestClient, rasa: SlowRasa, wechat: FakeWeChat) -> None:
    rasa.fake.reply = lambda sender, text: [{"text": "可以网上办理。"}]
    push = {
        "ToUserName": ACCOUNT,
        "FromUserName": OPENID,
        "CreateTime": 1714036504,
        "MsgType": "text",
        "Content": "能网上办吗",
        "MsgId": 1001,
    }
    for _ in range(3):  # the first copy and two retries
        response = client.post("/wechat/mini", params=signed(), json=push)
        assert response.status_code == 200 and response.text == "success"
    (sent,) = wechat.wait_for_messages(1)
    assert sent["touser"] == OPENID and sent["text"]["content"] == "可以网上办理。"
    assert [(b["sender"], b["message"]) for b in rasa.fake.received] == [(f"wx-mini-{OPENID}", "能网上办吗")]


def test_mini_program_secure_mode_and_other_types(client: TestClient, rasa: SlowRasa, wechat: FakeWeChat) -> None:
    rasa.fake.reply = lambda sender, text: [{"text": f"收到：{text}"}]
    platform = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    plain = json.dumps(
        {
            "ToUserName": ACCOUNT,
            "FromUserName": OPENID,
            "CreateTime": 1,
            "MsgType": "text",
            "Content": "你好",
            "MsgId": 1002,
        },
        ensure_ascii=False,
    )
    envelope = xmltodict.parse(platform.encrypt_message(plain, NONCE, TIMESTAMP))["xml"]
    params = signed(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
    response = client.post("/wechat/mini", params=params, json={"ToUserName": ACCOUNT, "Encrypt": envelope["Encrypt"]})
    assert response.text == "success"
    assert wechat.wait_for_messages(1)[0]["text"]["content"] == "收到：你好"

    image = {"ToUserName": ACCOUNT, "FromUserName": OPENID, "CreateTime": 2, "MsgType": "image", "MsgId": 1003}
    assert client.post("/wechat/mini", params=signed(), json=image).text == "success"
    assert "目前只能处理文字消息" in wechat.wait_for_messages(2)[1]["text"]["content"]
    assert len(rasa.fake.received) == 1


# Pure helpers and settings ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [("1", 1), ("12", 12), ("第一个", 1), ("第二项", 2), ("两", 2), ("第十一个", 11), ("二十", 20), ("3。", 3)],
)
def test_choice_numbers(text: str, number: int) -> None:
    assert choice_number(text) == number


@pytest.mark.parametrize("text", ["0", "123", "13812345678", "一二", "十十", "第", "1个社保卡", "社保卡", ""])
def test_not_choice_numbers(text: str) -> None:
    assert choice_number(text) is None
    assert chosen_payload(text, [("a", "/a")]) is None


def test_structured_replies_are_rendered_without_repeating_themselves() -> None:
    rendered = render(
        [
            reply_from_rasa({"text": "好的，已为您转人工。"}),
            reply_from_rasa({"custom": {"type": "handoff", "text": "", "ticket": "GD-20261130-000042"}}),
            reply_from_rasa(
                {
                    "custom": {
                        "type": "answer",
                        "title": "【社会保障卡申领】申请材料",
                        "text": "【社会保障卡申领】申请材料：\n1. 居民身份证\n来源：社会保障卡申领 · 申请材料",
                        "items": ["居民身份证"],
                        "citations": [{"item_code": "P01", "item_name": "社会保障卡申领", "section": "申请材料"}],
                        "buttons": [{"title": "办理流程", "payload": "/ask_aspect"}],
                    }
                }
            ),
            reply_from_rasa(
                {
                    "custom": {
                        "type": "card",
                        "title": "办理进度：已受理",
                        "text": "受理编号 SBK-20261130-000001",
                        "items": ["已提交 2026-11-30 09:00"],
                        "links": [
                            {"title": "打印申请摘要", "url": "/api/v1/applications/SBK-20261130-000001/summary?token=t"}
                        ],
                    }
                }
            ),
        ],
        base_url="https://zhiban.example.gov.cn/",
    )
    assert rendered.text == (
        "好的，已为您转人工。\n\n工单编号：GD-20261130-000042\n\n"
        "【社会保障卡申领】申请材料：\n1. 居民身份证\n来源：社会保障卡申领 · 申请材料\n\n"
        "办理进度：已受理\n受理编号 SBK-20261130-000001\n· 已提交 2026-11-30 09:00\n"
        "打印申请摘要：https://zhiban.example.gov.cn/api/v1/applications/SBK-20261130-000001/summary?token=t\n\n"
        "回复数字选择：\n1. 办理流程"
    )
    assert rendered.buttons == (("办理流程", "/ask_aspect"),)


def test_split_text_keeps_every_character_and_the_limit() -> None:
    text = "第一段\n" + "很" * 1500 + "\n\n" + "\n".join(["短行"] * 400) + "\n\n末段"
    parts = split_text(text)
    assert all(len(p.encode("utf-8")) <= MAX_TEXT_BYTES for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    assert split_text("  ") == [] and split_text("短") == ["短"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ZHIBAN_WECHAT_REPLY_BUDGET", "5"),  # WeChat gives up after 5 s
        ("ZHIBAN_WECHAT_REPLY_BUDGET", "0"),
        ("ZHIBAN_WECHAT_AES_KEY", "too-short"),
        ("ZHIBAN_WECHAT_TOKEN", "有中文"),
        ("ZHIBAN_WECHAT_API_BASE", "api.weixin.qq.com"),
    ],
)
def test_invalid_wechat_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv("ZHIBAN_WECHAT_APP_ID", APP_ID)
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_secure_mode_needs_the_app_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZHIBAN_WECHAT_APP_ID", raising=False)
    monkeypatch.setenv("ZHIBAN_WECHAT_AES_KEY", AES_KEY)
    with pytest.raises(SettingsError, match="ZHIBAN_WECHAT_APP_ID"):
        load_settings()
    monkeypatch.setenv("ZHIBAN_WECHAT_APP_ID", APP_ID)
    assert load_settings().wechat_aes_key == AES_KEY


def test_token_is_cached_until_shortly_before_it_expires(wechat: FakeWeChat) -> None:
    now = [1000.0]

    async def scenario() -> list[str]:
        api = WeChatAPI(wechat.base_url, APP_ID, APP_SECRET, clock=lambda: now[0])
        try:
            tokens = [await api.access_token()]
            now[0] += 7200 - 301  # one second before the renewal point: still cached
            tokens.append(await api.access_token())
            now[0] += 2  # within 5 minutes of expiry: renewed
            tokens.append(await api.access_token())
            await api.send_text(OPENID, "你好")
            return tokens
        finally:
            await api.aclose()

    assert asyncio.run(scenario()) == ["TOKEN-1", "TOKEN-1", "TOKEN-2"]
    assert wechat.messages[0]["access_token"] == "TOKEN-2"


def test_api_without_credentials_fails_clearly() -> None:
    async def scenario() -> None:
        api = WeChatAPI("http://127.0.0.1:9", "", "")
        try:
            await api.send_text(OPENID, "你好")
        finally:
            await api.aclose()

    with pytest.raises(WeChatAPIError, match="ZHIBAN_WECHAT_APP_ID"):
        asyncio.run(scenario())
