"""The feedback page: what readers rated, and the ratings as golden cases to download."""

from __future__ import annotations

import streamlit as st

from bot.errors import BotError
from bot.feedback import RATINGS, golden_yaml
from ui import render, staff, state
from ui.state import t


def main() -> None:
    """Render the page (after the staff login)."""
    st.title(t("fbp_title"))
    if not staff.require_staff():
        return
    store = state.feedback_store()
    try:
        counts = store.counts()
        chosen = st.multiselect(t("fbp_filter"), RATINGS, default=list(RATINGS), format_func=lambda r: t(f"rating_{r}"))
        records = store.records(ratings=chosen or None)
    except BotError as err:
        st.error(render.md_escape(err))
        return
    st.caption(t("fbp_counts", **counts))
    if not records:
        st.info(t("fbp_none"))
        return
    zone = _browser_timezone()
    st.dataframe([{"id": r.id, t("fbp_col_time"): render.local_time(r.created, zone), t("fbp_col_rating"): t(f"rating_{r.rating}"),
                   t("fbp_col_question"): r.answer.question, t("fbp_col_searched"): r.question,
                   t("fbp_col_answer"): r.answer.answer, t("fbp_col_comment"): r.comment} for r in records],
                 hide_index=True, use_container_width=True)
    approved = [r for r in reversed(records) if r.rating == "up"]
    review = [r for r in reversed(records) if r.rating != "up"]
    cols = st.columns(2)
    cols[0].download_button(t("fbp_export_up"), data=golden_yaml(approved), file_name="feedback-golden.yaml",
                            mime="application/x-yaml", icon=":material/download:", disabled=not approved)
    cols[1].download_button(t("fbp_export_review"), data=golden_yaml(review), file_name="feedback-needs-review.yaml",
                            mime="application/x-yaml", icon=":material/download:", disabled=not review)
    st.caption(t("fbp_cli"))
    st.code("python -m bot feedback export --golden tests/golden/feedback.yaml", language="bash")


def _browser_timezone() -> str | None:
    """The reader's time zone as the browser reports it (None outside a browser)."""
    try:
        zone = st.context.timezone
    except (AttributeError, RuntimeError):
        return None
    return zone if isinstance(zone, str) and zone else None
