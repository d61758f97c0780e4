"""Text prepared for speech: what a reply says when it is read aloud, in short sentences.

A chat reply is written for the eye: markdown, list markers, 【】 titles, source lines, URLs, and numbers that a voice
engine reads wrongly (espeak-ng reads digits in English; edge-tts reads 13800138000 as a quantity). ``for_speech``
rewrites a reply the way a hotline operator would say it:

- phone numbers digit by digit with 1 as 幺 (幺三八 …), ID, receipt and bank-card numbers digit by digit, in groups;
- amounts, counts, percentages, times and dates as quantities (三点五万元, 百分之二十, 九点到十二点, 二零二六年三月五日);
- markdown and list markers removed (numbered items become 第一，第二 …), brackets and symbols turned into pauses or words;
- the result split into short sentences (about ``MAX_CLAUSE`` characters where punctuation allows; a number is never cut).

Pure functions; never raises on any text and never leaves an ASCII digit in its output.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

MAX_CLAUSE = 30  # characters per spoken piece where the punctuation allows a cut

_DIGITS = "零一二三四五六七八九"
_PHONE_DIGITS = "零幺二三四五六七八九"  # hotline custom: 1 is 幺 so it cannot be heard as 七
_SMALL_UNITS = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))
_BIG_UNITS = ("", "万", "亿", "万亿")
# "2" before these reads 两 (两个工作日, 两年); elsewhere 二 (二号, 二月, 第二)
_LIANG_MEASURES = set("个人名位户家次件张份本项条天年周岁倍种类套台辆层间元块万千百亿")

Replacer = Callable[[re.Match[str]], str]


# --- numbers ---------------------------------------------------------------------------------------------------
def digits(text: str, phone: bool = False) -> str:
    """Read a digit string digit by digit (1 as 幺 when ``phone``); other characters stay."""
    names = _PHONE_DIGITS if phone else _DIGITS
    return "".join(names[int(c)] if "0" <= c <= "9" else c for c in text)


def _section(n: int) -> str:
    out, zero = "", False
    for value, unit in _SMALL_UNITS:
        d = n // value % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + unit
    return out


def integer(n: int) -> str:
    """A non-negative integer below 10^16 as a Chinese quantity: 1200 → 一千二百, 20 → 二十, 100010 → 十万零一十."""
    if n == 0:
        return "零"
    if n >= 10**16:
        return digits(str(n))
    sections = []
    while n:
        sections.append(n % 10000)
        n //= 10000
    out, gap = "", False
    for i in range(len(sections) - 1, -1, -1):
        sec = sections[i]
        if sec == 0:
            gap = bool(out)
            continue
        if out and (gap or sec < 1000):
            out += "零"
        out += _section(sec) + _BIG_UNITS[i]
        gap = False
    if out.startswith("一十"):
        out = out[1:]
    if len(out) > 1 and out[0] == "二" and out[1] in "千万亿":
        out = "两" + out[1:]
    return out


def quantity(number: str) -> str:
    """A decimal number written with ASCII digits ("3.5", "1200", "0.05") as a Chinese quantity."""
    whole, _, frac = number.partition(".")
    text = integer(int(whole or "0"))
    return text + ("点" + digits(frac) if frac else "")


def _year(text: str) -> str:
    return digits(text)


# --- patterns --------------------------------------------------------------------------------------------------
_URL = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\((?:[^)\n]*)\)")
_CODE_FENCE = re.compile(r"^\s*```.*$", re.M)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.M)
_QUOTE = re.compile(r"^\s*>+\s?", re.M)
_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$", re.M)
_BULLET = re.compile(r"^\s*(?:[-*+]\s+|[•·▪►◆◇○●■□]\s*)", re.M)
_NUMBERED = re.compile(r"^\s*(?:[(（]([0-9]{1,2})[)）]|([0-9]{1,2})(?:[.．](?![0-9])|[)）]|\s*、))\s*", re.M)
_INLINE_NUMBERED = re.compile(r"[(（]([0-9]{1,2})[)）]")
_CIRCLED = {chr(0x2460 + i): i + 1 for i in range(20)}  # ①..⑳
_EMPHASIS = re.compile(r"\*{1,3}|_{2,3}|`+|~~")
_SOURCE_LINE = re.compile(r"^\s*来源[:：].*$", re.M)

_THOUSANDS = re.compile(r"(?<![0-9.])([0-9]{1,3}(?:,[0-9]{3})+)(?![0-9])")
# 受理编号 such as SBK-20261121-000123 (same pattern as nlu/extract.py RECEIPT)
_RECEIPT = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2,4})-([0-9]{8})-([0-9]{6})(?![0-9])")
_ID = re.compile(r"(?<![0-9A-Za-z])([0-9]{6})([0-9]{8})([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
_CARD = re.compile(r"(?<![0-9])((?:[0-9]{4}[ \-]?){3}[0-9]{4}(?:[ \-]?[0-9]{1,3})?)(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9+])((?:\+|00)86[\s-]?)?(1[3-9][0-9])[\s-]?([0-9]{4})[\s-]?([0-9]{4})(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])(0[0-9]{2,3})[-－ ]([0-9]{7,8})(?:[-－转]([0-9]{1,5}))?(?![0-9])")
_PHONE_CONTEXT = re.compile(r"(拨打|致电|热线|电话|号码|咨询|联系)([:：]?\s*)([0-9]{3,12})(?![0-9.])")
_HOTLINE = re.compile(r"(?<![0-9.])(12[0-9]{3}|9[56][0-9]{3}|1[12][0-9])(?=\s*(?:服务|政务|便民)?(?:热线|专线|电话))")
_GOV_HOTLINE = re.compile(r"(?<![0-9.])12345(?![0-9.])")
_FULL_DATE = re.compile(
    r"(?<![0-9])([0-9]{4})\s*[年\-/.]\s*([0-9]{1,2})\s*[月\-/.]\s*([0-9]{1,2})(?![0-9])\s*([日号])?"
)
_YEAR_MONTH = re.compile(r"(?<![0-9])([0-9]{4})\s*年\s*([0-9]{1,2})\s*月")
_DOC_YEAR = re.compile(r"[〔\[［(（]([0-9]{4})[〕\]］)）]")
_YEAR = re.compile(r"(?<![0-9])([0-9]{4})(?=\s*年)")
_TIME = re.compile(r"(?<![0-9.])([01]?[0-9]|2[0-4])[:：]([0-5][0-9])(?![0-9])")
_RANGE = re.compile(r"(?<=[0-9点分])\s*(?:[-~～—–－]+|至)\s*(?=[0-9])")
_PERCENT = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([%％‰])")
_FRACTION = re.compile(r"(?<![0-9.])([0-9]{1,4})/([1-9][0-9]{0,3})(?![0-9./])")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")

_WORDS = (
    ("℃", "摄氏度"),
    ("㎡", "平方米"),
    ("m²", "平方米"),
    ("㎏", "千克"),
    ("kg", "千克"),
    ("km", "公里"),
    ("×", "乘"),
    ("÷", "除以"),
    ("&", "和"),
    ("≥", "大于等于"),
    ("≤", "小于等于"),
    ("＞", "大于"),
    ("＜", "小于"),
    ("→", "，"),
    ("……", "，"),
    ("…", "，"),
    ("——", "，"),
)

_PAUSE = re.compile(r"[【】〔〕\[\]［］()（）{}｛｝|｜<>〈〉「」『』]")
_SILENT = re.compile(r"[\"'`*#^_=\\~～@$]")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|\n+")
_CLAUSE_END = re.compile(r"(?<=[，,、：:])")
_SPACES = re.compile(r"[^\S\n]+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" +(?=[，。；：、！？])|(?<=[，。；：、！？]) +")
_REPEATED = re.compile(r"([，。；：、！？])[\s，。；：、！？]*")
_SPEAKABLE = re.compile(r"[\w\u4e00-\u9fff]")


def _ascii_digits(text: str) -> str:
    """Any Unicode decimal digit (１, ٣ …) as its ASCII digit, so that the patterns below see it."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in text)


def _drop_symbols(text: str) -> str:
    """Remove emoji and pictographs (Unicode So/Sk/Co/Cs/Cn and modifiers) and invisible format characters."""
    out = []
    for c in text:
        category = unicodedata.category(c)
        if category in ("So", "Sk", "Co", "Cs", "Cn", "Cf", "Mn", "Me") or (category == "Cc" and c not in "\n\t"):
            continue
        out.append(c)
    return "".join(out)


def _sub(pattern: re.Pattern[str], repl: Replacer, text: str) -> str:
    return pattern.sub(repl, text)


def _receipt(m: re.Match[str]) -> str:
    letters = " ".join(m.group(1).upper())
    return f" {letters} {digits(m.group(2))} {digits(m.group(3))} "


def _id_number(m: re.Match[str]) -> str:
    return f" {digits(m.group(1))} {digits(m.group(2))} {digits(m.group(3)).upper()} "


def _card(m: re.Match[str]) -> str:
    plain = re.sub(r"[ \-]", "", m.group(1))
    groups = [plain[i : i + 4] for i in range(0, len(plain), 4)]
    return " " + " ".join(digits(g) for g in groups) + " "


def _mobile(m: re.Match[str]) -> str:
    prefix = "加八六 " if m.group(1) else ""
    return f" {prefix}{digits(m.group(2), True)} {digits(m.group(3), True)} {digits(m.group(4), True)} "


def _landline(m: re.Match[str]) -> str:
    out = f" {digits(m.group(1), True)} {digits(m.group(2), True)}"
    if m.group(3):
        out += f" 转 {digits(m.group(3), True)}"
    return out + " "


def _phone_context(m: re.Match[str]) -> str:
    return f"{m.group(1)}{m.group(2)}{digits(m.group(3), True)}"


def _full_date(m: re.Match[str]) -> str:
    year, month, day = m.group(1), int(m.group(2)), int(m.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group()
    return f"{_year(year)}年{integer(month)}月{integer(day)}{m.group(4) or '日'}"


def _year_month(m: re.Match[str]) -> str:
    month = int(m.group(2))
    if not 1 <= month <= 12:
        return m.group()
    return f"{_year(m.group(1))}年{integer(month)}月"


def _time(m: re.Match[str]) -> str:
    hour, minute = int(m.group(1)), int(m.group(2))
    if minute == 0:
        return f"{integer(hour)}点"
    return f"{integer(hour)}点{'零' if minute < 10 else ''}{integer(minute)}分"


def _percent(m: re.Match[str]) -> str:
    head = "千分之" if m.group(2) == "‰" else "百分之"
    return head + quantity(m.group(1))


def _number(m: re.Match[str]) -> str:
    number = m.group()
    whole = number.partition(".")[0]
    following = m.string[m.end() : m.end() + 1]
    preceding = m.string[max(0, m.start() - 1) : m.start()]
    if len(whole) > 1 and whole.startswith("0") and "." not in number:
        return digits(number)  # a code: 001, 0571
    if len(whole) > 16 or (len(whole) > 8 and following not in ("元", "万", "亿")):
        return digits(number)  # too long to be a quantity someone would say
    if number == "2" and following in _LIANG_MEASURES and preceding != "第":
        return "两"
    return quantity(number)


def _numbered(m: re.Match[str]) -> str:
    n = int(m.group(1) or m.group(2))
    return f"第{integer(n)}，"


def normalize(text: str, *, sources: bool = True) -> str:
    """The whole reply rewritten for the ear, as one string (see the module docstring).

    Args:
        text: a reply as shown in the chat (may contain markdown, a source line, URLs, numbers of any kind).
        sources: keep "来源：…" lines (as words); the phone leaves them out.
    """
    text = _ascii_digits(unicodedata.normalize("NFC", text)).replace("\r\n", "\n").replace("\r", "\n")
    for circled, n in _CIRCLED.items():
        text = text.replace(circled, f"第{integer(n)}，")
    for symbol, word in _WORDS:
        text = text.replace(symbol, word)
    text = _drop_symbols(text)
    # markdown and layout
    text = _MD_LINK.sub(r"\1", text)
    text = _URL.sub("网站", text)
    text = _CODE_FENCE.sub("", text)
    text = _RULE.sub("", text)
    text = _HEADING.sub("", text)
    text = _QUOTE.sub("", text)
    if sources:
        text = _SOURCE_LINE.sub(lambda m: m.group().replace("·", "，").replace("；", "。"), text)
    else:
        text = _SOURCE_LINE.sub("", text)
    text = _NUMBERED.sub(_numbered, text)
    text = _INLINE_NUMBERED.sub(_numbered, text)
    text = _BULLET.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = text.replace("·", " ")
    # numbers read digit by digit first (they contain what looks like dates and amounts), then quantities
    text = _THOUSANDS.sub(lambda m: m.group().replace(",", ""), text)
    text = _RECEIPT.sub(_receipt, text)
    text = _ID.sub(_id_number, text)
    text = _MOBILE.sub(_mobile, text)
    text = _CARD.sub(_card, text)
    text = _LANDLINE.sub(_landline, text)
    text = _PHONE_CONTEXT.sub(_phone_context, text)
    text = _HOTLINE.sub(lambda m: digits(m.group(), True), text)
    text = _GOV_HOTLINE.sub(lambda m: digits(m.group(), True), text)
    text = _FULL_DATE.sub(_full_date, text)
    text = _YEAR_MONTH.sub(_year_month, text)
    text = _DOC_YEAR.sub(lambda m: _year(m.group(1)) + "年", text)
    text = _YEAR.sub(lambda m: _year(m.group(1)), text)
    text = _RANGE.sub("到", text)
    text = _TIME.sub(_time, text)
    text = _RANGE.sub("到", text)
    text = _PERCENT.sub(_percent, text)
    text = _FRACTION.sub(lambda m: f"{quantity(m.group(2))}分之{quantity(m.group(1))}", text)
    text = text.replace("+", "加").replace("/", "每").replace("%", "").replace("％", "")
    text = _NUMBER.sub(_number, text)
    # what is left of the punctuation: brackets become pauses, decoration goes
    text = _PAUSE.sub("，", text)
    text = _SILENT.sub("", text)
    text = text.replace(",", "，").replace(";", "；").replace("!", "！").replace("?", "？").replace(":", "：")
    text = _SPACE_BEFORE_PUNCTUATION.sub("", _SPACES.sub(" ", text))
    lines = [line.strip(" ，、：") for line in text.split("\n")]
    return "\n".join(_REPEATED.sub(r"\1", line) for line in lines if line)


def _pack(clauses: list[str], limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for clause in clauses:
        if current and len(current) + len(clause) > limit:
            pieces.append(current)
            current = clause
        else:
            current += clause
    if current:
        pieces.append(current)
    return pieces


def split_sentences(text: str, limit: int = MAX_CLAUSE) -> list[str]:
    """Cut normalized text into sentences, and sentences longer than ``limit`` at their commas (never inside a word)."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip(" ，、：")
        if not _SPEAKABLE.search(sentence):
            continue
        if len(sentence) <= limit:
            pieces.append(sentence)
            continue
        clauses = [c for c in _CLAUSE_END.split(sentence) if c.strip()]
        pieces.extend(p.strip() for p in _pack(clauses, limit))
    return [p for p in pieces if _SPEAKABLE.search(p)]


def _prepare(text: str, sources: bool, limit: int) -> list[str]:
    # a piece cut after a colon or comma would keep it dangling (and lose it when spoken text is prepared again)
    pieces = (piece.strip(" ，、：") for piece in split_sentences(normalize(text, sources=sources), limit))
    return [piece for piece in pieces if piece]


def for_speech(text: str, *, sources: bool = True, limit: int = MAX_CLAUSE) -> list[str]:
    """Short sentences, ready to speak one after another; empty when nothing in ``text`` can be said.

    Preparing the result again changes nothing (the phone prepares sentences and the synthesizer prepares them again): a
    rule can uncover work for another (",- 0": the comma goes, then "- " is a list marker), so the preparation is repeated
    until it is stable (twice at most in practice).
    """
    pieces = _prepare(text, sources, limit)
    for _ in range(3):
        again = _prepare("\n".join(pieces), sources, limit)
        if again == pieces:
            break
        pieces = again
    return pieces
