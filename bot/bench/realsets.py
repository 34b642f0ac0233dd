"""Quality and query latency on the real benchmark corpora: ours, BM25 alone, the tutorial pipeline.

Recall uses the shared embedding cache (quality does not depend on it).
Latency uses a fresh, empty cache per system, so every timed question pays
for its own query embedding, as a new question from a user does.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.bench.data import BenchSet, Question
from bot.bench.ingestion import ingest_row
from bot.bench.models import BenchReport, IngestRow, Latency, QueryRow, Recall
from bot.bench.systems import TUTORIAL_K, Hit, Ours, TutorialBaseline, open_engine
from bot.bench.timing import measure, window
from bot.embeddings import E5Embeddings
from bot.settings import Settings

WARM_UP = 3


@dataclass(frozen=True)
class QueryPlan:
    """How many questions to time: one asker, then ``workers`` askers at once."""

    single: int
    concurrent: int
    workers: int = 8


def recall(name: str, dataset: str, search: Callable[[str, int], list[Hit]], questions: list[Question], *,
           own_k: int | None = None) -> Recall:
    """Share of questions with a gold-passage chunk first, and within the first 5 (and the system's own k)."""
    at1 = at5 = atk = 0
    rr = 0.0
    for q in questions:
        hits = search(q.text, 5)
        found = [h.from_any(q.gold) for h in hits]
        at1 += bool(found[:1] and found[0])
        at5 += any(found[:5])
        atk += any(found[: own_k or 5])
        rr += next((1 / rank for rank, hit in enumerate(found[:5], 1) if hit), 0.0)
    n = max(len(questions), 1)
    return Recall(system=name, dataset=dataset, questions=len(questions), at_1=round(at1 / n, 4),
                  at_5=round(at5 / n, 4), at_k=round(atk / n, 4) if own_k else None, k=own_k or 5,
                  mrr_5=round(rr / n, 4))


def _timed_rows(fn: Callable[[str], object], questions: list[str], plan: QueryPlan) -> tuple[Latency, Latency]:
    single = measure(fn, questions[: plan.single])
    conc = measure(fn, questions[plan.single : plan.single + plan.concurrent], workers=plan.workers)
    return single, conc


def _fit(plan: QueryPlan, available: int) -> QueryPlan:
    """Fewer timed questions when the set has fewer distinct ones (never repeat one: it would hit the cache)."""
    if plan.single + plan.concurrent <= available:
        return plan
    single = max(1, min(plan.single, available // 2))
    return QueryPlan(single=single, concurrent=max(1, available - single), workers=plan.workers)


def stage_p50(timings: list[dict[str, float]]) -> dict[str, float]:
    """Median of each answer stage (condense, retrieve, answer, verify, total)."""
    keys = sorted({k for t in timings for k in t})
    return {k: round(float(np.median([t.get(k, 0.0) for t in timings])), 2) for k in keys}


class RealSetBench:
    """One benchmark set: build the three systems, then measure recall and latency."""

    def __init__(self, bench: BenchSet, *, settings: Settings, workdir: Path, plan: QueryPlan,
                 recall_questions: int | None, latency_questions: list[Question] | None = None) -> None:
        self.bench = bench
        self.latency_questions = latency_questions or bench.questions
        self.settings = settings
        self.workdir = workdir
        self.plan = plan
        self.recall_questions = recall_questions
        self.collection = f"bench-{bench.name}"
        self.baseline_collection = f"tutorial-{bench.name}"

    def run(self, report: BenchReport, log: Callable[[str], None]) -> None:
        name = self.bench.name
        log(f"{name}: indexing ({len(self.bench.passages)} passages)")
        engine = open_engine(self.settings, collection=self.collection)
        fresh = engine.index.count() == 0
        row, ingest = ingest_row(engine, self.bench.corpus, build=fresh,
                                 what=f"{name}: whole corpus, shared embedding cache" + ("" if fresh else " (update)"))
        row.phase = "quality"
        report.ingest.append(row)
        log(f"{name}: ours has {ingest.chunks_total} chunks ({row.seconds:.0f} s); building the tutorial pipeline")
        baseline = TutorialBaseline(directory=self.settings.data_dir / "tutorial-chroma",
                                    collection=self.baseline_collection, embeddings=engine.embeddings)
        before = engine.embeddings.encoded
        with window() as win:
            n_base, _ = baseline.build(self.bench.passages)
        report.ingest.append(_baseline_row(name, n_base, engine.embeddings.encoded - before, win))
        report.corpora[f"{name} (ours)"] = ingest.chunks_total
        report.corpora[f"{name} (tutorial)"] = n_base
        self._quality(engine, baseline, report, log)
        self._latency(report, log, chunks=(ingest.chunks_total, n_base))

    def _quality(self, engine, baseline: TutorialBaseline, report: BenchReport, log) -> None:
        questions = self.bench.questions[: self.recall_questions] if self.recall_questions else self.bench.questions
        log(f"{self.bench.name}: embedding {len(questions)} questions (batched, cached)")
        engine.embeddings.embed_queries([q.text for q in questions])
        ours, bm25 = Ours(engine), Ours(engine, mode="bm25")
        log(f"{self.bench.name}: recall of ours / BM25 only / tutorial on {len(questions)} questions")
        report.recall.append(recall("ours", self.bench.name, ours.search, questions))
        report.recall.append(recall("ours (BM25 only)", self.bench.name, bm25.search, questions))
        report.recall.append(recall(baseline.name, self.bench.name, lambda q, k: baseline.search(q, k=k), questions,
                                    own_k=TUTORIAL_K))

    def _fresh_cache(self, label: str) -> Path:
        path = self.workdir / "query-caches" / f"{self.bench.name}-{label}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return path

    def _latency(self, report: BenchReport, log, *, chunks: tuple[int, int]) -> None:
        name = self.bench.name
        # Any question of the set will do for timing, even one whose passages a
        # cut-down corpus left out; none is asked twice, so none hits a cache.
        texts = list(dict.fromkeys(q.text for q in self.latency_questions))
        pool = random.Random(11).sample(texts, len(texts))
        self.plan = plan = _fit(self.plan, len(pool) - WARM_UP)
        log(f"{name}: query latency ({plan.single} alone, {plan.concurrent} by {plan.workers} askers at once)")
        ours = Ours(open_engine(self.settings, collection=self.collection, cache=self._fresh_cache("ours-retrieval")))
        ours.warm()
        report.queries.append(self._row("ours", "retrieval", chunks[0], lambda q: ours.search(q, 5), pool))
        bm25 = Ours(open_engine(self.settings, collection=self.collection, cache=self._fresh_cache("bm25")), mode="bm25")
        bm25.warm()
        report.queries.append(self._row("ours (BM25 only)", "retrieval", chunks[0], lambda q: bm25.search(q, 5), pool))
        base = TutorialBaseline(directory=self.settings.data_dir / "tutorial-chroma", collection=self.baseline_collection,
                                embeddings=E5Embeddings(cache_path=self._fresh_cache("tutorial")))
        base.warm()
        report.queries.append(self._row(base.name, "retrieval", chunks[1], lambda q: base.search(q), pool))
        answering = Ours(open_engine(self.settings, collection=self.collection, cache=self._fresh_cache("ours-answer")))
        answering.warm()
        timings: list[dict[str, float]] = []
        row = self._row("ours", "answer (extractive)", chunks[0],
                        lambda q: timings.append(answering.answer(q).timings_ms), pool)
        row.stages_ms = stage_p50(timings)
        report.queries.append(row)

    def _row(self, system: str, kind: str, chunks: int, fn, pool: list[str]) -> QueryRow:
        for question in pool[-WARM_UP:]:  # first calls load indexes; these questions are not timed
            fn(question)
        single, conc = _timed_rows(fn, pool[:-WARM_UP], self.plan)
        return QueryRow(system=system, dataset=self.bench.name, chunks=chunks, kind=kind, single=single, concurrent=conc)


def _baseline_row(name: str, chunks: int, embedded: int, win) -> IngestRow:
    return IngestRow(system="LangChain tutorial", what=f"{name}: whole corpus, shared embedding cache", chunks=chunks,
                     chunks_embedded=embedded, seconds=round(win.wall_s, 2),
                     chunks_per_s=round(chunks / win.wall_s, 2) if win.wall_s else None, cores_used=win.cores_used,
                     load=win.load, phase="quality")
