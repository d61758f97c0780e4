"""Form files and the pure logic of filling them: which field comes next, conditions, pruning, summaries, understanding."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from assistant.forms.spec import (
    FormError,
    FormSpec,
    load_form,
    load_forms,
    next_field,
    prune,
    relevant,
    situation_of,
    summary_lines,
    validate,
)
from assistant.forms.understand import Answer, Correct, Explain, Pause, Skip, understand
from assistant.forms.validators import Valid
from knowledge.corpus import BUNDLED_KB, load_corpus

TODAY = dt.date(2026, 11, 30)
ID = "11010519491231002X"
FORMS = load_forms()
SBK = FORMS["social_security_card"]


def test_the_four_forms_load_and_match_their_items() -> None:
    assert {f.item for f in FORMS.values()} == {"P02", "P11", "E02", "P24"}
    items = {i.code: i for i in load_corpus(BUNDLED_KB).items}
    for form in FORMS.values():
        item = items[form.item]
        answered = {f.situation: set(f.options) for f in form.fields if f.situation}
        # every 情形 of the item is asked, with exactly the item's options
        assert answered == {s.key: set(s.options) for s in item.situations}, form.code
        for field in form.fields:
            assert isinstance(validate(field, field.example, TODAY), Valid), (form.code, field.key, field.example)


def test_every_personal_field_is_classified() -> None:
    personal = {"id_number", "mobile", "chinese_name", "address", "bank_card"}
    for form in FORMS.values():
        for field in form.fields:
            if field.type in personal:
                assert field.pii != "none", (form.code, field.key)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "form.yml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = """
code: demo
item: P02
title: 示例申请表
receipt_prefix: DEM
intro: 这是一个用于测试的表单。
fields:
"""
FIELD = """
  - key: {key}
    label: 标签{key}
    ask: 请问您的{key}？
    type: {type}
    explain: 这是用来测试的一项内容。
    example: "{example}"
"""


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (FIELD.format(key="a", type="choice", example="x"), "options"),
        (FIELD.format(key="a", type="text", example="x") + "    options: {是: []}\n", "options"),
        (FIELD.format(key="a", type="text", example="x") * 2, "declared twice"),
        (FIELD.format(key="a", type="text", example="x") + "    when: {b: [是]}\n", "earlier choice field"),
        (FIELD.format(key="a", type="mobile", example="x") + "    rules: {min_age: 80}\n", "do not apply"),
        (FIELD.format(key="a", type="text", example="x") + "    colour: red\n", "colour"),
    ],
)
def test_malformed_forms_are_reported_with_the_file(tmp_path: Path, fields: str, problem: str) -> None:
    with pytest.raises(FormError, match=problem) as raised:
        load_form(write(tmp_path, BASE + fields))
    assert "form.yml" in str(raised.value)


def test_conditional_fields_follow_the_answers() -> None:
    values: dict[str, str] = {"reason": "丢失或被盗", "applicant": "本人"}
    keys = [f.key for f in relevant(SBK, values)]
    assert "agent_name" not in keys and "address" not in keys
    values = {**values, "applicant": "代办", "delivery": "邮寄到家"}
    keys = [f.key for f in relevant(SBK, values)]
    assert {"agent_name", "agent_id_number", "address"} <= set(keys)
    # changing 代办 back to 本人 drops the 代办人 answers
    kept = prune(SBK, {**values, "agent_name": "李四", "applicant": "本人"})
    assert "agent_name" not in kept and kept["applicant"] == "本人"
    assert situation_of(SBK, values) == {"reason": "丢失或被盗", "applicant": "代办"}


def test_next_field_skips_only_optional_fields() -> None:
    done = {f.key: "x" for f in relevant(SBK, {"applicant": "本人", "delivery": "网点自取"}) if f.key != "remark"}
    done.update(applicant="本人", delivery="网点自取")
    field = next_field(SBK, done)
    assert field is not None and field.key == "remark"
    assert next_field(SBK, done, skipped=["remark"]) is None
    first = next_field(SBK, {}, skipped=["reason"])
    assert first is not None and first.key == "reason"  # required: cannot be skipped


def test_summary_masks_personal_numbers() -> None:
    lines = summary_lines(SBK, {"holder_id_number": ID, "holder_phone": "13812345678", "holder_name": "张三"})
    assert "110***********002X" in "".join(lines) and ID not in "".join(lines)
    assert "138****5678" in "".join(lines)


FORM_VALUES = {"reason": "丢失或被盗", "applicant": "本人", "holder_name": "张三"}


def field(spec: FormSpec, key: str):  # type: ignore[no-untyped-def]
    return spec.field(key)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("这个是什么意思", Explain()),
        ("身份证号在哪里找", Explain()),
        ("跳过", Skip()),
        ("先保存，我去找一下身份证", Pause()),
        ("等会儿再填", Pause()),
        ("电话刚才说错了，是13912345678", Correct("holder_phone", "13912345678")),
        ("把名字改成李四", Correct("holder_name", "李四")),
        ("姓名写错了 应该是王五", Correct("holder_name", "王五")),
        ("我要改电话", Correct("holder_phone", "")),
    ],
)
def test_understand_controls(text: str, expected: object) -> None:
    current = field(SBK, "holder_id_number")
    assert understand(SBK, FORM_VALUES, current, text, TODAY) == expected


def test_understand_fills_several_fields_at_once() -> None:
    current = field(SBK, "holder_name")
    result = understand(
        SBK, {"reason": "损坏", "applicant": "本人"}, current, f"我叫张三，身份证{ID}，电话13812345678", TODAY
    )
    assert result == Answer({"holder_name": "张三", "holder_id_number": ID, "holder_phone": "13812345678"}, {})


def test_understand_reports_what_is_wrong() -> None:
    current = field(SBK, "holder_id_number")
    result = understand(SBK, FORM_VALUES, current, "110105194912310021", TODAY)
    assert isinstance(result, Answer) and not result.values
    assert "校验" in result.errors["holder_id_number"]


def test_choice_answers_in_other_words() -> None:
    result = understand(SBK, {}, field(SBK, "reason"), "卡被人偷了", TODAY)
    assert result == Answer({"reason": "丢失或被盗"}, {})


def test_a_number_typed_with_spaces_stays_one_answer() -> None:
    spaced = f"{ID[:6]} {ID[6:14]} {ID[14:]}"
    result = understand(SBK, FORM_VALUES, field(SBK, "holder_id_number"), spaced, TODAY)
    assert result == Answer({"holder_id_number": ID}, {})
    both = understand(SBK, FORM_VALUES, field(SBK, "holder_id_number"), f"{ID} 电话 138 1234 5678", TODAY)
    assert both == Answer({"holder_id_number": ID, "holder_phone": "13812345678"}, {})
