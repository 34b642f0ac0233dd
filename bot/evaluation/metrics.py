"""Result types of an evaluation run and the metrics computed from them.

Every metric is a plain share or percentile over graded cases, so the same
answers always give the same numbers; a metric with no case it applies to is
``None`` (``null`` in JSON), never a misleading 0 or 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, Field, SerializeAsAny

# Checks that decide whether a case passed; "retrieval" is diagnostic only.
GRADED = ("answer", "evidence", "refusal", "citations")
LOWER_IS_BETTER = frozenset({"false_refusal_rate", "answer_chars_p50", "latency_ms_p50", "latency_ms_p95"})


class Check(BaseModel):
    """One verdict on one case, with the reason a person needs to fix it."""

    passed: bool
    detail: str = ""


class RetrievalCheck(Check):
    """Whether the gold was retrieved, and at which rank (None = not in the top k)."""

    rank: int | None = Field(default=None, description="1-based rank of the first retrieved chunk holding the gold.")


class CitationResult(BaseModel):
    """A citation the bot showed, re-checked against the stored chunk."""

    n: int
    doc_id: str
    chunk_id: str
    title: str
    quote: str
    valid: bool = Field(description="The quote occurs (normalised) in the chunk text read back from the index.")


class CaseResult(BaseModel):
    """How the bot did on one golden case."""

    id: str
    question: str
    answer: str
    refused: bool
    refusal_reason: str = ""
    confidence: float | None = None  # the answer's answerability estimate (risk–coverage from a run's JSON)
    citations: list[CitationResult] = Field(default_factory=list)
    passed: bool
    checks: dict[str, SerializeAsAny[Check]] = Field(default_factory=dict)
    latency_ms: float
    answerable: bool = Field(default=True, exclude=True)
    tags: list[str] = Field(default_factory=list, exclude=True)
    expected: list[list[str]] = Field(default_factory=list, exclude=True)
    evidence: list[str] = Field(default_factory=list, exclude=True)

    def failed_checks(self) -> dict[str, Check]:
        """The graded checks that failed."""
        return {name: c for name, c in self.checks.items() if name in GRADED and not c.passed}


class Summary(BaseModel):
    """Headline metrics (the ``summary`` of the JSON report, and each ``by_tag`` entry)."""

    cases: int
    answer_accuracy: float | None
    evidence_accuracy: float | None
    refusal_accuracy: float | None
    false_refusal_rate: float | None
    recall_at_k: float | None
    mrr: float | None
    citation_validity: float | None
    answer_chars_p50: float | None
    latency_ms_p50: float | None
    latency_ms_p95: float | None


class RetrievalSummary(BaseModel):
    """Retrieval-only numbers, including recall@1."""

    mode: str
    k: int
    cases: int = Field(description="Cases with gold passages or evidence to look for.")
    recall_at_1: float | None
    recall_at_k: float | None
    mrr: float | None


def share(flags: Sequence[bool]) -> float | None:
    """Fraction of true flags, rounded; None when empty."""
    return round(sum(flags) / len(flags), 4) if flags else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile, rounded to 0.1; None when empty."""
    return round(float(np.percentile(np.asarray(values, dtype=float), q)), 1) if values else None


def _check(results: Sequence[CaseResult], name: str) -> list[bool]:
    return [r.checks[name].passed for r in results if name in r.checks]


def _ranks(results: Sequence[CaseResult]) -> list[int | None]:
    return [getattr(r.checks["retrieval"], "rank") for r in results if "retrieval" in r.checks]  # noqa: B009  (a RetrievalCheck)


def summarize(results: Sequence[CaseResult]) -> Summary:
    """The headline metrics over ``results``."""
    answerable = [r for r in results if r.answerable]
    ranks = _ranks(results)
    citations = [c.valid for r in results for c in r.citations]
    latencies = [r.latency_ms for r in results]
    return Summary(
        cases=len(results),
        answer_accuracy=share(_check(answerable, "answer")),
        evidence_accuracy=share(_check(answerable, "evidence")),
        refusal_accuracy=share(_check(results, "refusal")),
        false_refusal_rate=share([r.refused for r in answerable]),
        recall_at_k=share(_check(results, "retrieval")),
        mrr=round(sum(1 / r for r in ranks if r) / len(ranks), 4) if ranks else None,
        citation_validity=share(citations),
        answer_chars_p50=percentile([len(r.answer) for r in results if not r.refused], 50),
        latency_ms_p50=percentile(latencies, 50),
        latency_ms_p95=percentile(latencies, 95),
    )


def summarize_retrieval(results: Sequence[CaseResult], *, mode: str, k: int) -> RetrievalSummary:
    """Recall@1, recall@k and MRR over the cases that name what to retrieve."""
    ranks = _ranks(results)
    return RetrievalSummary(
        mode=mode, k=k, cases=len(ranks),
        recall_at_1=share([rank == 1 for rank in ranks]),
        recall_at_k=share([rank is not None for rank in ranks]),
        mrr=round(sum(1 / r for r in ranks if r) / len(ranks), 4) if ranks else None,
    )


def by_tag(results: Sequence[CaseResult]) -> dict[str, Summary]:
    """Headline metrics per tag, tags in alphabetical order."""
    tags = sorted({t for r in results for t in r.tags})
    return {t: summarize([r for r in results if t in r.tags]) for t in tags}
