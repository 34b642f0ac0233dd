"""Chunks → Chroma (dense) + BM25 (keyword) index, with incremental ingest.

Chroma is the source of truth: every chunk carries its document's hash and
chunk count, so an ingest can tell an unchanged document (skip, embed
nothing), a changed one (upsert new chunks, then delete the stale ones) and a
half-written one left by a killed run (redo it).  The BM25 side keeps only
token postings and chunk ids; chunk texts are read back from Chroma.
Every failure inside Chroma (a stopped server, a damaged store) surfaces as
``IndexError_``; a restarted server is used again without reopening anything.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.documents import Document

from bot.chunking import LAYOUT_VERSION, split_document
from bot.embeddings import E5Embeddings
from bot.errors import BotError, DocumentError, IndexBusyError, IndexError_
from bot.loaders import load_paths
from bot.settings import Settings
from bot.structure import context_line
from bot.text import tokenize

_PAGE = 2000
# Chunks embedded and written together: short documents (one passage each)
# share a model call, which is what keeps both cores busy.
_WRITE_BATCH = 64
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
            text += f"; {len(self.errors)} problem(s) reported"
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

        _load_tokenizer_in_background()
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

    @contextmanager
    def _chroma(self, action: str) -> Iterator[None]:
        """Wrap a failure inside Chroma once, as an ``IndexError_`` that says what to do."""
        try:
            yield
        except BotError:
            raise
        except Exception as err:  # chromadb and its HTTP client raise many unrelated types
            if self.settings.server_mode:
                where = f"Chroma server at {self.settings.chroma_host}:{self.settings.chroma_port}"
                hint = ("check that 'chroma run' is up (it is used again as soon as it is back); "
                        "or unset BOT_CHROMA_HOST to use the embedded store")
            else:
                where = f"local Chroma store in {self.settings.data_dir / 'chroma'}"
                hint = "check the folder is readable and writable; if it is damaged, delete it and run 'python -m bot ingest'"
            detail = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
            raise IndexError_(f"{where} failed while {action} ({err.__class__.__name__}"
                              f"{': ' + detail if detail else ''}) — {hint}") from err

    def count(self) -> int:
        """Number of chunks in the collection."""
        with self._chroma("counting chunks"):
            return self.collection.count()

    def get(self, ids: Sequence[str]) -> dict[str, Document]:
        """Chunks by id (missing ids are left out)."""
        if not ids:
            return {}
        with self._chroma("reading chunks"):
            res = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        return {i: Document(page_content=t, metadata=m or {}, id=i)
                for i, t, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True)}

    def iter_all(self, include: Sequence[str] = ("metadatas",)) -> Iterable[tuple[str, str | None, dict]]:
        """Every chunk, page by page: ``(id, text or None, metadata)``."""
        offset = 0
        while True:
            with self._chroma("listing chunks"):
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
        with self._chroma("reading a document"):
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
        # No count() first: an empty collection answers with no hits, and
        # counting 100k chunks costs more than the search itself.
        with self._chroma("searching"):
            res = self.collection.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=k,
                                        include=["distances"])
        hits = [(i, round(1.0 - float(d), 6)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]
        # near-ties come back from the approximate search in varying order: fix it
        return sorted(hits, key=lambda h: (-h[1], h[0]))

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
        for doc in loaded.documents:
            doc.metadata["doc_hash"] = _layout_hash(doc.metadata["doc_hash"], self.settings.chunk_size)
        report = IngestReport(files=loaded.files, documents=len(loaded.documents), errors=loaded.errors)
        existing = self.documents()
        gone = self._prunable(existing, loaded, paths) if prune else []
        docs, copies = _skip_copies(_dedupe(loaded.documents, report), existing, set(gone), report)
        todo: list[tuple[Document, list[Document], dict | None]] = []
        for doc in docs:
            state = existing.get(doc.metadata["doc_id"])
            if state and state["hashes"] == {doc.metadata["doc_hash"]} and state["chunks"] == state.get("doc_chunks"):
                report.unchanged.append(doc.metadata["doc_id"])
                continue
            todo.append((doc, split_document(doc, size=self.settings.chunk_size), state))
        if todo or gone or copies:
            # Before the first write: a run killed from here on leaves a stamp
            # no saved BM25 index matches, so the next run rebuilds it.
            self._mark_changed()
        self._write(todo, report, progress)
        self._delete_documents([*gone, *copies], existing, report)
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
            for group in _groups(todo, _WRITE_BATCH):
                chunks = [c for _doc, doc_chunks, _state in group for c in doc_chunks]
                before = self.embeddings.encoded
                vectors = self.embeddings.embed_passages([_embed_text(c) for c in chunks])
                report.chunks_embedded += self.embeddings.encoded - before
                ids = [c.metadata["chunk_id"] for c in chunks]
                # New chunks first, stale ones after: a run killed in between
                # leaves a document whose hashes disagree (or whose chunk count
                # falls short of doc_chunks), which the next run redoes.
                with self._chroma("writing chunks"):
                    step = self.client.get_max_batch_size()
                    for b in range(0, len(ids), step):
                        self.collection.upsert(ids=ids[b : b + step], embeddings=vectors[b : b + step],
                                               documents=[c.page_content for c in chunks[b : b + step]],
                                               metadatas=[c.metadata for c in chunks[b : b + step]])
                    stale = sorted({i for _doc, _chunks, state in group if state for i in state["ids"]} - set(ids))
                    if stale:
                        self.collection.delete(ids=stale)
                for doc, _chunks, state in group:
                    (report.updated if state else report.added).append(doc.metadata["doc_id"])
        finally:
            self.embeddings.progress = None
            if bar:
                bar.close()

    def _prunable(self, existing: dict, loaded, paths: list[Path]) -> list[str]:
        """Indexed documents under ``paths`` whose files are gone (a file that failed to load keeps its chunks)."""
        kept = {d.metadata["doc_id"] for d in loaded.documents}
        failed = {str(Path(str(e.path).split(":")[0]).resolve()) for e in loaded.errors}
        roots = [p.resolve() for p in paths]
        gone = []
        for doc_id, state in existing.items():
            src = state.get("path")
            if doc_id in kept or not src or str(Path(src).resolve()) in failed:
                continue
            if any(_inside(Path(src), r) for r in roots):
                gone.append(doc_id)
        return gone

    def _delete_documents(self, doc_ids: list[str], existing: dict, report: IngestReport) -> None:
        for doc_id in doc_ids:
            with self._chroma("removing a document"):
                self.collection.delete(ids=existing[doc_id]["ids"])
            report.removed.append(doc_id)

    def delete_document(self, doc_id: str) -> int:
        """Remove one document's chunks; returns how many were removed."""
        with self._chroma("removing a document"):
            res = self.collection.get(where={"doc_id": doc_id}, include=[])
            if res["ids"]:
                self.collection.delete(ids=res["ids"])
        if res["ids"]:
            self._mark_changed()
            self.ensure_bm25()
        return len(res["ids"])

    # ---- BM25 freshness ------------------------------------------------------------------------------

    def _stamp(self) -> str:
        return str((self.collection.metadata or {}).get("bm25_stamp", ""))

    def _mark_changed(self) -> None:
        with self._chroma("marking the index changed"):
            self.collection.modify(metadata={"bm25_stamp": uuid.uuid4().hex})
        self._refresh_collection()

    def _refresh_collection(self) -> None:
        with self._chroma("opening the collection"):
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
        # Chunks already tokenised by the last build keep their tokens, so an
        # edit re-tokenises only its own chunks, not the whole collection.
        memo = self.bm25.token_memo()
        ids: list[str] = []
        titles: list[str] = []
        tokens: list[list[str]] = []
        missing: list[int] = []
        for cid, text, meta in self.iter_all(include=("metadatas",) if memo else ("documents", "metadatas")):
            # an article's title and path (《民法典》 总则 › … › 第五十四条) are searchable with its text
            title = meta.get("title", "") if not meta.get("article_path") else context_line(meta)
            known = memo.get(cid, title) if memo else tokenize(f"{title} {text or ''}")
            if known is None:
                missing.append(len(ids))
            elif bar:
                bar.update(1)
            ids.append(cid)
            titles.append(title)
            tokens.append(known or [])
        for b in range(0, len(missing), _PAGE):
            page = missing[b : b + _PAGE]
            found = self.get([ids[i] for i in page])
            for i in page:
                doc = found.get(ids[i])
                tokens[i] = tokenize(f"{titles[i]} {doc.page_content if doc else ''}")
                if bar:
                    bar.update(1)
        if bar:
            bar.close()
        self.bm25.build(ids, tokens, stamp=stamp, titles=titles)
        self._bm25_checked_stamp = stamp

    def invalidate(self) -> None:
        """Re-check freshness on next use (after another process ingested)."""
        self._refresh_collection()
        self._bm25_checked_stamp = None


_tokenizer_loading: threading.Thread | None = None


def _load_tokenizer_in_background() -> None:
    """Start loading jieba's dictionary (~0.6 s) while Chroma opens, so the first question waits less."""
    global _tokenizer_loading
    if _tokenizer_loading is None:
        import jieba

        _tokenizer_loading = threading.Thread(target=jieba.initialize, name="jieba-load", daemon=True)
        _tokenizer_loading.start()


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


def _skip_copies(docs: list[Document], existing: dict, gone: set[str],
                 report: IngestReport) -> tuple[list[Document], list[str]]:
    """Leave out a document whose text is already indexed (or loaded) under another id.

    The same file saved twice under two names would otherwise fill the top
    results with identical chunks.  A document already indexed with that text
    keeps its place, else the shortest id ("notice" before "notice (1)"); the
    copy is reported, and removed if an older version of it was indexed.
    Returns the documents to index and the indexed copies to remove.
    """
    ids = {d.metadata["doc_id"] for d in docs}
    owner: dict[str, str] = {}
    for did, state in existing.items():
        if did not in ids and did not in gone and len(state["hashes"]) == 1:
            owner.setdefault(next(iter(state["hashes"])), did)

    def indexed_as_is(doc: Document) -> bool:
        return existing.get(doc.metadata["doc_id"], {}).get("hashes") == {doc.metadata["doc_hash"]}

    keep: set[str] = set()
    copies: list[str] = []
    for doc in sorted(docs, key=lambda d: (not indexed_as_is(d), len(d.metadata["doc_id"]), d.metadata["doc_id"])):
        did, digest = doc.metadata["doc_id"], doc.metadata["doc_hash"]
        first = owner.setdefault(digest, did)
        if first == did:
            keep.add(did)
            continue
        report.errors.append(DocumentError(doc.metadata.get("path", did),
                                           f"document '{did}' has the same text as '{first}' — not indexed "
                                           "twice; delete one of the two copies"))
        if did in existing:
            copies.append(did)
    return [d for d in docs if d.metadata["doc_id"] in keep], copies


def _groups(todo: list, size: int) -> Iterator[list]:
    """Consecutive documents with at least ``size`` chunks between them (a long document is a group of its own)."""
    group: list = []
    count = 0
    for item in todo:
        group.append(item)
        count += len(item[1])
        if count >= size:
            yield group
            group, count = [], 0
    if group:
        yield group


def _layout_hash(text_hash: str, chunk_size: int) -> str:
    """A document's hash as indexed: its text plus how it was cut, so a new chunk size
    or chunker version re-indexes it instead of leaving old chunks behind."""
    return hashlib.sha1(f"{text_hash}:{LAYOUT_VERSION}:{chunk_size}".encode()).hexdigest()[:16]


def _embed_text(chunk: Document) -> str:
    head = context_line(chunk.metadata)
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

    def token_memo(self) -> _TokenMemo | None:
        """The token lists saved by the last build, unless the tokeniser has changed since."""
        try:
            meta = json.loads((self.path / "meta.json").read_text())
            if meta.get("tokenizer") != _tokenizer_fingerprint():
                return None
            arrays = np.load(self.path / "tokens.npz")
            ids = json.loads((self.path / "ids.json").read_text())
            vocab = json.loads((self.path / "tokens-vocab.json").read_text())
            return _TokenMemo(rows={cid: row for row, cid in enumerate(ids)}, titles=arrays["titles"],
                              indptr=arrays["indptr"], tids=arrays["tids"], vocab=vocab)
        except (OSError, ValueError, KeyError):
            return None

    def build(self, ids: list[str], tokens: list[list[str]], *, stamp: str, titles: list[str] | None = None) -> None:
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
            if titles is not None:
                _save_token_memo(tmp, tokens, titles)
            (tmp / "meta.json").write_text(json.dumps({"stamp": stamp, "tokenizer": _tokenizer_fingerprint()}))
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
        scores = np.asarray(self.model.get_scores(known))
        # Only chunks sharing a term can score, so select among those: numpy's
        # partition of 100k scores, mostly tied zeros, takes ~14 ms; this <1 ms.
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            kth = np.partition(scores[hits], len(hits) - k)[len(hits) - k]
            above, tied = hits[scores[hits] > kth], hits[scores[hits] == kth]
            hits = np.concatenate([above, tied[: k - len(above)]])
        hits = hits[np.lexsort((hits, -scores[hits]))]  # best first; equal scores in index order
        return [(str(self.ids[d]), float(scores[d])) for d in hits]

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


@dataclass
class _TokenMemo:
    """Each chunk's tokens from the last BM25 build, on disk as token ids (read only while rebuilding)."""

    rows: dict[str, int]
    titles: np.ndarray
    indptr: np.ndarray
    tids: np.ndarray
    vocab: list[str]

    def get(self, chunk_id: str, title: str) -> list[str] | None:
        """The chunk's tokens, or None when it is new or its title changed."""
        row = self.rows.get(chunk_id)
        if row is None or int(self.titles[row]) != zlib.crc32(title.encode()):
            return None
        return [self.vocab[t] for t in self.tids[self.indptr[row] : self.indptr[row + 1]].tolist()]


def _save_token_memo(folder: Path, tokens: list[list[str]], titles: list[str]) -> None:
    vocab: dict[str, int] = {}
    flat = [vocab.setdefault(t, len(vocab)) for chunk in tokens for t in chunk]
    indptr = np.zeros(len(tokens) + 1, dtype=np.int64)
    np.cumsum([len(chunk) for chunk in tokens], out=indptr[1:])
    np.savez(folder / "tokens.npz", indptr=indptr, tids=np.asarray(flat, dtype=np.int32),
             titles=np.array([zlib.crc32(t.encode()) for t in titles], dtype=np.uint32))
    (folder / "tokens-vocab.json").write_text(json.dumps(list(vocab), ensure_ascii=False))


def _tokenizer_fingerprint() -> str:
    """Changes whenever saved tokens could be stale: the tokeniser's code, jieba or its dictionary."""
    import hashlib

    import jieba

    import bot.text

    jieba.dt.check_initialized()
    parts = [Path(bot.text.__file__).read_bytes(), jieba.__version__.encode(),
             f"{jieba.dt.total}:{len(jieba.dt.FREQ)}".encode()]
    return hashlib.sha1(b"\0".join(parts)).hexdigest()[:16]
