"""A real library end to end: ingest time, time to the first keyword answer, re-run time, then questions.

``python -m bot.bench.library`` ingests ``../shared/bench/statutes/corpus`` (1,428 documents) with
``python -m bot ingest`` into an empty data folder and an empty embedding cache, and prints:

* **keyword search answers** — seconds from the start until ``python -m bot ask`` run beside the ingest
  returns an answer with a citation (it is asked again every few seconds once the ingest reports the
  keyword index ready);
* **full ingest** — seconds until the ingest exits; its peak resident memory;
* **unchanged re-run** — the same command again;

each with the 1-minute load average before and after (2.0 = both cores busy on this 2-core machine). Then, on
the built index, retrieval and extractive answer latency p50/p95 for one asker and for 8 at once, with the
process's peak memory; ``--server`` repeats the ingest (vectors from the same cache) and the questions against
a ``chroma run`` server on 127.0.0.1.

The questions are the library's own ``train.jsonl`` (citizens' questions). ``--json`` writes the figures;
``docs/benchmarks.md`` quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from bot.bench.timing import load_now, measure, peak_rss_mb, process_peak_rss_mb

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT.parent / "shared" / "bench" / "statutes"


def _env(data: Path, cache: Path, corpus: Path, server: tuple[str, int] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env |= {"BOT_DATA_DIR": str(data), "BOT_EMBEDDING_CACHE": str(cache), "BOT_CORPUS_DIR": str(corpus),
            "PYTHONPATH": str(ROOT)}
    if server:
        env |= {"BOT_CHROMA_HOST": server[0], "BOT_CHROMA_PORT": str(server[1])}
    return env


def _answers(question: str, env: dict[str, str]) -> bool:
    """Whether ``python -m bot ask`` answers with at least one citation right now."""
    try:
        out = subprocess.run([sys.executable, "-m", "bot", "ask", question, "--json"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False
    if out.returncode != 0:
        return False
    try:
        return bool(json.loads(out.stdout).get("citations"))
    except json.JSONDecodeError:
        return False


def ingest(corpus: Path, env: dict[str, str], *, log: Path, probe: str | None) -> dict:
    """Run one ingest; with ``probe``, also time the first keyword answer asked beside it."""
    load_before = load_now()
    t0 = time.perf_counter()
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "ingest", str(corpus)], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=err, text=True)
    first_answer: list[float] = []
    loads: list[float] = []
    peak: list[float] = [0.0]

    def watch() -> None:
        while proc.poll() is None:
            rss = process_peak_rss_mb(proc.pid)
            if rss:
                peak[0] = max(peak[0], rss)
            loads.append(load_now())
            ready = bool(probe) and not first_answer and "keyword search ready" in log.read_text(errors="replace")
            if ready and _answers(str(probe), env):
                first_answer.append(time.perf_counter() - t0)
            time.sleep(2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stdout, _ = proc.communicate()
    wall = time.perf_counter() - t0
    watcher.join(timeout=150)
    if proc.returncode != 0:
        raise RuntimeError(f"ingest failed ({proc.returncode}); see {log}")
    return {"seconds": round(wall, 1), "keyword_answer_s": round(first_answer[0], 1) if first_answer else None,
            "peak_rss_mb": peak[0] or None, "load_before": load_before, "load_after": load_now(),
            "load_max": max(loads, default=load_before), "summary": stdout.strip().splitlines()[-1:]}


def questions(n: int) -> list[str]:
    rows = [json.loads(line) for line in (BENCH / "train.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return [r["question"] for r in rows[:n]]


def query_latency(env: dict[str, str], pool: list[str]) -> dict:
    """Retrieval and answer latency on the built index, in this process (settings from ``env``)."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("BOT_")})
    from bot.engine import Engine

    engine = Engine()
    t0 = time.perf_counter()
    engine.retriever().invoke(pool[0])
    first = time.perf_counter() - t0
    retriever = engine.retriever()
    out: dict[str, object] = {"first_question_s": round(first, 2)}
    for name, fn in (("retrieval", retriever.invoke), ("answer", engine.ask)):
        out[name] = measure(fn, pool[1:], workers=1).model_dump()
        out[f"{name}_8"] = measure(fn, pool[1:], workers=8).model_dump()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.bench.library", description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=BENCH / "corpus")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bot-bench-library"))
    parser.add_argument("--questions", type=int, default=200, help="questions timed per row (default 200)")
    parser.add_argument("--phases", default="ingest,queries", help="ingest, queries, server (comma-separated)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"{args.corpus}: no such folder (the statute library lives in ../shared/bench/statutes)")
    phases = set(args.phases.split(","))
    data, cache = args.workdir / "data", args.workdir / "embeddings.sqlite3"
    env = _env(data, cache, args.corpus)
    pool = questions(args.questions + 1)
    result: dict = {"corpus": str(args.corpus), "cores": len(os.sched_getaffinity(0)), "started": time.ctime()}
    if "ingest" in phases:
        shutil.rmtree(args.workdir, ignore_errors=True)
        args.workdir.mkdir(parents=True)
        result["ingest"] = ingest(args.corpus, env, log=args.workdir / "ingest.log", probe=pool[0])
        print("full ingest:", json.dumps(result["ingest"], ensure_ascii=False), flush=True)
        result["rerun"] = ingest(args.corpus, env, log=args.workdir / "rerun.log", probe=None)
        print("unchanged re-run:", json.dumps(result["rerun"], ensure_ascii=False), flush=True)
    if "queries" in phases:
        result["queries"] = query_latency(env, pool)
        print("queries:", json.dumps(result["queries"]), flush=True)
    if "server" in phases:
        from bot.bench.scale import start_server

        server, port = start_server(args.workdir / "server")
        try:
            senv = _env(args.workdir / "server-data", cache, args.corpus, ("127.0.0.1", port))
            result["server_ingest"] = ingest(args.corpus, senv, log=args.workdir / "server-ingest.log", probe=None)
            print("server ingest (cached vectors):", json.dumps(result["server_ingest"]), flush=True)
            result["server_queries"] = query_latency(senv, pool)
            result["server_queries"]["server_peak_rss_mb"] = process_peak_rss_mb(server.pid)
            print("server queries:", json.dumps(result["server_queries"]), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
