"""``pytest --golden FILE``: a golden set as pytest items, run in a real pytest subprocess.

The items use an engine over the default corpus (corpus/) in a temporary data dir; the
embedding cache is the test session's, so nothing is embedded twice.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

GOLDEN = """\
- id: q01
  question: 成都超算中心的总经理叫什么?
  answers: ["王建波"]
  evidence: ["成都超算中心总经理王建波"]
  tags: [name]
- id: q02
  question: 2022年成都人工智能产业规模有多大?
  answers: ["999亿元"]
  tags: [amount]
- id: n01
  question: 北京今天天气怎么样?
  answerable: false
"""


def run_pytest(tmp_path, embed_cache_dir, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "OPENAI_", "PYTEST_"))}
    env.update(PYTHONPATH=str(ROOT), BOT_EMBEDDING_CACHE=str(embed_cache_dir / "embeddings.sqlite3"))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "bot.evaluation.pytest_plugin", "-p",
                           "no:cacheprovider", "-q", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def test_golden_items_pass_fail_and_explain(tmp_path, embed_cache_dir):
    (tmp_path / "mine.yaml").write_text(GOLDEN, encoding="utf-8")
    proc = run_pytest(tmp_path, embed_cache_dir, "--golden", "mine.yaml")
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "1 failed, 2 passed" in out
    assert "FAILED mine.yaml::q02" in out
    # the failure message a person reads: question, answer, expectation, citations, failed check
    assert "Question: 2022年成都人工智能产业规模有多大?" in out
    assert "Expected: any of '999亿元'" in out
    assert "616亿元" in out and "Citations:" in out and "news/chengdu-ai-innovation-city#" in out
    assert "Failed answer: answer lacks any of '999亿元'" in out


def test_golden_items_select_by_tag(tmp_path, embed_cache_dir):
    (tmp_path / "mine.yaml").write_text(GOLDEN, encoding="utf-8")
    proc = run_pytest(tmp_path, embed_cache_dir, "--golden", "mine.yaml", "-k", "name or n01")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed, 1 deselected" in proc.stdout
