"""Chunks waiting for their vectors: searchable by keyword while a large ingest embeds them.

A large ingest (``BOT_KEYWORD_FIRST_CHUNKS`` new chunks or more; a small one embeds them directly, since a
separate keyword pass would only add its own time) first writes every new chunk here (SQLite beside the data) and builds the keyword index over
Chroma's chunks plus these, so questions find them by keyword within a minute or two; it then embeds them batch
by batch, and each batch leaves this table as it enters Chroma.  A killed ingest leaves the rest here (still
keyword-searchable) and the next ingest carries on: vectors already computed come from the embedding cache, so
at most one batch of work is lost.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from langchain_core.documents import Document


class PendingChunks:
    """Thread- and process-safe SQLite table of chunks (id, text, metadata) not yet in Chroma."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS chunk (id TEXT PRIMARY KEY, text TEXT NOT NULL, meta TEXT NOT NULL)")
            db.commit()
            self._db = db
        return self._db

    def put_many(self, chunks: Sequence[Document]) -> None:
        """Add (or replace) chunks, keyed by their ``chunk_id``."""
        rows = [(c.metadata["chunk_id"], c.page_content, json.dumps(c.metadata, ensure_ascii=False)) for c in chunks]
        with self._lock:
            db = self._conn()
            db.executemany("INSERT OR REPLACE INTO chunk (id, text, meta) VALUES (?, ?, ?)", rows)
            db.commit()

    def delete(self, ids: Sequence[str]) -> None:
        """Forget chunks (they are in Chroma now, or their document is gone)."""
        if not ids or not self.path.exists():
            return
        with self._lock:
            db = self._conn()
            db.executemany("DELETE FROM chunk WHERE id = ?", [(i,) for i in ids])
            db.commit()

    def clear(self) -> int:
        """Forget every pending chunk; returns how many there were."""
        n = self.count()
        if n:
            with self._lock:
                db = self._conn()
                db.execute("DELETE FROM chunk")
                db.commit()
        return n

    def delete_document(self, doc_id: str) -> int:
        """Forget one document's pending chunks; returns how many."""
        if not self.path.exists():
            return 0
        with self._lock:
            db = self._conn()
            n = db.execute("DELETE FROM chunk WHERE json_extract(meta, '$.doc_id') = ?", (doc_id,)).rowcount
            db.commit()
        return int(n)

    def get(self, ids: Sequence[str]) -> dict[str, Document]:
        """Pending chunks by id (others are left out)."""
        if not ids or not self.path.exists():
            return {}
        out: dict[str, Document] = {}
        with self._lock:
            db = self._conn()
            for b in range(0, len(ids), 500):
                part = list(ids[b : b + 500])
                marks = ",".join("?" * len(part))
                for cid, text, meta in db.execute(f"SELECT id, text, meta FROM chunk WHERE id IN ({marks})", part):
                    out[cid] = Document(page_content=text, metadata=json.loads(meta), id=cid)
        return out

    def count(self) -> int:
        """Chunks still waiting for their vectors."""
        if not self.path.exists():
            return 0
        with self._lock:
            return int(self._conn().execute("SELECT COUNT(*) FROM chunk").fetchone()[0])

    def items(self) -> Iterator[tuple[str, str, dict]]:
        """Every pending chunk: ``(id, text, metadata)``."""
        if not self.path.exists():
            return
        with self._lock:
            rows = self._conn().execute("SELECT id, text, meta FROM chunk ORDER BY id").fetchall()
        for cid, text, meta in rows:
            yield cid, text, json.loads(meta)
