"""The evaluation page: run a golden set against the live index, see what fails, download reports.

Everything is done by ``bot.evaluation`` (loading, asking, grading, report
writing); this page only picks the file and shows the result.  The last
report stays in the session so its downloads survive reruns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from bot.errors import BotError
from bot.settings import PROJECT_ROOT, Settings
from ui import eval_text, render, staff, state, uploads
from ui.state import StreamlitProgress, t

GOLDEN_DIR = PROJECT_ROOT / "tests" / "golden"
GOLDEN_SUFFIXES = (".yaml", ".yml", ".jsonl", ".json")
_MAX_GOLDEN_MB = 5

if TYPE_CHECKING:
    from bot.evaluation.runner import Report


@dataclass
class LastRun:
    """The report of the last run in this session, ready to download."""

    name: str
    report: Report
    json: str
    html: str


def main() -> None:
    """Render the page (after the staff login)."""
    st.title(t("eval_title"))
    if not staff.require_staff():
        return
    try:
        from bot.evaluation import load_golden
    except ImportError as err:
        st.error(t("eval_unavailable", error=render.md_escape(err)))
        return
    cfg = state.settings()
    path = pick_golden(cfg)
    if path is not None and st.button(t("eval_run"), type="primary"):
        try:
            run(cfg, path, load_golden)
        except BotError as err:
            st.error(render.md_escape(err))
    last: LastRun | None = st.session_state.get("eval_last")
    if last is not None:
        show_report(last)


def golden_files() -> list[Path]:
    """Golden sets shipped with the project."""
    if not GOLDEN_DIR.is_dir():
        return []
    return sorted(p for p in GOLDEN_DIR.iterdir() if p.suffix.lower() in GOLDEN_SUFFIXES and p.is_file())


def pick_golden(cfg: Settings) -> Path | None:
    """A shipped golden set, or an uploaded one (saved under the data folder), which wins when given."""
    files = golden_files()
    chosen = (st.selectbox(t("eval_pick"), files, format_func=lambda p: p.relative_to(PROJECT_ROOT).as_posix())
              if files else None)
    uploaded = st.file_uploader(t("eval_upload"), type=[s.lstrip(".") for s in GOLDEN_SUFFIXES],
                                max_upload_size=_MAX_GOLDEN_MB)
    if uploaded is not None:
        folder = cfg.data_dir / "golden-uploads"
        target = folder / uploads.safe_name(uploaded.name)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_bytes(uploaded.getvalue())
        except OSError as err:
            st.error(t("kb_os_error", path=render.md_escape(target), reason=render.md_escape(err.strerror or err)))
            return None
        return target
    if chosen is None:
        st.info(t("eval_none"))
    return chosen


def run(cfg: Settings, path: Path, load_golden) -> None:
    """Load the set, ask every question through the shared engine, keep the report."""
    from bot.evaluation.report import to_html, to_json
    from bot.evaluation.runner import RunInfo, run_eval

    golden = load_golden(path)
    for warning in golden.warnings:
        st.warning(render.md_escape(warning))
    engine = state.engine(cfg)
    engine.ensure_index(progress=StreamlitProgress)
    with st.spinner(t("eval_running", n=len(golden.cases))):
        report = run_eval(engine, golden.cases, progress=StreamlitProgress, run=RunInfo(golden=golden.name))
    st.session_state["eval_last"] = LastRun(name=golden.name, report=report, json=to_json(report),
                                            html=to_html(report))


def show_report(last: LastRun) -> None:
    """Headline metrics (labels and explanations in the interface language), failing cases, report downloads."""
    from bot.evaluation.report import METRICS, fmt, metric_value

    lang = state.lang()
    report = last.report
    st.subheader(f"{t('eval_summary')} — {render.md_escape(last.name)}")
    values = {name: fmt(name, metric_value(report, name)) for name in METRICS}
    st.table(eval_text.metrics_table(values, lang))
    failed = [c for c in report.cases if not c.passed]
    st.subheader(t("eval_failures", n=len(failed)))
    if not failed:
        st.success(t("eval_all_passed"))
    for case in failed:
        with st.expander(f"{render.md_escape(case.id)} · {render.md_escape(case.question[:60])}"):
            st.code(eval_text.describe_failure(case, lang), language=None, wrap_lines=True)
    stem = Path(last.name.split(" + ")[0]).stem or "golden"
    cols = st.columns(2)
    cols[0].download_button(t("eval_download_json"), data=last.json, file_name=f"eval-{stem}.json",
                            mime="application/json", icon=":material/download:")
    cols[1].download_button(t("eval_download_html"), data=last.html, file_name=f"eval-{stem}.html",
                            mime="text/html", icon=":material/download:")
