"""Knowledge search and answers over HTTP, for the agent-assist console and integrations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from assistant.settings import Settings
from channels.deps import SettingsDep
from channels.errors import AssistantUnavailable, InvalidInput
from channels.schemas import Citation
from knowledge.answer import answer
from knowledge.index import IndexError_
from knowledge.models import SECTIONS
from knowledge.passages import Citation as KnowledgeCitation
from knowledge.search import Searcher
from knowledge.service import get_searcher

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"])

QueryText = Annotated[str, Query(description="要查询的问题", max_length=20000)]


class KnowledgeUnavailable(AssistantUnavailable):
    code = "knowledge_unavailable"
    default_message = "知识库暂时无法使用，请稍后再试，或拨打12345热线。"


class FullCitation(Citation):
    source: str = ""
    updated_at: str = ""


class Candidate(BaseModel):
    code: str
    name: str
    kind: str
    score: float


class SearchHit(BaseModel):
    text: str
    score: float
    citation: FullCitation


class SearchResponse(BaseModel):
    query: str
    aspects: list[str]
    confidence: float
    candidates: list[Candidate]
    hits: list[SearchHit]


class AnswerResponse(BaseModel):
    status: str
    text: str
    aspect: str
    lines: list[str]
    citations: list[FullCitation]
    confidence: float
    candidates: list[Candidate]


def cite(citation: KnowledgeCitation) -> FullCitation:
    return FullCitation(
        item_code=citation.item_code,
        item_name=citation.item_name,
        section=citation.section,
        source=citation.source,
        updated_at=citation.updated_at,
    )


async def searcher_of(settings: Settings) -> Searcher:
    """The process's searcher of the assistant's knowledge base; 503 in Chinese when its index cannot be loaded."""
    try:
        return await run_in_threadpool(get_searcher, settings, None, build=False)
    except IndexError_ as exc:
        raise KnowledgeUnavailable(context=str(exc)) from exc


def _check(q: str, limit: int) -> None:
    if len(q) > limit:
        raise InvalidInput(f"查询内容太长，请控制在{limit}字以内。")


@router.get("/search", response_model=SearchResponse, summary="检索知识库：候选事项与带出处的段落")
async def search(q: QueryText, settings: SettingsDep, k: Annotated[int, Query(ge=1, le=20)] = 5) -> SearchResponse:
    _check(q, settings.max_message_chars)
    searcher = await searcher_of(settings)
    result = await run_in_threadpool(searcher.search, q, k)
    if result.reason == "empty":
        raise InvalidInput("请输入要查询的问题（不能只有空格、符号或表情）。")
    return SearchResponse(
        query=result.text,
        aspects=list(result.aspects),
        confidence=result.confidence,
        candidates=[Candidate(code=c.code, name=c.name, kind=c.kind, score=c.score) for c in result.candidates],
        hits=[SearchHit(text=h.passage.text, score=h.score, citation=cite(h.citation)) for h in result.hits],
    )


@router.get("/answer", response_model=AnswerResponse, summary="按知识库回答问题（抽取式，带出处）")
async def answer_question(
    q: QueryText,
    settings: SettingsDep,
    item: Annotated[str | None, Query(description="已确定的事项编码或名称")] = None,
    aspect: Annotated[str | None, Query(description="要回答的方面: " + ", ".join(SECTIONS))] = None,
) -> AnswerResponse:
    _check(q, settings.max_message_chars)
    if aspect is not None and aspect not in SECTIONS:
        raise InvalidInput("aspect 只能是: " + ", ".join(SECTIONS))
    searcher = await searcher_of(settings)
    try:
        reply: Any = await run_in_threadpool(
            lambda: answer(searcher, q, item=item, aspect=aspect, threshold=settings.answer_threshold)
        )
    except KeyError as exc:
        raise InvalidInput(f"知识库中没有事项“{item}”。") from exc
    if reply.status == "empty":
        raise InvalidInput("请输入要查询的问题（不能只有空格、符号或表情）。")
    return AnswerResponse(
        status=reply.status,
        text=reply.text,
        aspect=reply.aspect,
        lines=list(reply.lines),
        citations=[cite(c) for c in reply.citations],
        confidence=reply.confidence,
        candidates=[Candidate(code=c.code, name=c.name, kind=c.kind, score=c.score) for c in reply.candidates],
    )
