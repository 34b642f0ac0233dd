"""Answering from law articles: quote the governing provisions, or refuse when none applies.

Citizens ask "老板不给交社保怎么办"; the article that answers shares few of their words, so the sentence-coverage
model (``bot.answerability``) — trained on reading-comprehension questions that reuse their passage's words —
refuses most such questions even when retrieval found the right article. When the retrieved chunks are statute
articles the decision is made here instead, by a second small logistic regression over features of the
*retrieval* (how close the question is to the top article in both the dense and the keyword ranking, how much of
it the article covers, whether the top chunks agree on one law), trained on the statute questions' training split
with out-of-scope questions (CMRC, RGB) as negatives (``python -m bot.answerability.provisions_train``; model
card: ``docs/answerability.md``). It estimates the probability that one of the articles quoted is one a lawyer
would cite; the threshold and the number of articles quoted were chosen on the validation split.

The answer names each article it quotes: ``根据《中华人民共和国民法典》第五十四条：…[1]`` then
``另见《…》第N条：…[2]``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.extractive import Ranking

MODEL_PATH = Path(__file__).with_name("provisions.json")

FEATURES = (
    "top_dense",       # cosine of the question to the first chunk (0 when only the keyword side found it)
    "max_dense",       # the best cosine among the retrieved chunks
    "dense_spread",    # best cosine minus the mean cosine of the retrieved chunks
    "top_both",        # the first chunk was found by both the dense and the keyword side
    "top_fused",       # its fused (reciprocal-rank) score, x 60
    "top_coverage",    # IDF-weighted share of the question's terms in the first chunk's best sentence
    "best_coverage",   # the same for the best sentence of any retrieved chunk
    "same_law",        # share of the retrieved chunks from the first chunk's document
    "terms",           # log(1 + number of question terms)
)



def features(r: Ranking) -> list[float]:
    """The feature vector of a question's retrieval (in ``FEATURES`` order)."""
    chunks = r.chunks
    dense = [float(c.metadata.get("dense_score") or 0.0) for c in chunks]
    top = chunks[0].metadata
    own = [c for c in r.cands if c.chunk_n == 1]
    doc = top.get("doc_id")
    return [
        dense[0],
        max(dense),
        max(dense) - sum(dense) / len(dense),
        float(top.get("dense_score") is not None and top.get("bm25_score") is not None),
        60.0 * float(top.get("score") or 0.0),
        max((c.coverage for c in own), default=0.0),
        r.best.coverage,
        sum(c.metadata.get("doc_id") == doc for c in chunks) / len(chunks),
        math.log1p(len(r.terms)),
    ]


@dataclass(frozen=True)
class ProvisionsModel:
    """Standardised logistic regression: ``p = σ(b + Σ wᵢ (xᵢ − μᵢ) / σᵢ)``."""

    weights: tuple[float, ...]
    bias: float
    means: tuple[float, ...]
    scales: tuple[float, ...]
    threshold: float
    articles: int  # how many distinct articles an answer quotes

    def probability(self, r: Ranking) -> float:
        x = features(r)
        z = self.bias + sum(w * (v - m) / s for w, v, m, s in zip(self.weights, x, self.means, self.scales, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


@lru_cache(maxsize=1)
def model(path: Path = MODEL_PATH) -> ProvisionsModel:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if tuple(doc["features"]) != FEATURES:
            raise ValueError(f"features {doc['features']} differ from the code's {list(FEATURES)}")
        return ProvisionsModel(tuple(doc["weights"]), float(doc["bias"]), tuple(doc["means"]), tuple(doc["scales"]),
                               float(doc["threshold"]), int(doc["articles"]))
    except (OSError, KeyError, ValueError) as err:
        raise ValueError(f"{path}: not a provisions model ({err}); rebuild it with "
                         "`python -m bot.answerability.provisions_train`") from err
