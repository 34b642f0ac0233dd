"""The systems compared: this engine (hybrid + extractive), its BM25 side alone, and the tutorial pipeline.

The baseline is what the LangChain RAG tutorial builds: ``RecursiveCharacterTextSplitter``
(1000/200) over each passage's text, ``langchain_chroma.Chroma`` with default
settings, ``similarity_search(k=4)``.  It gets the same ``E5Embeddings`` (and
embedding cache) as this engine, so only the pipeline differs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.bench.data import Passage, base_id
from bot.embeddings import E5Embeddings
from bot.engine import Engine
from bot.evaluation.matching import from_passage
from bot.settings import Settings

TUTORIAL_K = 4


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    doc_id: str

    def from_any(self, passage_ids: tuple[str, ...]) -> bool:
        """True when this chunk was cut from one of the passages (a re-used copy counts as its original)."""
        return from_passage(self.chunk_id, base_id(self.doc_id), passage_ids)


class Searcher(Protocol):
    name: str

    def search(self, question: str, k: int) -> list[Hit]: ...


def open_engine(settings: Settings, *, collection: str, cache: Path | None = None) -> Engine:
    """An engine on ``collection``; ``cache`` replaces the embedding cache (a fresh file makes every query a miss)."""
    if cache is not None:
        settings = settings.model_copy(update={"embedding_cache": cache})
    return Engine(settings, collection=collection)


class Ours:
    """Hybrid (or BM25-only) retrieval and the extractive answer of this engine."""

    def __init__(self, engine: Engine, *, mode: str = "hybrid") -> None:
        self.engine = engine
        self.mode = mode
        self.name = "ours" if mode == "hybrid" else f"ours ({mode} only)"
        self._retriever = engine.retriever(k=5, mode=mode)

    def search(self, question: str, k: int) -> list[Hit]:
        docs = self._retriever.search(question, k=k)
        return [Hit(chunk_id=str(d.metadata.get("chunk_id", d.id)), doc_id=str(d.metadata.get("doc_id", ""))) for d in docs]

    def answer(self, question: str):
        return self.engine.ask(question, mode=self.mode)

    def warm(self) -> None:
        """Open the index and load the model and BM25 before timing."""
        self.engine.index.ensure_bm25()
        self.engine.embeddings.embed_query_array("预热")


class TutorialBaseline:
    """RecursiveCharacterTextSplitter(1000, 200) + Chroma.similarity_search(k=4)."""

    name = "LangChain tutorial"

    def __init__(self, *, directory: Path, collection: str, embeddings: E5Embeddings) -> None:
        from langchain_chroma import Chroma

        self.embeddings = embeddings
        self.store = Chroma(collection_name=collection, embedding_function=embeddings,
                            persist_directory=str(directory))

    @staticmethod
    def split(passages: list[Passage]):
        """The tutorial's chunks, each keeping its passage id in the metadata."""
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        return splitter.create_documents([p.text for p in passages], metadatas=[{"passage_id": p.id} for p in passages])

    def build(self, passages: list[Passage]) -> tuple[int, float]:
        """Replace the collection's contents; returns (chunks, seconds)."""
        self.store.reset_collection()
        t0 = time.perf_counter()
        docs = self.split(passages)
        self.store.add_documents(docs)
        return len(docs), time.perf_counter() - t0

    def count(self) -> int:
        return self.store._collection.count()

    def search(self, question: str, k: int = TUTORIAL_K) -> list[Hit]:
        docs = self.store.similarity_search(question, k=k)
        return [Hit(chunk_id=str(d.id or ""), doc_id=str(d.metadata.get("passage_id", ""))) for d in docs]

    def warm(self) -> None:
        self.embeddings.embed_query_array("预热")
