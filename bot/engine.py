"""The engine's public API: ``Engine.ingest``, ``Engine.ask``, ``Engine.stream``.

The answer chain is a LangChain ``Runnable`` — condense → retrieve → answer →
verify — so ``invoke``, ``batch`` and callbacks work; ``Engine.stream`` adds
token streaming for the chat UI.  One ``Engine`` is safe to share between
threads (Streamlit sessions share one).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.runnables import Runnable, RunnableLambda

from bot import credits, query_adapter
from bot.answer import Answer, Retrieved
from bot.citations import make_citation, renumber_markers, verify
from bot.conversation import History, carry_over, is_followup, previous_question
from bot.embeddings import E5Embeddings
from bot.engines import Reply, engine_class
from bot.extractive import ExtractiveAnswerer
from bot.index import Index
from bot.ingest import IngestReport, ProgressFactory
from bot.retriever import HybridRetriever
from bot.settings import Settings
from bot.structure import article_name
from bot.text import is_cjk

REFUSAL = {
    "zh": "抱歉，现有资料中没有找到能回答这个问题的依据，因此无法回答。",
    "en": "Sorry — the documents I have do not contain a basis for answering this question.",
}
EMPTY = {"zh": "请输入一个问题。", "en": "Please type a question."}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")  # and lone surrogates (bad UTF-8)


def language(text: str) -> str:
    """``zh`` for Chinese questions, ``en`` otherwise."""
    return "zh" if is_cjk(text) or not re.search(r"[A-Za-z]", text) else "en"


class Engine:
    """Index + retriever + answer chain, built from ``Settings``."""

    def __init__(self, settings: Settings | None = None, *, collection: str | None = None, client: Any = None) -> None:
        self.settings = settings or Settings()
        self.collection_name = collection or self.settings.collection
        # the converted model lives beside the embedding cache (DATA_DIR/models/ unless the cache is shared)
        self.embeddings = E5Embeddings(cache_path=self.settings.embedding_cache_path, runtime=self.settings.embedder)
        self._client = client
        self._index: Index | None = None
        self._llm: Any = None
        self._lock = threading.RLock()
        self.chain: Runnable = (
            RunnableLambda(self._step_condense, name="condense")
            | RunnableLambda(self._step_retrieve, name="retrieve")
            | RunnableLambda(self._step_answer, name="answer")
            | RunnableLambda(self._step_verify, name="verify")
        )

    # ---- index ---------------------------------------------------------------------------------

    @property
    def index(self) -> Index:
        """The Chroma + BM25 index (opened on first use)."""
        if self._index is not None:
            return self._index  # no lock: questions never wait for an ingest holding it
        with self._lock:
            if self._index is None:
                self._index = Index(settings=self.settings, embeddings=self.embeddings,
                                    collection=self.collection_name, client=self._client)
            return self._index

    def ingest(self, paths: Sequence[Path] | None = None, *, root: Path | None = None, prune: bool | None = None,
               progress: ProgressFactory | None = None) -> IngestReport:
        """Incrementally index ``paths`` (default: the corpus folder)."""
        with self._lock:
            report = self.index.ingest(paths, root=root, prune=prune, progress=progress)
            self.index.invalidate()
            return report

    def ensure_index(self, *, progress: ProgressFactory | None = None) -> IngestReport | None:
        """Build the index from the corpus folder when it is empty (and no ingest is filling it)."""
        with self._lock:
            if self.index.count() == 0 and not self.index.pending_count():
                return self.ingest(progress=progress)
            return None

    def indexing_notice(self) -> str | None:
        """Says so while chunks are searchable by keyword only (a large ingest is still embedding them)."""
        waiting = self.index.pending_count()
        if not waiting:
            return None
        return (f"indexing is still running: {waiting} chunks are found by keyword only until they are embedded "
                "(if no ingest is running, 'python -m bot ingest' finishes the job)")

    def retriever(self, *, k: int | None = None, mode: str = "hybrid") -> HybridRetriever:
        """A LangChain retriever over this engine's index."""
        return HybridRetriever(index=self.index, k=k or self.settings.k, mode=mode,  # type: ignore[arg-type]
                               article_keyword_weight=self.settings.article_keyword_weight,
                               adapter=query_adapter.bundled() if self.settings.query_adapter else None)

    def answerer(self) -> ExtractiveAnswerer:
        """The extractive answerer over this index's keyword statistics."""
        self.index.ensure_bm25(wait=False)
        return ExtractiveAnswerer(idf=self.index.bm25.idf, embed_passages=self.embeddings.embed_passages,
                                  embed_query=self.embeddings.embed_query_array, dictionary_dir=self.settings.data_dir,
                                  read=self.embeddings.read, spelt=self.index.bm25.spelt)

    # ---- asking --------------------------------------------------------------------------------

    def ask(self, question: str, *, history: History | None = None, engine: str | None = None,
            k: int | None = None, mode: str = "hybrid") -> Answer:
        """Answer one question (with optional chat history)."""
        return self.chain.invoke({"question": question, "history": history or [], "engine": engine, "k": k,
                                  "mode": mode})

    def stream(self, question: str, *, history: History | None = None, engine: str | None = None) -> Iterator[str | Answer]:
        """Yield answer text as it is produced, then the verified ``Answer``.

        The same steps as ``ask``.  An engine that drafts (openai) yields its
        live draft (citation markers held back, since verification renumbers
        or removes them), which the final ``Answer`` replaces; for the others
        the verified text is yielded in pieces.
        """
        state = self._step_retrieve(self._step_condense({"question": question, "history": history or [],
                                                          "engine": engine}))
        drafting = state["answerer"].drafts and not state["done"] and bool(state["chunks"])
        for piece in self._answer(state):
            if drafting:
                yield piece
        answer = self._step_verify(state)
        if not drafting:
            yield from _pieces(answer.answer)
        yield answer

    # ---- chain steps -----------------------------------------------------------------------------

    def _step_condense(self, inp: dict) -> dict:
        t0 = time.perf_counter()
        question = _CONTROL.sub("", str(inp.get("question") or "")).strip()[: self.settings.max_question_chars]
        history = _clean_history(inp.get("history"), limit=self.settings.max_question_chars)
        answerer = engine_class(inp.get("engine") or self.settings.engine)(self)  # one per question
        state: dict[str, Any] = {"question": question, "history": history, "answerer": answerer, "timings": {},
                                 "k": inp.get("k") or self.settings.k, "mode": inp.get("mode") or "hybrid",
                                 "lang": language(question)}
        standalone = question
        if question and history and is_followup(question):
            carried = carry_over(question, history)[: self.settings.max_question_chars]
            standalone = answerer.condense(question, history, carried=carried)
        state["standalone"] = standalone
        state["done"] = not question
        state["timings"]["condense"] = _ms(t0)
        return state

    def _step_retrieve(self, state: dict) -> dict:
        if state["done"]:
            state["chunks"] = []
            return state
        t0 = time.perf_counter()
        self.index.refresh()  # another process may have ingested since the last question
        if self.index.count() == 0 and not self.index.pending_count():
            self.ensure_index()
        chunks = self.retriever(k=state["k"], mode=state["mode"]).search(state["standalone"])
        if credits.asked(state["standalone"]):  # the bylines and captions of the documents found, after them
            docs = list(dict.fromkeys(str(c.metadata.get("doc_id", "")) for c in chunks))
            chunks += self.index.credits(docs)
        state["chunks"] = chunks
        state["timings"]["retrieve"] = _ms(t0)
        return state

    def _step_answer(self, state: dict) -> dict:
        for _piece in self._answer(state):
            pass  # draft text is for streaming only
        return state

    def _answer(self, state: dict) -> Iterator[str]:
        """Run the question's engine: yield its draft pieces, keep its ``Reply`` in ``state``."""
        t0 = time.perf_counter()
        reply = Reply(refused=True, engine="extractive")  # an empty question
        if not state["done"]:
            for item in state["answerer"].answer(state["standalone"], state["chunks"], lang=state["lang"]):
                if isinstance(item, Reply):
                    reply = item
                else:
                    yield item
        state["reply"] = reply
        state["timings"]["answer"] = _ms(t0)

    def _step_verify(self, state: dict) -> Answer:
        t0 = time.perf_counter()
        reply: Reply = state["reply"]
        unshown = shown_only_verified(reply, state["chunks"]) if reply.engine == "extractive" else 0
        citations, renumber, dropped = verify(reply.claims, state["chunks"])
        text = renumber_markers(reply.text, renumber).strip()
        refused = reply.refused or not citations
        reason = reply.reason or ("empty question" if state["done"] else "no citation could be verified")
        if refused and not (reply.related and citations):  # "资料未提及…；资料中相关的内容是：…[1]" keeps its quote
            text = EMPTY[state["lang"]] if state["done"] else REFUSAL[state["lang"]]
            citations = []
        state["timings"]["verify"] = _ms(t0)
        state["timings"]["total"] = round(sum(state["timings"].values()), 2)
        return Answer(
            question=state["question"], standalone_question=state["standalone"], answer=text, refused=refused,
            engine=reply.engine or state["answerer"].name, citations=citations,
            retrieved=[_retrieved(c) for c in state["chunks"]], timings_ms=state["timings"],
            dropped_citations=dropped + reply.dropped + unshown, notice=reply.notice,
            refusal_reason=reason if refused else "",
            confidence=None if reply.confidence is None else round(reply.confidence, 3),
        )

    def chat_model(self) -> Any:
        """The endpoint's chat model, built once (raises ``LLMUnavailable`` when unconfigured)."""
        with self._lock:
            if self._llm is None:
                from bot.llm import make_chat_model

                self._llm = make_chat_model(self.settings)
            return self._llm

    # ---- documents -----------------------------------------------------------------------------

    def documents(self) -> list[dict]:
        """Indexed documents: id, title, date, type, chunk count."""
        docs = self.index.documents()
        keys = ("doc_id", "title", "source", "published", "type", "path")
        return sorted(({**{k: d.get(k, "") for k in keys}, "chunks": d["chunks"]} for d in docs.values()),
                      key=lambda d: d["doc_id"])

    def document_text(self, doc_id: str) -> str | None:
        """A document's full text as indexed (citation offsets point into it)."""
        return self.index.document_text(doc_id)

    def article_text(self, doc_id: str, article: str) -> tuple[str, int] | None:
        """A statute article in full (a long one is indexed in pieces) and its offset in the document text.

        ``article`` is a citation's ``《title》第N条`` or just ``第N条``.
        """
        return self.index.article_text(doc_id, article.rsplit("》", 1)[-1].strip())

    def delete_document(self, doc_id: str) -> int:
        with self._lock:
            return self.index.delete_document(doc_id)


def shown_only_verified(reply: Reply, chunks: list[Document]) -> int:
    """Rebuild an extractive answer from the quotes that verify: no sentence is shown without its citation.

    The text is an optional lead-in ("资料未提及…；资料中相关的内容是：") followed by ``quote[n]``
    pieces, each after its own short lead where it has one (the article it is from: "\n另见《…》第N条："); a piece
    whose quote is not in its chunk is left out with its lead, not shown uncited.  Returns how many were.
    """
    pos, leads = 0, []
    for claim in reply.claims:
        piece = f"{claim.quote}[{claim.n}]"
        at = reply.text.find(piece, pos)
        leads.append(reply.text[pos:at] if at >= 0 else "")
        pos = at + len(piece) if at >= 0 else pos
    verified = [(lead, c) for lead, c in zip(leads, reply.claims, strict=True) if make_citation(c, chunks, n=1)]
    unshown = len(reply.claims) - len(verified)
    reply.claims = [c for _lead, c in verified]
    first = leads[0] if leads else ""  # the answer's own lead-in stays in front
    reply.text = first + "".join((lead if i else "") + f"{c.quote}[{c.n}]" for i, (lead, c) in enumerate(verified)
                                 ) if verified else ""
    return unshown


def _clean_history(history: Any, *, limit: int) -> History:
    """Chat turns as ``(role, text)`` with known roles, text cleaned and cut like a question."""
    turns: History = []
    for turn in history or []:
        try:
            role, text = turn
        except (TypeError, ValueError):
            continue
        if role in ("user", "assistant") and isinstance(text, str) and text.strip():
            turns.append((role, _CONTROL.sub("", text).strip()[:limit]))
    return turns


def _retrieved(chunk: Document) -> Retrieved:
    meta = chunk.metadata
    return Retrieved(chunk_id=str(meta.get("chunk_id", chunk.id)), doc_id=str(meta.get("doc_id", "")),
                     text=chunk.page_content, score=float(meta.get("score") or 0.0), article=article_name(meta))


def _pieces(text: str, size: int = 8) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


__all__ = ["Engine", "language", "previous_question"]
