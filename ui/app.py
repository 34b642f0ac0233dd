"""Entry point: ``streamlit run ui/app.py``.

Chat for everyone; knowledge base, evaluation and feedback pages for staff
(enabled by ``BOT_ADMIN_PASSWORD``).  Settings come from ``BOT_*``
environment variables, read on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run ui/app.py` puts ui/ on the path, not the project root that holds `bot`.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from ui import sidebar, state  # noqa: E402
from ui.state import t  # noqa: E402

# The icon is a file shipped with the app: a ":material/…:" page icon makes the browser fetch the favicon from an
# internet font host, which fails offline.
ICON = Path(__file__).resolve().parent / "static" / "icon.png"

st.set_page_config(page_title=t("app_title"), page_icon=str(ICON), layout="centered")
sidebar.language_switch()
# The page scripts live in ui/views/, not ui/pages/: Streamlit treats a pages/ folder beside the main script as
# a legacy multipage app, and a first request for /knowledge then ran that file alone (without the path set up
# above: ModuleNotFoundError) under a sidebar of raw file names.
navigation = st.navigation({
    t("nav_chat"): [st.Page("views/chat.py", title=t("nav_chat"), icon=":material/chat:", default=True)],
    t("nav_staff"): [
        st.Page("views/knowledge.py", title=t("nav_kb"), icon=":material/library_books:", url_path="knowledge"),
        st.Page("views/evaluation.py", title=t("nav_eval"), icon=":material/science:", url_path="evaluation"),
        st.Page("views/feedback.py", title=t("nav_feedback"), icon=":material/rate_review:", url_path="feedback"),
    ],
})
chat_page = navigation.url_path == ""
export_box, status_box = sidebar.conversation_tools(chat_page=chat_page)
navigation.run()
sidebar.export_button(export_box, chat_page=chat_page)
sidebar.status(status_box, state.settings())
