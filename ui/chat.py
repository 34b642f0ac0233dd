"""The chat page: ask, watch the answer arrive, check its sources, rate it."""

from __future__ import annotations

import functools
import html
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st
import yaml

from bot.answer import Answer, Citation
from bot.errors import BotError
from bot.feedback import Rating
from bot.settings import Settings
from ui import render, state
from ui.i18n import ingest_summary
from ui.state import StreamlitProgress, Turn, t

if TYPE_CHECKING:
    from bot.engine import Engine

_HINT_TITLES = 5
EXAMPLES = Path(__file__).with_name("example_questions.yaml")


def main() -> None:
    """Render the chat page."""
    cfg = state.settings()
    st.html(render.CSS)
    st.title(t("app_title"))
    st.caption(t("app_tagline"))
    # The input is drawn before anything slow so a first-time reader can start typing at once.
    prompt = st.chat_input(t("chat_placeholder"), max_chars=cfg.max_question_chars)
    engine = ready_engine(cfg)
    if engine is None:
        return
    conversation = state.conversation()
    for index, turn in enumerate(conversation.turns):
        with st.chat_message("user"):
            st.html(render.plain_html(turn.question))
        with st.chat_message("assistant"):
            show_turn(turn, index)
    question = prompt or st.session_state.pop("pending_question", None)
    if question:
        ask(engine, question)
    elif not conversation.turns:
        suggestions(cfg)


def ready_engine(cfg: Settings) -> Engine | None:
    """The shared engine, with the index built on the first run (spinner and progress bar meanwhile)."""
    try:
        with st.spinner(t("loading_engine")):
            engine = state.engine(cfg)
        if not state.index_ready(cfg):
            with st.spinner(t("building_index_start")):
                report = engine.ensure_index(progress=StreamlitProgress)
            state.mark_index_ready(cfg)
            if report is not None:
                state.forget_documents()
                st.toast(t("index_built", summary=ingest_summary(report, state.lang())))
                for err in report.errors:
                    st.warning(render.md_escape(err))
        waiting = engine.index.pending_count()
        if waiting:
            st.info(t("indexing_running", n=waiting))
        return engine
    except BotError as err:
        st.error(render.md_escape(err))
        return None


def suggestions(cfg: Settings) -> None:
    """A few example questions for an empty chat (clicking one asks it)."""
    docs = state.documents(cfg)
    if not docs:
        st.info(t("empty_corpus", path=render.md_escape(cfg.corpus_dir)))
        return
    questions = example_questions(state.lang(), title=docs[0]["title"])
    st.caption(t("suggest_title"))
    for i, question in enumerate(questions):
        st.button(render.md_escape(question), key=f"suggest-{i}", on_click=_pick, args=(question,))


def example_questions(lang: str, *, title: str | None) -> list[str]:
    """The general examples of ``EXAMPLES`` in ``lang``, plus one about the first indexed document."""
    entry = _examples().get(lang) or _examples()["zh"]
    return list(entry["general"]) + ([entry["document"].format(title=title)] if title else [])


@functools.cache
def _examples() -> dict:
    return yaml.safe_load(EXAMPLES.read_text(encoding="utf-8"))


def _pick(question: str) -> None:
    st.session_state["pending_question"] = question


def ask(engine: Engine, question: str) -> None:
    """Show the question, stream the answer, then its sources and feedback buttons."""
    conversation = state.conversation()
    with st.chat_message("user"):
        st.html(render.plain_html(question))
    with st.chat_message("assistant"):
        answer = stream_answer(engine, question, history=conversation.history())
        if answer is None:
            return
        conversation.turns.append(Turn(question=question, answer=answer))
        show_turn(conversation.turns[-1], len(conversation.turns) - 1)


def stream_answer(engine: Engine, question: str, *, history: list[tuple[str, str]]) -> Answer | None:
    """Draw the answer text as the engine produces it; returns the verified ``Answer``."""
    box = st.empty()
    box.caption(t("thinking"))
    text, answer = "", None
    try:
        for piece in engine.stream(question, history=history):
            if isinstance(piece, str):
                text += piece
                box.html(render.answer_html(text, streaming=True))
            else:
                answer = piece
    except BotError as err:
        box.error(render.md_escape(err))
        return None
    box.empty()
    return answer


def show_turn(turn: Turn, index: int) -> None:
    """An answer (or refusal) with its sources and feedback controls."""
    answer = turn.answer
    if answer.standalone_question and answer.standalone_question != answer.question:
        st.caption(t("searched_as", q=render.md_escape(answer.standalone_question)))
    if answer.notice:
        st.info(render.md_escape(answer.notice))
    if answer.refused and not answer.citations:
        st.html(render.refusal_html(answer.answer, coverage_hint()))
    else:  # an answer, or "资料未提及…；资料中相关的内容是：…[1]" (refused, citing related material)
        st.html(render.answer_html(answer.answer))
        sources(answer.citations, index)
    feedback(turn, index)


def coverage_hint() -> str:
    """What the corpus covers, for a refusal: the first indexed titles."""
    docs = state.documents()
    if not docs:
        return ""
    titles = "、".join(f"《{d['title'] or d['doc_id']}》" for d in docs[:_HINT_TITLES])
    if len(docs) > _HINT_TITLES:
        titles += t("refusal_hint_more", n=len(docs))
    return t("refusal_hint", titles=titles)


def sources(citations: list[Citation], index: int) -> None:
    """One expander per citation: the chunk with the quote highlighted, and a way to open the document."""
    if not citations:
        return
    st.caption(t("sources"))
    for c in citations:
        with st.expander(render.source_label(c)):
            if c.path:  # where the article sits: 总则 › 第二章 自然人 › 第五十四条
                st.caption(render.md_escape(c.path))
            st.html(article_html(c))
            if st.button(t("open_document"), key=f"doc-{index}-{c.n}"):
                document_dialog(c.doc_id, c.start, c.end, c.title or c.doc_id)


def article_html(c: Citation) -> str:
    """An article cited in full with the quote highlighted; any other source as its cited chunk."""
    if c.article:
        try:
            found = state.engine().article_text(c.doc_id, c.article)
        except BotError:
            found = None
        if found is not None:
            text, offset = found
            return render.highlight_html(text, c.start - offset, c.end - offset)
    return render.chunk_html(c)


@st.dialog(" ", width="large")
def document_dialog(doc_id: str, start: int, end: int, title: str) -> None:
    """The whole document with the cited span highlighted where it stands."""
    st.markdown(f"**{render.md_escape(title)}**")
    try:
        text = state.engine().document_text(doc_id)
    except BotError as err:
        st.error(render.md_escape(err))
        return
    if text is None:
        st.warning(t("document_missing"))
        return
    st.html(f'<a href="#pqa-cited">{html.escape(t("jump_to_quote"))}</a>' + render.document_html(text, start, end))
    st.html(render.SCROLL_TO_QUOTE, unsafe_allow_javascript=True)  # open at the quote, not at the top


def feedback(turn: Turn, index: int) -> None:
    """Helpful / not helpful / wrong source buttons, then an optional comment."""
    options: list[tuple[Rating, str]] = [("up", ":material/thumb_up:"), ("down", ":material/thumb_down:")]
    if not turn.answer.refused:
        options.append(("wrong_source", ":material/link_off:"))
    with st.container(horizontal=True, gap="small"):
        for rating, icon in options:
            st.button(t(f"fb_{rating}"), icon=icon, key=f"fb-{rating}-{index}",
                      type="primary" if turn.rating == rating else "secondary", on_click=_rate, args=(index, rating))
    if turn.feedback_id is None:
        return
    if turn.comment_saved:
        st.caption(t("fb_comment_saved"))
        return
    st.caption(t("fb_thanks"))
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
        st.text_input(t("fb_comment"), key=f"fb-comment-{index}", label_visibility="collapsed",
                      placeholder=t("fb_comment"))
        st.button(t("fb_comment_save"), key=f"fb-save-{index}", on_click=_comment, args=(index,))


def _rate(index: int, rating: Rating) -> None:
    turn = state.conversation().turns[index]
    store = state.feedback_store()
    try:
        if turn.feedback_id is None:
            turn.feedback_id = store.add(turn.answer, rating=rating)
        else:
            store.update(turn.feedback_id, rating=rating)
    except BotError as err:
        st.error(render.md_escape(err))
        return
    turn.rating = rating


def _comment(index: int) -> None:
    turn = state.conversation().turns[index]
    comment = str(st.session_state.get(f"fb-comment-{index}", "")).strip()
    if turn.feedback_id is None or not comment:
        return
    try:
        state.feedback_store().update(turn.feedback_id, comment=comment)
    except BotError as err:
        st.error(render.md_escape(err))
        return
    turn.comment_saved = True


def export_markdown() -> str:
    """The conversation as Markdown with its citations."""
    turns = [render.ExportTurn(question=turn.question, answer=turn.answer) for turn in state.conversation().turns]
    labels = {"question": t("export_question"), "searched": t("export_searched"), "sources": t("export_sources")}
    return render.conversation_markdown(turns, title=t("export_title"), labels=labels)
