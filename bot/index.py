"""The index: chunks in Chroma (dense) plus their BM25 twin (``bot.keyword``).

Chroma is the source of truth: every chunk carries its document's hash and
chunk count, so an ingest can tell an unchanged document (skip, embed
nothing), a changed one (upsert new chunks, then delete the stale ones) and a
half-written one left by a killed run (redo it); ``bot.ingest`` makes that
plan, this module carries it out.  The BM25 side keeps only
token postings and chunk ids; chunk texts are read back from Chroma.
Every failure inside Chroma (a stopped server, a damaged store) surfaces as
``IndexError_``; a restarted server is used again without reopening anything.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.documents import Document

from bot.chunking import CREDITS, is_credit
from bot.deadlines import bound_chroma_http
from bot.embeddings import E5Embeddings, EmbedStats
from bot.errors import BotError, IndexBusyError, IndexError_
from bot.ingest import IngestReport, ProgressFactory, embed_text, groups, inside, plan_ingest
from bot.keyword import Bm25Index, load_tokenizer_in_background
from bot.loaders import load_paths
from bot.pending import PendingChunks
from bot.settings import Settings
from bot.structure import context_line
from bot.text import tokenize

_PAGE = 2000
# Chunks embedded and written together: short documents (one passage each)
# share a model call, and a larger group sorts into batches of more even length
# (statute articles: 110 chunks/s in groups of 256 vs 88 in groups of 16).
# A killed ingest loses at most one group (about 2 s of embedding).
_WRITE_BATCH = 256

__all__ = ["Index", "IngestReport", "ProgressFactory", "make_client"]


def make_client(settings: Settings):
    """An embedded ``PersistentClient`` or an ``HttpClient`` for ``chroma run``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.server_mode:
        try:
            client = chromadb.HttpClient(host=str(settings.chroma_host), port=settings.chroma_port, settings=chroma_settings)
            bound_chroma_http(client, settings.chroma_timeout)  # chromadb sets none: a frozen server blocked forever
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
        load_tokenizer_in_background()
        embeddings.load_in_background()
        self.settings = settings
        self.embeddings = embeddings
        self.name = collection or settings.collection
        self._own_client = client is None  # a client we made ourselves may be reopened (see ``refresh``)
        self._open(client or make_client(settings))
        where = f"{settings.chroma_host}_{settings.chroma_port}" if settings.server_mode else "local"
        self.bm25 = Bm25Index(settings.data_dir / "bm25" / where / self.name)
        self.pending = PendingChunks(settings.data_dir / "pending" / where / f"{self.name}.sqlite3")
        self._bm25_lock = threading.Lock()  # one keyword-index build at a time; readers never wait for it
        self._view_lock = threading.Lock()
        self._writing = 0  # > 0 while this object writes: its own ingest brings everything up to date at the end
        self._seen_stamp = self._stamp()  # the collection stamp this object's view of Chroma is current with

    def _open(self, client: Any) -> None:
        from langchain_chroma import Chroma

        self.client = client
        try:
            self.store = Chroma(client=self.client, collection_name=self.name, embedding_function=self.embeddings,
                                collection_configuration={"hnsw": {"space": "cosine"}})
        except Exception as err:
            raise IndexError_(f"cannot open Chroma collection '{self.name}' ({err}) — check BOT_COLLECTION") from err
        self.collection: Any = self.store._collection  # chromadb's result types are all Optional; checked at run time

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
        """Chunks by id, from Chroma or else from those still waiting for vectors (missing ids are left out)."""
        if not ids:
            return {}
        with self._chroma("reading chunks"):
            res = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        found = {i: Document(page_content=t, metadata=m or {}, id=i)
                 for i, t, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True)}
        if len(found) < len(set(ids)):
            found.update(self.pending.get([i for i in ids if i not in found]))
        return found

    def pending_count(self) -> int:
        """Chunks found by keyword but not yet by meaning (an ingest is embedding them, or was interrupted)."""
        return self.pending.count()

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

    def credits(self, doc_ids: Sequence[str]) -> list[Document]:
        """The byline and caption chunks of ``doc_ids``, document by document in the order given, each in text order."""
        if not doc_ids:
            return []
        with self._chroma("reading credits"):
            res = self.collection.get(where={"$and": [{"doc_id": {"$in": list(doc_ids)}}, {"part": CREDITS}]},
                                      include=["documents", "metadatas"])
        found = [Document(page_content=t, metadata=m or {}, id=i)
                 for i, t, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True)]
        place = {d: n for n, d in enumerate(doc_ids)}
        return sorted(found, key=lambda c: (place.get(str(c.metadata.get("doc_id")), len(place)),
                                            int(c.metadata.get("start", 0))))

    def article_text(self, doc_id: str, article: str) -> tuple[str, int] | None:
        """A whole article (all its pieces) and its offset in the document text; None when not indexed."""
        with self._chroma("reading an article"):
            res = self.collection.get(where={"$and": [{"doc_id": doc_id}, {"article": article}]},
                                      include=["documents", "metadatas"])
        parts = sorted(zip(res["metadatas"], res["documents"], strict=True), key=lambda p: p[0]["start"])
        if not parts:
            return None
        base = int(parts[0][0]["start"])
        text = ""
        for meta, body in parts:
            text += "\n" * max(0, int(meta["start"]) - base - len(text)) + body
        return text, base

    # ---- dense + keyword search ------------------------------------------------------------------

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """``(chunk_id, cosine similarity)`` of the ``k`` nearest chunks."""
        # No count() first: an empty collection answers with no hits, and
        # counting 100k chunks costs more than the search itself.
        with self._chroma("searching"):
            res = self.collection.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=k,
                                        include=["distances"])
        hits = [(i, round(1.0 - float(d), 6)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)
                if not is_credit(i)]  # bylines and captions are read only for a question about credits
        # near-ties come back from the approximate search in varying order: fix it
        return sorted(hits, key=lambda h: (-h[1], h[0]))

    def keyword_search(self, query: str, k: int) -> list[tuple[str, float]]:
        """``(chunk_id, BM25 score)`` for the best ``k`` keyword matches."""
        self.ensure_bm25(wait=False)
        return self.bm25.search(tokenize(query), k)

    # ---- writing -----------------------------------------------------------------------------------

    def ingest(self, paths: Sequence[Path] | None = None, *, root: Path | None = None, prune: bool | None = None,
               progress: ProgressFactory | None = None) -> IngestReport:
        """Load, chunk, embed and store; unchanged documents are skipped.

        With no ``paths`` the corpus folder is ingested and documents whose
        files are gone are pruned.  A file that fails to load is reported and
        its previously indexed chunks are kept.
        """
        started = time.perf_counter()
        with self._write_lock():
            self._catch_up()
            report = self._ingest_locked(paths, root=root, prune=prune, progress=progress)
        report.seconds = time.perf_counter() - started
        return report

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        """The collection's write lock, across processes: one ingest or delete at a time."""
        from filelock import FileLock, Timeout

        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.settings.data_dir / f"ingest-{self.name}.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout as err:
            raise IndexBusyError(
                f"another ingest is running on collection '{self.name}' (lock {lock.lock_file}) — wait for it to finish"
            ) from err
        self._writing += 1
        try:
            yield
        finally:
            self._writing -= 1
            lock.release()

    def _catch_up(self) -> None:
        """Before writing: see what other processes wrote since this view was opened."""
        stamp = self._stamp()
        if stamp != self._seen_stamp:
            with self._view_lock:
                self._reopen()
                self._seen_stamp = stamp

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
            root = corpus if all(inside(p, corpus) for p in paths) else (paths[0] if paths[0].is_dir() else paths[0].parent)
        existing = self.documents()
        # Chunks a killed ingest left waiting: this plan re-adds those still wanted (their vectors are cached).
        had_pending = self.pending.clear()
        plan, report = plan_ingest(load_paths(paths, root=root), existing, paths=paths, prune=bool(prune),
                                   chunk_size=self.settings.chunk_size)
        if plan.writes:
            # Before the first write: a run killed from here on leaves a stamp
            # no saved BM25 index matches, so the next run rebuilds it.
            self._mark_changed()
        if sum(len(chunks) for _doc, chunks, _state in plan.todo) >= self.settings.keyword_first_chunks:
            self._keyword_first(plan.todo, progress)
        self._write(plan.todo, report, progress)
        self._delete_documents([*plan.gone, *plan.copies], existing, report)
        if report.changed or had_pending or not self.bm25.matches(self._stamp()):
            self._mark_changed()
            self.ensure_bm25(progress=progress)
        report.chunks_total = self.count()
        return report

    def _keyword_first(self, todo, progress) -> None:
        """Make the new chunks searchable by keyword before embedding them (a large ingest takes a while)."""
        started = time.perf_counter()
        self.pending.put_many([c for _doc, chunks, _state in todo for c in chunks])
        self._mark_changed()
        self.ensure_bm25(progress=progress)
        if progress:
            bar = progress(total=0, desc=f"keyword search ready after {time.perf_counter() - started:.0f} s; "
                           "embedding the chunks now", unit="chunk")
            bar.close()

    def _write(self, todo, report: IngestReport, progress) -> None:
        total = sum(len(chunks) for _doc, chunks, _state in todo)
        bar = progress(total=total, desc="embedding chunks", unit="chunk") if progress and total else None
        docs_done = 0
        stats = EmbedStats()  # this ingest's own counts: a question asked meanwhile does not touch them
        try:
            for group in groups(todo, _WRITE_BATCH):
                chunks = [c for _doc, doc_chunks, _state in group for c in doc_chunks]
                vectors = self.embeddings.embed_passages([embed_text(c) for c in chunks],
                                                         progress=bar.update if bar else None, stats=stats)
                report.chunks_embedded = stats.encoded
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
                self.pending.delete(ids)
                for doc, _chunks, state in group:
                    (report.updated if state else report.added).append(doc.metadata["doc_id"])
                docs_done += len(group)
                postfix = getattr(bar, "set_postfix_str", None)  # tqdm: documents beside the chunk count and ETA
                if postfix:
                    postfix(f"{docs_done}/{len(todo)} documents", refresh=False)
        finally:
            if bar:
                bar.close()

    def _delete_documents(self, doc_ids: list[str], existing: dict, report: IngestReport) -> None:
        for doc_id in doc_ids:
            with self._chroma("removing a document"):
                self.collection.delete(ids=existing[doc_id]["ids"])
            report.removed.append(doc_id)

    def delete_document(self, doc_id: str) -> int:
        """Remove one document's chunks; returns how many were removed.

        The keyword index is rebuilt before this returns, so no question
        asked afterwards finds the document on either side.
        """
        with self._write_lock():
            self._catch_up()
            with self._chroma("removing a document"):
                res = self.collection.get(where={"doc_id": doc_id}, include=[])
            if self.pending.delete_document(doc_id) and not res["ids"]:
                self._mark_changed()
                self.ensure_bm25()
            if not res["ids"]:
                return 0
            self._mark_changed()
            with self._chroma("removing a document"):
                self.collection.delete(ids=res["ids"])
            self._mark_changed()
            self.ensure_bm25()
        return len(res["ids"])

    # ---- freshness -------------------------------------------------------------------------------------

    def _stamp(self) -> str:
        """The collection's change stamp, read from Chroma now (one small metadata read)."""
        with self._chroma("reading the collection"):
            return str((self.client.get_collection(self.name).metadata or {}).get("bm25_stamp", ""))

    def _mark_changed(self) -> None:
        with self._chroma("marking the index changed"):
            stamp = uuid.uuid4().hex
            self.collection.modify(metadata={"bm25_stamp": stamp})
        self._refresh_collection()
        self._seen_stamp = stamp  # our own writes are in our own view

    def _refresh_collection(self) -> None:
        with self._chroma("opening the collection"):
            self.collection = self.client.get_collection(self.name)
        self.store._chroma_collection = self.collection

    def refresh(self) -> None:
        """Catch up with writes made through another client or process (cheap when nothing changed).

        Every question calls this: when the collection's stamp moved, the
        embedded store is reopened (a ``PersistentClient`` keeps an in-memory
        view that does not see another process's new vectors) and the keyword
        index is reloaded or rebuilt.
        """
        if self._writing:
            return
        stamp = self._stamp()
        if stamp != self._seen_stamp:
            with self._view_lock:
                if stamp != self._seen_stamp and not self._writing:
                    self._reopen()
                    self._seen_stamp = stamp
        self.ensure_bm25(stamp=stamp)

    def _reopen(self) -> None:
        if self._own_client and not self.settings.server_mode:
            from chromadb.api.shared_system_client import SharedSystemClient

            # chromadb shares one in-memory system per path and process; drop it so the new client
            # reads the store afresh (clients still holding the old one keep working)
            SharedSystemClient._identifier_to_system.pop(str(self.settings.data_dir / "chroma"), None)
            self._open(make_client(self.settings))
        else:
            self._refresh_collection()

    def ensure_bm25(self, *, progress: ProgressFactory | None = None, stamp: str | None = None,
                    wait: bool = True) -> None:
        """Make the keyword index match the collection's stamp: load the saved one or build a new one.

        A new index is built fully and then swapped in, one build at a time.
        With ``wait=False`` (questions) an index already loaded keeps serving
        while another thread builds or this object writes.
        """
        if not wait and self.bm25.loaded and self._writing:
            return
        stamp = self._stamp() if stamp is None else stamp
        if self.bm25.stamp == stamp:
            return
        if not self._bm25_lock.acquire(blocking=wait or not self.bm25.loaded):
            return  # another thread is building; the current index serves meanwhile
        try:
            if self.bm25.stamp != stamp and not self.bm25.load_if_matches(stamp):
                self._build_bm25(stamp, progress)
        finally:
            self._bm25_lock.release()

    def _build_bm25(self, stamp: str, progress: ProgressFactory | None) -> None:
        total = self.count() + self.pending.count()
        bar = progress(total=total, desc="keyword index", unit="chunk") if progress and total else None
        # Chunks already tokenised by the last build keep their tokens, so an
        # edit re-tokenises only its own chunks, not the whole collection.
        memo = self.bm25.token_memo()
        ids: list[str] = []
        titles: list[str] = []
        tokens: list[list[str]] = []
        missing: list[int] = []
        for cid, text, meta in self.iter_all(include=("metadatas",) if memo else ("documents", "metadatas")):
            if is_credit(cid):  # not searched by keyword: their words would shift the body's statistics
                continue
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
        in_chroma = set(ids)
        for cid, text, meta in self.pending.items():  # chunks an ingest has not embedded yet
            if cid in in_chroma or is_credit(cid):
                continue
            title = meta.get("title", "")
            tokens.append((memo.get(cid, title) if memo else None) or tokenize(f"{title} {text}"))
            ids.append(cid)
            titles.append(title)
            if bar:
                bar.update(1)
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

    def invalidate(self) -> None:
        """Catch up now with writes made elsewhere (``refresh``)."""
        self.refresh()
