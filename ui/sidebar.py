"""Sidebar: language switch, new chat, export, engine and corpus status."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from bot.errors import BotError
from bot.settings import Settings
from ui import chat, render, state
from ui.i18n import LANGUAGES, counted
from ui.state import t


def language_switch() -> None:
    """中文 / English; kept per reader in ``st.session_state['lang']``."""
    st.session_state.setdefault("lang", "zh")
    st.sidebar.radio(t("language"), list(LANGUAGES), key="lang", format_func=LANGUAGES.get, horizontal=True)


def conversation_tools(*, chat_page: bool) -> tuple[DeltaGenerator, DeltaGenerator]:
    """The new-chat button (chat page only); returns the boxes the export button and the status go in.

    Both are filled after the page ran, so they reflect the answer just given and never delay the page.
    """
    if chat_page:
        st.sidebar.button(t("new_chat"), icon=":material/add_comment:", on_click=state.new_conversation,
                          use_container_width=True)
    export_box = st.sidebar.empty()
    status_box = st.sidebar.empty()
    status_box.caption(t("status_loading"))
    return export_box, status_box


def export_button(box: DeltaGenerator, *, chat_page: bool) -> None:
    """Download the conversation as Markdown, once there is one."""
    if chat_page and state.conversation().turns:
        box.download_button(t("export_chat"), data=chat.export_markdown(), file_name="policy-qa-chat.md",
                            mime="text/markdown", icon=":material/download:", use_container_width=True)


def status(box: DeltaGenerator, cfg: Settings) -> None:
    """Engine name, document and chunk counts, Chroma mode — drawn after the page so it never delays it."""
    try:
        docs = state.documents(cfg)
    except BotError as err:
        box.error(render.md_escape(err))
        return
    engine = cfg.engine + (f" · {cfg.openai_model}" if cfg.engine == "openai" else "")
    mode = (t("status_chroma_server", where=f"{cfg.chroma_host}:{cfg.chroma_port}") if cfg.server_mode
            else t("status_chroma_embedded"))
    lines = [f"**{t('status')}**",
             f"{t('status_engine')}: {render.md_escape(engine)}",
             status_counts(len(docs), sum(int(d.get("chunks", 0)) for d in docs)),
             render.md_escape(mode)]
    box.caption("  \n".join(lines))


def status_counts(docs: int, chunks: int) -> str:
    """"文档 1 篇 · 片段 12 个" / "1 document · 12 chunks"."""
    lang = state.lang()
    return t("status_docs", docs=docs, chunks=chunks, docs_counted=counted(docs, "document", lang),
             chunks_counted=counted(chunks, "chunk", lang))
