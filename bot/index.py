"""Chunks → Chroma (dense) + BM25 (keyword) index, with incremental ingest.

Chroma is the source of truth: every chunk carries its document's hash and
chunk count, so an ingest can tell an unchanged document (skip, embed
nothing), a changed one (upsert new chunks, then delete the stale ones) and a
half-written one left by a killed run (redo it).  The BM25 side keeps only
token postings and chunk ids; chunk texts are read back from Chroma.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.documents import Document

from bot.chunking import split_document
from bot.embeddings import E5Embeddings
from bot.errors import DocumentError, IndexBusyError, IndexError_
from bot.loaders import load_paths
from bot.settings import Settings
from bot.text import tokenize

_PAGE = 2000
ProgressFactory = Callable[..., Any]


@dataclass
class IngestReport:
    """What an ingest did."""

    files: int = 0
    documents: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_total: int = 0
    errors: list[DocumentError] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        text = (f"{self.files} files, {self.documents} documents: {len(self.added)} added, "
                f"{len(self.updated)} updated, {len(self.unchanged)} unchanged, {len(self.removed)} removed; "
                f"{self.chunks_embedded} chunks embedded, {self.chunks_total} in index ({self.seconds:.1f}s)")
        if self.errors:
            text += f"; {len(self.errors)} file(s) failed"
        return text


def make_client(settings: Settings):
    """An embedded ``PersistentClient`` or an ``HttpClient`` for ``chroma run``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.server_mode:
        try:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
            client.heartbeat()
        except Exception as err:  # chromadb raises several unrelated types here
            raise IndexError_(
                f"Chroma server at {settings.chroma_host}:{settings.chroma_port} is unreachable ({err.__class__.__name__}) "
                "— start it with 'chroma run --host 127.0.0.1 --port 8000', or unset BOT_CHROMA_HOST to use the embedded store."
            ) from err
        return client
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class Index:
    """One Chroma collection plus its BM25 twin."""

    def __init__(self, *, settings: Settings, embeddings: E5Embeddings, collection: str | None = None,
                 client: Any = None) -> None:
        from langchain_chroma import Chroma

        self.settings = settings
        self.embeddings = embeddings
        self.name = collection or settings.collection
        self.client = client or make_client(settings)
        try:
            self.store = Chroma(client=self.client, collection_name=self.name, embedding_function=embeddings,
                                collection_configuration={"hnsw": {"space": "cosine"}})
        except Exception as err:
            raise IndexError_(f"cannot open Chroma collection '{self.name}' ({err}) — check BOT_COLLECTION") from err
        self.collection = self.store._collection
        where = f"{settings.chroma_host}_{settings.chroma_port}" if settings.server_mode else "local"
        self.bm25 = Bm25Index(settings.data_dir / "bm25" / where / self.name)
        self._bm25_checked_stamp: str | None = None

    # ---- reading -------------------------------------------------------------------------------

    def count(self) -> int:
        """Number of chunks in the collection."""
        return self.collection.count()

    def get(self, ids: Sequence[str]) -> dict[str, Document]:
        """Chunks by id (missing ids are left out)."""
        if not ids:
            return {}
        res = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        return {i: Document(page_content=t, metadata=m or {}, id=i)
                for i, t, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True)}

    def iter_all(self, include: Sequence[str] = ("metadatas",)) -> Iterable[tuple[str, str | None, dict]]:
        """Every chunk, page by page: ``(id, text or None, metadata)``."""
        offset = 0
        while True:
            res = self.collection.get(limit=_PAGE, offset=offset, include=list(include))
            ids = res["ids"]
            if not ids:
                return
            docs = res.get("documents") or [None] * len(ids)
            metas = res.get("metadatas") or [{}] * len(ids)
            yield from zip(ids, docs, metas, strict=True)
            offset += len(ids)

    def documents(self) -> dict[str, dict]:
        """Per document: metadata of its first chunk plus ``chunks`` and ``hashes``."""
        docs: dict[str, dict] = {}
        for cid, _text, meta in self.iter_all():
            did = meta.get("doc_id", cid)
            entry = docs.setdefault(did, {**meta, "chunks": 0, "hashes": set(), "ids": []})
            entry["chunks"] += 1
            entry["hashes"].add(meta.get("doc_hash"))
            entry["ids"].append(cid)
        return docs

    def document_text(self, doc_id: str) -> str | None:
        """Rebuild a document's text from its chunks (gaps filled with line breaks)."""
        res = self.collection.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        parts = sorted(zip(res["metadatas"], res["documents"], strict=True), key=lambda p: p[0]["start"])
        if not parts:
            return None
        text = ""
        for meta, body in parts:
            # chunks never overlap and only whitespace lies between them
            text += "\n" * max(0, meta["start"] - len(text)) + body
        return text

    # ---- dense + keyword search ------------------------------------------------------------------

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """``(chunk_id, cosine similarity)`` of the ``k`` nearest chunks."""
        if self.count() == 0:
            return []
        res = self.collection.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=k,
                                    include=["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    def keyword_search(self, query: str, k: int) -> list[tuple[str, float]]:
        """``(chunk_id, BM25 score)`` for the best ``k`` keyword matches."""
        self.ensure_bm25()
        return self.bm25.search(tokenize(query), k)

    # ---- writing -----------------------------------------------------------------------------------

    def ingest(self, paths: Sequence[Path] | None = None, *, root: Path | None = None, prune: bool | None = None,
               progress: ProgressFactory | None = None) -> IngestReport:
        """Load, chunk, embed and store; unchanged documents are skipped.

        With no ``paths`` the corpus folder is ingested and documents whose
        files are gone are pruned.  A file that fails to load is reported and
        its previously indexed chunks are kept.
        """
        from filelock import FileLock, Timeout

        started = time.perf_counter()
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.settings.data_dir / f"ingest-{self.name}.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout as err:
            raise IndexBusyError(
                f"another ingest is running on collection '{self.name}' (lock {lock.lock_file}) — wait for it to finish"
            ) from err
        try:
            report = self._ingest_locked(paths, root=root, prune=prune, progress=progress)
        finally:
            lock.release()
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_locked(self, paths, *, root, prune, progress) -> IngestReport:
        corpus = self.settings.corpus_dir
        if paths is None:
            if not corpus.is_dir():
                from bot.errors import CorpusError

                raise CorpusError(f"corpus folder {corpus} does not exist — create it and add documents, "
                                  "or set BOT_CORPUS_DIR")
            paths, prune = [corpus], True if prune is None else prune
        paths = [Path(p) for p in paths]
        if root is None:
            root = corpus if all(_inside(p, corpus) for p in paths) else (paths[0] if paths[0].is_dir() else paths[0].parent)
        loaded = load_paths(paths, root=root)
        report = IngestReport(files=loaded.files, documents=len(loaded.documents), errors=loaded.errors)
        existing = self.documents()
        todo: list[tuple[Document, list[Document], dict | None]] = []
        for doc in _dedupe(loaded.documents, report):
            state = existing.get(doc.metadata["doc_id"])
            if state and state["hashes"] == {doc.metadata["doc_hash"]} and state["chunks"] == state.get("doc_chunks"):
                report.unchanged.append(doc.metadata["doc_id"])
                continue
            todo.append((doc, split_document(doc, size=self.settings.chunk_size), state))
        self._write(todo, report, progress)
        if prune:
            self._prune(existing, loaded, paths, report)
        if report.changed or not self.bm25.matches(self._stamp()):
            self._mark_changed()
            self.ensure_bm25(progress=progress)
        report.chunks_total = self.count()
        return report

    def _write(self, todo, report: IngestReport, progress) -> None:
        total = sum(len(chunks) for _doc, chunks, _state in todo)
        bar = progress(total=total, desc="embedding chunks", unit="chunk") if progress and total else None
        self.embeddings.progress = bar.update if bar else None
        try:
            for doc, chunks, state in todo:
                vectors = self.embeddings.embed_passages([_embed_text(c) for c in chunks])
                report.chunks_embedded += len(chunks)
                ids = [c.metadata["chunk_id"] for c in chunks]
                # New chunks first, stale ones after: a run killed in between
                # leaves a document whose hashes disagree, which the next run redoes.
                self.collection.upsert(ids=ids, embeddings=vectors, documents=[c.page_content for c in chunks],
                                       metadatas=[c.metadata for c in chunks])
                stale = sorted(set(state["ids"]) - set(ids)) if state else []
                if stale:
                    self.collection.delete(ids=stale)
                (report.updated if state else report.added).append(doc.metadata["doc_id"])
        finally:
            self.embeddings.progress = None
            if bar:
                bar.close()

    def _prune(self, existing: dict, loaded, paths: list[Path], report: IngestReport) -> None:
        kept = {d.metadata["doc_id"] for d in loaded.documents}
        failed = {str(Path(str(e.path).split(":")[0]).resolve()) for e in loaded.errors}
        roots = [p.resolve() for p in paths]
        for doc_id, state in existing.items():
            src = state.get("path")
            if doc_id in kept or not src or str(Path(src).resolve()) in failed:
                continue
            if any(_inside(Path(src), r) for r in roots):
                self.collection.delete(ids=state["ids"])
                report.removed.append(doc_id)

    def delete_document(self, doc_id: str) -> int:
        """Remove one document's chunks; returns how many were removed."""
        res = self.collection.get(where={"doc_id": doc_id}, include=[])
        if res["ids"]:
            self.collection.delete(ids=res["ids"])
            self._mark_changed()
            self.ensure_bm25()
        return len(res["ids"])

    # ---- BM25 freshness ------------------------------------------------------------------------------

    def _stamp(self) -> str:
        return str((self.collection.metadata or {}).get("bm25_stamp", ""))

    def _mark_changed(self) -> None:
        self.collection.modify(metadata={"bm25_stamp": uuid.uuid4().hex})
        self._refresh_collection()

    def _refresh_collection(self) -> None:
        self.collection = self.client.get_collection(self.name)
        self.store._chroma_collection = self.collection

    def ensure_bm25(self, *, progress: ProgressFactory | None = None) -> None:
        """Load the BM25 index, rebuilding it when Chroma changed since it was built."""
        if self._bm25_checked_stamp is not None and self.bm25.loaded:
            return
        stamp = self._stamp()
        if self.bm25.load_if_matches(stamp):
            self._bm25_checked_stamp = stamp
            return
        total = self.count()
        bar = progress(total=total, desc="keyword index", unit="chunk") if progress and total else None
        ids, tokens = [], []
        for cid, text, meta in self.iter_all(include=("documents", "metadatas")):
            ids.append(cid)
            tokens.append(tokenize(f"{meta.get('title', '')} {text or ''}"))
            if bar:
                bar.update(1)
        if bar:
            bar.close()
        self.bm25.build(ids, tokens, stamp=stamp)
        self._bm25_checked_stamp = stamp

    def invalidate(self) -> None:
        """Re-check freshness on next use (after another process ingested)."""
        self._refresh_collection()
        self._bm25_checked_stamp = None


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _dedupe(docs: list[Document], report: IngestReport) -> list[Document]:
    seen: dict[str, str] = {}
    out = []
    for doc in docs:
        did = doc.metadata["doc_id"]
        if did in seen:
            report.errors.append(DocumentError(doc.metadata.get("path", did),
                                               f"document id '{did}' already used by {seen[did]} — rename one of them"))
            continue
        seen[did] = doc.metadata.get("path", did)
        out.append(doc)
    return out


def _embed_text(chunk: Document) -> str:
    meta = chunk.metadata
    head = " ".join(x for x in (meta.get("title", ""), meta.get("heading", "")) if x)
    return f"{head}\n{chunk.page_content}" if head else chunk.page_content


class Bm25Index:
    """bm25s over jieba tokens, saved beside the data; holds ids, not texts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.model = None
        self.ids: np.ndarray = np.array([], dtype=object)
        self.stamp: str | None = None

    @property
    def loaded(self) -> bool:
        return self.stamp is not None

    def matches(self, stamp: str) -> bool:
        return self.stamp == stamp or self._saved_stamp() == stamp

    def _saved_stamp(self) -> str | None:
        meta = self.path / "meta.json"
        if not meta.exists():
            return None
        try:
            return json.loads(meta.read_text())["stamp"]
        except (OSError, ValueError, KeyError):
            return None

    def load_if_matches(self, stamp: str) -> bool:
        if self.stamp == stamp:
            return True
        if not stamp or self._saved_stamp() != stamp:
            return False
        import bm25s

        try:
            self.model = bm25s.BM25.load(str(self.path / "model"), mmap=True, show_progress=False)
            self.ids = np.array(json.loads((self.path / "ids.json").read_text()), dtype=object)
        except (OSError, ValueError):
            return False
        self.stamp = stamp
        return True

    def build(self, ids: list[str], tokens: list[list[str]], *, stamp: str) -> None:
        import bm25s

        self.ids = np.array(ids, dtype=object)
        if ids:
            model = bm25s.BM25()
            model.index(tokens, show_progress=False)
            self.model = model
        else:
            self.model = None
        self.stamp = stamp
        if stamp and self.model is not None:
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.mkdir(parents=True, exist_ok=True)
            self.model.save(str(tmp / "model"), show_progress=False)
            (tmp / "ids.json").write_text(json.dumps(ids, ensure_ascii=False))
            (tmp / "meta.json").write_text(json.dumps({"stamp": stamp}))
            import shutil

            if self.path.exists():
                shutil.rmtree(self.path)
            tmp.rename(self.path)

    def search(self, tokens: list[str], k: int) -> list[tuple[str, float]]:
        if self.model is None or not len(self.ids):
            return []
        vocab = self.model.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return []
        k = min(k, len(self.ids))
        docs, scores = self.model.retrieve([known], k=k, show_progress=False, n_threads=1)
        return [(str(self.ids[d]), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token (0 when unknown)."""
        if self.model is None:
            return 0.0
        tid = self.model.vocab_dict.get(token)
        if tid is None:
            return 0.0
        df = int(self.model.scores["indptr"][tid + 1] - self.model.scores["indptr"][tid])
        n = max(len(self.ids), 1)
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
