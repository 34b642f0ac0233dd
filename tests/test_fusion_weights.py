"""Fusion weights: the keyword ranking counts less for statute articles only (bot.retriever)."""

from __future__ import annotations

from bot.retriever import HybridRetriever, rrf


def test_rrf_weighs_single_entries():
    dense, keyword = ["a", "b"], ["b", "a", "c"]
    equal = rrf([dense, keyword])
    assert equal["a"] == equal["b"]
    # "b" leads the keyword ranking; halving the keyword side for "b" alone lets "a" win
    weighted = rrf([dense, keyword], weight_of=lambda n, i: 0.5 if n == 1 and i == "b" else 1.0)
    assert weighted["a"] > weighted["b"] and weighted["c"] == equal["c"]


def test_news_chunks_rank_the_same_whatever_the_article_weight(seed_engine):
    """The seed corpus has no articles, so its fused ranking must not move (real index, real embedder)."""
    for question in ("算力券每年发放总额是多少?", "成都人工智能产业规模", "首版次软件补贴"):
        base = HybridRetriever(index=seed_engine.index, k=10, article_keyword_weight=1.0).search(question)
        low = HybridRetriever(index=seed_engine.index, k=10, article_keyword_weight=0.2).search(question)
        assert [d.id for d in base] == [d.id for d in low]
