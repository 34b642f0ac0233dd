"""Run golden cases through the engine and grade each reply.

Grading never trusts the engine: citation quotes are re-checked against the
chunk text read back from the index, and evidence is looked for in that text.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from bot.answer import Answer, strip_markers
from bot.engine import Engine
from bot.errors import CorpusError
from bot.evaluation.articles import (
    ArticleSummary,
    article_check,
    canonical,
    ranked_articles,
    summarize_articles,
)
from bot.evaluation.golden import GoldenCase
from bot.evaluation.matching import contains, evidence_missing, from_passage, groups_missing
from bot.evaluation.metrics import (
    GRADED,
    CaseResult,
    Check,
    CitationResult,
    RetrievalCheck,
    RetrievalSummary,
    Summary,
    by_tag,
    summarize,
    summarize_retrieval,
)
from bot.ingest import IngestReport, ProgressFactory
from bot.settings import Settings
from bot.structure import article_name

ARTICLE_DEPTH = 100  # articles ranked for hit@k / recall@k at article level


class RunInfo(BaseModel):
    """What was evaluated and how (shown in the HTML and JUnit reports)."""

    golden: str = ""
    engine: str = ""
    mode: str = "hybrid"
    k: int = 5
    collection: str = ""
    corpus: str = ""


class Report(BaseModel):
    """A whole evaluation run; ``model_dump()`` is the ``--json`` report."""

    summary: Summary
    by_tag: dict[str, Summary]
    cases: list[CaseResult]
    retrieval: RetrievalSummary
    articles: ArticleSummary | None = Field(default=None, description="Article-level metrics (gold_articles cases).")
    run: RunInfo = Field(default_factory=RunInfo, exclude=True)


# ---- the engine under test ------------------------------------------------------------------


def corpus_collection(corpus: Path) -> str:
    """A Chroma collection name of its own for a corpus path (3-512 chars, [A-Za-z0-9._-])."""
    resolved = str(Path(corpus).resolve())
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(resolved).stem).strip("-._")[:48]
    digest = hashlib.sha1(resolved.encode()).hexdigest()[:8]
    return f"eval-{stem}-{digest}" if stem else f"eval-{digest}"


def open_engine(settings: Settings, *, corpus: Path | None = None, collection: str | None = None,
                progress: ProgressFactory | None = None) -> tuple[Engine, IngestReport | None]:
    """The engine to evaluate, with its index ready.

    With ``corpus`` the folder or passage ``.jsonl`` is ingested (incrementally)
    into a collection of its own; without it the configured index is used and
    built from the corpus folder when empty.
    """
    if corpus is not None:
        corpus = Path(corpus)
        if not corpus.exists():
            raise CorpusError(f"corpus {corpus} does not exist — pass a document folder or a passage .jsonl file")
        engine = Engine(settings, collection=collection or corpus_collection(corpus))
        report = engine.ingest([corpus], prune=True, progress=progress)
        if report.errors and not report.documents:
            raise CorpusError(f"nothing could be loaded from {corpus}: {report.errors[0]}")
        return engine, report
    engine = Engine(settings, collection=collection)
    return engine, engine.ensure_index(progress=progress)


# ---- grading --------------------------------------------------------------------------------------


def grade(case: GoldenCase, answer: Answer, chunk_texts: dict[str, str], *, latency_ms: float,
          ranked_articles: Sequence[str] | None = None, article_depth: int = ARTICLE_DEPTH) -> CaseResult:
    """Grade one reply.  ``chunk_texts`` maps cited chunk ids to their text as stored in the index;
    ``ranked_articles`` are the distinct articles a deep retrieval found, best first (cases with ``gold_articles``)."""
    citations = [
        CitationResult(n=c.n, doc_id=c.doc_id, chunk_id=c.chunk_id, title=c.title, quote=c.quote,
                       valid=c.chunk_id in chunk_texts and contains(chunk_texts[c.chunk_id], c.quote))
        for c in answer.citations
    ]
    checks: dict[str, Check] = {}
    cited = [chunk_texts[c.chunk_id] for c in answer.citations if c.chunk_id in chunk_texts]
    if not case.answerable:
        checks["refusal"] = Check(passed=answer.refused,
                                  detail="refused as expected" if answer.refused else "answered a question it should refuse")
    else:
        if case.groups:
            checks["answer"] = _answer_check(case, answer)
        if case.gold_articles:
            checks["evidence"] = _article_citation_check(case, answer)
        elif case.evidence or case.gold_passage_ids:
            checks["evidence"] = _evidence_check(case, answer, cited)
    if citations:
        bad = [c.n for c in citations if not c.valid]
        checks["citations"] = Check(passed=not bad, detail=f"quote of citation {bad} not found in its chunk" if bad
                                    else f"{len(citations)} citation(s) verified")
    retrieval = _retrieval_check(case, answer)
    if retrieval is not None:
        checks["retrieval"] = retrieval
    if case.answerable and case.gold_articles and ranked_articles is not None:
        checks["articles"] = article_check(case.gold_articles, ranked_articles,
                                           [c.article for c in answer.citations], depth=article_depth)
    return CaseResult(
        id=case.id, question=case.question, answer=answer.answer, refused=answer.refused,
        refusal_reason=answer.refusal_reason, confidence=answer.confidence, citations=citations,
        passed=all(c.passed for name, c in checks.items() if name in GRADED), checks=checks,
        latency_ms=round(latency_ms, 1), answerable=case.answerable, tags=case.tags, expected=case.groups,
        evidence=case.evidence,
    )


def _answer_check(case: GoldenCase, answer: Answer) -> Check:
    if answer.refused:
        return Check(passed=False, detail="refused a question it should answer")
    missing = groups_missing(strip_markers(answer.answer), case.groups)
    if not missing:
        return Check(passed=True, detail="answer contains the expected text")
    wanted = " and ".join("any of " + " / ".join(repr(x) for x in g) for g in missing)
    return Check(passed=False, detail=f"answer lacks {wanted}")


def _evidence_check(case: GoldenCase, answer: Answer, cited: list[str]) -> Check:
    if answer.refused:
        return Check(passed=False, detail="refused, so nothing is cited")
    if case.evidence:
        missing = evidence_missing(cited, case.evidence)
        return Check(passed=not missing, detail="cited chunks contain all evidence" if not missing
                     else "cited chunks lack " + ", ".join(repr(m) for m in missing))
    hit = any(from_passage(c.chunk_id, c.doc_id, case.gold_passage_ids) for c in answer.citations)
    return Check(passed=hit, detail="cites a gold passage" if hit
                 else "cites none of the gold passages " + ", ".join(case.gold_passage_ids[:5]))


def _article_citation_check(case: GoldenCase, answer: Answer) -> Check:
    if answer.refused:
        return Check(passed=False, detail="refused, so no article is cited")
    gold = {canonical(g) for g in case.gold_articles}
    cited = [c.article for c in answer.citations if c.article]
    hit = any(canonical(c) in gold for c in cited)
    return Check(passed=hit, detail="cites a gold article" if hit else
                 f"cites {', '.join(cited) or 'no article'}, not {', '.join(case.gold_articles[:5])}")


def _retrieval_check(case: GoldenCase, answer: Answer) -> RetrievalCheck | None:
    """Rank of the first retrieved chunk that holds the gold (article, passage, else all evidence)."""
    if not case.answerable or not (case.gold_passage_ids or case.evidence or case.gold_articles):
        return None
    rank = retrieval_rank(case, answer)
    k = len(answer.retrieved)
    if rank is None:
        shown = ", ".join(r.chunk_id for r in answer.retrieved[:k])
        return RetrievalCheck(passed=False, detail=f"gold not in the top {k} retrieved ({shown})", rank=None)
    return RetrievalCheck(passed=True, detail=f"gold at rank {rank} of {k}", rank=rank)


def retrieval_rank(case: GoldenCase, answer: Answer) -> int | None:
    """1-based rank at which the retrieved list first holds the gold, or None."""
    if case.gold_articles:
        gold = {canonical(g) for g in case.gold_articles}
        return next((i for i, r in enumerate(answer.retrieved, 1) if r.article and canonical(r.article) in gold), None)
    if case.gold_passage_ids:
        for i, r in enumerate(answer.retrieved, 1):
            if from_passage(r.chunk_id, r.doc_id, case.gold_passage_ids):
                return i
        return None
    texts: list[str] = []
    for i, r in enumerate(answer.retrieved, 1):
        texts.append(r.text)
        if not evidence_missing(texts, case.evidence):
            return i
    return None


# ---- running --------------------------------------------------------------------------------------


def ask_and_grade(engine: Engine, case: GoldenCase, *, answer_engine: str | None = None, k: int | None = None,
                  mode: str = "hybrid") -> tuple[CaseResult, Answer]:
    """Ask one golden question and grade the reply."""
    t0 = time.perf_counter()
    answer = engine.ask(case.question, engine=answer_engine, k=k, mode=mode)
    latency = (time.perf_counter() - t0) * 1000
    ids = sorted({c.chunk_id for c in answer.citations})
    stored = engine.index.get(ids)
    texts = {cid: doc.page_content for cid, doc in stored.items()}
    ranked = None
    if case.gold_articles and case.answerable:
        # retrieval metrics at article level look deeper than the k chunks the answer reads
        deep = engine.retriever(k=ARTICLE_DEPTH, mode=mode).search(answer.standalone_question or case.question)
        ranked = ranked_articles(article_name(d.metadata) for d in deep)
    return grade(case, answer, texts, latency_ms=latency, ranked_articles=ranked), answer


def run_eval(engine: Engine, cases: Sequence[GoldenCase], *, answer_engine: str | None = None, k: int | None = None,
             mode: str = "hybrid", progress: ProgressFactory | None = None, run: RunInfo | None = None) -> Report:
    """Ask every case in order and build the report."""
    k = k or engine.settings.k
    bar = progress(total=len(cases), desc="evaluating", unit="q") if progress else None
    results: list[CaseResult] = []
    try:
        for case in cases:
            result, _answer = ask_and_grade(engine, case, answer_engine=answer_engine, k=k, mode=mode)
            results.append(result)
            if bar is not None:
                bar.update(1)
                _postfix(bar, results)
    finally:
        if bar is not None:
            bar.close()
    info = (run or RunInfo()).model_copy(update={"engine": answer_engine or engine.settings.engine, "mode": mode,
                                                 "k": k, "collection": engine.collection_name})
    return Report(summary=summarize(results), by_tag=by_tag(results), cases=results,
                  retrieval=summarize_retrieval(results, mode=mode, k=k), articles=summarize_articles(results),
                  run=info)


def _postfix(bar: Any, results: list[CaseResult]) -> None:
    if hasattr(bar, "set_postfix_str"):
        passed = sum(r.passed for r in results)
        bar.set_postfix_str(f"passed {passed}/{len(results)}", refresh=False)


# ---- verifying a new case -------------------------------------------------------------------------


class Verification(BaseModel):
    """Whether the bot's cited chunks back a proposed case, and how the bot does on it now."""

    supported: bool
    reason: str
    result: CaseResult


def verify_case(engine: Engine, case: GoldenCase, *, answer_engine: str | None = None) -> Verification:
    """Ask the bot and check that the chunks it cites contain the case's answer and evidence.

    A case the corpus cannot back would only ever test the grader, so it is
    not added without ``--force``.  Unanswerable cases need no backing.
    """
    result, answer = ask_and_grade(engine, case, answer_engine=answer_engine)
    if not case.answerable:
        return Verification(supported=True, reason="unanswerable cases need no backing", result=result)
    if answer.refused:
        return Verification(supported=False, result=result,
                            reason="the bot refused this question, so no cited passage supports the answer")
    stored = engine.index.get(sorted({c.chunk_id for c in answer.citations}))
    cited = [doc.page_content for doc in stored.values()]
    missing = [g for g in case.groups if not any(contains(t, x) for t in cited for x in g)]
    if missing:
        wanted = " and ".join(" / ".join(repr(x) for x in g) for g in missing)
        return Verification(supported=False, result=result, reason=f"the chunks the bot cites do not contain {wanted}")
    lacking = evidence_missing(cited, case.evidence)
    if lacking:
        return Verification(supported=False, result=result,
                            reason="the chunks the bot cites do not contain " + ", ".join(repr(x) for x in lacking))
    return Verification(supported=True, reason="the cited chunks contain the answer and evidence", result=result)
