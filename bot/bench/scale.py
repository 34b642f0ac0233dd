"""Growth to 1k / 10k / 100k chunks, in embedded Chroma and a ``chroma run`` server.

Embedding 100k chunks takes hours on two cores, so the collections are grown
from chunks already embedded: the real CMRC and RGB chunks (text, metadata and
vector) first, then copies of them under new ids (``{doc_id}@r{n}``) whose
vectors are jittered (Gaussian noise of norm ~0.2, re-normalised: cosine ~0.98
to the original), so the vector index holds distinct points.  Texts are
repeated as they are, and the BM25 side indexes every copy.

Each size is built and then measured in its own process (``python -m
bot.bench.scale build|measure SPEC``), so its peak memory is its own.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import sys
import time
import tracemalloc
import urllib.request
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from bot.bench.models import Bm25Memory, Latency, ScaleRow
from bot.bench.timing import measure, peak_rss_mb, process_peak_rss_mb
from bot.settings import Settings

JITTER = 0.2
WARM_UP = 3
SERVER_PORT = 8799


class Spec(BaseModel):
    """What a worker builds or measures."""

    data_dir: Path
    source: Path
    collection: str
    size: int
    host: str | None = None
    port: int = 8000
    seed: int = 3
    questions: Path | None = None
    shared_cache: Path | None = None
    single: int = 30
    concurrent: int = 32
    workers: int = 8
    recall_questions: int = 100
    reuse: bool = False


# ---- source chunks (parent side) ------------------------------------------------------------------


def export_source(settings: Settings, collections: list[str], out: Path) -> int:
    """Write every chunk (text, metadata, vector) of ``collections`` to ``out``; returns the count."""
    from bot.engine import Engine

    out.mkdir(parents=True, exist_ok=True)
    vectors: list[np.ndarray] = []
    with (out / "rows.jsonl").open("w", encoding="utf-8") as fh:
        for name in collections:
            collection = Engine(settings, collection=name).index.collection
            offset = 0
            while True:
                res = collection.get(limit=2000, offset=offset, include=["embeddings", "documents", "metadatas"])
                if not res["ids"]:
                    break
                for cid, text, meta in zip(res["ids"], res["documents"] or [], res["metadatas"] or [], strict=True):
                    fh.write(json.dumps({"id": cid, "text": text, "meta": meta}, ensure_ascii=False) + "\n")
                vectors.append(np.asarray(res["embeddings"], dtype=np.float32))
                offset += len(res["ids"])
    matrix = np.concatenate(vectors) if vectors else np.zeros((0, 384), dtype=np.float32)
    np.save(out / "vectors.npy", matrix)
    return len(matrix)


def _load_source(path: Path) -> tuple[list[dict], np.ndarray]:
    with (path / "rows.jsonl").open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    return rows, np.load(path / "vectors.npy")


def _order(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation(n)


# ---- chroma server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start_server(path: Path, *, port: int = SERVER_PORT, timeout: float = 90) -> tuple[subprocess.Popen, int]:
    """A ``chroma run`` on 127.0.0.1 storing in ``path``; waits for its heartbeat.

    The same port each time (when free), so the BM25 index kept for the
    server's collections is found again by the next run.
    """
    exe = shutil.which("chroma")
    if exe is None:
        raise RuntimeError("the 'chroma' command is not installed (pip install chromadb)")
    port = port if _port_free(port) else free_port()
    path.mkdir(parents=True, exist_ok=True)
    log = (path.parent / f"{path.name}.log").open("w")
    proc = subprocess.Popen([exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma run exited at start-up; see {log.name}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2):
                return proc, port
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"chroma run did not answer on port {port} within {timeout:.0f}s")


# ---- workers -------------------------------------------------------------------------------------


def _settings(spec: Spec, *, cache: Path | None = None) -> Settings:
    return Settings(data_dir=spec.data_dir, chroma_host=spec.host, chroma_port=spec.port,
                    embedding_cache=cache or spec.data_dir / "unused-embeddings.sqlite3")


def _replica(row: dict, vector: np.ndarray, n: int, rng: np.random.Generator) -> tuple[str, str, dict, np.ndarray]:
    if n == 0:
        return row["id"], row["text"], row["meta"], vector
    meta = dict(row["meta"])
    doc_id = f"{meta['doc_id']}@r{n}"
    chunk_id = f"{doc_id}#{row['id'].split('#', 1)[1]}"
    meta.update(doc_id=doc_id, chunk_id=chunk_id)
    noisy = vector + rng.normal(0.0, JITTER / np.sqrt(len(vector)), size=len(vector)).astype(np.float32)
    return chunk_id, row["text"], meta, noisy / np.linalg.norm(noisy)


def _marker(spec: Spec) -> Path:
    return spec.data_dir / f"built-{spec.collection}-{spec.host or 'local'}-{spec.port}.json"


def _recipe(spec: Spec, rows: list[dict]) -> dict:
    """What a built collection depends on: the same recipe gives the same chunks."""
    digest = hashlib.sha1("\n".join(r["id"] for r in rows).encode()).hexdigest()[:16]
    return {"size": spec.size, "seed": spec.seed, "jitter": JITTER, "source": digest}


def _reusable(spec: Spec, index, recipe: dict) -> dict | None:
    """The earlier build's timings when that collection (and its BM25 index) is still there, unchanged."""
    try:
        built = json.loads(_marker(spec).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if built.get("recipe") != recipe or index.count() != spec.size or not index.bm25.matches(index._stamp()):
        return None
    return {**built["result"], "reused": True}


def build(spec: Spec) -> dict:
    """Fill the collection with ``spec.size`` chunks and build its BM25 index (or reuse an identical one)."""
    from bot.engine import Engine

    settings = _settings(spec)
    engine = Engine(settings, collection=spec.collection)
    rows, vectors = _load_source(spec.source)
    recipe = _recipe(spec, rows)
    if spec.reuse and (earlier := _reusable(spec, engine.index, recipe)):
        return earlier
    _marker(spec).unlink(missing_ok=True)
    if engine.index.count():
        engine.index.client.delete_collection(spec.collection)
        engine = Engine(settings, collection=spec.collection)
    index = engine.index
    order, rng = _order(len(rows), spec.seed), np.random.default_rng(spec.seed + 1)
    step = min(index.client.get_max_batch_size(), 2000)
    t0 = time.perf_counter()
    for start in range(0, spec.size, step):
        batch = [_replica(rows[order[i % len(rows)]], vectors[order[i % len(rows)]], i // len(rows), rng)
                 for i in range(start, min(spec.size, start + step))]
        ids, texts, metas, vecs = zip(*batch, strict=True)
        index.collection.upsert(ids=list(ids), documents=list(texts), metadatas=list(metas),
                                embeddings=np.stack(vecs))
    build_s = time.perf_counter() - t0
    index._mark_changed()  # the same freshness stamp an ingest sets, so the BM25 side rebuilds
    t1 = time.perf_counter()
    index.ensure_bm25()
    result = {"build_s": round(build_s, 2), "bm25_build_s": round(time.perf_counter() - t1, 2), "count": index.count()}
    _marker(spec).write_text(json.dumps({"recipe": recipe, "result": result}), encoding="utf-8")
    return result


def _fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def _stage_breakdown(engine, questions: list[str]) -> dict[str, float]:
    """Median time of each retrieval step (query embedding, dense search, BM25, fetching the texts)."""
    from bot.retriever import rrf

    index = engine.index
    times: dict[str, list[float]] = {"embed_query": [], "dense": [], "bm25": [], "fetch_texts": []}
    for q in questions:
        t0 = time.perf_counter()
        vector = engine.embeddings.embed_query_array(q)
        t1 = time.perf_counter()
        dense = index.dense_search(vector, 30)
        t2 = time.perf_counter()
        sparse = index.keyword_search(q, 30)
        t3 = time.perf_counter()
        fused = rrf([[i for i, _ in dense], [i for i, _ in sparse]])
        index.get(sorted(fused, key=lambda i: -fused[i])[:5])
        t4 = time.perf_counter()
        for key, dt in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            times[key].append(dt * 1000)
    return {k: round(float(np.median(v)), 2) for k, v in times.items() if v}


def bm25_memory(index, *, text_bytes: int) -> Bm25Memory:
    """Load the saved BM25 index afresh under tracemalloc and size what it holds."""
    import sys as _sys

    from bot.keyword import Bm25Index

    tracemalloc.start()
    fresh = Bm25Index(index.bm25.path)
    loaded = fresh.load_if_matches(index._stamp())
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if not loaded or fresh.model is None:
        raise RuntimeError(f"BM25 index at {index.bm25.path} could not be loaded for sizing")
    ids_bytes = fresh.ids.nbytes + sum(_sys.getsizeof(i) for i in fresh.ids)
    vocab = fresh.model.vocab_dict
    vocab_bytes = _sys.getsizeof(vocab) + sum(_sys.getsizeof(k) + _sys.getsizeof(v) for k, v in vocab.items())
    postings = sum(getattr(a, "nbytes", 0) for a in fresh.model.scores.values())
    holds = _holds_texts(fresh)
    mb = 1 / 2**20
    return Bm25Memory(chunks=len(fresh.ids), ids_mb=round(ids_bytes * mb, 2), vocab_mb=round(vocab_bytes * mb, 2),
                      postings_mb=round(postings * mb, 2), traced_mb=round(traced * mb, 2), holds_texts=holds,
                      chunk_text_mb=round(text_bytes * mb, 2))


def _holds_texts(bm25) -> bool:
    """True when the BM25 object (or the bm25s model) keeps a corpus of strings longer than ids."""
    for obj in (bm25, bm25.model):
        for value in vars(obj).values():
            if isinstance(value, (list, tuple)) and value and isinstance(value[0], str) and len(value[0]) > 60:
                return True
    return getattr(bm25.model, "corpus", None) is not None


def _timings(engine, pool: list[str], plan: Spec) -> dict:
    """Retrieval, then whole answers: ``single`` questions alone, then ``concurrent`` by ``workers`` askers."""
    from bot.bench.realsets import stage_p50

    retriever, s, c = engine.retriever(k=5), plan.single, plan.concurrent
    stages: list[dict[str, float]] = []
    for question in pool[-WARM_UP:]:  # page in the vector index and postings; not timed, not asked again
        engine.ask(question)
    pool = pool[:-WARM_UP]

    def ask(question: str) -> None:
        stages.append(engine.ask(question).timings_ms)

    out = {"retrieval": measure(retriever.search, pool[:s]),
           "retrieval_concurrent": measure(retriever.search, pool[s : s + c], workers=plan.workers),
           "answer": measure(ask, pool[s + c : 2 * s + c]),
           "answer_concurrent": measure(ask, pool[2 * s + c : 2 * s + 2 * c], workers=plan.workers)}
    result: dict = {k: v.model_dump() for k, v in out.items()}
    result["stages_ms"] = {**stage_p50(stages), **_stage_breakdown(engine, pool[2 * s + 2 * c : 3 * s + 2 * c])}
    return result


def _recall(spec: Spec, questions: list[dict]) -> dict:
    """Recall@5 on questions whose gold passage is in the collection (query vectors from the shared cache)."""
    from bot.bench.systems import Hit, open_engine

    present = _present_docs(spec)
    graded = [q for q in questions if any(g in present for g in q["gold"])][: spec.recall_questions]
    if not graded or not spec.shared_cache:
        return {}
    retriever = open_engine(_settings(spec), collection=spec.collection, cache=spec.shared_cache).retriever(k=5)
    hits = 0
    for q in graded:
        docs = retriever.search(q["text"])
        hits += any(Hit(str(d.metadata.get("chunk_id")), str(d.metadata.get("doc_id"))).from_any(tuple(q["gold"]))
                    for d in docs)
    return {"recall_at_5": round(hits / len(graded), 4), "recall_questions": len(graded)}


def measure_worker(spec: Spec) -> dict:
    """First answer from a fresh engine, latencies, recall@5 and memory of one grown collection."""
    from bot.bench.systems import open_engine

    questions = json.loads(spec.questions.read_text(encoding="utf-8")) if spec.questions else []
    texts = [q["text"] for q in questions]
    cache = _fresh(spec.data_dir / f"query-cache-{spec.collection}-{spec.host or 'local'}.sqlite3")
    t0 = time.perf_counter()
    engine = open_engine(_settings(spec), collection=spec.collection, cache=cache)
    engine.ask(texts[0])
    out: dict = {"first_answer_s": round(time.perf_counter() - t0, 2), **_timings(engine, texts[1:], spec)}
    out["peak_rss_mb"] = peak_rss_mb()
    out.update(_recall(spec, questions))
    rows, _ = _load_source(spec.source)
    per_chunk = sum(len(r["text"].encode()) for r in rows) / max(len(rows), 1)
    out["bm25"] = bm25_memory(engine.index, text_bytes=int(per_chunk * spec.size)).model_dump()
    return out


def _present_docs(spec: Spec) -> set[str]:
    rows, _ = _load_source(spec.source)
    order = _order(len(rows), spec.seed)
    return {rows[i]["meta"]["doc_id"] for i in order[: min(spec.size, len(rows))]}


# ---- parent side ---------------------------------------------------------------------------------


def run_worker(action: str, spec: Spec, *, log) -> dict:
    """Run a build or measure worker in its own process; returns its JSON result."""
    path = spec.data_dir / f"spec-{action}-{spec.collection}-{spec.host or 'local'}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(spec.model_dump_json(), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "bot.bench.scale", action, str(path)], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        log(proc.stderr[-3000:])
        raise RuntimeError(f"scale {action} worker for {spec.collection} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def scale_row(spec: Spec, *, store: str, built: dict | None, measured: dict, server_pid: int | None) -> ScaleRow:
    return ScaleRow(
        size=spec.size, store=store, reused=bool(built and built.get("reused")), build_s=built["build_s"] if built else None,
        bm25_build_s=built["bm25_build_s"] if built else None,
        first_answer_s=measured["first_answer_s"], retrieval=Latency(**measured["retrieval"]),
        retrieval_concurrent=Latency(**measured["retrieval_concurrent"]), answer=Latency(**measured["answer"]),
        answer_concurrent=Latency(**measured["answer_concurrent"]), stages_ms=measured["stages_ms"],
        recall_at_5=measured.get("recall_at_5"), recall_questions=measured.get("recall_questions", 0),
        peak_rss_mb=measured["peak_rss_mb"], server_peak_rss_mb=process_peak_rss_mb(server_pid) if server_pid else None,
        bm25=Bm25Memory(**measured["bm25"]),
    )


def main(argv: list[str]) -> int:
    action, path = argv
    spec = Spec.model_validate_json(Path(path).read_text(encoding="utf-8"))
    result = build(spec) if action == "build" else measure_worker(spec)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
