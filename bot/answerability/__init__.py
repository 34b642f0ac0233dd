"""Does the best sentence answer the question?  A small trained model decides.

The extractive engine ranks sentences by how much of the question they cover;
whether the top one *answers* is a separate decision.  It is made by a
logistic regression over a dozen features of the ranking (coverage, the
weight of the question words the sentence lacks, the answer type, the margin
over the runner-up, …), trained offline on public Chinese QA data that has
nothing to do with the bundled article (``bot/answerability/train.py``; model
card: ``docs/answerability.md``).  Its weights ship as ``model.json``; the
threshold in that file was chosen on a validation split.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.text import normalize

if TYPE_CHECKING:
    from bot.extractive import Ranking

MODEL_PATH = Path(__file__).with_name("model.json")

FEATURES = (
    "coverage",            # IDF-weighted share of question terms in the sentence (context at part credit)
    "sentence_coverage",   # the same, counting the sentence alone
    "chunk_coverage",      # the same over the whole chunk
    "missing_share",       # weight share of the question terms found nowhere near the sentence
    "max_missing",         # the heaviest missing term's weight, relative to the heaviest term
    "terms",               # log(1 + number of question terms)
    "rank",                # 1 / position of the sentence's chunk in the retrieved list
    "margin",              # score of the best sentence minus the runner-up's
    "length",              # log(sentence length in characters)
    "wants_number",        # the question asks for an amount / count
    "wants_date",          # the question asks for a date
    "has_number",          # the sentence states a number the question did not
    "cross",               # an English question on Chinese text
    "unmet",               # constraints the question sets that the sentence does not meet
    "support",             # log(1 + other retrieved chunks that state the sentence's new numbers too)
    "asked_said",          # the thing asked for (补贴 in 有什么补贴) is named in the sentence: 1, not named: 0, none: .5
)


def features(r: Ranking, *, unmet: int = 0) -> list[float]:
    """The feature vector of a ranking's best sentence (in ``FEATURES`` order)."""
    from bot.extractive import _has_new_number, _term_match

    best = r.best
    terms = r.terms
    total = sum(t.weight for t in terms) or 1.0
    heaviest = max((t.weight for t in terms), default=1.0) or 1.0
    sent = normalize(best.text)
    chunk = normalize(r.chunks[best.chunk_n - 1].page_content) if r.chunks else sent
    sentence_cov = sum(t.weight * _term_match(t, sent) for t in terms) / total
    chunk_cov = sum(t.weight * _term_match(t, chunk) for t in terms) / total
    missing = [t for t in terms if t.text in best.missing]
    others = [c.score for c in r.cands if c is not best]
    margin = best.score - max(others) if others else 1.0
    return [
        best.coverage,
        sentence_cov,
        chunk_cov,
        sum(t.weight for t in missing) / total,
        max((t.weight for t in missing), default=0.0) / heaviest,
        math.log1p(len(terms)),
        1.0 / best.chunk_n,
        max(-1.0, min(1.0, margin)),
        math.log(max(len(best.text), 1)),
        float(r.wants_number),
        float(r.wants_date),
        float(_has_new_number(best.text, r.question)),
        float(r.cross),
        float(unmet),
        math.log1p(_support(r)),
        _asked_said(r, sent),
    ]


def _asked_said(r: Ranking, sent: str) -> float:
    from bot.extractive import _asked_for, _pos_cut, _term_match

    if r.cross:
        return 0.5
    by_text = {t.text: t for t in r.terms}
    asked = [by_text[w] for w in _asked_for(_pos_cut(normalize(r.question))) if w in by_text]
    if not asked:
        return 0.5
    return float(any(_term_match(t, sent) >= 0.85 for t in asked))


def _support(r: Ranking) -> int:
    """How many other retrieved chunks repeat a number the best sentence states (and the question does not)."""
    from bot.extractive import _NUM

    asked = set(_NUM.findall(normalize(r.question)))
    numbers = {n for n in _NUM.findall(normalize(r.best.text)) if n not in asked and len(n) >= 2}
    if not numbers:
        return 0
    return sum(1 for i, c in enumerate(r.chunks, 1)
               if i != r.best.chunk_n and any(n in normalize(c.page_content) for n in numbers))


@dataclass(frozen=True)
class Model:
    """Standardised logistic regression: p = σ(b + Σ wᵢ·(xᵢ − μᵢ)/σᵢ)."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    min_coverage: float = 0.0  # a floor under the model, for inputs unlike its training data (a one-sentence corpus)

    def probability(self, r: Ranking, *, unmet: int = 0) -> float:
        """Estimated probability that ``r.best`` answers the question."""
        return self.predict(features(r, unmet=unmet))

    def predict(self, x: list[float]) -> float:
        z = self.intercept + sum(w * (v - m) / s for w, v, m, s in zip(self.coef, x, self.mean, self.scale, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Model:
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path}: trained on features {data['features']}, the code computes {list(FEATURES)}; "
                             "retrain with python -m bot.answerability.train")
        return cls(names=tuple(data["features"]), mean=tuple(data["mean"]), scale=tuple(data["scale"]),
                   coef=tuple(data["coef"]), intercept=float(data["intercept"]), threshold=float(data["threshold"]),
                   min_coverage=float(data.get("min_coverage", 0.0)))


@lru_cache(maxsize=1)
def model() -> Model:
    """The shipped model (read once)."""
    return Model.load()
