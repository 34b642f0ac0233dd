"""The ingest plan: which loaded documents to embed, skip or remove.

Given what the loaders read and what the collection already holds, decide per
document: unchanged (same layout hash and a complete set of chunks — nothing
is embedded), new or changed (split into chunks to write), a copy of another
document's text (reported, not indexed twice), or gone (its file was deleted;
a file that failed to load keeps its chunks).  ``bot.index`` carries the plan
out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from bot.chunking import LAYOUT_VERSION, split_document
from bot.errors import DocumentError
from bot.loaders import LoadReport
from bot.structure import context_line

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


@dataclass
class IngestPlan:
    """What an ingest will write and remove.

    ``todo`` holds ``(document, its chunks, its indexed state or None)`` for
    every new or changed document; ``gone`` the documents whose files were
    deleted; ``copies`` indexed documents that became copies of another.
    """

    todo: list[tuple[Document, list[Document], dict | None]] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)

    @property
    def writes(self) -> bool:
        return bool(self.todo or self.gone or self.copies)


def plan_ingest(loaded: LoadReport, existing: dict[str, dict], *, paths: list[Path], prune: bool,
                chunk_size: int) -> tuple[IngestPlan, IngestReport]:
    """Compare what was loaded with what is indexed (``Index.documents()``) and decide what to do."""
    for doc in loaded.documents:
        doc.metadata["doc_hash"] = layout_hash(doc.metadata["doc_hash"], chunk_size)
    report = IngestReport(files=loaded.files, documents=len(loaded.documents), errors=loaded.errors)
    gone = prunable(existing, loaded, paths) if prune else []
    docs, copies = skip_copies(dedupe(loaded.documents, existing, set(gone), report), existing, set(gone), report)
    plan = IngestPlan(gone=gone, copies=copies)
    for doc in docs:
        state = existing.get(doc.metadata["doc_id"])
        if state and state["hashes"] == {doc.metadata["doc_hash"]} and state["chunks"] == state.get("doc_chunks"):
            report.unchanged.append(doc.metadata["doc_id"])
            continue
        plan.todo.append((doc, split_document(doc, size=chunk_size), state))
    return plan, report


def prunable(existing: dict, loaded: LoadReport, paths: list[Path]) -> list[str]:
    """Indexed documents under ``paths`` whose files are gone (a file that failed to load keeps its chunks)."""
    kept = {d.metadata["doc_id"] for d in loaded.documents}
    failed = {str(e.path.resolve()) for e in loaded.errors}  # e.path is the file; a bad line's number is e.line
    roots = [p.resolve() for p in paths]
    gone = []
    for doc_id, state in existing.items():
        src = state.get("path")
        if doc_id in kept or not src or str(Path(src).resolve()) in failed:
            continue
        if any(inside(Path(src), r) for r in roots):
            gone.append(doc_id)
    return gone


def inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def dedupe(docs: list[Document], existing: dict[str, dict], gone: set[str], report: IngestReport) -> list[Document]:
    """One document per id, and never one that silently replaces another file's document.

    An id stays with the file it is indexed from while that file exists: a
    document from another file with the same id (a ``.jsonl`` passage id
    such as "1", or one naming a bundled document) is refused and reported,
    per file.  Between new documents, one whose id is its own file's path
    goes before a passage that names it, else the first found keeps the id.
    """
    owners = {did: str(state["path"]) for did, state in existing.items() if did not in gone and state.get("path")}

    def owns(doc: Document) -> bool:
        return _same_file(owners.get(doc.metadata["doc_id"]), doc.metadata.get("path"))

    taken: dict[str, str] = {}
    refused: dict[tuple[str, str], list[str]] = {}
    keep: set[int] = set()
    def passage(doc: Document) -> bool:
        return str(doc.metadata.get("path", "")).lower().endswith(".jsonl")

    for doc in sorted(docs, key=lambda d: (not owns(d), passage(d))):  # a stable sort
        did, path = doc.metadata["doc_id"], str(doc.metadata.get("path", doc.metadata["doc_id"]))
        owner = taken.get(did)
        if owner is None and did in owners and not owns(doc) and Path(owners[did]).exists():
            owner = owners[did]
        if owner is not None:
            refused.setdefault((path, owner), []).append(did)
            continue
        taken[did] = path
        keep.add(id(doc))
    for (path, owner), ids in refused.items():
        named = ", ".join(f"'{i}'" for i in ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        what = f"document id {named} is" if len(ids) == 1 else f"{len(ids)} ids ({named}) are"
        report.errors.append(DocumentError(path, f"{what} already used by {owner} — not indexed, so that document "
                                                 "is not overwritten; rename one of them (in a .jsonl, give the "
                                                 "passages ids of their own)"))
    return [d for d in docs if id(d) in keep]


def _same_file(a: str | Path | None, b: str | Path | None) -> bool:
    if not a or not b:
        return False
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def skip_copies(docs: list[Document], existing: dict, gone: set[str],
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


def groups(todo: list, size: int) -> Iterator[list]:
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


def layout_hash(text_hash: str, chunk_size: int) -> str:
    """A document's hash as indexed: its text plus how it was cut, so a new chunk size
    or chunker version re-indexes it instead of leaving old chunks behind."""
    return hashlib.sha1(f"{text_hash}:{LAYOUT_VERSION}:{chunk_size}".encode()).hexdigest()[:16]


def embed_text(chunk: Document) -> str:
    head = context_line(chunk.metadata)  # title + heading; for an article, title + path
    return f"{head}\n{chunk.page_content}" if head else chunk.page_content
