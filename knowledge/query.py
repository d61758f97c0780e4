"""Query normalisation for retrieval: what people type becomes what the knowledge base says.

Pure functions. Builds on :func:`assistant.text.normalize_message` (width, 繁→简, invisible characters) and adds what only
retrieval needs: colloquial and dialect words mapped to standard ones, filler phrases removed, and a check that a query
has any content at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text import normalize_message

#: Longest query searched; longer input is cut (stories before the question keep their last part, which holds it).
MAX_QUERY_CHARS = 500

# Colloquial / dialect wording → the word used in guides. Order matters: longer phrases first.
_REWRITES: tuple[tuple[str, str], ...] = (
    ("咋个", "怎么"),
    ("咋整", "怎么办"),
    ("咋办", "怎么办"),
    ("咋弄", "怎么办"),
    ("咋", "怎么"),
    ("啥子", "什么"),
    ("啥", "什么"),
    ("哪儿", "哪里"),
    ("哪旮旯", "哪里"),
    ("多少米", "多少钱"),
    ("弄丢", "丢失"),
    ("搞丢", "丢失"),
    ("丢了", "丢失"),
    ("掉了", "丢失"),
    ("整丢", "丢失"),
    ("俺", "我"),
    ("侬", "你"),
    ("伢", "孩子"),
    ("娃儿", "孩子"),
    ("娃", "孩子"),
    ("闺女", "女儿"),
    ("老伴儿", "配偶"),
    ("老伴", "配偶"),
    ("媳妇", "妻子"),
    ("老公", "丈夫"),
    ("老婆", "妻子"),
    ("岁数", "年龄"),
    ("退休金", "养老金"),
    ("身份证号码", "身份证号"),
)

_FILLERS = re.compile(
    r"(请问一下|请问|麻烦问一下|麻烦问下|麻烦你|麻烦|我想问一下|我想问问|想问一下|想问问|问一下|问下|打扰一下|打扰了|你好|您好|"
    r"谢谢你|谢谢|劳驾|同志|那个|就是说|就是|然后呢|嗯+|啊+|呃+|哎+|喂+)"
)
_PUNCT = re.compile(r"[\s\"'`~!@#$%^&*()_+=\[\]{}|\\;:,.<>/?！？。，、；：“”‘’（）【】《》〈〉…—·～\-]+")
_CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


@dataclass(frozen=True)
class Query:
    """A normalised query: ``text`` keeps punctuation for display, ``compact`` has none (for matching names)."""

    raw: str
    text: str  # normalised, colloquial words rewritten, fillers removed
    compact: str  # ``text`` without punctuation or spaces
    spoken: str = ""  # normalised but not rewritten: aliases are written the way people speak (社保卡丢了)

    @property
    def empty(self) -> bool:
        return not self.compact


def rewrite_colloquial(text: str) -> str:
    for spoken, standard in _REWRITES:
        text = text.replace(spoken, standard)
    return text


def normalize_query(raw: str) -> Query:
    """Normalise ``raw`` for retrieval; the result may be empty (nothing searchable: emoji, markup, punctuation)."""
    text = normalize_message(raw[-MAX_QUERY_CHARS * 2 :])
    text = re.sub(r"<[^>]{0,200}>", " ", text)  # markup fragments carry no question
    spoken = text[-MAX_QUERY_CHARS:]
    text = rewrite_colloquial(text)
    text = _FILLERS.sub(" ", text)
    text = text[-MAX_QUERY_CHARS:].strip()
    compact = _PUNCT.sub("", text)
    if not _CONTENT.search(compact):
        compact = ""
    return Query(raw=raw, text=text, compact=compact, spoken=spoken)
