"""The call's conversation loop with scripted speech, Rasa and transport (no audio, no network)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from assistant.settings import Settings
from tests.voice.phone_doubles import (
    FakeCall,
    FakeSynthesizer,
    ScriptedRasa,
    phone_services,
    run_call,
)
from voice.phone.dialogue import HangUp, Key, PhoneDialogue, sender_for
from voice.phone.spoken import PROMPTS

ANSWER: dict[str, Any] = {
    "custom": {
        "type": "answer",
        "title": "【社会保障卡补领换领】申请材料",
        "text": "补办社保卡需要：\n1. 居民身份证\n来源：社会保障卡补领换领 · 申请材料",
        "items": ["居民身份证"],
        "citations": [{"item_code": "P02", "item_name": "社会保障卡补领换领", "section": "申请材料"}],
        "item_code": "P02",
    }
}
HANDOFF: list[dict[str, Any]] = [
    {"text": "已为您转接人工服务，工作人员会看到您刚才的问题，请稍候。"},
    {"custom": {"type": "handoff", "text": "", "ticket": "GD-20261130-000042"}},
]
CHOICES: list[dict[str, Any]] = [
    {
        "text": "您想问的是哪一项？",
        "buttons": [
            {"title": "社会保障卡补领换领", "payload": '/ask_service{"service_item": "P02"}'},
            {"title": "医保关系转移", "payload": '/ask_service{"service_item": "P05"}'},
        ],
    }
]


def answers(text: str) -> list[dict[str, Any]]:
    if text == "转人工":
        return HANDOFF
    if "哪" in text or text == "卡的事":
        return CHOICES
    return [ANSWER]


@pytest.fixture
def phone_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"phone_silence_seconds": 0.2})


def run(settings: Settings, script: list[tuple[str, ...]], rasa: Any = None, **options: Any) -> Any:
    return asyncio.run(run_call(settings, script, rasa or ScriptedRasa(answers), **options))


def test_a_question_is_answered_in_the_elder_voice_with_its_list_and_source(phone_settings: Settings) -> None:
    record, call, rasa = run(phone_settings, [("say", "社保卡丢了怎么补办")])
    assert record.said[0] == PROMPTS["greeting"]
    assert "居民身份证" in record.said[1] and "以上依据社会保障卡补领换领的办事指南" in record.said[1]
    assert "来源" not in record.said[1]
    assert rasa.received == [
        {
            "sender": sender_for("call-1@10.0.0.1"),
            "message": "社保卡丢了怎么补办",
            "metadata": {"elder": True, "channel": "phone"},
        }
    ]
    assert record.heard == ["社保卡丢了怎么补办"]
    assert record.outcome == "caller_hung_up"
    assert call.played and all(p.rate == 8000 for p in call.played)


def test_every_sentence_is_synthesised_with_the_elder_profile_as_pcm_at_the_call_rate(phone_settings: Settings) -> None:
    synthesizer = FakeSynthesizer()
    rasa = ScriptedRasa(answers)
    call = FakeCall([("say", "社保卡丢了怎么补办")], rate=16000)
    dialogue = PhoneDialogue(phone_services(phone_settings, rasa, synthesizer=synthesizer), call, "c")
    call.dialogue = dialogue
    asyncio.run(dialogue.run())
    assert len(synthesizer.requests) > 2
    assert {(profile, fmt, rate) for _, profile, fmt, rate in synthesizer.requests} == {("elder", "pcm", 16000)}
    # sentences are spoken in order and nothing from the written layout (list markers, digits) reaches the voice
    assert all(not any(ch.isdigit() for ch in text) for text, *_ in synthesizer.requests)


@pytest.mark.parametrize(
    "repeat",
    [
        ("say", "再说一遍"),  # spoken request
        ("say", "没听清，麻烦再说一下"),  # another way of asking
        ("key", "*"),  # the star key
    ],
)
def test_repeat_says_the_last_answer_again_without_asking_rasa(
    phone_settings: Settings, repeat: tuple[str, str]
) -> None:
    record, _, rasa = run(phone_settings, [("say", "社保卡丢了怎么补办"), repeat])
    assert len(rasa.received) == 1
    assert record.said[-1] == record.said[-2]
    assert "居民身份证" in record.said[-1]


def test_repeat_before_any_answer_says_so_and_star_repeats_the_greeting(phone_settings: Settings) -> None:
    record, _, rasa = run(phone_settings, [("say", "再说一遍"), ("key", "*")])
    assert record.said[1] == PROMPTS["nothing_to_repeat"]
    assert record.said[2] == PROMPTS["greeting"]
    assert rasa.received == []


def test_a_phone_number_is_read_back_and_sent_redacted_only_after_yes(phone_settings: Settings) -> None:
    record, _, rasa = run(phone_settings, [("say", "我的手机号是13812345678"), ("say", "对")])
    assert record.said[1].startswith("我听到的是：手机号，幺三八，幺二三四，五六七八。对吗？")
    assert [r["message"] for r in rasa.received] == ["我的手机号是〔号码#00000000〕"]


def test_a_wrong_read_back_is_not_sent_and_the_caller_is_asked_again(phone_settings: Settings) -> None:
    record, _, rasa = run(
        phone_settings,
        [("say", "我的手机号是13812345678"), ("key", "2"), ("say", "我的手机号是13812345679"), ("key", "1")],
    )
    assert record.said[2] == PROMPTS["confirmed_no"]
    assert len(rasa.received) == 1


def test_saying_the_number_again_instead_of_yes_reads_the_new_number_back(phone_settings: Settings) -> None:
    record, _, rasa = run(
        phone_settings, [("say", "受理编号SBK-20261121-000123"), ("say", "是SBK-20261121-000124"), ("say", "对的")]
    )
    assert "受理编号，S B K，二零二六一一二一，零零零一二三" in record.said[1]
    assert "受理编号，S B K，二零二六一一二一，零零零一二四" in record.said[2]
    assert [r["message"] for r in rasa.received] == ["是SBK-20261121-000124"]


def test_an_unclear_answer_to_a_read_back_repeats_the_question(phone_settings: Settings) -> None:
    record, _, rasa = run(phone_settings, [("say", "生日是1990年3月7日"), ("say", "嗯……那个"), ("say", "对")])
    # "嗯" counts as yes; a clearly unrelated sentence repeats the question instead
    assert rasa.received[0]["message"] == "生日是1990年3月7日"
    record, _, rasa = run(phone_settings, [("say", "生日是1990年3月7日"), ("say", "什么"), ("say", "对")])
    assert record.said[2] == record.said[1]
    assert len(rasa.received) == 1


def test_zero_hands_over_with_a_ticket_and_transfers_when_a_uri_is_set(phone_settings: Settings) -> None:
    settings = phone_settings.model_copy(update={"phone_transfer_uri": "sip:12345@pbx.example.gov.cn"})
    record, call, rasa = run(settings, [("key", "0")])
    assert record.said[1] == PROMPTS["transferring"]
    assert rasa.received[0]["message"] == "转人工"
    assert "工单编号" in record.said[2] and "G D" in record.said[2]
    assert call.actions[-1] == "transfer sip:12345@pbx.example.gov.cn"
    assert "hang_up" not in call.actions  # the transferred call is no longer ours to hang up
    assert record.outcome == "transferred" and record.ticket == "GD-20261130-000042"
    assert call.closed == 1


def test_without_a_transfer_target_the_caller_is_told_and_the_call_ends_politely(phone_settings: Settings) -> None:
    record, call, _ = run(phone_settings, [("key", "0"), ("say", "还在吗")])
    assert record.said[-1] == PROMPTS["no_agent"]
    assert record.outcome == "handed_off"
    assert call.actions[-1] == "hang_up"
    assert call.script == [("say", "还在吗")]  # nothing after the goodbye was listened to


def test_a_failed_transfer_falls_back_to_the_ticket_message(phone_settings: Settings) -> None:
    settings = phone_settings.model_copy(update={"phone_transfer_uri": "sip:agents@pbx"})
    record, call, _ = run(settings, [("say", "转人工")], transfer_ok=False)
    assert "transfer sip:agents@pbx" in call.actions
    assert record.said[-1] == PROMPTS["no_agent"]
    assert call.actions[-1] == "hang_up"


def test_buttons_are_read_as_numbered_choices_and_chosen_by_key_or_by_voice(phone_settings: Settings) -> None:
    record, _, rasa = run(phone_settings, [("say", "卡的事"), ("key", "2"), ("say", "哪个"), ("say", "第一个")])
    assert "请说第一个“社会保障卡补领换领”，或按1；第二个“医保关系转移”，或按2。" in record.said[1]
    assert [r["message"] for r in rasa.received] == [
        "卡的事",
        '/ask_service{"service_item": "P05"}',
        "哪个",
        '/ask_service{"service_item": "P02"}',
    ]


def test_a_key_without_such_a_choice_says_so(phone_settings: Settings) -> None:
    record, _, rasa = run(phone_settings, [("say", "卡的事"), ("key", "7")])
    assert record.said[-1].startswith(PROMPTS["no_such_choice"])
    assert len(rasa.received) == 1


def test_silence_twice_prompts_once_then_says_goodbye_and_hangs_up(phone_settings: Settings) -> None:
    record, call, rasa = run(phone_settings, [("silence",), ("silence",)])
    assert record.said == [PROMPTS["greeting"], PROMPTS["still_there"], PROMPTS["goodbye_silent"]]
    assert record.outcome == "silence"
    assert call.actions[-1] == "hang_up" and call.closed == 1
    assert rasa.received == []


def test_speech_between_silences_resets_the_count(phone_settings: Settings) -> None:
    record, _, _ = run(phone_settings, [("silence",), ("say", "社保卡丢了怎么补办"), ("silence",), ("hangup",)])
    assert record.said.count(PROMPTS["still_there"]) == 2
    assert record.outcome == "caller_hung_up"


def test_goodbye_ends_the_call_after_the_answer(phone_settings: Settings) -> None:
    rasa = ScriptedRasa(lambda text: [{"text": "好的，祝您办事顺利，再见！"}])
    record, call, _ = run(phone_settings, [("say", "没有了，再见"), ("say", "还有一件事")], rasa)
    assert record.outcome == "goodbye"
    assert record.said[-1] == "好的，祝您办事顺利，再见！"
    assert call.actions[-1] == "hang_up"


def test_rasa_down_apologises_then_ends_the_call_after_a_second_failure(phone_settings: Settings) -> None:
    record, call, _ = run(phone_settings, [("say", "社保卡"), ("say", "社保卡")], ScriptedRasa(down=True))
    assert record.said[1:] == [PROMPTS["unavailable"], PROMPTS["unavailable_goodbye"]]
    assert record.outcome == "unavailable"
    assert call.actions[-1] == "hang_up"


def test_nothing_recognised_asks_to_repeat(phone_settings: Settings) -> None:
    record, _, rasa = run(phone_settings, [("say", " ")])
    assert record.said[1] == PROMPTS["not_heard"]
    assert rasa.received == []


def test_hang_up_while_the_assistant_speaks_releases_everything(phone_settings: Settings) -> None:
    async def scenario() -> tuple[Any, FakeCall, PhoneDialogue]:
        synthesizer = FakeSynthesizer(delay=0.2)  # slow synthesis: the caller hangs up during the greeting
        call = FakeCall([])
        dialogue = PhoneDialogue(phone_services(phone_settings, ScriptedRasa(), synthesizer=synthesizer), call, "c")
        call.dialogue = dialogue
        asyncio.get_running_loop().call_later(0.05, dialogue.deliver, HangUp())
        record = await asyncio.wait_for(dialogue.run(), 5)
        return record, call, dialogue

    record, call, dialogue = asyncio.run(scenario())
    assert record.outcome == "caller_hung_up"
    assert call.played == []
    assert "hang_up" not in call.actions  # the caller already did
    assert call.closed == 1
    assert dialogue._tasks == set()  # no synthesis or waiting left behind


def test_a_failing_synthesizer_still_ends_the_call_cleanly(phone_settings: Settings) -> None:
    class Broken(FakeSynthesizer):
        async def speak(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("no voice")

    async def scenario() -> tuple[Any, FakeCall]:
        call = FakeCall([])
        dialogue = PhoneDialogue(phone_services(phone_settings, ScriptedRasa(), synthesizer=Broken()), call, "c")
        call.dialogue = dialogue
        return await asyncio.wait_for(dialogue.run(), 5), call

    record, call = asyncio.run(scenario())
    assert record.outcome == "unavailable"
    assert call.actions[-1] == "hang_up" and call.closed == 1


def test_sender_ids_are_stable_per_call_and_free_of_the_call_id() -> None:
    assert sender_for("abc@10.0.0.1") == sender_for("abc@10.0.0.1") != sender_for("abd@10.0.0.1")
    assert sender_for("abc@10.0.0.1").startswith("phone-") and "@" not in sender_for("abc@10.0.0.1")


def test_a_key_pressed_while_rasa_thinks_cuts_the_answer_short(phone_settings: Settings) -> None:
    class SlowRasa(ScriptedRasa):
        async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
            if text != "转人工":
                call.dialogue.deliver(Key("0"))  # type: ignore[union-attr]  # the caller gives up waiting
            return await super().send(sender, text, metadata)

    rasa = SlowRasa(answers)
    call = FakeCall([("say", "社保卡丢了怎么补办")])
    dialogue = PhoneDialogue(phone_services(phone_settings, rasa), call, "c")
    call.dialogue = dialogue
    record = asyncio.run(dialogue.run())
    assert [r["message"] for r in rasa.received] == ["社保卡丢了怎么补办", "转人工"]
    # the answer was cut short for the key (the second stop is the hang-up's own clean-up)
    assert call.actions == ["stop_playing", "stop_playing", "hang_up"]
    assert record.outcome == "handed_off"
