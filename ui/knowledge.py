"""The knowledge-base page: upload documents, see what is indexed, delete, re-index.

Each uploaded file is stored and indexed on its own terms: a file that is
refused or yields nothing is reported (and moved out of the corpus folder so
it does not fail every later re-index), the others are still ingested.  A
passage collection with some bad lines keeps its good passages: its file stays
in the corpus, so a later re-index keeps them too.  Every name and message
that comes from a file is shown as text (``render.md_escape``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from bot.errors import BotError
from bot.settings import Settings
from ui import chat, render, staff, state, uploads
from ui.i18n import STRINGS, ingest_summary
from ui.state import StreamlitProgress, t

if TYPE_CHECKING:
    from bot.engine import Engine
    from bot.ingest import IngestReport

_md = render.md_escape


def main() -> None:
    """Render the page (after the staff login)."""
    st.title(t("kb_title"))
    if not staff.require_staff():
        return
    cfg = state.settings()
    st.caption(t("kb_corpus_at", path=_md(cfg.corpus_dir)))
    _show_flash()
    try:
        # Opened first after a start, this page builds the index as the chat would (else it would list nothing).
        engine = chat.ready_engine(cfg)
        if engine is None:
            return
        upload_section(engine, cfg)
        documents_section(engine, cfg)
    except BotError as err:
        st.error(_md(err))
    except OSError as err:  # the corpus or data folder refused a file operation: say which, no traceback
        st.error(t("kb_os_error", path=_md(err.filename or cfg.corpus_dir), reason=_md(err.strerror or err)))


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
        bar.progress(i / len(files), text=t("kb_saving", name=_md(name)))
        try:
            stored.append(uploads.store_upload(cfg.corpus_dir, name, data, max_bytes=cfg.upload_max_mb * 2**20,
                                               replace=replace))
        except uploads.UploadError as err:
            st.error(_upload_error(err))
    bar.empty()
    if not stored:
        return
    with st.spinner(t("kb_indexing")):
        report = engine.ingest([s.path for s in stored], root=cfg.corpus_dir, progress=StreamlitProgress)
    state.forget_documents()
    failed = _failed_files(report, stored, cfg)
    for item in stored:
        if item.path not in failed:
            where = item.path.relative_to(cfg.corpus_dir.resolve()).as_posix()
            st.success(t("kb_file_ok", name=_md(item.original), stored=_md(where)))
    st.info(t("kb_summary", summary=ingest_summary(report, state.lang())))


def _upload_error(err: uploads.UploadError) -> str:
    """A refused upload in the reader's language (file names and reasons shown as text)."""
    if f"upload_{err.kind}" not in STRINGS:
        return _md(err)
    return t(f"upload_{err.kind}", **{k: _md(v) for k, v in err.values.items()})


def _failed_files(report: IngestReport, stored: list[uploads.StoredFile], cfg: Settings) -> set[Path]:
    """Show each load error; move aside the files that gave no document, so the corpus holds only loadable files.

    A file with some bad parts (a ``.jsonl`` with bad lines) and some indexed documents stays where it is: moving
    it would make the next full re-index remove the passages that did load.
    """
    indexed = {str(Path(d["path"]).resolve()) for d in state.documents(cfg) if d.get("path")}
    failed: set[Path] = set()
    for item in stored:
        named = [err for err in report.errors if _names(err, item.path)]
        if named and str(item.path.resolve()) not in indexed:
            failed.add(item.path)
            uploads.move_aside(item.path, cfg.data_dir / "rejected")
    for err in report.errors:
        line = getattr(err, "line", None)  # a passage file's bad line, when the error carries it apart
        name = Path(str(err.path)).name + (f":{line}" if line else "")
        st.error(t("kb_file_error", name=_md(name), error=_md(err.reason)))
    return failed


def _names(err: object, path: Path) -> bool:
    """True when a load error is about ``path`` (the file itself, or one of its lines as ``file:line``)."""
    where = str(getattr(err, "path", ""))
    return where == str(path) or where.startswith(f"{path}:")


def documents_section(engine: Engine, cfg: Settings) -> None:
    """The indexed documents, with delete and re-index."""
    st.subheader(t("kb_documents"))
    docs = state.documents(cfg)
    if docs:
        documents_table(docs)
        delete_section(engine, cfg, [d["doc_id"] for d in docs])
    else:
        st.info(t("kb_no_documents"))
    if st.button(t("kb_reindex"), icon=":material/refresh:"):
        with st.spinner(t("kb_indexing")):
            report = engine.ingest(progress=StreamlitProgress)
        state.forget_documents()
        for err in report.errors:
            _flash("error", _md(err))
        _flash("info", t("kb_summary", summary=ingest_summary(report, state.lang())))
        st.rerun()


def documents_table(docs: list[dict]) -> None:
    """Title and chunk count first, with widths that fit the centred page at 1280 px (no column hidden)."""
    rows = [{t("kb_col_title"): d["title"] or d["doc_id"], t("kb_col_chunks"): d["chunks"],
             t("kb_col_date"): d["published"], t("kb_col_source"): d["source"], t("kb_col_id"): d["doc_id"]}
            for d in docs]
    columns = {t("kb_col_title"): st.column_config.TextColumn(width=260),
               t("kb_col_chunks"): st.column_config.NumberColumn(width=70),
               t("kb_col_date"): st.column_config.TextColumn(width=90),
               t("kb_col_source"): st.column_config.TextColumn(width=120),
               t("kb_col_id"): st.column_config.TextColumn(width=140)}
    st.dataframe(rows, hide_index=True, width="stretch", column_config=columns)


def delete_section(engine: Engine, cfg: Settings, doc_ids: list[str]) -> None:
    """Pick one document, confirm, delete it from the index and move its file aside."""
    trash = cfg.data_dir / "trash"
    with st.form("kb-delete"):
        # Nothing pre-selected: deleting takes a choice and a confirmation.
        doc_id = st.selectbox(t("kb_delete_pick"), doc_ids, index=None, placeholder=t("kb_delete_placeholder"))
        confirm = st.checkbox(t("kb_delete_confirm", trash=_md(trash)))
        submitted = st.form_submit_button(t("kb_delete"))
    if not submitted:
        return
    if not (doc_id and confirm):
        st.warning(t("kb_delete_needs_choice"))
        return
    source = uploads.source_file(cfg.corpus_dir, doc_id)
    moved = uploads.move_aside(source, trash) if source else None
    chunks = engine.delete_document(doc_id)
    state.forget_documents()
    note = t("kb_deleted_file", path=_md(moved)) if moved else t("kb_deleted_nofile")
    _flash("success", t("kb_deleted", doc_id=_md(doc_id), chunks=chunks, file=note))
    st.rerun()


def _flash(kind: str, message: str) -> None:
    """A message to show after the rerun that redraws the document list."""
    st.session_state.setdefault("kb_flash", []).append((kind, message))


def _show_flash() -> None:
    for kind, message in st.session_state.pop("kb_flash", []):
        getattr(st, kind)(message)
