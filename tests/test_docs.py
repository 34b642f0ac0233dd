"""The README matches the code."""

from bot.settings import settings_table
from tests.conftest import ROOT


def test_readme_settings_table_is_current():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme, "regenerate the table with: python -m bot.settings"


def test_readme_first_commands_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "streamlit run ui/app.py" in readme and "python -m pytest -q" in readme
    assert (ROOT / "ui" / "app.py").exists() and (ROOT / "requirements-dev.txt").exists()
    assert "python -m pytest -q" in (ROOT / ".ci" / "run").read_text()
