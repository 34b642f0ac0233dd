"""The evaluator on third-party benchmark data (../shared/bench; skipped when absent).

CI's embedder starts cold, so these use subsets, not the full sets (full-set numbers are in
docs/evaluation.md):

* CMRC 2018 dev: the first 150 questions of cmrc_dev_part1.jsonl, with a corpus of their 40 gold
  passages plus 150 other CMRC passages (the last 150 non-gold passages of cmrc_dev_corpus.jsonl)
  as distractors — ~440 chunks to embed.
* RGB (zh): the first 10 questions, with a corpus of the passages listed for them (relevant and
  noise passages, ~250).

Thresholds sit a little under what the engine measured on these subsets, so a regression in
retrieval or answering fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.evaluation.golden import load_golden
from bot.evaluation.report import without_timings
from bot.evaluation.runner import open_engine, run_eval
from tests.conftest import bench_file, make_settings
from tests.test_evaluation_cli import run_bot

pytestmark = pytest.mark.slow

CMRC_QUESTIONS = 150
CMRC_DISTRACTORS = 150
RGB_QUESTIONS = 10


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cmrc(tmp_path_factory):
    """(questions file, subset corpus, data dir) for the CMRC subset."""
    questions = bench_file("cmrc_dev_part1.jsonl")
    rows = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines()[:CMRC_QUESTIONS]]
    gold = {g for r in rows for g in r["gold_passage_ids"]}
    corpus = [json.loads(line) for line in bench_file("cmrc_dev_corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    distractors = [p for p in corpus if p["id"] not in gold][-CMRC_DISTRACTORS:]
    base = tmp_path_factory.mktemp("cmrc")
    subset = _write_jsonl(base / "cmrc_subset_corpus.jsonl", [p for p in corpus if p["id"] in gold] + distractors)
    return questions, subset, base / "data"


@pytest.fixture(scope="module")
def cmrc_cli(cmrc, embed_cache_dir):
    """``python -m bot eval cmrc_dev_part1.jsonl --corpus SUBSET --limit 150`` — the benchmark file as is."""
    questions, subset, data = cmrc
    out = data.parent / "hybrid.json"
    proc = run_bot(["eval", str(questions), "--corpus", str(subset), "--limit", str(CMRC_QUESTIONS),
                    "--json", str(out), "--fail-under", "recall_at_k=0.97", "answer_accuracy=0.55"],
                   data_dir=data, cache=embed_cache_dir / "embeddings.sqlite3", timeout=900)
    return proc, json.loads(out.read_text(encoding="utf-8")) if out.exists() else None


def test_cmrc_subset_cli(cmrc_cli):
    # answer accuracy measured 0.607 at the answerability model's operating point, which trades answers for far
    # fewer wrong ones (docs/evaluation.md, risk-coverage); retrieval and citation checks are unchanged
    proc, report = cmrc_cli
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert report["summary"]["cases"] == CMRC_QUESTIONS
    assert report["summary"]["citation_validity"] == 1.0
    assert report["retrieval"]["recall_at_1"] >= 0.93


def test_cmrc_subset_ablation_and_repeatability(cmrc, cmrc_cli, embed_cache_dir):
    """Hybrid retrieval is at least as good as either side alone; a rerun gives (almost) the same report."""
    questions, subset, data = cmrc
    _proc, hybrid = cmrc_cli
    engine, report = open_engine(make_settings(data, embed_cache_dir), corpus=subset)
    assert report is not None and not report.changed  # the CLI's collection is reused, nothing re-embedded
    cases = load_golden(questions).cases[:CMRC_QUESTIONS]
    again = json.loads(json.dumps(run_eval(engine, cases, mode="hybrid").model_dump()))
    # Grading is exact; Chroma's approximate (HNSW) dense search may still order near-tied chunks
    # differently in another process, so allow a couple of cases to move, not more.
    moved = [a["id"] for a, b in zip(without_timings(again)["cases"], without_timings(hybrid)["cases"], strict=True)
             if a != b]
    assert len(moved) <= 2, moved
    recall = {"hybrid": hybrid["summary"]["recall_at_k"]}
    for mode in ("bm25", "dense"):
        recall[mode] = run_eval(engine, cases, mode=mode).summary.recall_at_k
    assert recall["hybrid"] >= max(recall["bm25"], recall["dense"]) - 0.01, recall


def test_rgb_subset(tmp_path, embed_cache_dir):
    """Multi-part answers (answer_groups) and many gold passages per question."""
    questions = bench_file("rgb_zh.jsonl")
    rows = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines()[:RGB_QUESTIONS]]
    passages = {p["id"]: {"id": p["id"], "text": p["text"]} for r in rows for p in r["passages"]}
    subset = _write_jsonl(tmp_path / "rgb_subset_corpus.jsonl", list(passages.values()))
    golden = _write_jsonl(tmp_path / "rgb_subset.jsonl", rows)
    engine, _report = open_engine(make_settings(tmp_path / "data", embed_cache_dir), corpus=subset)
    report = run_eval(engine, load_golden(golden).cases)
    s = report.summary
    print(s, report.retrieval)
    assert s.cases == RGB_QUESTIONS and s.citation_validity == 1.0
    assert s.recall_at_k >= 0.9 and report.retrieval.recall_at_1 >= 0.7
    assert s.answer_accuracy >= 0.4  # measured 0.6 (6 of 10)
