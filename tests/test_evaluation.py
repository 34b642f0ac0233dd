"""Unit tests of the evaluation package: matching, golden files, metrics, report writers.

These need no index: replies are built as real ``Answer`` objects and graded
against chunk texts given directly.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from bot.answer import Answer, Citation, Retrieved
from bot.evaluation.golden import GoldenCase, GoldenError, append_case, load_golden, next_id
from bot.evaluation.matching import contains, evidence_missing, from_passage, groups_missing, normalize
from bot.evaluation.metrics import by_tag, summarize, summarize_retrieval
from bot.evaluation.report import (
    ThresholdError,
    compare,
    describe_failure,
    parse_threshold,
    to_html,
    to_json,
    to_junit,
    without_timings,
)
from bot.evaluation.runner import Report, RunInfo, corpus_collection, grade
from tests.conftest import ROOT, bench_file

SEED = ROOT / "tests" / "golden" / "seed.yaml"
CHUNK = "成都2023年在全国首创“算力券”，每年发放总额不超过１,０００万元的算力券。"


# ---- matching ---------------------------------------------------------------------------------


def test_normalize_width_case_space_thousands():
    assert normalize("１，０００万 元") == "1000万元"
    assert normalize("ＡＩ Company") == "aicompany"
    assert normalize("1,000,000") == "1000000"
    assert normalize("1,5") == "1,5"  # not a thousands separator


@pytest.mark.parametrize("hay, needle, expected", [
    ("总额1,000万元", "1000万", True),
    ("总额1000万元", "１０００万元", True),
    ("“首版次”软件", '"首版次"软件', True),
    ("共有1835家企业", "835", False),  # digits must not be glued on
    ("增长110%", "10%", False),
    ("增长136.9%", "36.9%", False),
    ("规模1.3米", "3米", False),
    ("2023年上半年", "2023", True),
    ("AI Companies", "ai companies", True),
    ("anything", "", False),
])
def test_contains(hay, needle, expected):
    assert contains(hay, needle) is expected


def test_identical_chinese_strings_match():
    """Unlike space-tokenized BLEU, an identical Chinese answer always counts."""
    text = "成都人工智能产业规模位列全国第七"
    assert contains(text, text)
    assert not groups_missing(text, [[text]])


def test_answer_groups_rgb_rule():
    answer = "RCEP成员包括中国、日本、韩国等15国"
    assert groups_missing(answer, [["中国"], ["日本"], ["韩国"]]) == []
    assert groups_missing(answer, [["中国"], ["印度", "India"]]) == [["印度", "India"]]


def test_citation_markers_do_not_split_an_expected_phrase():
    case = _case(answers=["「金钱鼠尾，乃新朝之雅政；峨冠博带，实亡国之陋规」"])
    answer = _answer("曾起草告示称「金钱鼠尾，乃新朝之雅政；[1]峨冠博带，实亡国之陋规」。[1]", quote="峨冠博带")
    assert grade(case, answer, {"doc#aaaaaaaaaaaa": "峨冠博带"}, latency_ms=1.0).checks["answer"].passed


def test_evidence_must_sit_inside_one_chunk():
    assert evidence_missing(["甲乙", "丙丁"], ["甲乙", "丁"]) == []
    assert evidence_missing(["甲乙", "丙丁"], ["乙丙"]) == ["乙丙"]


def test_passage_ids_match_derived_chunks():
    assert from_passage("DEV_1#abcdef123456", "DEV_1", ["DEV_1"])
    assert from_passage("DEV_1", "DEV_1", ["DEV_1"])
    assert not from_passage("DEV_10#abcdef123456", "DEV_10", ["DEV_1"])


# ---- golden files ---------------------------------------------------------------------------------


def test_seed_set_loads():
    golden = load_golden(SEED)
    assert len(golden.cases) == 56 and not golden.warnings
    q01 = golden.cases[0]
    assert q01.groups == [["1000万元", "1000万"]] and q01.evidence and q01.tags == ["amount", "policy"]
    assert sum(not c.answerable for c in golden.cases) == 10


@pytest.mark.parametrize("name", ["rgb_zh.jsonl", "cmrc_dev_part1.jsonl"])
def test_bench_files_load_as_golden_sets(name):
    golden = load_golden(bench_file(name))
    assert golden.cases and not golden.warnings
    case = golden.cases[0]
    assert case.answer_groups and case.gold_passage_ids and case.answerable


def test_spec_example_yaml(tmp_path):
    path = tmp_path / "set.yaml"
    path.write_text("""
- id: q01
  question: 算力券每年发放总额是多少?
  answers: ["1000万元", "1000万"]
  evidence: ["算力券", "1000万元"]
  tags: [amount, compute-voucher]
- id: q02
  question: RCEP具体包括哪些国家
  answer_groups: [["中国"], ["日本"], ["韩国"]]
  gold_passage_ids: ["rgbzh-eb1b7a8f40b8"]
- id: n01
  question: 深圳的人工智能产业规模是多少?
  answerable: false
""", encoding="utf-8")
    cases = load_golden(path).cases
    assert [c.id for c in cases] == ["q01", "q02", "n01"]
    assert cases[1].groups == [["中国"], ["日本"], ["韩国"]]
    assert cases[2].answerable is False and cases[2].groups == []


@pytest.mark.parametrize("body, message", [
    ("- id: a\n  question: x\n  answers: [x]\n- id: a\n  question: y\n  answerable: false\n", "duplicate id 'a'"),
    ("- id: a\n  question: 问题\n", "nothing to check"),
    ("- id: a\n  question: 问题\n  answerable: false\n  answers: [x]\n", "take no answers"),
    ("- id: a\n  answers: [x]\n", "question"),
    ("id: a\n", "expected a list"),
    ("- [a, b\n", "not valid YAML"),
])
def test_bad_golden_files_say_what_to_fix(tmp_path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(GoldenError, match=message):
        load_golden(path)


def test_unknown_keys_warn_with_a_hint(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps({"id": "a", "question": "问", "answer": "x", "evidence": ["y"]}) + "\n", encoding="utf-8")
    golden = load_golden(path)
    assert golden.warnings and "did you mean 'answers'" in golden.warnings[0]


def test_append_case_keeps_comments_and_numbers_ids(tmp_path):
    path = tmp_path / "set.yaml"
    path.write_text("# hand-written header\n- id: q07\n  question: 旧问题\n  answers: [\"7\"]", encoding="utf-8")
    added = append_case(path, {"question": "新问题?", "answers": ["2023"], "evidence": ["2023年"], "tags": ["date"]})
    refuse = append_case(path, {"question": "不存在的问题", "answerable": False})
    assert (added.id, refuse.id) == ("q08", "n01")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# hand-written header\n")
    cases = load_golden(path).cases
    assert [c.id for c in cases] == ["q07", "q08", "n01"]
    assert cases[1].answers == ["2023"] and isinstance(yaml.safe_load(text)[1]["answers"][0], str)
    with pytest.raises(GoldenError, match="already asks this question"):
        append_case(path, {"question": "新 问题？", "answers": ["x"]})
    with pytest.raises(GoldenError, match="id 'q07'"):
        append_case(path, {"id": "q07", "question": "别的", "answers": ["x"]})


def test_append_case_jsonl(tmp_path):
    path = tmp_path / "new" / "set.jsonl"
    append_case(path, {"question": "问题一", "answers": ["甲"]})
    append_case(path, {"question": "问题二", "answers": ["乙"]})
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["q01", "q02"] and rows[0]["answers"] == ["甲"]


def test_next_id_skips_taken():
    cases = [GoldenCase(id="q01", question="a", answers=["x"]), GoldenCase(id="q02", question="b", answers=["x"])]
    assert next_id(cases) == "q03" and next_id(cases, answerable=False) == "n01"


def test_corpus_collection_names_are_valid():
    name = corpus_collection(Path("../shared/bench/cmrc_dev_corpus.jsonl"))
    assert name.startswith("eval-cmrc_dev_corpus-") and 3 <= len(name) <= 512
    assert corpus_collection(Path("/tmp/政策")).startswith("eval-")


# ---- grading and metrics --------------------------------------------------------------------------


def _answer(text: str, *, refused: bool = False, quote: str = "", chunk_id: str = "doc#aaaaaaaaaaaa",
            retrieved: list[tuple[str, str]] | None = None) -> Answer:
    citations = [] if refused else [Citation(n=1, doc_id="doc", title="t", chunk_id=chunk_id, quote=quote or text,
                                             text="(engine's copy, not trusted)", start=0, end=1, score=1.0)]
    return Answer(question="q", standalone_question="q", answer=text, refused=refused, engine="extractive",
                  citations=citations,
                  retrieved=[Retrieved(chunk_id=c, doc_id=c.split("#")[0], text=t, score=1.0)
                             for c, t in (retrieved or [])])


def _case(**kw) -> GoldenCase:
    return GoldenCase(id=kw.pop("id", "q01"), question=kw.pop("question", "算力券每年发放总额是多少?"), **kw)


def test_grade_correct_answer_with_evidence():
    case = _case(answers=["1000万元"], evidence=["算力券", "1000万元"])
    answer = _answer("每年发放总额不超过1000万元[1]", quote="每年发放总额不超过１,０００万元",
                     retrieved=[("x#000000000001", "无关"), ("doc#aaaaaaaaaaaa", CHUNK)])
    result = grade(case, answer, {"doc#aaaaaaaaaaaa": CHUNK}, latency_ms=3.0)
    assert result.passed, describe_failure(result)
    assert result.checks["retrieval"].rank == 2 and result.citations[0].valid


def test_grade_does_not_trust_the_engines_citation():
    case = _case(answers=["1000万元"])
    answer = _answer("每年发放总额不超过1000万元", quote="这句话不在原文里")
    result = grade(case, answer, {"doc#aaaaaaaaaaaa": CHUNK}, latency_ms=1.0)
    assert not result.passed and result.checks["citations"].passed is False
    assert not result.citations[0].valid
    missing_chunk = grade(case, _answer("1000万元", quote="1000万元"), {}, latency_ms=1.0)
    assert not missing_chunk.citations[0].valid


def test_refusal_counts_as_wrong_for_answerable_and_right_for_unanswerable():
    refused = _answer("抱歉", refused=True)
    wrong = grade(_case(answers=["1000万元"], evidence=["算力券"]), refused, {}, latency_ms=1.0)
    assert not wrong.passed and not wrong.checks["answer"].passed and not wrong.checks["evidence"].passed
    right = grade(_case(id="n01", answerable=False), refused, {}, latency_ms=1.0)
    assert right.passed and right.checks["refusal"].passed
    s = summarize([wrong, right])
    assert (s.answer_accuracy, s.refusal_accuracy, s.false_refusal_rate) == (0.0, 1.0, 1.0)
    assert s.citation_validity is None and s.answer_chars_p50 is None


def test_gold_passage_evidence_and_rank():
    case = _case(answer_groups=[["12人"]], gold_passage_ids=["rgbzh-1"])
    answer = _answer("造成至少12人死亡", chunk_id="rgbzh-1#bbbbbbbbbbbb",
                     retrieved=[("rgbzh-1#bbbbbbbbbbbb", "造成至少12人死亡"), ("rgbzh-2", "其他")])
    result = grade(case, answer, {"rgbzh-1#bbbbbbbbbbbb": "造成至少12人死亡、14人受伤"}, latency_ms=1.0)
    assert result.passed and result.checks["evidence"].passed and result.checks["retrieval"].rank == 1


def _report(results, **run) -> Report:
    return Report(summary=summarize(results), by_tag=by_tag(results), cases=results,
                  retrieval=summarize_retrieval(results, mode="hybrid", k=5), run=RunInfo(golden="set.yaml", **run))


def _results():
    ok = grade(_case(id="q01", answers=["1000万元"], evidence=["算力券"], tags=["amount"]),
               _answer("不超过1000万元", quote="1000万元", retrieved=[("doc#aaaaaaaaaaaa", CHUNK)]),
               {"doc#aaaaaaaaaaaa": CHUNK}, latency_ms=10.0)
    bad = grade(_case(id="q02", question="<script>alert(1)</script>?", answers=["835家"], evidence=["835家"],
                      tags=["count", "amount"]),
                _answer("规模<b>616</b>亿元", quote="1000万元", retrieved=[("doc#aaaaaaaaaaaa", CHUNK)]),
                {"doc#aaaaaaaaaaaa": CHUNK}, latency_ms=30.0)
    no = grade(_case(id="n01", answerable=False, tags=["unanswerable"]), _answer("抱歉", refused=True), {},
               latency_ms=20.0)
    return [ok, bad, no]


def test_summary_metrics_and_null_when_not_applicable():
    report = _report(_results())
    s = report.summary
    assert s.cases == 3 and s.answer_accuracy == 0.5 and s.evidence_accuracy == 0.5
    assert s.refusal_accuracy == 1.0 and s.false_refusal_rate == 0.0
    assert s.recall_at_k == 0.5 and s.mrr == 0.5 and s.citation_validity == 1.0
    assert s.latency_ms_p50 == 20.0
    assert report.by_tag["amount"].cases == 2 and report.by_tag["unanswerable"].answer_accuracy is None
    assert report.retrieval.recall_at_1 == 0.5


def test_json_report_has_exactly_the_documented_keys():
    data = json.loads(to_json(_report(_results())))
    assert set(data) == {"summary", "by_tag", "cases", "retrieval"}
    assert list(data["summary"]) == ["cases", "answer_accuracy", "evidence_accuracy", "refusal_accuracy",
                                     "false_refusal_rate", "recall_at_k", "mrr", "citation_validity",
                                     "answer_chars_p50", "latency_ms_p50", "latency_ms_p95"]
    assert set(data["cases"][0]) == {"id", "question", "answer", "refused", "refusal_reason", "confidence", "citations",
                                     "passed", "checks", "latency_ms"}
    assert data["cases"][0]["checks"]["retrieval"]["rank"] == 1
    assert "rank" not in data["cases"][0]["checks"]["answer"]
    assert "latency_ms" not in json.dumps(without_timings(data))


def test_thresholds():
    report = _report(_results())
    assert parse_threshold("answer_accuracy=0.5").failure(report) is None
    assert "answer_accuracy = 0.5, required ≥ 0.8" in parse_threshold("answer_accuracy=0.8").failure(report)
    assert parse_threshold("latency_ms_p95=5").failure(report)  # lower is better: at most 5 ms
    assert parse_threshold("recall_at_1>=0.5").failure(report) is None
    empty = _report([_results()[2]])
    assert "n/a" in parse_threshold("answer_accuracy=0.1").failure(empty)
    for bad in ("accuracy=1", "answer_accuracy", "answer_accuracy=x"):
        with pytest.raises(ThresholdError):
            parse_threshold(bad)


def test_baseline_comparison():
    results = _results()
    old = json.loads(to_json(_report(results)))
    old["cases"][0]["passed"] = False  # q01 failed before: now better
    old["cases"][2]["passed"] = True
    old["cases"][1]["passed"] = True  # q02 passed before: now worse
    old["cases"].append({"id": "gone", "passed": True})
    cmp = compare(_report(results), old)
    assert [c.id for c in cmp.worse] == ["q02"] and [c.id for c in cmp.better] == ["q01"]
    assert cmp.removed == ["gone"] and not cmp.added


def test_junit_one_testcase_per_question():
    root = ET.fromstring(to_junit(_report(_results())))
    cases = root.findall(".//testcase")
    assert len(cases) == 3
    failure = cases[1].find("failure")
    assert failure is not None and "Question: <script>" in failure.text and "835家" in failure.text
    assert root.find("testsuite").get("failures") == "1"


def test_html_escapes_everything():
    page = to_html(_report(_results()))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "规模&lt;b&gt;616&lt;/b&gt;亿元" in page
    assert 'id="summary"' in page and 'id="by-tag"' in page and "case-q02" in page
