"""Streamlit pages of the policy Q&A bot (``streamlit run ui/app.py``); thin callers of ``bot.engine``."""
