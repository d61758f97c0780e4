"""Rule-based entity extraction for Chinese government-service messages (pure functions, no Rasa imports).

Runs inside the Rasa environment (Python 3.10): standard library plus the light, pure modules it shares with the knowledge base
(``knowledge.aspects``, ``knowledge.names``). Each extractor returns ``Entity`` spans with the normalised value:

- ``id_number``: 18-character 居民身份证号码 with a valid birth date and GB 11643-1999 check digit;
- ``phone``: mainland mobile numbers;
- ``receipt_no``: 受理编号 such as SBK-20261121-000123;
- ``date``: 2026年5月1日, 2026-05-01, 5月1日, 今天/明天/后天, 下周一, 本周五, 下个月, 明年三月 → ISO date (or YYYY-MM);
- ``amount``: 3500元, 三千五, 两千块, 3.5万 → a number as text;
- ``district``: the districts of 示例市;
- ``aspect``: which part of a guide is asked about;
- ``service_item``: item names and aliases, homophones matched by pinyin (code as value).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from knowledge.aspects import main_aspect_span
from knowledge.names import NameMatcher


@dataclass(frozen=True)
class Entity:
    entity: str
    value: str
    start: int
    end: int

    def as_dict(self, extractor: str) -> dict[str, object]:
        return {
            "entity": self.entity,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "confidence_entity": 1.0,
            "extractor": extractor,
        }


# --- 身份证号 ---------------------------------------------------------------------------------------------------
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def valid_id_number(number: str, today: dt.date | None = None) -> bool:
    """Whether ``number`` is a well-formed 18-character ID number: a real birth date not in the future, right check digit."""
    if not re.fullmatch(r"\d{17}[\dXx]", number):
        return False
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if born > (today or dt.date.today()) or born.year < 1900:
        return False
    return id_check_digit(number[:17]) == number[17].upper()


# --- numbers in Chinese -------------------------------------------------------------------------------------------
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_CN_NUMBER = "零〇一二两俩三四五六七八九十百千万"


#: Longest Chinese numeral read as a number: longer runs are not amounts or dates anyone says (and would cost time).
MAX_NUMERAL = 12


def chinese_number(text: str) -> float | None:
    """Value of a Chinese numeral: 一百零五 (105), 二〇二六 (2026), and the spoken short forms 三千五 (3500), 两万三 (23000).

    None for text that is not a numeral, is longer than MAX_NUMERAL, or is a unit alone (万).
    """
    if not text or len(text) > MAX_NUMERAL or any(ch not in _CN_NUMBER for ch in text):
        return None
    if all(ch in _DIGITS for ch in text):  # digit by digit: 二〇二六
        return float(int("".join(str(_DIGITS[ch]) for ch in text)))
    if (text[0] in _UNITS and text[0] != "十") or "万万" in text:
        return None
    total = section = 0.0
    digit: float | None = None
    last_unit = 1
    zero_seen = False  # 一百零五: after 零 a trailing digit is itself, not one step smaller
    for ch in text:
        if ch in _DIGITS:
            zero_seen = zero_seen or _DIGITS[ch] == 0
            digit = _DIGITS[ch]
        else:
            unit = _UNITS[ch]
            if unit == 10000:
                total = (total + section + (digit or 0)) * unit
                section, digit = 0.0, None
            else:
                section += (digit if digit is not None else 1) * unit
                digit = None
            last_unit = unit
            zero_seen = False
    if digit is not None:
        # a trailing digit right after a unit is one step smaller: 三千五 = 3500, 两万三 = 23000
        section += digit if zero_seen else digit * (last_unit // 10 if last_unit >= 10 else 1)
    return total + section


# --- amounts ---------------------------------------------------------------------------------------------------
_AMOUNT = re.compile(
    rf"(?P<num>\d+(?:\.\d+)?|[{_CN_NUMBER}]{{1,{MAX_NUMERAL}}})\s*(?:(?P<wan>万)\s*(?P<unit>元|块钱|块|圆)?|(?P<unit2>元|块钱|块|圆))"
    rf"|(?P<spoken>[{_CN_NUMBER}]{{0,{MAX_NUMERAL}}}[十百千万][{_CN_NUMBER}]{{0,{MAX_NUMERAL}}})"
)


_COUNTED = set("人个户家名次件条项岁年天月平米亩台辆套步字")


def _number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.2f}".rstrip("0").rstrip(".")


def find_amounts(text: str) -> list[Entity]:
    found = []
    for match in _AMOUNT.finditer(text):
        if match.group("num"):
            raw = match.group("num")
            value = float(raw) if raw[0].isdigit() else chinese_number(raw)
            if value is None:
                continue
            if match.group("wan"):
                value *= 10000
                # "3万" without 元 is money only when no counted thing follows: not 3万人, 2万平方米
                if not match.group("unit") and text[match.end() : match.end() + 1] in _COUNTED:
                    continue
        else:
            spoken = match.group("spoken")
            value = chinese_number(spoken)
            # a bare Chinese number is an amount only when it is big enough to be money (not 十 in 十月)
            if value is None or value < 100 or "月" in text[match.end() : match.end() + 1]:
                continue
        found.append(Entity("amount", _number_text(value), match.start(), match.end()))
    return found


# --- dates ----------------------------------------------------------------------------------------------------
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_NUM = rf"\d{{1,4}}|[{_CN_NUMBER}]{{1,4}}"
_FULL_DATE = re.compile(rf"(?P<y>\d{{4}})\s*[年\-/.]\s*(?P<m>{_NUM})\s*[月\-/.]\s*(?P<d>{_NUM})\s*[日号]?")
_MONTH_DAY = re.compile(rf"(?P<which>今年|明年|去年|后年)?\s*(?P<m>{_NUM})\s*月\s*(?P<d>{_NUM})\s*[日号]")
_YEAR_SHIFT = {"去年": -1, "今年": 0, "明年": 1, "后年": 2}
_RELATIVE_DAY = re.compile(r"大后天|后天|明天|今天|昨天|前天")
_WEEK = re.compile(r"(?P<which>下下|下个|下|这个|这|本|上个|上)?(?:周|星期|礼拜)(?P<day>[一二三四五六日天])")
_YEAR_MONTH = re.compile(rf"(?P<which>今年|明年|去年|后年)\s*(?P<m>{_NUM})\s*月(?!\s*(?:{_NUM})\s*[日号])")
_NEXT_MONTH = re.compile(r"下个月|下月|这个月|本月|上个月")


def _int(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    value = chinese_number(text)
    return int(value) if value is not None else None


def _safe_date(year: int, month: int | None, day: int | None) -> dt.date | None:
    if month is None or day is None:
        return None
    try:
        return dt.date(year, month, day)
    except (ValueError, OverflowError):
        return None


def _shift_month(date: dt.date, months: int) -> dt.date:
    index = date.year * 12 + date.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def find_dates(text: str, today: dt.date) -> list[Entity]:
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []

    def add(value: str, start: int, end: int) -> None:
        if not any(s < end and start < e for s, e in taken):
            taken.append((start, end))
            found.append(Entity("date", value, start, end))

    for match in _FULL_DATE.finditer(text):
        date = _safe_date(int(match.group("y")), _int(match.group("m")), _int(match.group("d")))
        if date:
            add(date.isoformat(), match.start(), match.end())
    for match in _MONTH_DAY.finditer(text):
        year = today.year + _YEAR_SHIFT.get(match.group("which") or "今年", 0)
        date = _safe_date(year, _int(match.group("m")), _int(match.group("d")))
        if date:
            add(date.isoformat(), match.start(), match.end())
    offsets = {"前天": -2, "昨天": -1, "今天": 0, "明天": 1, "后天": 2, "大后天": 3}
    for match in _RELATIVE_DAY.finditer(text):
        add((today + dt.timedelta(days=offsets[match.group()])).isoformat(), match.start(), match.end())
    for match in _WEEK.finditer(text):
        which = match.group("which") or ""
        weeks = {"下下": 2, "下个": 1, "下": 1, "上个": -1, "上": -1}.get(which, 0)
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=weeks)
        add((monday + dt.timedelta(days=_WEEKDAYS[match.group("day")])).isoformat(), match.start(), match.end())
    for match in _YEAR_MONTH.finditer(text):
        year = today.year + _YEAR_SHIFT[match.group("which")]
        number = _int(match.group("m"))
        if number and 1 <= number <= 12:
            add(f"{year:04d}-{number:02d}", match.start(), match.end())
    for match in _NEXT_MONTH.finditer(text):
        shift = {"下个月": 1, "下月": 1, "这个月": 0, "本月": 0, "上个月": -1}[match.group()]
        month = _shift_month(today, shift)
        add(f"{month.year:04d}-{month.month:02d}", match.start(), match.end())
    return sorted(found, key=lambda e: e.start)


# --- everything ------------------------------------------------------------------------------------------------
# a mobile number, written plain, with spaces or dashes in its 3-4-4 groups, or with +86 / 0086 in front
_PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?![\d])")
#: 受理编号 such as SBK-20261121-000123 (the gateway's vault and the progress check use the same pattern)
RECEIPT = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2,4})-(\d{8})-(\d{6})(?!\d)")
_DISTRICT = re.compile(r"东城区|西城区|新区|东城|西城")
_DISTRICT_NAMES = {"东城": "东城区", "西城": "西城区"}


def extract(text: str, matcher: NameMatcher | None = None, today: dt.date | None = None) -> list[Entity]:
    """All entities in ``text``, in order of position."""
    today = today or dt.date.today()
    entities: list[Entity] = []
    numbers: list[tuple[int, int]] = []
    for match in _ID.finditer(text):
        if valid_id_number(match.group(1), today):
            entities.append(Entity("id_number", match.group(1).upper(), match.start(), match.end()))
            numbers.append(match.span())
    for match in _PHONE.finditer(text):
        if not any(s <= match.start() < e for s, e in numbers):
            entities.append(Entity("phone", "".join(match.groups()), match.start(), match.end()))
            numbers.append(match.span())
    for match in RECEIPT.finditer(text):
        entities.append(Entity("receipt_no", match.group().upper(), match.start(), match.end()))
        numbers.append(match.span())
    free = [e for e in find_dates(text, today) + find_amounts(text) if not any(s <= e.start < f for s, f in numbers)]
    entities.extend(free)
    for match in _DISTRICT.finditer(text):
        entities.append(Entity("district", _DISTRICT_NAMES.get(match.group(), match.group()), match.start(), match.end()))
    aspect = main_aspect_span(text)
    if aspect is not None:
        entities.append(Entity("aspect", *aspect))
    if matcher is not None:
        compact_positions = [i for i, ch in enumerate(text) if re.match(r"[\u4e00-\u9fffA-Za-z0-9]", ch)]
        compact = "".join(text[i] for i in compact_positions)
        for found in matcher.find(compact)[:1]:  # the strongest mention; the rest are for the search to weigh
            start = compact.find(found.found)
            if start >= 0:
                begin = compact_positions[start]
                end = compact_positions[start + len(found.found) - 1] + 1
                entities.append(Entity("service_item", found.code, begin, end))
    return _without_overlaps(entities)


def _without_overlaps(entities: list[Entity]) -> list[Entity]:
    """Drop an entity whose span overlaps one found earlier (the list is in priority order), then sort by position."""
    kept: list[Entity] = []
    for entity in entities:
        if not any(entity.start < other.end and other.start < entity.end for other in kept):
            kept.append(entity)
    return sorted(kept, key=lambda e: (e.start, e.entity))
