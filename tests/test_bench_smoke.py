"""The benchmark end to end on a tiny slice (``python -m bot.bench --smoke``).

Every phase runs for real — both pipelines on the CMRC and RGB slices, a cold
ingest against the bare model, an unchanged re-run, a grown collection in
embedded Chroma and on a ``chroma run`` server, a CLI cold start — with
counts so small the numbers mean nothing; the test checks the run completes
and the report says what it measured.  The full run is not part of the tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, bench_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, embed_cache_dir, chroma_server):
    for name in ("cmrc_dev_corpus.jsonl", "rgb_zh_corpus.jsonl", "cmrc_dev_part1.jsonl", "rgb_zh.jsonl"):
        bench_file(name)
    work = tmp_path_factory.mktemp("bench-smoke")
    host, port = chroma_server
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env["BOT_EMBEDDING_CACHE"] = str(embed_cache_dir / "embeddings.sqlite3")
    out, raw = work / "benchmarks.md", work / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "bot.bench", "--smoke", "--workdir", str(work / "w"), "--out", str(out),
                           "--json", str(raw), "--chroma", f"{host}:{port}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(raw.read_text(encoding="utf-8")), out.read_text(encoding="utf-8")


def test_quality_is_measured_for_all_three_systems_on_both_sets(smoke_run):
    report, _ = smoke_run
    systems = {(r["dataset"], r["system"]) for r in report["recall"]}
    assert systems == {(d, s) for d in ("cmrc", "rgb") for s in ("ours", "ours (BM25 only)", "LangChain tutorial")}
    for row in report["recall"]:
        assert 0.0 <= row["at_1"] <= row["at_5"] <= 1.0
    ours_cmrc = next(r for r in report["recall"] if r["dataset"] == "cmrc" and r["system"] == "ours")
    assert ours_cmrc["at_5"] > 0  # the gold passages are in the slice: hybrid retrieval finds some


def test_latency_rows_cover_retrieval_and_answers_alone_and_concurrent(smoke_run):
    report, _ = smoke_run
    kinds = {(q["system"], q["kind"]) for q in report["queries"]}
    assert ("ours", "answer (extractive)") in kinds and ("LangChain tutorial", "retrieval") in kinds
    for q in report["queries"]:
        assert q["single"]["p50_ms"] > 0 and q["concurrent"]["workers"] == 8
        assert q["single"]["p50_ms"] <= q["single"]["p95_ms"]


def test_unchanged_reingest_embeds_nothing_and_ingestion_is_compared_to_the_model(smoke_run):
    report, _ = smoke_run
    rerun = next(r for r in report["ingest"] if "re-run, nothing changed" in r["what"])
    assert rerun["chunks_embedded"] == 0 and rerun["chunks"] > 0
    edited = next(r for r in report["ingest"] if "one passage edited" in r["what"])
    assert 1 <= edited["chunks_embedded"] <= 5
    cold = next(r for r in report["ingest"] if r["system"] == "ours" and "(cold)" in r["what"])
    assert cold["chunks_embedded"] == cold["chunks"] > 0
    assert report["embedder"]["chunks_per_s"] > 0 and report["embedder"]["texts"] == cold["chunks"]


def test_scale_runs_in_both_stores_and_the_keyword_side_keeps_no_texts(smoke_run):
    report, _ = smoke_run
    assert {(s["store"], s["size"]) for s in report["scale"]} == {("embedded", 300), ("server", 300)}
    for row in report["scale"]:
        assert row["retrieval"]["n"] == 3 and row["peak_rss_mb"] > 0
        assert row["bm25"]["chunks"] == 300 and not row["bm25"]["holds_texts"]


def test_cold_start_and_report(smoke_run):
    report, markdown = smoke_run
    cli = next(c for c in report["cold_start"] if c["what"].startswith("CLI"))
    assert cli["median_s"] and cli["median_s"] > 0, cli["note"]
    assert "python -m bot.bench --smoke" in markdown
    for heading in ("## Targets", "## Retrieval quality", "## Query latency", "## Ingestion", "## Scale", "## Cold start"):
        assert heading in markdown
    assert "→" in markdown  # every timing carries the load average
