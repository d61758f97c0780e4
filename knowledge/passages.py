"""Cutting the knowledge base into passages: one per section of a guide, one per FAQ, one per policy article.

Every passage knows the document it belongs to and the section, so a hit can be cited ("社会保障卡申领 · 申请材料").
Pure functions of the content model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from knowledge.corpus import Corpus
from knowledge.models import SECTIONS, Bundle, Material, Policy, ServiceItem


@dataclass(frozen=True)
class Citation:
    item_code: str
    item_name: str
    section: str
    source: str
    updated_at: str


@dataclass(frozen=True)
class Passage:
    """A searchable piece of a document."""

    pid: str  # unique: "<code>:<section>[:<n>]"
    doc_code: str
    doc_name: str
    kind: str  # item, bundle, policy, faq (imported)
    section: str  # a key of SECTIONS, or "article"/"interpretation" for policies
    heading: str  # the Chinese heading of the section, or the article number
    text: str

    @property
    def digest(self) -> str:
        """Content digest: an unchanged passage keeps its embedding across rebuilds."""
        return hashlib.sha256(f"{self.doc_name}\0{self.heading}\0{self.text}".encode()).hexdigest()[:32]


def describe_material(material: Material) -> str:
    parts = [f"{material.name}（{material.form}"]
    if material.copies > 1:
        parts.append(f"{material.copies}份")
    text = "，".join(parts) + "）"
    if material.exempt_by_sharing:
        text += "，可免提交"
    if material.note:
        text += f"：{material.note}"
    return text


def _guide_passages(doc: ServiceItem | Bundle) -> Iterator[tuple[str, str, str]]:
    """(section, heading, text) of a service item or a bundle."""
    aliases = "、".join(doc.aliases)
    general = f"{doc.name}。{('俗称：' + aliases + '。') if aliases else ''}{doc.summary} 实施主体：{doc.department}。"
    if isinstance(doc, Bundle):
        general += "包含：" + "、".join(m.name for m in doc.members) + "。"
    yield "general", SECTIONS["general"], general
    yield "conditions", SECTIONS["conditions"], "；".join(doc.conditions)
    situations = "；".join(f"{s.question}（{'/'.join(s.options)}）" for s in doc.situations)
    materials = "；".join(describe_material(m) for m in doc.materials)
    yield "materials", SECTIONS["materials"], materials + (f"。情形：{situations}" if situations else "")
    yield "process", SECTIONS["process"], "；".join(f"{i}. {s.name}：{s.detail}" for i, s in enumerate(doc.process, 1))
    limit = doc.time_limit
    legal = f"法定时限{limit.legal_days}个工作日；" if limit.legal_days is not None else ""
    promised = "即办（当场办结）" if limit.promised_days == 0 else f"承诺时限{limit.promised_days}个工作日"
    yield "time", SECTIONS["time"], f"{legal}{promised}。{limit.note}"
    yield "fee", SECTIONS["fee"], ("不收费。" if doc.fee.free else "收费。") + doc.fee.detail
    yield (
        "location",
        SECTIONS["location"],
        "；".join(
            f"{loc.name}，地址：{loc.address}，时间：{loc.hours}" + (f"，电话：{loc.phone}" if loc.phone else "")
            for loc in doc.locations
        ),
    )
    online = doc.online
    yield (
        "online",
        SECTIONS["online"],
        f"{online.level}。" + "、".join(online.entries) + (f"。{online.note}" if online.note else ""),
    )
    yield "basis", SECTIONS["basis"], "；".join(doc.basis)
    for faq in doc.faqs:
        yield "faq", SECTIONS["faq"], f"{faq.q} {faq.a}"


def _policy_passages(policy: Policy) -> Iterator[tuple[str, str, str]]:
    aliases = "、".join(policy.aliases)
    yield (
        "general",
        "政策概述",
        f"{policy.title}（{policy.doc_number}，{policy.issuer}，{policy.issued.isoformat()}发布）。"
        f"{('又称：' + aliases + '。') if aliases else ''}{policy.summary}",
    )
    for article in policy.articles:
        yield "article", article.number, article.text
    for faq in policy.interpretation:
        yield "interpretation", "政策解读", f"{faq.q} {faq.a}"


def build_passages(corpus: Corpus) -> list[Passage]:
    """All passages of ``corpus`` in a stable order."""
    passages: list[Passage] = []
    documents: list[tuple[str, str, str, Iterator[tuple[str, str, str]]]] = []
    for item in corpus.items:
        documents.append((item.code, item.name, "item", _guide_passages(item)))
    for bundle in corpus.bundles:
        documents.append((bundle.code, bundle.name, "bundle", _guide_passages(bundle)))
    for policy in corpus.policies:
        documents.append((policy.code, policy.title, "policy", _policy_passages(policy)))
    for faq in corpus.faqs:
        similar = "；".join(faq.similar)
        text = f"{faq.question}{('（' + similar + '）') if similar else ''} {faq.answer}"
        documents.append((faq.id, faq.name, "faq", iter([("faq", "常见问题", text)])))
    for code, name, kind, parts in documents:
        counts: dict[str, int] = {}
        for section, heading, text in parts:
            n = counts.get(section, 0)
            counts[section] = n + 1
            pid = f"{code}:{section}" + (f":{n}" if section in {"faq", "article", "interpretation"} else "")
            passages.append(Passage(pid, code, name, kind, section, heading, text))
    return passages
