"""Typed content model of the knowledge base: service items (事项), 一件事 bundles and policies.

The fields follow the national 政务服务事项 implementation lists. Unknown keys are rejected so that a misspelt field in a
corpus file is reported instead of silently ignored. Models are immutable once loaded.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Sections of a service item, in the order a guide presents them, with their Chinese headings.
SECTIONS: dict[str, str] = {
    "general": "事项概述",
    "conditions": "受理条件",
    "materials": "申请材料",
    "process": "办理流程",
    "time": "办理时限",
    "fee": "收费标准",
    "location": "办理地点和时间",
    "online": "网上办理",
    "basis": "设定依据",
    "faq": "常见问题",
}

MaterialForm = Literal["原件", "复印件", "原件和复印件", "原件或电子证照", "电子版", "填写"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Situation(_Strict):
    """A question whose answer changes the materials or the process (情形), e.g. 本人办理还是代办."""

    key: str = Field(..., pattern=r"^[a-z][a-z0-9_]*$", description="identifier used by materials' `when`")
    question: str = Field(..., min_length=4)
    options: list[str] = Field(..., min_length=2)


class Material(_Strict):
    """One entry of 申请材料."""

    name: str = Field(..., min_length=2)
    form: MaterialForm = "原件"
    copies: int = Field(1, ge=0, le=20, description="份数")
    required: bool = Field(True, description="False: needed only in the situations named in `when`")
    when: dict[str, list[str]] = Field(
        default_factory=dict, description="situation key → the options in which this material is needed"
    )
    exempt_by_sharing: bool = Field(False, description="可免提交: obtainable by the department through data sharing")
    note: str = ""

    @model_validator(mode="after")
    def _conditional_needs_when(self) -> Material:
        if not self.required and not self.when:
            raise ValueError(f"material {self.name!r}: required=false needs `when` (the 情形 that triggers it)")
        return self


class Step(_Strict):
    name: str = Field(..., min_length=2)
    detail: str = Field(..., min_length=4)


class FAQ(_Strict):
    q: str = Field(..., min_length=4)
    a: str = Field(..., min_length=4)


class Location(_Strict):
    name: str
    address: str
    hours: str
    phone: str = ""
    note: str = ""


class Online(_Strict):
    level: Literal["全程网办", "部分网办", "不可网办"]
    entries: list[str] = Field(default_factory=list, description="e.g. 示例市政务服务网、“示例办”App")
    url: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _entries_when_online(self) -> Online:
        if self.level != "不可网办" and not self.entries:
            raise ValueError("online.entries must name at least one entry when the item can be done online")
        return self


class TimeLimit(_Strict):
    legal_days: int | None = Field(None, ge=0, description="法定时限（工作日）; null: none set by law")
    promised_days: int = Field(..., ge=0, description="承诺时限（工作日）; 0 means 即办")
    note: str = ""


class Fee(_Strict):
    free: bool
    detail: str = Field(..., min_length=2)


class ServiceItem(_Strict):
    """A 政务服务事项 with every standard field of its 办事指南."""

    kind: Literal["item"] = "item"
    code: str = Field(..., pattern=r"^[PE]\d{2}$", description="catalog number, e.g. P01")
    item_code: str = Field(..., min_length=6, description="事项编码")
    name: str = Field(..., min_length=2, description="事项名称")
    department: str = Field(..., description="实施主体")
    category: Literal["个人", "法人"]
    theme: str
    aliases: list[str] = Field(default_factory=list, description="俗称 people really use")
    summary: str = Field(..., min_length=10)
    conditions: list[str] = Field(..., min_length=1)
    situations: list[Situation] = Field(default_factory=list)
    materials: list[Material] = Field(..., min_length=1)
    process: list[Step] = Field(..., min_length=1)
    time_limit: TimeLimit
    fee: Fee
    locations: list[Location] = Field(..., min_length=1)
    online: Online
    basis: list[str] = Field(..., min_length=1, description="设定依据")
    faqs: list[FAQ] = Field(..., min_length=8)
    updated_at: dt.date
    source: str

    @field_validator("aliases")
    @classmethod
    def _no_duplicate_aliases(cls, aliases: list[str]) -> list[str]:
        if len(set(aliases)) != len(aliases):
            raise ValueError("aliases contain duplicates")
        return aliases

    @model_validator(mode="after")
    def _materials_match_situations(self) -> ServiceItem:
        options = {s.key: set(s.options) for s in self.situations}
        for material in self.materials:
            for key, values in material.when.items():
                if key not in options:
                    raise ValueError(f"material {material.name!r}: `when` names unknown situation {key!r}")
                unknown = set(values) - options[key]
                if unknown:
                    raise ValueError(f"material {material.name!r}: {sorted(unknown)} are not options of {key!r}")
        return self


class BundleMember(_Strict):
    """A part of a 一件事: a catalog item (by code) or a service outside the catalog (by name)."""

    code: str | None = Field(None, pattern=r"^[PE]\d{2}$")
    name: str
    note: str = ""


class Bundle(_Strict):
    """A 一件事 bundle: several items applied for together with one joint checklist."""

    kind: Literal["bundle"] = "bundle"
    code: str = Field(..., pattern=r"^B\d{2}$")
    name: str
    department: str
    aliases: list[str] = Field(default_factory=list)
    summary: str = Field(..., min_length=10)
    members: list[BundleMember] = Field(..., min_length=2)
    conditions: list[str] = Field(..., min_length=1)
    situations: list[Situation] = Field(default_factory=list)
    materials: list[Material] = Field(..., min_length=1, description="the joint checklist")
    process: list[Step] = Field(..., min_length=1)
    time_limit: TimeLimit
    fee: Fee
    locations: list[Location] = Field(..., min_length=1)
    online: Online
    basis: list[str] = Field(..., min_length=1)
    faqs: list[FAQ] = Field(..., min_length=4)
    updated_at: dt.date
    source: str


class Article(_Strict):
    number: str = Field(..., pattern=r"^第[一二三四五六七八九十百零]+条$")
    text: str = Field(..., min_length=8)


class Policy(_Strict):
    """A policy document with its articles and 政策解读 Q&A."""

    kind: Literal["policy"] = "policy"
    code: str = Field(..., pattern=r"^POL\d{2}$")
    title: str
    doc_number: str = Field(..., description="文号")
    issuer: str = Field(..., description="发布机关")
    issued: dt.date
    effective: dt.date
    aliases: list[str] = Field(default_factory=list)
    summary: str = Field(..., min_length=10)
    related_items: list[str] = Field(default_factory=list, description="catalog codes of the items it governs")
    articles: list[Article] = Field(..., min_length=3)
    interpretation: list[FAQ] = Field(..., min_length=3, description="政策解读")
    updated_at: dt.date
    source: str

    @property
    def name(self) -> str:
        """Every document has a name; a policy's is its title."""
        return self.title


class FaqEntry(_Strict):
    """One row of an imported knowledge sheet (hotline 知识库): a question and its official answer."""

    kind: Literal["faq"] = "faq"
    id: str = Field(..., min_length=1, max_length=64, pattern=r"^[^\s/\\]+$")
    question: str = Field(..., min_length=2, max_length=500)
    answer: str = Field(..., min_length=2, max_length=5000)
    title: str = Field("", max_length=200)
    department: str = Field("", max_length=100)
    similar: list[str] = Field(default_factory=list, description="other wordings of the question")
    source: str = Field("", description="the sheet it was imported from")

    @property
    def code(self) -> str:
        return self.id

    @property
    def name(self) -> str:
        return self.title or self.question
