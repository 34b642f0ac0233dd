"""The knowledge-base page: upload documents, see what is indexed, delete, re-index.

Each uploaded file is stored and indexed on its own terms: a file that is
refused or fails to load is reported (and moved out of the corpus folder so
it does not fail every later re-index), the others are still ingested.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from bot.errors import BotError
from bot.settings import Settings
from ui import staff, state, uploads
from ui.state import StreamlitProgress, t

if TYPE_CHECKING:
    from bot.engine import Engine
    from bot.ingest import IngestReport


def main() -> None:
    """Render the page (after the staff login)."""
    st.title(t("kb_title"))
    if not staff.require_staff():
        return
    cfg = state.settings()
    st.caption(t("kb_corpus_at", path=cfg.corpus_dir))
    _show_flash()
    try:
        engine = state.engine(cfg)
        upload_section(engine, cfg)
        documents_section(engine, cfg)
    except BotError as err:
        st.error(str(err))


def upload_section(engine: Engine, cfg: Settings) -> None:
    """File picker → safe names in the corpus folder → incremental ingest with per-file results."""
    types = uploads.allowed_types()
    with st.form("kb-upload", clear_on_submit=True):
        files = st.file_uploader(t("kb_upload", types=", ".join(types), mb=cfg.upload_max_mb), type=types,
                                 accept_multiple_files=True, max_upload_size=cfg.upload_max_mb)
        replace = st.checkbox(t("kb_replace"))
        submitted = st.form_submit_button(t("kb_ingest"), type="primary")
    if submitted and files:
        ingest_uploads(engine, cfg, [(f.name, f.getvalue()) for f in files], replace=replace)


def ingest_uploads(engine: Engine, cfg: Settings, files: list[tuple[str, bytes]], *, replace: bool) -> None:
    """Store each file (progress bar), ingest the stored ones, report every file's outcome."""
    bar = st.progress(0.0)
    stored: list[uploads.StoredFile] = []
    for i, (name, data) in enumerate(files, 1):
        bar.progress(i / len(files), text=t("kb_saving", name=name))
        try:
            stored.append(uploads.store_upload(cfg.corpus_dir, name, data, max_bytes=cfg.upload_max_mb * 2**20,
                                               replace=replace))
        except uploads.UploadError as err:
            st.error(str(err))
    bar.empty()
    if not stored:
        return
    with st.spinner(t("kb_indexing")):
        report = engine.ingest([s.path for s in stored], root=cfg.corpus_dir, progress=StreamlitProgress)
    state.forget_documents()
    failed = _failed_files(report, stored, cfg)
    for item in stored:
        if item.path not in failed:
            st.success(t("kb_file_ok", name=item.original, stored=item.path.relative_to(cfg.corpus_dir.resolve())))
    st.info(t("kb_summary", summary=report.summary()))


def _failed_files(report: IngestReport, stored: list[uploads.StoredFile], cfg: Settings) -> set:
    """Show each load error and move the file aside, so the corpus folder holds only loadable files."""
    failed = set()
    for err in report.errors:
        for item in stored:
            if str(err.path).startswith(str(item.path)) and item.path not in failed:
                failed.add(item.path)
                uploads.move_aside(item.path, cfg.data_dir / "rejected")
        st.error(t("kb_file_error", name=getattr(err.path, "name", err.path), error=err.reason))
    return failed


def documents_section(engine: Engine, cfg: Settings) -> None:
    """The indexed documents, with delete and re-index."""
    st.subheader(t("kb_documents"))
    docs = state.documents(cfg)
    if docs:
        st.dataframe([{t("kb_col_id"): d["doc_id"], t("kb_col_title"): d["title"], t("kb_col_date"): d["published"],
                       t("kb_col_source"): d["source"], t("kb_col_chunks"): d["chunks"]} for d in docs],
                     hide_index=True, use_container_width=True)
        delete_section(engine, cfg, [d["doc_id"] for d in docs])
    else:
        st.info(t("kb_no_documents"))
    if st.button(t("kb_reindex"), icon=":material/refresh:"):
        with st.spinner(t("kb_indexing")):
            report = engine.ingest(progress=StreamlitProgress)
        state.forget_documents()
        for err in report.errors:
            _flash("error", str(err))
        _flash("info", t("kb_summary", summary=report.summary()))
        st.rerun()


def delete_section(engine: Engine, cfg: Settings, doc_ids: list[str]) -> None:
    """Pick one document, confirm, delete it from the index and move its file aside."""
    trash = cfg.data_dir / "trash"
    with st.form("kb-delete"):
        doc_id = st.selectbox(t("kb_delete_pick"), doc_ids)
        confirm = st.checkbox(t("kb_delete_confirm", trash=trash))
        submitted = st.form_submit_button(t("kb_delete"))
    if not (submitted and confirm and doc_id):
        return
    source = uploads.source_file(cfg.corpus_dir, doc_id)
    moved = uploads.move_aside(source, trash) if source else None
    chunks = engine.delete_document(doc_id)
    state.forget_documents()
    note = t("kb_deleted_file", path=moved) if moved else t("kb_deleted_nofile")
    _flash("success", t("kb_deleted", doc_id=doc_id, chunks=chunks, file=note))
    st.rerun()


def _flash(kind: str, message: str) -> None:
    """A message to show after the rerun that redraws the document list."""
    st.session_state.setdefault("kb_flash", []).append((kind, message))


def _show_flash() -> None:
    for kind, message in st.session_state.pop("kb_flash", []):
        getattr(st, kind)(message)
