"""Form validators: tables of right and wrong answers, and properties over generated numbers and arbitrary text.

The check characters used to build valid numbers are computed here from the standards' formulas (weights as powers
of 2 or 3), independently of the module, so a wrong weight table in either place shows up.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.forms.validators import (
    USCC_CHARS,
    Invalid,
    Result,
    Valid,
    address,
    amount,
    bank_card,
    bank_name,
    chinese_name,
    choice,
    date_expr,
    id_number,
    luhn_check_digit,
    mask_bank_card,
    mask_id,
    mask_phone,
    mobile,
    org_code_check_char,
    text,
    uscc,
    uscc_check_char,
)
from nlu.extract import id_check_digit

TODAY = dt.date(2026, 5, 15)  # a Friday
ROLE = {"self": ["本人", "自己"], "agent": ["代办", "帮别人", "替"]}
YES_NO = {"yes": ["是", "对", "好的"], "no": ["不是", "不", "否"]}


# --- reference check characters (from the formulas, not the module's tables) --------------------------------------
def ref_id_check(first17: str) -> str:
    """GB 11643-1999: weight of position i (counted from the right, check digit = 1) is 2^(i-1) mod 11."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    return "10X98765432"[total % 11]


def ref_luhn(body: str) -> str:
    digits = [int(d) for d in reversed(body)]
    total = sum(sum(divmod(d * 2, 10)) if i % 2 == 0 else d for i, d in enumerate(digits))
    return str((10 - total % 10) % 10)


def ref_org_check(body8: str) -> str:
    """GB 11714: weights 2^(8-i) mod 11, letters A=10 … Z=35, check 11 - sum mod 11 (10 → X, 11 → 0)."""
    total = sum(int(ch, 36) * pow(2, 8 - i, 11) for i, ch in enumerate(body8))
    return "0123456789X0"[11 - total % 11]


def ref_uscc_check(first17: str) -> str:
    """GB 32100-2015: weights 3^i mod 31 over the 31-character code set, check 31 - sum mod 31 (31 → 0)."""
    total = sum(USCC_CHARS.index(ch) * pow(3, i, 31) for i, ch in enumerate(first17))
    return USCC_CHARS[(31 - total % 31) % 31]


def make_id(first17: str) -> str:
    return first17 + ref_id_check(first17)


def make_uscc(head: str, region: str, org8: str, *, org_check: str | None = None) -> str:
    """A code from its parts with both check characters computed (or a given, possibly wrong, org check)."""
    first17 = head + region + org8 + (org_check if org_check is not None else ref_org_check(org8))
    return first17 + ref_uscc_check(first17)


def make_card(body: str) -> str:
    return body + ref_luhn(body)


def test_reference_formulas_match_public_samples() -> None:
    assert make_id("11010519491231002") == "11010519491231002X"  # the sample in GB 11643-1999
    assert make_uscc("91", "350100", "M000100Y") == "91350100M000100Y43"  # the widely published sample
    assert make_card("411111111111111") == "4111111111111111"  # a card networks' test number
    assert make_card("550000555555555") == "5500005555555559"


@given(st.from_regex(r"[0-9]{17}", fullmatch=True))
def test_module_id_check_digit_agrees(first17: str) -> None:
    assert id_check_digit(first17) == ref_id_check(first17)


@given(st.from_regex(r"[0-9]{1,25}", fullmatch=True))
def test_module_luhn_agrees(body: str) -> None:
    assert luhn_check_digit(body) == ref_luhn(body)


@given(st.text(alphabet=USCC_CHARS, min_size=17, max_size=17))
def test_module_uscc_checks_agree(first17: str) -> None:
    assert uscc_check_char(first17) == ref_uscc_check(first17)
    assert org_code_check_char(first17[8:16]) == ref_org_check(first17[8:16])


def assert_invalid(result: Result, *fragments: str) -> None:
    assert isinstance(result, Invalid), result
    for fragment in fragments:
        assert fragment in result.message, (fragment, result.message)
    assert result.message.endswith(("。", "）")), result.message


# --- masks ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mask", "raw", "masked"),
    [
        (mask_id, "11010519491231002X", "110***********002X"),
        (mask_phone, "13812345678", "138****5678"),
        (mask_phone, "1234567", "*******"),  # too short to show anything
        (mask_bank_card, "6222000012345678", "**** **** **** 5678"),
        (mask_bank_card, "6222000012345678907", "**** **** **** *** 8907"),
        (mask_bank_card, "6222 0000 1234 5678", "**** **** **** 5678"),
        (mask_bank_card, "1234567", "*******"),
        (mask_id, "", ""),
    ],
)
def test_masks(mask: Callable[[str], str], raw: str, masked: str) -> None:
    assert mask(raw) == masked


def assert_reveals_at_most(raw: str, masked: str, head: int, tail: int) -> None:
    assert len(masked) == len(raw)
    for i, (original, shown) in enumerate(zip(raw, masked, strict=True)):
        if head <= i < len(raw) - tail:
            assert shown == "*", (raw, masked)
        else:
            assert shown in (original, "*"), (raw, masked)


@given(st.text())
def test_id_and_phone_masks_reveal_at_most_first3_last4(raw: str) -> None:
    assert_reveals_at_most(raw, mask_id(raw), 3, 4)
    assert_reveals_at_most(raw, mask_phone(raw), 3, 4)


@given(st.from_regex(r"[0-9]{0,25}", fullmatch=True))
def test_card_mask_reveals_at_most_last4(digits: str) -> None:
    assert_reveals_at_most(digits, mask_bank_card(digits).replace(" ", ""), 0, 4)


# --- 身份证号 ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),  # lower-case x
        ("我的身份证是11010519491231002X", "11010519491231002X"),  # inside a sentence
        ("110105 19491231 002X", "11010519491231002X"),  # spaces
        ("身份证：110105-19491231-002X。", "11010519491231002X"),  # dashes
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),  # full-width
        ("身份证11010519491231002X 电话13812345678", "11010519491231002X"),  # another number after it
        (make_id("81000019900307001"), make_id("81000019900307001")),  # 港澳台居民居住证
        (make_id("11010520260515001"), make_id("11010520260515001")),  # born today
    ],
)
def test_id_number_valid(raw: str, value: str) -> None:
    assert id_number(raw, today=TODAY) == Valid(value, value[:3] + "*" * 11 + value[-4:])


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ("", ("没有找到身份证号", "18位")),
        ("我不记得了", ("没有找到身份证号",)),
        ("110105491231002", ("15位", "18位")),  # the old 15-digit number
        ("1101051949123100", ("18位", "16位")),
        ("11010519491231002X1", ("18位", "19位")),
        (make_id("91010519491231002"), ("第1位",)),
        (make_id("01010519491231002"), ("第1位",)),
        (make_id("11010519990230002"), ("出生日期",)),  # 30 February
        (make_id("11010518991231002"), ("出生日期",)),  # before 1900
        (make_id("11010520260516002"), ("还没到",)),  # born tomorrow
        ("110105194912310021", ("最后一位校验不对", "X")),
        ("1101051949X231002X", ("只有最后一位可能是X",)),
    ],
)
def test_id_number_invalid(raw: str, fragments: tuple[str, ...]) -> None:
    assert_invalid(id_number(raw, today=TODAY), *fragments)


def test_id_number_age_rules() -> None:
    turns_80_tomorrow = make_id("11010519460516002")
    turns_80_today = make_id("11010519460515002")
    assert id_number(turns_80_tomorrow, today=TODAY, min_age=80, purpose="高龄津贴") == Invalid(
        "高龄津贴需年满80周岁，按这个身份证号您今年79岁。"
    )
    assert isinstance(id_number(turns_80_today, today=TODAY, min_age=80), Valid)
    assert_invalid(id_number(turns_80_tomorrow, today=TODAY, min_age=80), "办理这项业务需年满80周岁", "79岁")
    assert_invalid(id_number(turns_80_today, today=TODAY, max_age=60), "不能超过60周岁", "80岁")
    assert isinstance(id_number(turns_80_today, today=TODAY, min_age=18, max_age=80), Valid)


birth_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY)


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    region = draw(st.from_regex(r"[1-8][0-9]{5}", fullmatch=True))
    born = draw(birth_dates)
    sequence = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    return make_id(f"{region}{born:%Y%m%d}{sequence}")


@given(valid_ids())
def test_generated_ids_validate(number: str) -> None:
    assert id_number(number, today=TODAY) == Valid(number, mask_id(number))


@given(valid_ids(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_one_changed_character_fails_the_id(number: str, position: int, replacement: str) -> None:
    if number[position] == replacement:
        replacement = "0" if replacement == "1" else "1"
    mutated = number[:position] + replacement + number[position + 1 :]
    assert isinstance(id_number(mutated, today=TODAY), Invalid)


# --- 手机号 -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086-13812345678",
        "8613812345678",
        "我的手机是138-1234-5678",
        "１３８１２３４５６７８",
        "电话：13812345678，谢谢",
        "身份证11010519491231002X，手机13812345678",
    ],
)
def test_mobile_valid(raw: str) -> None:
    assert mobile(raw) == Valid("13812345678", "138****5678")


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ("", ("没有找到手机号", "11位")),
        ("没有手机", ("没有找到手机号",)),
        ("010-12345678", ("座机", "手机号")),
        ("0755 8888 6666", ("座机",)),
        ("88886666", ("座机",)),
        ("4008123123", ("座机",)),
        ("12812345678", ("不像手机号",)),
        ("1381234567", ("11位", "10位")),
        ("138123456789", ("11位", "12位")),
        ("+852 9123 4567", ("中国大陆",)),
    ],
)
def test_mobile_invalid(raw: str, fragments: tuple[str, ...]) -> None:
    assert_invalid(mobile(raw), *fragments)


FULL_WIDTH = str.maketrans({**{c: chr(ord(c) + 0xFEE0) for c in "0123456789+-"}, " ": "\u3000"})


@given(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.sampled_from(["", "+86", "+86 ", "0086", "0086 ", "+86-"]),
    st.sampled_from(["", " ", "-"]),
    st.booleans(),
    st.booleans(),
)
def test_generated_mobiles_validate(number: str, prefix: str, group: str, full_width: bool, sentence: bool) -> None:
    written = prefix + group.join([number[:3], number[3:7], number[7:]])
    if full_width:
        written = written.translate(FULL_WIDTH)
    if sentence:
        written = f"我的手机号是{written}，谢谢"
    assert mobile(written) == Valid(number, mask_phone(number))


# --- 姓名 ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("张三", "张三"),
        ("我叫张三", "张三"),
        ("我是李四。", "李四"),
        ("名字是欧阳娜娜", "欧阳娜娜"),
        ("我的名字叫赵六！", "赵六"),
        ("张 三", "张三"),
        ("“王小明”", "王小明"),
        ("刘䶮", "刘䶮"),  # CJK extension A
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽・买买提", "阿依古丽·买买提"),  # katakana middle dot
        ("阿依古丽•买买提", "阿依古丽·买买提"),  # bullet
        ("阿依古丽.买买提", "阿依古丽·买买提"),
        ("一二三四五六七八九十一二三四五六七八九十", "一二三四五六七八九十一二三四五六七八九十"),  # 20
    ],
)
def test_chinese_name_valid(raw: str, value: str) -> None:
    assert chinese_name(raw) == Valid(value, value)


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ("", ("姓名",)),
        ("我叫", ("姓名",)),
        ("张3", ("数字",)),
        ("张三123", ("数字",)),
        ("Zhang San", ("汉字",)),
        ("张三Tom", ("汉字",)),
        ("张@三", ("汉字和间隔点",)),
        ("·张三", ("间隔点", "中间")),
        ("张三·", ("间隔点",)),
        ("阿依古丽··买买提", ("间隔点",)),
        ("张", ("至少两个字",)),
        ("一" * 21, ("最多20个字", "21")),
    ],
)
def test_chinese_name_invalid(raw: str, fragments: tuple[str, ...]) -> None:
    assert_invalid(chinese_name(raw), *fragments)


# --- 日期 ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "value", "display"),
    [
        ("2026年5月20日", "2026-05-20", "2026年5月20日（星期三）"),
        ("2026-05-20", "2026-05-20", "2026年5月20日（星期三）"),
        ("2026/6/1", "2026-06-01", "2026年6月1日（星期一）"),
        ("５月２０日", "2026-05-20", "2026年5月20日（星期三）"),
        ("五月二十号", "2026-05-20", "2026年5月20日（星期三）"),
        ("明天", "2026-05-16", "2026年5月16日（星期六）"),
        ("下周一上午", "2026-05-18", "2026年5月18日（星期一）"),
        ("今天", "2026-05-15", "2026年5月15日（星期五）"),
        ("就5月20日吧，也就是下周三", "2026-05-20", "2026年5月20日（星期三）"),  # the same day twice
    ],
)
def test_date_expr_valid(raw: str, value: str, display: str) -> None:
    assert date_expr(raw, today=TODAY) == Valid(value, display)


@pytest.mark.parametrize(
    ("raw", "options", "fragments"),
    [
        ("", {}, ("没看懂", "明天")),
        ("随便哪天", {}, ("没看懂",)),
        ("2026年2月30日", {}, ("没看懂",)),
        ("明年三月", {}, ("具体哪一天", "2027年3月")),
        ("下个月", {}, ("具体哪一天",)),
        ("明天或者后天", {}, ("不止一个",)),
        ("昨天", {"allow_past": False}, ("已经过去", "2026年5月14日")),
        ("明天", {"allow_future": False}, ("还没到", "2026年5月16日")),
        ("一万万万月一日", {}, ("没看懂",)),
        (
            "一" * 101,
            {},
            ("简单地说一个日期",),
        ),  # long answers are not handed to the (quadratic) find_dates  # nlu.extract.find_dates overflows on this; the validator must not
    ],
)
def test_date_expr_invalid(raw: str, options: dict[str, bool], fragments: tuple[str, ...]) -> None:
    assert_invalid(date_expr(raw, today=TODAY, **options), *fragments)


def test_today_is_neither_past_nor_future() -> None:
    assert isinstance(date_expr("今天", today=TODAY, allow_past=False, allow_future=False), Valid)


def test_date_expr_next_year_month_day() -> None:
    assert date_expr("明年3月5日", today=TODAY) == Valid("2027-03-05", "2027年3月5日（星期五）")


# --- 地址 ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("东城区幸福路12号", "示例市东城区幸福路12号"),
        ("示例市西城区和平街8号3栋201室", "示例市西城区和平街8号3栋201室"),
        ("我住在新区光明小区5栋302室", "示例市新区光明小区5栋302室"),
        ("地址是：东城区幸福路12号", "示例市东城区幸福路12号"),
        ("东城幸福路12号", "示例市东城区幸福路12号"),  # short district name
        ("示例东城区幸福路12号", "示例市东城区幸福路12号"),
        ("广东省示例市东城区幸福路12号", "示例市东城区幸福路12号"),
        ("西城区东城路5号", "示例市西城区东城路5号"),  # 东城路 is a road, not the district
        ("东城区 幸福路 12 号", "示例市东城区幸福路12号"),
        ("东城区柳树村", "示例市东城区柳树村"),
    ],
)
def test_address_valid(raw: str, value: str) -> None:
    assert address(raw) == Valid(value, value)


def test_address_with_another_city() -> None:
    result = address("海淀区中关村大街1号", city="北京市", districts=("海淀区", "朝阳区"))
    assert result == Valid("北京市海淀区中关村大街1号", "北京市海淀区中关村大街1号")


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ("", ("详细地址", "示例市东城区")),
        ("幸福路12号", ("哪个区", "东城区、西城区、新区")),
        ("东城路5号", ("哪个区",)),
        ("示例市东城区", ("门牌号",)),
        ("北京市东城区幸福路12号", ("不在示例市",)),
        ("新区1号", ("太简短",)),
        ("东城区幸福路" + "很长" * 40 + "12号", ("太长", "80")),
    ],
)
def test_address_invalid(raw: str, fragments: tuple[str, ...]) -> None:
    assert_invalid(address(raw), *fragments)


# --- 银行卡号、开户行 -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("4111111111111111", "4111111111111111"),
        ("6222 0000 1234 5678 907", "6222000012345678907"),
        ("卡号是6222-0000-1234-5678-907", "6222000012345678907"),
        ("６２２２００００１２３４５６７８９０７", "6222000012345678907"),
        ("5500005555555559", "5500005555555559"),
    ],
)
def test_bank_card_valid(raw: str, value: str) -> None:
    assert bank_card(raw) == Valid(value, mask_bank_card(value))


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ("", ("没有找到银行卡号", "16到19位")),
        ("1234", ("16到19位", "4位")),
        ("4111111111111112", ("校验不对",)),
        ("6222 0000 1234 5678 908", ("校验不对",)),
        ("41111111111111111111", ("20位",)),
    ],
)
def test_bank_card_invalid(raw: str, fragments: tuple[str, ...]) -> None:
    assert_invalid(bank_card(raw), *fragments)


@given(st.from_regex(r"[0-9]{15,18}", fullmatch=True))
def test_generated_cards_validate(body: str) -> None:
    card = make_card(body)
    assert bank_card(card) == Valid(card, mask_bank_card(card))


@given(st.from_regex(r"[0-9]{15,18}", fullmatch=True), st.data())
def test_one_changed_digit_fails_the_card(body: str, data: st.DataObject) -> None:
    card = make_card(body)
    position = data.draw(st.integers(0, len(card) - 1))
    replacement = data.draw(st.sampled_from([d for d in "0123456789" if d != card[position]]))
    assert isinstance(bank_card(card[:position] + replacement + card[position + 1 :]), Invalid)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("中国工商银行示例市东城支行", "中国工商银行示例市东城支行"),
        ("开户行是中国建设银行示例市西城支行", "中国建设银行示例市西城支行"),
        ("示例市农村信用社新区分社", "示例市农村信用社新区分社"),
        ("示例农商行东城支行", "示例农商行东城支行"),
        ("工行东城支行", "中国工商银行东城支行"),
        ("邮储银行东城支行", "邮储银行东城支行"),
        ("HSBC汇丰银行", "HSBC汇丰银行"),
    ],
)
def test_bank_name_valid(raw: str, value: str) -> None:
    assert bank_name(raw) == Valid(value, value)


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ("", ("开户行", "中国工商银行示例市东城支行")),
        ("东城支行", ("银行的名称",)),
        ("银行", ("太短",)),
        ("中国工商银行" + "东城" * 20 + "支行", ("太长", "40")),
        ("6222000012345678907", ("卡号",)),
    ],
)
def test_bank_name_invalid(raw: str, fragments: tuple[str, ...]) -> None:
    assert_invalid(bank_name(raw), *fragments)


# --- 金额 ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "value", "display"),
    [
        ("3500元", "3500.00", "3,500.00元"),
        ("三千五", "3500.00", "3,500.00元"),
        ("3.5万", "35000.00", "35,000.00元"),
        ("3.5万元", "35000.00", "35,000.00元"),
        ("3,500", "3500.00", "3,500.00元"),
        ("¥3500.5", "3500.50", "3,500.50元"),
        ("两千块", "2000.00", "2,000.00元"),
        ("十万", "100000.00", "100,000.00元"),
        ("３５００元", "3500.00", "3,500.00元"),
        ("每月3500元，一共12个月", "3500.00", "3,500.00元"),  # the number with a money word
        ("负责人月薪3500元", "3500.00", "3,500.00元"),  # 负 of 负责人 is not a minus
        ("0元", "0.00", "0.00元"),
    ],
)
def test_amount_valid(raw: str, value: str, display: str) -> None:
    assert amount(raw) == Valid(value, display)


@pytest.mark.parametrize(
    ("raw", "bounds", "fragments"),
    [
        ("", {}, ("没看懂金额", "3500元")),
        ("不知道", {}, ("没看懂金额",)),
        ("万元", {}, ("没看懂金额",)),  # nlu.extract.chinese_number("万") is 0
        ("3000到5000", {}, ("只说一个金额",)),
        ("-100", {}, ("负数",)),
        ("负三百", {}, ("负数",)),
        ("3.555元", {}, ("精确到分",)),
        ("9" * 20, {}, ("太大",)),
        ("100元", {"minimum": 500}, ("不能低于500元", "100元")),
        ("6000", {"maximum": 5000}, ("不能超过5,000元", "6,000元")),
    ],
)
def test_amount_invalid(raw: str, bounds: dict[str, int], fragments: tuple[str, ...]) -> None:
    assert_invalid(amount(raw, **bounds), *fragments)


def test_amount_bounds_are_inclusive() -> None:
    assert amount("500", minimum=500, maximum=500) == Valid("500.00", "500.00元")


def test_amount_with_zero_inside() -> None:
    assert amount("一千零五") == Valid("1005.00", "1,005.00元")


# --- 统一社会信用代码 -------------------------------------------------------------------------------------------------
SAMPLE_USCC = "91350100M000100Y43"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (SAMPLE_USCC, SAMPLE_USCC),
        (SAMPLE_USCC.lower(), SAMPLE_USCC),
        ("统一社会信用代码：9135 0100 M000 100Y 43", SAMPLE_USCC),
        ("９１３５０１００Ｍ０００１００Ｙ４３", SAMPLE_USCC),
        (make_uscc("51", "110105", "50000123"), make_uscc("51", "110105", "50000123")),  # 社会团体
        (make_uscc("N2", "110105", "MA0012KX"), make_uscc("N2", "110105", "MA0012KX")),  # 村级集体经济组织
    ],
)
def test_uscc_valid(raw: str, value: str) -> None:
    assert uscc(raw) == Valid(value, value)


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ("", ("没有找到统一社会信用代码", "18位")),
        (SAMPLE_USCC[:17], ("18位", "17位")),
        ("91350100M000100I43", ("I",)),
        (make_uscc("X1", "350100", "M000100Y"), ("第1位",)),
        (make_uscc("95", "350100", "M000100Y"), ("第2位",)),
        (make_uscc("91", "3501A0", "M000100Y"), ("行政区划",)),
        (make_uscc("91", "350100", "M000100Y", org_check="5"), ("组织机构代码",)),  # only the org check is wrong
        ("91350100M000100Y44", ("最后一位校验不对",)),
    ],
)
def test_uscc_invalid(raw: str, fragments: tuple[str, ...]) -> None:
    assert_invalid(uscc(raw), *fragments)


HEADS = ["11", "12", "13", "19", "21", "31", "35", "41", "51", "52", "53", "61", "71", "81", "91", "92", "93"]
HEADS += ["A1", "N1", "N2", "N3", "Y1"]


@st.composite
def valid_usccs(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from(HEADS))
    region = draw(st.from_regex(r"[0-9]{6}", fullmatch=True))
    org8 = draw(st.text(alphabet=USCC_CHARS, min_size=8, max_size=8))
    return make_uscc(head, region, org8)


@given(valid_usccs())
def test_generated_usccs_validate(code: str) -> None:
    assert uscc(code) == Valid(code, code)


@given(valid_usccs(), st.integers(0, 17), st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
def test_one_changed_character_fails_the_uscc(code: str, position: int, replacement: str) -> None:
    if code[position] == replacement:
        replacement = "0" if replacement == "1" else "1"
    assert isinstance(uscc(code[:position] + replacement + code[position + 1 :]), Invalid)


# --- free text -------------------------------------------------------------------------------------------------------
def test_text_valid() -> None:
    assert text("因工作调动需要变更地址") == Valid("因工作调动需要变更地址", "因工作调动需要变更地址")
    assert text("  有空格  ") == Valid("有空格", "有空格")
    long = "很" * 50
    assert text(long) == Valid(long, "很" * 40 + "…")
    assert text("", min_len=0) == Valid("", "")


@pytest.mark.parametrize(
    ("raw", "limits", "fragments"),
    [
        ("", {}, ("还没有填写",)),
        ("   ", {}, ("还没有填写",)),
        ("你好", {"min_len": 5}, ("至少写5个字", "2个字")),
        ("一二三四五六七八九十一", {"max_len": 10}, ("最多10个字", "11个字")),
        ("很" * 201, {}, ("最多200个字",)),
    ],
)
def test_text_invalid(raw: str, limits: dict[str, int], fragments: tuple[str, ...]) -> None:
    assert_invalid(text(raw, **limits), *fragments)


# --- choices ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "options", "key"),
    [
        ("本人", ROLE, "self"),
        ("我自己办", ROLE, "self"),
        ("帮别人办", ROLE, "agent"),
        ("替我妈办", ROLE, "agent"),
        ("代办。", ROLE, "agent"),
        ("不是本人，是帮别人办", ROLE, "agent"),  # the negated option does not count
        ("2", ROLE, "agent"),  # by position
        ("１", ROLE, "self"),
        ("不是", YES_NO, "no"),  # 是 inside 不是
        ("是的", YES_NO, "yes"),
        ("好的", YES_NO, "yes"),
        ("不", YES_NO, "no"),
    ],
)
def test_choice_valid(raw: str, options: dict[str, list[str]], key: str) -> None:
    assert choice(raw, options) == Valid(key, options[key][0])


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ("", ("没听明白", "本人、代办")),
        ("不知道", ("没听明白",)),
        ("不是本人", ("没听明白",)),
        ("3", ("没听明白",)),
        ("本人和帮别人都有", ("只选一个", "本人", "代办")),
    ],
)
def test_choice_invalid(raw: str, fragments: tuple[str, ...]) -> None:
    assert_invalid(choice(raw, ROLE), *fragments)


def test_choice_needs_options() -> None:
    with pytest.raises(ValueError, match="option"):
        choice("本人", {})


# --- never raising -----------------------------------------------------------------------------------------------------
VALIDATORS: list[Callable[[str], Result]] = [
    lambda s: id_number(s, today=TODAY, min_age=18, max_age=60),
    mobile,
    chinese_name,
    lambda s: date_expr(s, today=TODAY, allow_past=False),
    address,
    bank_card,
    bank_name,
    lambda s: amount(s, minimum=1, maximum=100000),
    uscc,
    text,
    lambda s: choice(s, ROLE),
]
# Characters the validators look for, so generated text reaches past the "nothing found" branches.
RELEVANT = st.sampled_from(
    list(
        "0123456789Xx +-.,·•年月日号周下明后天万千百十零一二两三五元块负区路街号栋室东西城新示例市银行本人代办不是我叫IOZSV"
    )
)


def assert_never_raises(raw: str) -> None:
    for validate in VALIDATORS:
        result = validate(raw)
        assert isinstance(result, Valid | Invalid)
        if isinstance(result, Invalid):
            assert result.message


@given(st.text())
def test_validators_never_raise_on_arbitrary_text(raw: str) -> None:
    assert_never_raises(raw)


@given(st.text(alphabet=RELEVANT | st.characters(), max_size=60))
def test_validators_never_raise_on_near_miss_text(raw: str) -> None:
    assert_never_raises(raw)


@given(st.text(alphabet=RELEVANT, max_size=40))
def test_accepted_values_are_well_formed(raw: str) -> None:
    checks: list[tuple[Result, str]] = [
        (id_number(raw, today=TODAY), r"[1-8][0-9]{16}[0-9X]"),
        (mobile(raw), r"1[3-9][0-9]{9}"),
        (bank_card(raw), r"[0-9]{16,19}"),
        (amount(raw), r"[0-9]+\.[0-9]{2}"),
        (date_expr(raw, today=TODAY), r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
        (chinese_name(raw), r"[^·0-9A-Za-z\s](?:[^0-9A-Za-z\s]{0,18})[^·0-9A-Za-z\s]"),
    ]
    for result, pattern in checks:
        if isinstance(result, Valid):
            assert re.fullmatch(pattern, result.value), (raw, result)
