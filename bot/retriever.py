"""Hybrid retrieval: jieba BM25 + dense e5, fused by reciprocal rank fusion.

A LangChain ``BaseRetriever``, so it composes with any chain.  The dense side
lets an English question find Chinese passages; the keyword side finds exact
numbers, names and policy terms that embeddings blur.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from bot.index import Index
from bot.query_adapter import QueryAdapter
from bot.structure import is_article

RRF_K = 60
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="keyword-search")


def rrf(rankings: list[list[str]], *, k: int = RRF_K, weights: list[float] | None = None,
        weight_of: Callable[[int, str], float] | None = None) -> dict[str, float]:
    """Reciprocal rank fusion of several ranked id lists.

    ``weights`` weigh whole rankings; ``weight_of(ranking_index, id)`` further weighs single entries.
    """
    weights = weights or [1.0] * len(rankings)
    fused: dict[str, float] = {}
    for n, (ranking, weight) in enumerate(zip(rankings, weights, strict=True)):
        for rank, doc_id in enumerate(ranking):
            w = weight * (weight_of(n, doc_id) if weight_of else 1.0)
            fused[doc_id] = fused.get(doc_id, 0.0) + w / (k + rank + 1)
    return fused


def _is_article(chunks: dict[str, Document], chunk_id: str) -> bool:
    doc = chunks.get(chunk_id)
    return doc is not None and is_article(doc)


class HybridRetriever(BaseRetriever):
    """Top ``k`` chunks by RRF of BM25 and dense rankings.

    Each returned ``Document`` has ``metadata["score"]`` (fused),
    ``dense_score`` (cosine) and ``bm25_score`` where the chunk was found by that side.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Index
    k: int = 5
    fetch_k: int = 30
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    # Citizens ask about an article in words it does not use ("老板不给交社保"), so for
    # articles the keyword ranking deserves less weight than the dense one once the query
    # adapter has moved the question towards the articles' wording (statute validation
    # split: hit@5 0.647 at weight 1, 0.715 at 0.3; docs/query_adapter.md). News and
    # passages always keep equal weights.
    article_keyword_weight: float = 0.3
    # The learned map from citizens' questions towards articles' wording (bot/query_adapter.py); None: plain vectors.
    adapter: QueryAdapter | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return self.search(query, k=self.k)

    def search(self, query: str, *, k: int | None = None) -> list[Document]:
        """The fused top ``k`` for ``query``."""
        k = k or self.k
        fetch = max(self.fetch_k, k)
        plain: list[tuple[str, float]] = []
        moved: list[tuple[str, float]] = []
        sparse: list[tuple[str, float]] = []
        # The keyword side (jieba + BM25, Python) runs in another thread while
        # this one embeds the query and searches Chroma (C and Rust code that
        # releases the GIL), so a query costs the slower of the two, not both.
        keyword = _POOL.submit(self._keyword_search, query, fetch) if self.mode == "hybrid" else None
        if self.mode in ("hybrid", "dense"):
            vector = self.index.embeddings.embed_query_array(query)
            plain = self.index.dense_search(vector, fetch)
            if self.adapter is not None:
                moved = self.index.dense_search(self.adapter.adapt(vector), fetch)
        if keyword is not None:
            sparse = keyword.result()
        elif self.mode == "bm25":
            sparse = self._keyword_search(query, fetch)
        chunks: dict[str, Document] = {}
        typed = bool(moved) or (self.mode == "hybrid" and self.article_keyword_weight != 1.0 and bool(sparse))
        if typed:  # which candidates are law articles decides how they rank: read them all once
            chunks = self.index.get(sorted({i for hits in (plain, moved, sparse) for i, _ in hits}))
        dense = self._dense(plain, moved, chunks, fetch) if moved else plain
        rankings = [[i for i, _ in dense], [i for i, _ in sparse]]
        if typed and self.article_keyword_weight != 1.0 and sparse:
            fused = rrf(rankings, weights=[1.0, 1.0], weight_of=self._keyword_weight(chunks))
        else:
            fused = rrf(rankings)
        top = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        chunks = chunks or self.index.get(top)
        dense_s, sparse_s = dict(dense), dict(sparse)
        out = []
        for cid in top:
            doc = chunks.get(cid)
            if doc is None:
                continue
            doc.metadata.update(score=round(fused[cid], 6), dense_score=dense_s.get(cid), bm25_score=sparse_s.get(cid))
            out.append(doc)
        return out

    @staticmethod
    def _dense(plain: list[tuple[str, float]], moved: list[tuple[str, float]], chunks: dict[str, Document],
               k: int) -> list[tuple[str, float]]:
        """The dense ranking with the query adapter: law articles ranked by the adapted question (``moved``),
        every other chunk by the plain one (the map was learned for articles: news and passages rank as without
        it)."""
        hits = ([(i, s) for i, s in moved if _is_article(chunks, i)]
                + [(i, s) for i, s in plain if not _is_article(chunks, i)])
        return sorted(hits, key=lambda h: (-h[1], h[0]))[:k]

    def _keyword_weight(self, chunks: dict[str, Document]) -> Callable[[int, str], float]:
        """Per ranking and chunk: the keyword ranking (1) counts ``article_keyword_weight`` for articles."""
        def weight(ranking: int, chunk_id: str) -> float:
            return self.article_keyword_weight if ranking == 1 and _is_article(chunks, chunk_id) else 1.0

        return weight

    def _keyword_search(self, query: str, k: int) -> list[tuple[str, float]]:
        return self.index.keyword_search(self._keyword_query(query), k)

    def _keyword_query(self, query: str) -> str:
        """An English question also searches the Chinese words its terms translate to."""
        from bot.crosslingual import keyword_query, searched_in_english

        if not searched_in_english(query):
            return query

        self.index.ensure_bm25(wait=False)
        return keyword_query(query, known=lambda zh: self.index.bm25.idf(zh) > 0,
                             cache_dir=self.index.settings.data_dir, spelt=self.index.bm25.spelt)
