"""Checking form answers: 身份证号, 手机号, 姓名, 日期, 地址, 银行卡号, 开户行, 金额, 统一社会信用代码, free text, choices.

Pure functions, no I/O. Each validator takes what the person typed (already stripped) plus keyword options and returns
:class:`Valid` — the normalised ``value`` to store and a ``display`` form for the confirmation summary (masked for
identifiers) — or :class:`Invalid` with a short, friendly Simplified-Chinese ``message`` saying what is wrong and what a
right answer looks like. Validators never raise on user text.

Full-width digits and letters are accepted (NFKC), numbers may contain spaces or dashes (138 1234 5678, 010-…), and the
value is found inside a sentence ("我的身份证是110101…"). The ID check digit, Chinese numerals and date expressions come
from :mod:`nlu.extract`, so the assistant and the NLU read them the same way.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeAlias

from nlu.extract import chinese_number, find_dates, id_check_digit


@dataclass(frozen=True)
class Valid:
    """An accepted answer: ``value`` to store, ``display`` to read back to the person (masked or pretty)."""

    value: str
    display: str


@dataclass(frozen=True)
class Invalid:
    """A rejected answer: ``message`` says what is wrong and shows what a right answer looks like."""

    message: str


Result: TypeAlias = Valid | Invalid


# --- shared helpers ----------------------------------------------------------------------------------------------
_SEP = r"\s\-\u2010-\u2015\u2212"  # spaces and the dashes people put inside long numbers
_SEPARATORS = re.compile(rf"[{_SEP}]+")
_DIGIT_RUN = re.compile(rf"[0-9](?:[0-9{_SEP}]*[0-9])?")
_ID_RUN = re.compile(rf"[0-9](?:[0-9Xx{_SEP}]*[0-9Xx])?")
_PHONE_RUN = re.compile(rf"\+?[0-9](?:[0-9{_SEP}]*[0-9])?")
_CODE_RUN = re.compile(rf"[0-9A-Za-z](?:[0-9A-Za-z{_SEP}]*[0-9A-Za-z])?")
_TRAILING_PUNCTUATION = re.compile(r"[。.!?,;~、\s]+$")
_WEEKDAY_NAMES = "一二三四五六日"


def _fold(text: str) -> str:
    """Full-width letters, digits, punctuation and spaces become ASCII (NFKC); the ends are trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def _candidates(text: str, run: re.Pattern[str]) -> list[str]:
    """Possible numbers in ``text``: each run without its separators, then the space-separated parts of the runs.

    "138 1234 5678" is one number; "110101199003071234 13812345678" is two, so the parts are candidates too.
    """
    whole: list[str] = []
    parts: list[str] = []
    for match in run.finditer(text):
        whole.append(_SEPARATORS.sub("", match.group()))
        pieces = match.group().split()
        if len(pieces) > 1:
            parts.extend(_SEPARATORS.sub("", piece) for piece in pieces)
    return whole + [part for part in parts if part]


def _choose(candidates: list[str], lengths: Collection[int]) -> str | None:
    """The first candidate of one of the expected ``lengths``, else the longest (to say what is wrong with it)."""
    for candidate in candidates:
        if len(candidate) in lengths:
            return candidate
    return max(candidates, key=len, default=None)


def _pretty_date(date: dt.date) -> str:
    return f"{date.year}年{date.month}月{date.day}日（星期{_WEEKDAY_NAMES[date.weekday()]}）"


# --- masking -----------------------------------------------------------------------------------------------------
def _mask(text: str, head: int, tail: int) -> str:
    """``text`` with all but the first ``head`` and last ``tail`` characters as ``*``; all of it when that would
    hide fewer than four characters (a short string would be given away)."""
    hidden = len(text) - head - tail
    if hidden < 4:
        return "*" * len(text)
    return text[:head] + "*" * hidden + text[len(text) - tail :]


def mask_id(number: str) -> str:
    """An ID number for a summary: first 3 and last 4 shown, "110***********1234"."""
    return _mask(number, 3, 4)


def mask_phone(number: str) -> str:
    """A mobile number for a summary: "138****5678"."""
    return _mask(number, 3, 4)


def mask_bank_card(number: str) -> str:
    """A card number for a summary: only the last 4 shown, "**** **** **** 1234" (the length stays visible)."""
    digits = _SEPARATORS.sub("", number)
    masked = _mask(digits, 0, 4)
    if masked == "*" * len(digits):
        return masked
    stars = masked[:-4]
    return " ".join([stars[i : i + 4] for i in range(0, len(stars), 4)] + [masked[-4:]])


# --- 身份证号 ------------------------------------------------------------------------------------------------------
_ID_EXAMPLE = "11010519491231002X"


def _age(born: dt.date, today: dt.date) -> int:
    """Full years (周岁) on ``today``; the birthday itself counts."""
    return today.year - born.year - int((today.month, today.day) < (born.month, born.day))


def id_number(
    text: str,
    *,
    today: dt.date,
    min_age: int | None = None,
    max_age: int | None = None,
    purpose: str = "",
) -> Result:
    """An 18-character 居民身份证号码 (GB 11643-1999): region, birth date, check digit, optionally an age range.

    ``purpose`` names the service in the age messages ("高龄津贴需年满80周岁…"). 港澳台居民居住证 numbers (81/82/83…)
    pass like any other. The value is upper-case (x → X); the display is masked.
    """
    number = _choose(_candidates(_fold(text), _ID_RUN), {18})
    if number is None:
        return Invalid(f"没有找到身份证号，请输入18位身份证号，例如 {_ID_EXAMPLE}。")
    number = number.upper()
    if len(number) == 15 and number.isdigit():
        return Invalid(f"这是15位的老身份证号，请提供现在使用的18位身份证号，例如 {_ID_EXAMPLE}。")
    if len(number) != 18:
        return Invalid(f"身份证号应为18位，您输入的是{len(number)}位，请再核对一下。例如 {_ID_EXAMPLE}。")
    if "X" in number[:17]:
        return Invalid(f"身份证号只有最后一位可能是X，前17位都是数字，请再核对一下。例如 {_ID_EXAMPLE}。")
    if number[0] not in "12345678":
        return Invalid(f"身份证号的第1位应该是1到8之间的数字，请再核对一下。例如 {_ID_EXAMPLE}。")
    born: dt.date | None
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        born = None
    if born is None or born.year < 1900:
        return Invalid("身份证号第7到14位是出生日期（例如19900307），这里的日期不对，请再核对一下。")
    if born > today:
        return Invalid(f"身份证号里的出生日期是{born.year}年{born.month}月{born.day}日，还没到，请再核对一下。")
    if id_check_digit(number[:17]) != number[17]:
        return Invalid("身份证号最后一位校验不对，请再核对一下。18位，最后一位可能是X。")
    age = _age(born, today)
    subject = purpose or "办理这项业务"
    if min_age is not None and age < min_age:
        return Invalid(f"{subject}需年满{min_age}周岁，按这个身份证号您今年{age}岁。")
    if max_age is not None and age > max_age:
        return Invalid(f"{subject}年龄不能超过{max_age}周岁，按这个身份证号您今年{age}岁。")
    return Valid(number, mask_id(number))


# --- 手机号 -------------------------------------------------------------------------------------------------------
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_EXAMPLE = "13812345678"


def _without_country_code(number: str) -> str:
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            return number[len(prefix) :]
    if len(number) == 13 and number.startswith("86") and _MOBILE.fullmatch(number[2:]):
        return number[2:]
    return number


def _looks_like_landline(number: str) -> bool:
    """An area code and local number (010-12345678, 0755…), a bare local number, or a 400/800 service number."""
    return (
        (number.startswith("0") and 10 <= len(number) <= 12)
        or (len(number) in (7, 8) and number[0] != "1")
        or (len(number) == 10 and number[:3] in ("400", "800"))
    )


def mobile(text: str) -> Result:
    """A mainland mobile number, 1[3-9] and 9 more digits, optionally written with +86 / 0086; the display is masked."""
    numbers = [_without_country_code(c) for c in _candidates(_fold(text), _PHONE_RUN)]
    for number in numbers:
        if _MOBILE.fullmatch(number):
            return Valid(number, mask_phone(number))
    wrong = _choose(numbers, {11})
    if wrong is None:
        return Invalid(f"没有找到手机号，请输入11位手机号，例如 {_PHONE_EXAMPLE}。")
    return _not_a_mobile(wrong)


def _not_a_mobile(number: str) -> Invalid:
    """Why ``number`` is not a mainland mobile number."""
    if number.startswith("+"):
        return Invalid(f"目前只能登记中国大陆的11位手机号，例如 {_PHONE_EXAMPLE}。")
    if _looks_like_landline(number):
        return Invalid(f"这看起来是座机号码，这里需要手机号，请留一个11位手机号，例如 {_PHONE_EXAMPLE}。")
    if len(number) == 11:
        return Invalid(f"这个号码不像手机号（1开头、第2位是3到9），请再核对一下，例如 {_PHONE_EXAMPLE}。")
    return Invalid(f"手机号应为11位数字，您输入的是{len(number)}位，请再核对一下，例如 {_PHONE_EXAMPLE}。")


# --- 姓名 ---------------------------------------------------------------------------------------------------------
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_NAME_PREFIX = re.compile(r"^(?:我的?(?:名字|姓名)(?:是|叫)?|(?:名字|姓名)(?:是|叫)?|我叫|我是)[:\s]*")
_NAME_QUOTES = re.compile(r"^[\"'“”‘’「」『』《》]+|[\"'“”‘’「」『』《》]+$")
_NAME_DOTS = re.compile(r"[·・•‧∙⋅.]")
_NAME = re.compile(rf"[{_HAN}·]+")
_NAME_EXAMPLE = "张三"
_DOT_NAME_EXAMPLE = "阿依古丽·买买提"


def chinese_name(text: str) -> Result:
    """A name in Chinese characters, 2–20 long, with middle dots between parts (·, ・, • all become ·).

    "我叫张三" and "名字是张三" give 张三; spaces inside the name are dropped.
    """
    name = _TRAILING_PUNCTUATION.sub("", _fold(text))
    name = _NAME_PREFIX.sub("", name, count=1)
    name = _NAME_QUOTES.sub("", name)
    name = _NAME_DOTS.sub("·", re.sub(r"\s+", "", name))
    if not name:
        return Invalid(f"请告诉我您的姓名，例如 {_NAME_EXAMPLE}。")
    if any("0" <= ch <= "9" for ch in name):
        return Invalid(f"姓名里不能有数字，请用汉字填写，例如 {_NAME_EXAMPLE}。")
    if re.search(r"[A-Za-z]", name):
        return Invalid(f"请用汉字填写姓名（外国人请填中文译名），例如 {_NAME_EXAMPLE} 或 {_DOT_NAME_EXAMPLE}。")
    if not _NAME.fullmatch(name):
        return Invalid(f"姓名只能包含汉字和间隔点“·”，例如 {_NAME_EXAMPLE} 或 {_DOT_NAME_EXAMPLE}。")
    if name.startswith("·") or name.endswith("·") or "··" in name:
        return Invalid(f"间隔点“·”要写在两个字中间，例如 {_DOT_NAME_EXAMPLE}。")
    if len(name) < 2:
        return Invalid(f"姓名至少两个字，请填写完整的姓名，例如 {_NAME_EXAMPLE}。")
    if len(name) > 20:
        return Invalid(f"姓名最多20个字，您填了{len(name)}个字，请再核对一下。")
    return Valid(name, name)


# --- 日期 ---------------------------------------------------------------------------------------------------------
_DATE_TEXT_LIMIT = 100


def date_expr(text: str, *, today: dt.date, allow_past: bool = True, allow_future: bool = True) -> Result:
    """One day: 2026年5月1日, 2026-05-01, 5月1日, 明天, 下周一 … → ISO date; today is neither past nor future."""
    example = _pretty_date(today + dt.timedelta(days=7)).split("（")[0]
    folded = _fold(text)
    if len(folded) > _DATE_TEXT_LIMIT:  # find_dates is quadratic in runs of numerals; a date answer is short
        return Invalid(f"请简单地说一个日期就好，例如 {example}、明天 或 下周一。")
    try:
        found = find_dates(folded, today)
    except (OverflowError, ValueError):  # nlu.extract overflows on absurd numerals such as 一万万万月一日
        found = []
    days = list(dict.fromkeys(e.value for e in found if len(e.value) == 10))
    months = [e.value for e in found if len(e.value) == 7]
    if not days:
        if months:
            year, month = (int(part) for part in months[0].split("-"))
            return Invalid(f"请说到具体哪一天，例如 {year}年{month}月15日。")
        return Invalid(f"没看懂这个日期，请说具体哪一天，例如 {example}、明天 或 下周一。")
    if len(days) > 1:
        return Invalid(f"您说了不止一个日期，请只说一个，例如 {example}。")
    date = dt.date.fromisoformat(days[0])
    if date < today and not allow_past:
        return Invalid(f"{_pretty_date(date)}已经过去了，请选今天或以后的日期，例如 明天。")
    if date > today and not allow_future:
        return Invalid(f"{_pretty_date(date)}还没到，请选今天或以前的日期，例如 今天 或 昨天。")
    return Valid(date.isoformat(), _pretty_date(date))


# --- 地址 ---------------------------------------------------------------------------------------------------------
_ADDRESS_PREFIX = re.compile(
    r"^(?:我的?(?:家庭|居住|通讯|通信)?(?:住址|地址)(?:是|在)?|(?:家庭|居住|通讯|通信)?(?:住址|地址)(?:是|在)?"
    r"|我家住在|我家在|我住在|家住在?|住在|我住)[:\s]*"
)
_ADDRESS_MARKERS = ("路", "街", "道", "巷", "号", "村", "小区", "弄", "大道", "栋", "室")
_OTHER_PLACE = re.compile(r"[市县州盟旗]")


def _find_district(address: str, districts: Sequence[str]) -> tuple[int, int, str] | None:
    """Where the first district is named: its full name, else a short form (东城 for 东城区)."""
    full = [(address.find(d), -len(d), d) for d in districts if d and d in address]
    if full:
        start, minus_length, district = min(full)
        return start, start - minus_length, district
    short: list[tuple[int, str]] = []
    for district in districts:
        if len(district) >= 3 and district.endswith("区"):
            # 东城 is 东城区, but 东城路 is a road
            match = re.search(re.escape(district[:-1]) + r"(?![路街道巷弄])", address)
            if match:
                short.append((match.start(), district))
    if short:
        start, district = min(short)
        return start, start + len(district) - 1, district
    return None


def address(text: str, *, city: str = "示例市", districts: Sequence[str] = ("东城区", "西城区", "新区")) -> Result:
    """A street address in ``city``: names one of ``districts`` and a road, street, community or number, 8–80 long.

    The value starts with the city and the district's full name: "东城幸福路12号" → "示例市东城区幸福路12号".
    """
    example = f"{city}{districts[0] if districts else ''}幸福路12号3栋201室"
    cleaned = _TRAILING_PUNCTUATION.sub("", _ADDRESS_PREFIX.sub("", _fold(text), count=1))
    cleaned = re.sub(r"\s+", "", cleaned)
    if not cleaned:
        return Invalid(f"请告诉我详细地址，例如 {example}。")
    found = _find_district(cleaned, districts)
    if found is None:
        return Invalid(f"地址里要写明是{city}哪个区（{'、'.join(districts)}），例如 {example}。")
    start, end, district = found
    before, rest = cleaned[:start], cleaned[end:]
    city_short = city[:-1] if city.endswith("市") and len(city) > 2 else city
    if city not in before and city_short not in before and _OTHER_PLACE.search(before):
        return Invalid(f"这个地址好像不在{city}，这里只能填写{city}的地址，例如 {example}。")
    if any(marker in before for marker in _ADDRESS_MARKERS):  # the street came first: keep everything as written
        value, street = (cleaned if cleaned.startswith(city) else city + cleaned), before + rest
    else:  # drop a province, the city (added back) or chatter before the district
        value, street = f"{city}{district}{rest}", rest
    if not any(marker in street for marker in _ADDRESS_MARKERS):
        return Invalid(f"地址要具体到路（街、小区）和门牌号，例如 {example}。")
    if len(value) < 8:
        return Invalid(f"地址太简短了，请写到门牌号，例如 {example}。")
    if len(value) > 80:
        return Invalid(f"地址太长了（最多80个字），请只写到门牌号，例如 {example}。")
    return Valid(value, value)


# --- 银行卡号、开户行 ---------------------------------------------------------------------------------------------------
_CARD_EXAMPLE = "6222 0000 1234 5678 907"


def luhn_check_digit(body: str) -> str:
    """The Luhn check digit to append to the digits ``body``."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        digit = int(ch) * (2 if i % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str(-total % 10)


def bank_card(text: str) -> Result:
    """A bank card number: 16–19 digits passing the Luhn check; the display shows only the last 4."""
    number = _choose(_candidates(_fold(text), _DIGIT_RUN), set(range(16, 20)))
    if number is None:
        return Invalid(f"没有找到银行卡号，请输入卡面上16到19位的数字，例如 {_CARD_EXAMPLE}。")
    if not 16 <= len(number) <= 19:
        return Invalid(f"银行卡号一般是16到19位数字，您输入的是{len(number)}位，请对照卡面再核对一下。")
    if luhn_check_digit(number[:-1]) != number[-1]:
        return Invalid("银行卡号校验不对，可能有一位输错了，请对照卡面再核对一下。")
    return Valid(number, mask_bank_card(number))


_BANK_EXAMPLE = "中国工商银行示例市东城支行"
_BANK_PREFIX = re.compile(
    r"^(?:我的?)?(?:(?:开户(?:银)?行|开户网点)(?:名称|名字)?(?:是|为|叫|在)?|银行(?:是|为|叫))[:\s]*"
)
_BANK_SHORT = {
    "工行": "中国工商银行",
    "建行": "中国建设银行",
    "农行": "中国农业银行",
    "中行": "中国银行",
    "交行": "交通银行",
    "招行": "招商银行",
    "邮储": "中国邮政储蓄银行",
}
_BANK_SHORT_PREFIX = re.compile(r"^(?:工行|建行|农行|中行|交行|招行|邮储(?!银行))")
_BANK_WORDS = ("银行", "信用社", "农商行", "农信")


def bank_name(text: str) -> Result:
    """The 开户行: 4–40 characters naming a bank or credit union; 工行东城支行 → 中国工商银行东城支行."""
    name = _TRAILING_PUNCTUATION.sub("", _BANK_PREFIX.sub("", _fold(text), count=1))
    name = re.sub(r"\s+", "", name)
    name = _BANK_SHORT_PREFIX.sub(lambda match: _BANK_SHORT[match.group()], name, count=1)
    if not name:
        return Invalid(f"请告诉我开户行名称，最好写到支行，例如 {_BANK_EXAMPLE}。")
    if len(re.findall(r"[0-9]", name)) >= 8:
        return Invalid(f"这看起来是卡号，这里请填写开户行的名称，例如 {_BANK_EXAMPLE}。")
    if not any(word in name for word in _BANK_WORDS):
        return Invalid(f"开户行要写银行的名称，最好写到支行，例如 {_BANK_EXAMPLE}。")
    if len(name) < 4:
        return Invalid(f"开户行名称太短了，请写全称，例如 {_BANK_EXAMPLE}。")
    if len(name) > 40:
        return Invalid(f"开户行名称太长了（最多40个字），请再核对一下，例如 {_BANK_EXAMPLE}。")
    return Valid(name, name)


# --- 金额 ---------------------------------------------------------------------------------------------------------
_CN_NUMERALS = "零〇一二两俩三四五六七八九十百千万"
_AMOUNT = re.compile(
    rf"(?P<num>[0-9]+(?:\.[0-9]+)?|[{_CN_NUMERALS}]+)\s*(?P<scale>万|千)?\s*(?P<unit>元|块钱|块|圆|人民币)?"
)
_THOUSANDS_COMMA = re.compile(r"(?<=[0-9]),(?=[0-9]{3}(?![0-9]))")
_NEGATIVE = re.compile(rf"负\s*[0-9{_CN_NUMERALS}]|(?:^|[^0-9])-\s*[0-9]")
_AMOUNT_LIMIT = Decimal(10) ** 12
_CENT = Decimal("0.01")


def _yuan(value: Decimal) -> str:
    """3500 → "3,500元", 3500.5 → "3,500.50元"."""
    if value == value.to_integral_value():
        return f"{int(value):,}元"
    return f"{value:,.2f}元"


def _amounts(text: str) -> list[tuple[Decimal, bool]]:
    """Every number in ``text`` with whether it carries a money word (元/块/万)."""
    found: list[tuple[Decimal, bool]] = []
    for match in _AMOUNT.finditer(text):
        raw = match.group("num")
        if raw[0].isdigit():
            value = Decimal(raw)
        else:
            number = chinese_number(raw)
            # chinese_number("万") is 0: a bare unit is not an amount
            if number is None or not math.isfinite(number) or (number == 0 and raw.strip("零〇")):
                continue
            value = Decimal(int(number)) if number.is_integer() else Decimal(str(number))
        scale = match.group("scale")
        if scale:
            value *= 10000 if scale == "万" else 1000
        found.append((value, bool(scale or match.group("unit") or "万" in raw)))
    return found


def amount(text: str, *, minimum: Decimal | int | None = None, maximum: Decimal | int | None = None) -> Result:
    """A sum of money in yuan: "3500元", "三千五", "3.5万", "3,500" → "3500.00"; the display is "3,500.00元"."""
    folded = _THOUSANDS_COMMA.sub("", _fold(text))
    if _NEGATIVE.search(folded):
        return Invalid("金额不能是负数，请再核对一下，例如 3500元。")
    found = _amounts(folded)
    if not found:
        return Invalid("没看懂金额，请用数字写，例如 3500元 或 3.5万。")
    with_unit = [value for value, has_unit in found if has_unit]
    values = {value for value, _ in found}
    if len(values) == 1:
        value = found[0][0]
    elif len(set(with_unit)) == 1:
        value = with_unit[0]
    else:
        return Invalid("请只说一个金额，例如 3500元。")
    if value > _AMOUNT_LIMIT:
        return Invalid("这个金额太大了，请再核对一下，例如 3500元。")
    if value.quantize(_CENT) != value:
        return Invalid("金额最多精确到分（小数点后两位），例如 3500.50元。")
    if minimum is not None and value < Decimal(minimum):
        return Invalid(f"金额不能低于{_yuan(Decimal(minimum))}，您填的是{_yuan(value)}。")
    if maximum is not None and value > Decimal(maximum):
        return Invalid(f"金额不能超过{_yuan(Decimal(maximum))}，您填的是{_yuan(value)}。")
    cents = value.quantize(_CENT)
    return Valid(f"{cents:.2f}", f"{cents:,.2f}元")


# --- 统一社会信用代码 ------------------------------------------------------------------------------------------------
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, Z, S, V
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_USCC_EXAMPLE = "91350100M000100Y43"
# 登记管理部门码 → its 机构类别码 (GB 32100-2015 Annex A and later assignments). Deliberately a little generous
# (5 4 基层群众性自治组织, 9 9): a mistyped character is caught by the two check characters anyway.
_USCC_CATEGORIES = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 群众团体, 其他
    "2": "19",  # 外交: 外国常驻新闻机构, 其他
    "3": "123459",  # 司法行政: 律所, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 其他
    "4": "19",  # 文化: 外国在华文化中心, 其他
    "5": "12349",  # 民政: 社会团体, 民办非企业单位, 基金会, 基层群众性自治组织, 其他
    "6": "129",  # 旅游: 外国及港澳台旅游部门常驻代表机构, 其他
    "7": "129",  # 宗教: 宗教活动场所, 宗教院校, 其他
    "8": "19",  # 工会: 基层工会, 其他
    "9": "1239",  # 工商: 企业, 个体工商户, 农民专业合作社
    "A": "19",  # 中央军委改革和编制办公室: 军队事业单位, 其他
    "N": "1239",  # 农业: 组级, 村级, 乡镇级集体经济组织, 其他
    "Y": "1",  # 其他
}


def org_code_check_char(body: str) -> str:
    """The GB 11714 check character of a 组织机构代码 for its first 8 characters (A = 10 … Z = 35)."""
    total = sum(
        (int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=False)
    )
    check = 11 - total % 11
    return "0" if check == 11 else "X" if check == 10 else str(check)


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character (position 18) for the first 17 characters of a code."""
    total = sum(USCC_CHARS.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=False))
    return USCC_CHARS[-total % 31]


def uscc(text: str) -> Result:
    """A 统一社会信用代码: 18 characters — department, category, region, the 9-character 组织机构代码 (its own
    check character at position 17) and the overall check character at position 18."""
    code = _choose(_candidates(_fold(text), _CODE_RUN), {18})
    again = f"请对照营业执照再核对一下，例如 {_USCC_EXAMPLE}。"
    if code is None:
        return Invalid(f"没有找到统一社会信用代码，它是营业执照上的18位代码，例如 {_USCC_EXAMPLE}。")
    code = code.upper()
    if len(code) != 18:
        return Invalid(f"统一社会信用代码应为18位，您输入的是{len(code)}位，{again}")
    wrong = "、".join(sorted({ch for ch in code if ch not in USCC_CHARS}))
    if wrong:
        return Invalid(f"统一社会信用代码里不会有字母{wrong}（不用 I、O、Z、S、V），{again}")
    if code[0] not in _USCC_CATEGORIES:
        return Invalid(f"统一社会信用代码第1位（登记管理部门）不对，{again}")
    if code[1] not in _USCC_CATEGORIES[code[0]]:
        return Invalid(f"统一社会信用代码第2位（机构类别）不对，{again}")
    if not code[2:8].isdigit():
        return Invalid(f"统一社会信用代码第3到8位是行政区划代码，应该都是数字，{again}")
    if org_code_check_char(code[8:16]) != code[16]:
        return Invalid(f"统一社会信用代码第9到17位（组织机构代码）校验不对，可能有一位输错了，{again}")
    if uscc_check_char(code[:17]) != code[17]:
        return Invalid(f"统一社会信用代码最后一位校验不对，可能有一位输错了，{again}")
    return Valid(code, code)


# --- free text and choices ---------------------------------------------------------------------------------------
_TEXT_EXAMPLE = "“因工作调动，需要变更联系地址”"
_TEXT_DISPLAY = 40


def text(text: str, *, min_len: int = 1, max_len: int = 200) -> Result:
    """Free text, trimmed, ``min_len``–``max_len`` characters; the display is cut to 40 characters."""
    value = text.strip()
    length = len(value)
    if length < min_len:
        if length == 0:
            return Invalid(f"这一项还没有填写，请用一两句话说明，例如 {_TEXT_EXAMPLE}。")
        return Invalid(f"内容太短了，请至少写{min_len}个字（现在{length}个字），例如 {_TEXT_EXAMPLE}。")
    if length > max_len:
        return Invalid(f"内容太长了，最多{max_len}个字（现在{length}个字），请精简一下。")
    display = value if length <= _TEXT_DISPLAY else value[:_TEXT_DISPLAY] + "…"
    return Valid(value, display)


_NEGATIONS = ("不", "非", "没", "无")


def _negated(text: str, start: int) -> bool:
    """Whether a word at ``start`` follows a negation closely (不是本人, 没有代办)."""
    window = text[max(0, start - 3) : start]
    return any(word in window for word in _NEGATIONS)


def choice(text: str, options: Mapping[str, Sequence[str]]) -> Result:
    """The option whose synonyms the answer uses: {"self": ["本人", "自己"], "agent": ["代办", "帮别人", "替"]}.

    A negated synonym does not count (不是本人), a synonym inside a longer one of another option does not count
    (是 in 不是), and "1", "2" … pick by position. The value is the option key, the display its first synonym.
    """
    if not options:
        raise ValueError("choice() needs at least one option")
    labels = {key: (synonyms[0] if synonyms else key) for key, synonyms in options.items()}
    listing = "、".join(labels.values())
    answer = _TRAILING_PUNCTUATION.sub("", _fold(text)).lower()
    if re.fullmatch(r"[0-9]{1,3}", answer) and 1 <= int(answer) <= len(options):
        key = list(options)[int(answer) - 1]
        return Valid(key, labels[key])
    matches: list[tuple[int, int, str]] = []
    for key, synonyms in options.items():
        for synonym in synonyms:
            word = _fold(synonym).lower()
            start = answer.find(word) if word else -1
            while start >= 0:
                if not _negated(answer, start):
                    matches.append((start, start + len(word), key))
                start = answer.find(word, start + 1)
    kept = [
        (start, end, key)
        for start, end, key in matches
        if not any(s <= start and end <= e and e - s > end - start and k != key for s, e, k in matches)
    ]
    keys = list(dict.fromkeys(key for _, _, key in sorted(kept)))
    if len(keys) == 1:
        return Valid(keys[0], labels[keys[0]])
    if len(keys) > 1:
        return Invalid(f"您好像同时选了“{labels[keys[0]]}”和“{labels[keys[1]]}”，请只选一个：{listing}。")
    return Invalid(f"没听明白您的选择，请回答其中一个：{listing}。")
