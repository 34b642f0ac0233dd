"""The keyword side of the index: BM25 over jieba tokens, saved beside the data.

``Bm25Index`` holds token postings and chunk ids only (texts stay in Chroma);
each build also saves every chunk's tokens (the token memo), so the next
build re-tokenises only new or changed chunks while the tokenizer's
fingerprint is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_tokenizer_loading: threading.Thread | None = None


def load_tokenizer_in_background() -> None:
    """Start loading jieba's dictionary (~0.6 s) while Chroma opens, so the first question waits less."""
    global _tokenizer_loading
    if _tokenizer_loading is None:
        import jieba

        _tokenizer_loading = threading.Thread(target=jieba.initialize, name="jieba-load", daemon=True)
        _tokenizer_loading.start()



@dataclass(frozen=True)
class _Snapshot:
    """One built keyword index: never changed once made, replaced whole (so readers never see half of one)."""

    model: Any  # bm25s.BM25, or None when there are no chunks
    ids: np.ndarray
    stamp: str | None


_EMPTY = _Snapshot(model=None, ids=np.array([], dtype=object), stamp=None)


class Bm25Index:
    """bm25s over jieba tokens, saved beside the data; holds ids, not texts.

    Safe to share between threads: ``build`` and ``load_if_matches`` make a
    whole new snapshot and swap it in with one assignment; ``search`` and
    ``idf`` read one snapshot.  A build is saved to a fresh temporary folder
    and moved into place under a file lock, so concurrent builders (threads
    or processes) never write into the same folder.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._snap = _EMPTY
        self._pinyin: tuple[_Snapshot, dict[str, tuple[str, ...]]] = (_EMPTY, {})
        self._pinyin_lock = threading.Lock()

    @property
    def stamp(self) -> str | None:
        """The collection stamp this index was built for (None before the first load)."""
        return self._snap.stamp

    @property
    def ids(self) -> np.ndarray:
        return self._snap.ids

    @property
    def model(self) -> Any:
        return self._snap.model

    @property
    def loaded(self) -> bool:
        return self._snap.stamp is not None

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

    def _lock(self) -> Any:
        from filelock import FileLock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.path.with_name(self.path.name + ".lock")))

    def load_if_matches(self, stamp: str) -> bool:
        """Use the saved index if it was built for ``stamp``."""
        if self.stamp == stamp:
            return True
        if not stamp or self._saved_stamp() != stamp:
            return False
        import bm25s

        try:
            with self._lock():
                if self._saved_stamp() != stamp:
                    return False
                model = bm25s.BM25.load(str(self.path / "model"), mmap=True, show_progress=False)
                ids = np.array(json.loads((self.path / "ids.json").read_text()), dtype=object)
        except (OSError, ValueError):
            return False
        self._snap = _Snapshot(model=model, ids=ids, stamp=stamp)
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
        """Index ``tokens`` (one list per chunk id), save it for ``stamp``, then swap it in."""
        import bm25s

        model = None
        if ids:
            model = bm25s.BM25()
            model.index(tokens, show_progress=False)
        snap = _Snapshot(model=model, ids=np.array(ids, dtype=object), stamp=stamp)
        if stamp and model is not None:
            self._save(snap, tokens, titles)
        self._snap = snap

    def _save(self, snap: _Snapshot, tokens: list[list[str]], titles: list[str] | None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"{self.path.name}.", suffix=".tmp", dir=self.path.parent))
        try:
            snap.model.save(str(tmp / "model"), show_progress=False)
            (tmp / "ids.json").write_text(json.dumps(snap.ids.tolist(), ensure_ascii=False))
            if titles is not None:
                _save_token_memo(tmp, tokens, titles)
            (tmp / "meta.json").write_text(json.dumps({"stamp": snap.stamp, "tokenizer": _tokenizer_fingerprint()}))
            with self._lock():
                old = self.path.with_name(f"{self.path.name}.{uuid.uuid4().hex}.old")
                if self.path.exists():
                    self.path.rename(old)  # readers with the old files mapped keep reading them
                tmp.rename(self.path)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # only left when something failed before the move
        self._remove_leftovers()

    def _remove_leftovers(self, *, older_than: float = 3600.0) -> None:
        """Folders a killed build left behind (a build in progress is younger than this)."""
        for left in self.path.parent.glob(f"{self.path.name}.*"):
            try:
                if left.is_dir() and left.suffix in (".tmp", ".old") and time.time() - left.stat().st_mtime > older_than:
                    shutil.rmtree(left, ignore_errors=True)
            except OSError:
                continue

    def search(self, tokens: list[str], k: int) -> list[tuple[str, float]]:
        """``(chunk_id, BM25 score)`` of the best ``k`` chunks sharing a term with ``tokens``."""
        snap = self._snap
        if snap.model is None or not len(snap.ids):
            return []
        vocab = snap.model.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return []
        scores = np.asarray(snap.model.get_scores(known))
        # Only chunks sharing a term can score, so select among those: numpy's
        # partition of 100k scores, mostly tied zeros, takes ~14 ms; this <1 ms.
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            kth = np.partition(scores[hits], len(hits) - k)[len(hits) - k]
            above, tied = hits[scores[hits] > kth], hits[scores[hits] == kth]
            hits = np.concatenate([above, tied[: k - len(above)]])
        hits = hits[np.lexsort((hits, -scores[hits]))]  # best first; equal scores in index order
        return [(str(snap.ids[d]), float(scores[d])) for d in hits]

    def spelt(self, key: str) -> tuple[str, ...]:
        """The index's Chinese words whose pinyin is ``key`` (``crosslingual.pinyin_key``): how an English
        question's romanised names are found.  The lookup is built at first use for each snapshot."""
        from bot.crosslingual import pinyin_index

        snap = self._snap
        if snap.model is None:
            return ()
        with self._pinyin_lock:
            if self._pinyin[0] is not snap:
                self._pinyin = (snap, pinyin_index(snap.model.vocab_dict))
            return self._pinyin[1].get(key, ())

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token (0 when unknown)."""
        snap = self._snap
        if snap.model is None:
            return 0.0
        tid = snap.model.vocab_dict.get(token)
        if tid is None:
            return 0.0
        df = int(snap.model.scores["indptr"][tid + 1] - snap.model.scores["indptr"][tid])
        n = max(len(snap.ids), 1)
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
    import jieba

    import bot.text

    jieba.dt.check_initialized()
    parts = [Path(bot.text.__file__).read_bytes(), jieba.__version__.encode(),
             f"{jieba.dt.total}:{len(jieba.dt.FREQ)}".encode()]
    return hashlib.sha1(b"\0".join(parts)).hexdigest()[:16]
