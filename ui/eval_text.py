"""Evaluation results as a staff member reads them: metric labels, one-line explanations, failure accounts.

``bot.evaluation`` names metrics and checks in English identifiers
(``answer_accuracy``, ``mrr``); the page shows a label and a one-line
explanation in the interface language, and tells each failing case in that
language from the case's fields (no Streamlit here).
"""

from __future__ import annotations

from typing import Any

# metric → language → (label, what it measures)
METRICS: dict[str, dict[str, tuple[str, str]]] = {
    "answer_accuracy": {
        "zh": ("回答正确率", "应回答的问题中，回答包含期望答案的比例"),
        "en": ("Answer accuracy", "Answerable questions whose answer contains an expected answer")},
    "evidence_accuracy": {
        "zh": ("依据正确率", "引用的片段包含全部期望依据（或引用了标准段落）的比例"),
        "en": ("Evidence accuracy", "Answers whose cited chunks hold all the expected evidence (or a gold passage)")},
    "refusal_accuracy": {
        "zh": ("拒答正确率", "资料中没有答案的问题中，正确拒答的比例"),
        "en": ("Refusal accuracy", "Questions without an answer in the documents that were refused")},
    "false_refusal_rate": {
        "zh": ("误拒率", "应回答的问题中被拒答的比例（越低越好）"),
        "en": ("False refusals", "Answerable questions that were refused (lower is better)")},
    "recall_at_k": {
        "zh": ("前 k 召回率", "标准段落出现在检索结果前 k 条中的比例"),
        "en": ("Recall at k", "Questions whose gold passage is among the k chunks retrieved")},
    "mrr": {
        "zh": ("平均倒数排名", "第一个标准段落排名倒数的平均值（1 为总排第一）"),
        "en": ("Mean reciprocal rank", "Average of 1 / rank of the first gold chunk (1 = always first)")},
    "citation_validity": {
        "zh": ("引用有效率", "引用的原文确实出现在所引片段中的比例"),
        "en": ("Citation validity", "Citations whose quote really occurs in the cited chunk")},
    "answer_chars_p50": {
        "zh": ("回答长度中位数", "回答的字符数（中位数）"),
        "en": ("Median answer length", "Characters in an answer (median)")},
    "latency_ms_p50": {
        "zh": ("响应时间中位数", "回答一个问题所需时间（中位数）"),
        "en": ("Median latency", "Time to answer one question (median)")},
    "latency_ms_p95": {
        "zh": ("响应时间 P95", "95% 的问题在此时间内得到回答"),
        "en": ("Latency p95", "95% of the questions were answered within this time")},
    "recall_at_1": {
        "zh": ("首条召回率", "标准段落排在检索结果第一条的比例"),
        "en": ("Recall at 1", "Questions whose gold passage is the first chunk retrieved")},
}

# check → language → what its failure means
CHECKS: dict[str, dict[str, str]] = {
    "answer": {"zh": "回答未包含期望答案", "en": "the answer lacks the expected text"},
    "evidence": {"zh": "引用的片段缺少期望的依据", "en": "the cited chunks lack the expected evidence"},
    "refusal": {"zh": "应拒答却作了回答", "en": "answered a question it should refuse"},
    "citations": {"zh": "有引用的原文不在所引片段中", "en": "a quote is not in the chunk it cites"},
    "retrieval": {"zh": "标准段落不在检索结果前 k 条中", "en": "the gold passage is not among the chunks retrieved"},
}

_WORDS: dict[str, dict[str, str]] = {
    "question": {"zh": "问题", "en": "Question"},
    "answer": {"zh": "回答", "en": "Answer"},
    "refused": {"zh": "（拒答）", "en": " (refused)"},
    "expected": {"zh": "期望", "en": "Expected"},
    "expected_refusal": {"zh": "拒答", "en": "a refusal"},
    "any_of": {"zh": "其一", "en": "any of"},
    "and": {"zh": " 且 ", "en": " AND "},
    "evidence": {"zh": "依据", "en": "Evidence"},
    "citations": {"zh": "引用", "en": "Citations"},
    "not_in_chunk": {"zh": "（原文不在片段中）", "en": " (quote not in chunk)"},
    "failed": {"zh": "未通过", "en": "Failed"},
    "refused_instead": {"zh": "应回答却拒答了", "en": "refused a question it should answer"},
    "rank": {"zh": "（排名 {rank}）", "en": " (rank {rank})"},
    "metric": {"zh": "指标", "en": "Metric"},
    "value": {"zh": "数值", "en": "Value"},
    "meaning": {"zh": "含义", "en": "What it measures"},
}


def word(key: str, lang: str) -> str:
    entry = _WORDS[key]
    return entry.get(lang) or entry["zh"]


def metric_label(name: str, lang: str) -> tuple[str, str]:
    """``(label, one-line explanation)`` of a metric; the identifier itself when unknown."""
    entry = METRICS.get(name)
    return (entry.get(lang) or entry["zh"]) if entry else (name, "")


def metrics_table(values: dict[str, str], lang: str) -> dict[str, list[str]]:
    """Columns for ``st.table``: label, formatted value, explanation."""
    rows = [(*metric_label(name, lang), value) for name, value in values.items()]
    return {word("metric", lang): [r[0] for r in rows], word("value", lang): [r[2] for r in rows],
            word("meaning", lang): [r[1] for r in rows]}


def describe_failure(case: Any, lang: str) -> str:
    """A failing case told in ``lang``: question, answer, what was expected, citations, which checks failed."""
    lines = [f"{word('question', lang)}: {case.question}",
             f"{word('answer', lang)}: {case.answer}" + (word("refused", lang) if case.refused else "")]
    if not case.answerable:
        lines.append(f"{word('expected', lang)}: {word('expected_refusal', lang)}")
    if case.expected:
        groups = (f"{word('any_of', lang)} " + " / ".join(f"“{x}”" for x in g) for g in case.expected)
        lines.append(f"{word('expected', lang)}: " + word("and", lang).join(groups))
    if case.evidence:
        lines.append(f"{word('evidence', lang)}: " + "、".join(f"“{e}”" for e in case.evidence))
    if case.citations:
        lines.append(f"{word('citations', lang)}:")
        lines += [f"  [{c.n}] {c.chunk_id} · “{c.quote}”" + ("" if c.valid else word("not_in_chunk", lang))
                  for c in case.citations]
    for name, check in case.checks.items():
        if not check.passed:
            lines.append(f"{word('failed', lang)}: {_check_text(name, check, case, lang)}")
    return "\n".join(lines)


def _check_text(name: str, check: Any, case: Any, lang: str) -> str:
    if name in ("answer", "evidence") and case.refused and case.answerable:
        return word("refused_instead", lang)
    text = (CHECKS.get(name) or {}).get(lang) or check.detail
    rank = getattr(check, "rank", None)
    return text + (word("rank", lang).format(rank=rank) if rank else "")
