"""Applying by conversation through the real gateway, Rasa server and action server: fill, explain, several fields at once,
skip, correct, check materials, confirm, submit; pause and resume; cancel; invalid answers."""

from __future__ import annotations

from typing import Any

import pytest

from assistant import applications as apps
from assistant.forms.spec import load_forms
from assistant.settings import Settings
from nlu.extract import id_check_digit
from tests.e2e.conversation import Conversation
from tests.e2e.stack import Stack
from tests.utils.applications import submit_card_application

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ID = "11010519491231002X"
PHONE = "13812345678"


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r["text"] for r in replies)


def buttons(replies: list[dict[str, Any]]) -> list[str]:
    return [b["title"] for r in replies for b in r["buttons"]]


def stack_settings(stack: Stack) -> Settings:
    return Settings(env="test", data_dir=stack.env_path("ZHIBAN_DATA_DIR"))


def id_born(date: str) -> str:
    """A well-formed ID number of someone born on ``date`` (YYYYMMDD)."""
    body = f"110105{date}123"
    return body + id_check_digit(body)


def test_social_security_card_application_end_to_end(stack: Stack) -> None:
    person = Conversation(stack)
    opened = person.say("我要申请补办社保卡")
    assert "社会保障卡补领换领申请" in texts(opened), opened
    assert "丢失或被盗" in buttons(opened)

    asked = person.say("卡被人偷了")
    assert "本人" in buttons(asked)
    explained = person.say("这个是什么意思")
    assert "例如" in texts(explained)
    person.say("我自己办")

    several = person.say(f"我叫张三，身份证{ID}，电话{PHONE}")
    assert "已同时记下" in texts(several), several
    assert ID not in texts(several) and PHONE not in texts(several)
    person.say("寄到家里")
    after_address = person.say("东城区和平路18号3栋201室")
    assert "跳过" in buttons(after_address), after_address
    materials = person.say("跳过")
    assert "都有了" in buttons(materials), materials
    summary = person.say("缺第1项")  # every missing material is told at once, then the summary
    assert "还缺" in texts(summary) and "居民身份证" in texts(summary), summary
    form_summary = next(r for r in summary if r["type"] == "form_summary")
    assert "110***********002X" in form_summary["text"] and ID not in form_summary["text"]
    assert "确认提交" in buttons(summary)

    corrected = person.say("电话刚才说错了，是13912345678")
    assert "139****5678" in texts(corrected), corrected
    submitted = person.say("确认提交")
    card = next(r for r in submitted if r["type"] == "card")
    assert card["receipt_no"].startswith("SBK-"), card
    assert card["receipt_no"] in card["text"] and "已提交" in card["text"]

    own = person.say("查一下我的申请进度")  # in the same conversation: no proof needed
    assert any(card["receipt_no"] in r["text"] and "已提交" in r["text"] for r in own), own

    person.say("确认提交")  # a second press after submitting creates nothing new
    mine = apps.for_user(stack_settings(stack), person.conversation_id)
    assert [r.receipt_no for r in mine] == [card["receipt_no"]]
    answers = apps.answers_of(stack_settings(stack), card["receipt_no"])
    assert answers["holder_phone"] == "13912345678" and answers["holder_id_number"] == ID

    # the next application offers the details given before (材料复用), masked, and uses them only after a yes
    offer = person.say('/start_application{"service_item": "P11"}')
    assert "用这些信息" in buttons(offer) and "110***********002X" in texts(offer) and ID not in texts(offer), offer
    reused = person.say("用")
    assert "租赁" in texts(reused) or "备案" in texts(reused), (
        reused
    )  # name, ID and phone are filled: the 情形 come next


def test_pause_and_resume_an_elderly_allowance_application(stack: Stack) -> None:
    person = Conversation(stack)
    opened = person.say("我想申请高龄津贴")
    if "在这里填表申请" in buttons(opened):  # read as a question, the answer offers the form
        opened = person.click(opened, "在这里填表申请")
    assert "老人叫什么名字" in texts(opened), opened
    person.say("王秀英")
    too_young = person.say(f"身份证是{id_born('19490307')}")
    assert "80周岁" in texts(too_young), too_young
    paused = person.say("先保存，我去找一下老人的身份证")
    assert "草稿" in texts(paused), paused

    hello = person.say("你好")  # coming back: the unfinished application is offered
    back = person.click(hello, "接着填写")
    assert "接着填" in buttons(back), back
    resumed = person.say("接着填")
    assert "身份证" in texts(resumed), resumed  # the name is kept; the ID question is next
    accepted = person.say(id_born("19380715"))
    assert "80周岁" not in texts(accepted) and "手机号" in texts(accepted), accepted


def test_cancel_discards_the_draft(stack: Stack) -> None:
    person = Conversation(stack)
    person.say("我要申请公积金租房提取")
    person.say("李四")
    cancelled = person.say("取消申请")
    assert "已取消" in texts(cancelled), cancelled
    assert apps.load_draft(stack_settings(stack), person.conversation_id) is None
    again = person.say("我要申请公积金租房提取")
    assert "接着填" not in buttons(again)


def test_raw_personal_numbers_are_nowhere_but_encrypted(stack: Stack) -> None:
    bank_id = id_born("19320415")
    phone = "15900001111"
    person = Conversation(stack)
    person.say("我要申请高龄津贴")
    person.say("赵桂兰")
    person.say(f"{bank_id[:6]} {bank_id[6:14]} {bank_id[14:]}")  # typed with spaces
    person.say(f"电话{phone}")
    person.say("我要改电话")
    person.say(phone)
    data_dir = stack.env_path("ZHIBAN_DATA_DIR")
    stored = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file() and ".db" in p.name)
    logs = "\n".join(stack.lines).encode()
    run_files = b"".join(p.read_bytes() for p in (data_dir / "run").rglob("*") if p.is_file())
    for raw in (bank_id, phone, bank_id[6:14] + bank_id[14:]):
        assert raw.encode() not in stored, raw
        assert raw.encode() not in logs, raw
        assert raw.encode() not in run_files, raw
    # the application itself has them (decrypted with the key)
    draft = apps.load_draft(stack_settings(stack), person.conversation_id)
    assert draft is not None and draft[1]["values"]["elder_id_number"] == bank_id


def test_progress_by_receipt_number_only_for_the_applicant(stack: Stack) -> None:
    settings = stack_settings(stack)
    receipt, _ = submit_card_application(
        settings,
        user="someone-else",
        key="e2e-progress",
        answers={"holder_id_number": ID},
        summary=["持卡人姓名：张*"],
        proofs=[ID[-4:], PHONE[-4:]],
    )
    apps.move(settings, receipt.receipt_no, "accepted")
    apps.move(settings, receipt.receipt_no, "reviewing")
    apps.move(settings, receipt.receipt_no, "correction", note="照片不清晰，请重新上传")

    stranger = Conversation(stack)
    asked = stranger.say(f"帮我查一下{receipt.receipt_no}办到哪了")
    assert "后四位" in texts(asked), asked
    wrong = stranger.say("1234")
    assert "核对不上" in texts(wrong) and "需补正" not in texts(wrong)
    right = stranger.say("身份证后四位是002x")
    card = next(r for r in right if r["type"] == "card")
    assert "需补正" in card["text"] and "照片不清晰" in card["text"] and "下一步" in card["text"]

    prober = Conversation(stack)
    prober.say(f"{receipt.receipt_no}的进度")
    for guess in ("0000", "1111", "2222"):
        reply = prober.say(guess)
    assert "窗口" in texts(reply) and "需补正" not in texts(reply)

    nobody = Conversation(stack)
    assert "受理编号" in texts(nobody.say("我的申请到哪一步了"))


@pytest.mark.parametrize("form_code", sorted(load_forms()))
def test_every_form_happy_path_with_its_own_examples(stack: Stack, form_code: str) -> None:
    """Fill each declared form by answering every question it asks with the field's own example, then submit."""
    spec = load_forms()[form_code]
    person = Conversation(stack)
    replies = person.say(f'/start_application{{"service_item": "{spec.item}"}}')
    asked: list[str] = []
    for _ in range(40):
        text = texts(replies)
        if "都有了" in buttons(replies):
            replies = person.say("都有了")
            continue
        if "确认提交" in buttons(replies):
            summary = next(r for r in replies if r["type"] == "form_summary")
            assert len(summary["items"]) >= len(asked) - 1
            replies = person.say("确认提交")
            break
        field = next((f for f in spec.fields if f.ask in text), None)
        assert field is not None, replies
        asked.append(field.key)
        replies = person.say(field.example)
    card = next(r for r in replies if r["type"] == "card")
    assert card["receipt_no"].startswith(f"{spec.receipt_prefix}-"), replies
    assert {"打印申请摘要", "下载PDF"} <= {link["title"] for link in card["links"]}
    required = [f.key for f in spec.fields if f.required and not f.when]
    assert set(required) <= set(asked)
