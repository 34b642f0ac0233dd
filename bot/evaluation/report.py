"""Report writers (JSON, JUnit XML, HTML, terminal table), thresholds and baselines."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import BotError
from bot.evaluation.articles import summary_lines
from bot.evaluation.metrics import LOWER_IS_BETTER, CaseResult, Summary
from bot.evaluation.runner import Report

METRICS = (*tuple(name for name in Summary.model_fields if name != "cases"), "recall_at_1")
TIMING_KEYS = frozenset({"latency_ms", "latency_ms_p50", "latency_ms_p95"})
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class ThresholdError(BotError):
    """A ``--fail-under`` argument or a ``--baseline`` report cannot be used."""


# ---- JSON ------------------------------------------------------------------------------------------


def to_json(report: Report) -> str:
    """The ``--json`` report: ``summary``, ``by_tag``, ``cases`` and ``retrieval`` (recall@1)."""
    data = report.model_dump(exclude={"articles"} if report.articles is None else set())
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def without_timings(data: Any) -> Any:
    """A JSON report with every timing removed, for comparing runs."""
    if isinstance(data, dict):
        return {k: without_timings(v) for k, v in data.items() if k not in TIMING_KEYS}
    if isinstance(data, list):
        return [without_timings(v) for v in data]
    return data


def metric_value(report: Report, name: str) -> float | None:
    """A summary metric by name (``recall_at_1`` comes from the retrieval block)."""
    if name == "recall_at_1":
        return report.retrieval.recall_at_1
    return getattr(report.summary, name)


# ---- thresholds -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """``METRIC=VALUE``: at least VALUE, or at most VALUE for lower-is-better metrics."""

    metric: str
    value: float
    at_most: bool

    def failure(self, report: Report) -> str | None:
        """Why the report misses this threshold, or None when it meets it."""
        actual = metric_value(report, self.metric)
        if actual is None:
            return f"{self.metric} is n/a (no case it applies to), required {self.describe()}"
        ok = actual <= self.value if self.at_most else actual >= self.value
        return None if ok else f"{self.metric} = {actual:g}, required {self.describe()}"

    def describe(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {self.value:g}"


def parse_threshold(text: str) -> Threshold:
    """``answer_accuracy=0.8`` (direction from the metric), or explicit ``>=`` / ``<=``."""
    match = re.fullmatch(r"\s*([a-z0-9_]+)\s*(>=|<=|=)\s*([0-9.]+)\s*", text)
    if not match:
        raise ThresholdError(f"--fail-under '{text}' is not METRIC=VALUE, e.g. answer_accuracy=0.8")
    name, op, raw = match.groups()
    if name not in METRICS:
        raise ThresholdError(f"--fail-under: unknown metric '{name}' — use one of {', '.join(METRICS)}")
    try:
        value = float(raw)
    except ValueError as err:
        raise ThresholdError(f"--fail-under '{text}': '{raw}' is not a number") from err
    at_most = op == "<=" or (op == "=" and name in LOWER_IS_BETTER)
    return Threshold(name, value, at_most)


# ---- baseline ---------------------------------------------------------------------------------------


@dataclass
class Comparison:
    """Cases whose verdict changed since a baseline report, and metric moves."""

    worse: list[CaseResult] = field(default_factory=list)
    better: list[CaseResult] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    metrics: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)


def load_baseline(path: Path) -> dict[str, Any]:
    """An earlier ``--json`` report."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ThresholdError(f"baseline report {path} not found — write one with --json first") from err
    except (OSError, ValueError) as err:
        raise ThresholdError(f"baseline report {path} is not a JSON report ({err})") from err
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list) or "summary" not in data:
        raise ThresholdError(f"{path} is not an eval --json report (needs 'summary' and 'cases')")
    return data


def compare(report: Report, baseline: dict[str, Any]) -> Comparison:
    """What got worse and what got better, case by case."""
    old = {str(c.get("id")): bool(c.get("passed")) for c in baseline["cases"] if isinstance(c, dict)}
    out = Comparison()
    for case in report.cases:
        if case.id not in old:
            out.added.append(case.id)
        elif old[case.id] and not case.passed:
            out.worse.append(case)
        elif not old[case.id] and case.passed:
            out.better.append(case)
    current = {c.id for c in report.cases}
    out.removed = [cid for cid in old if cid not in current]
    old_summary = baseline.get("summary") or {}
    for name in METRICS:
        before = (baseline.get("retrieval") or {}).get(name) if name == "recall_at_1" else old_summary.get(name)
        after = metric_value(report, name)
        if before != after and name not in TIMING_KEYS:
            out.metrics[name] = (before, after)
    return out


# ---- text -------------------------------------------------------------------------------------------


def fmt(name: str, value: float | None) -> str:
    """A metric as a person reads it."""
    if value is None:
        return "n/a"
    if name.startswith("latency"):
        return f"{value:.0f} ms"
    if name in ("cases", "answer_chars_p50", "k"):
        return f"{value:g}"
    if name == "mrr":
        return f"{value:.3f}"
    return f"{value:.1%}"


def describe_failure(case: CaseResult) -> str:
    """A readable account of one case: question, answer, expectation, citations, failed checks."""
    lines = [f"Question: {case.question}", f"Answer:   {case.answer}" + ("  (refused)" if case.refused else "")]
    if case.refused and case.refusal_reason:
        lines.append(f"Refused because: {case.refusal_reason}")
    if not case.answerable:
        lines.append("Expected: a refusal")
    if case.expected:
        lines.append("Expected: " + " AND ".join("any of " + " / ".join(repr(x) for x in g) for g in case.expected))
    if case.evidence:
        lines.append("Evidence: " + ", ".join(repr(e) for e in case.evidence))
    if case.citations:
        lines.append("Citations:")
        for c in case.citations:
            mark = "" if c.valid else "  (QUOTE NOT IN CHUNK)"
            lines.append(f"  [{c.n}] {c.chunk_id} · “{c.quote}”{mark}")
    for name, check in case.checks.items():
        if not check.passed:
            lines.append(f"Failed {name}: {check.detail}")
    return "\n".join(lines)


def table(report: Report, *, comparison: Comparison | None = None, max_failures: int = 40) -> str:
    """The terminal summary printed after a run."""
    run = report.run
    lines = [f"{run.golden} — {report.summary.cases} cases, engine {run.engine}, retrieval {run.mode}, k={run.k}", ""]
    lines.append(f"{'metric':<22}{'value':>10}")
    for name in METRICS:
        lines.append(f"{name:<22}{fmt(name, metric_value(report, name)):>10}")
    if report.by_tag:
        cols = ("answer_accuracy", "evidence_accuracy", "refusal_accuracy", "recall_at_k")
        lines += ["", f"{'tag':<18}{'cases':>6}" + "".join(f"{c.split('_')[0]:>10}" for c in cols)]
        for tag, s in report.by_tag.items():
            lines.append(f"{tag[:17]:<18}{s.cases:>6}" + "".join(f"{fmt(c, getattr(s, c)):>10}" for c in cols))
    if report.articles is not None:
        lines += ["", *summary_lines(report.articles)]
    failed = [c for c in report.cases if not c.passed]
    lines += ["", f"{len(failed)} of {len(report.cases)} cases failed" + (":" if failed else "")]
    for case in failed[:max_failures]:
        why = "; ".join(f"{n}: {c.detail}" for n, c in case.failed_checks().items())
        lines.append(f"  {case.id:<10} {case.question[:40]}  — {why[:160]}")
    if len(failed) > max_failures:
        lines.append(f"  … and {len(failed) - max_failures} more (write --html or --json to see them all)")
    if comparison is not None:
        lines += ["", *baseline_lines(comparison)]
    return "\n".join(lines)


def baseline_lines(comparison: Comparison) -> list[str]:
    """The ``--baseline`` section of the terminal output."""
    head = (f"compared with baseline: {len(comparison.worse)} worse, {len(comparison.better)} better, "
            f"{len(comparison.added)} new, {len(comparison.removed)} gone")
    lines = [head]
    for case in comparison.worse:
        lines.append(f"  worse   {case.id:<10} {case.question[:50]}")
    for case in comparison.better:
        lines.append(f"  better  {case.id:<10} {case.question[:50]}")
    for name, (before, after) in comparison.metrics.items():
        lines.append(f"  {name}: {fmt(name, before)} → {fmt(name, after)}")
    return lines


# ---- JUnit ------------------------------------------------------------------------------------------


def to_junit(report: Report) -> str:
    """One ``<testcase>`` per question; failures carry the readable account."""
    failures = sum(not c.passed for c in report.cases)
    total_s = sum(c.latency_ms for c in report.cases) / 1000
    suite_name = report.run.golden or "golden"
    root = ET.Element("testsuites", name="golden", tests=str(len(report.cases)), failures=str(failures),
                      errors="0", time=f"{total_s:.3f}")
    suite = ET.SubElement(root, "testsuite", name=suite_name, tests=str(len(report.cases)), failures=str(failures),
                          errors="0", skipped="0", time=f"{total_s:.3f}")
    props = ET.SubElement(suite, "properties")
    for name in METRICS:
        ET.SubElement(props, "property", name=name, value=fmt(name, metric_value(report, name)))
    classname = "golden." + re.sub(r"[^A-Za-z0-9_]+", "_", Path(suite_name.split(" + ")[0]).stem or "set")
    for case in report.cases:
        tc = ET.SubElement(suite, "testcase", classname=classname, name=_xml(f"{case.id}: {case.question}"),
                           time=f"{case.latency_ms / 1000:.3f}")
        if not case.passed:
            failed = case.failed_checks()
            message = "; ".join(f"{n}: {c.detail}" for n, c in failed.items())
            el = ET.SubElement(tc, "failure", message=_xml(message), type=",".join(failed))
            el.text = _xml(describe_failure(case))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _xml(text: str) -> str:
    return _XML_BAD.sub("", text)


# ---- HTML -------------------------------------------------------------------------------------------

_CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;
margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1f2328;line-height:1.5}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
.meta{color:#57606a;font-size:.9rem}table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}
.case{border:1px solid #d0d7de;border-left:4px solid #cf222e;border-radius:6px;padding:.6rem 1rem;margin:.8rem 0}
.case h3{margin:.1rem 0 .4rem;font-size:1rem}.label{color:#57606a;display:inline-block;min-width:6.5rem}
blockquote{margin:.2rem 0 .2rem 1rem;padding-left:.6rem;border-left:3px solid #d0d7de;color:#333}
.tag{background:#ddf4ff;border-radius:1rem;padding:0 .5rem;margin-right:.3rem;font-size:.8rem}
.banner{padding:.6rem 1rem;border-radius:6px;margin:1rem 0;font-weight:600}
.banner.ok{background:#dafbe1}.banner.bad{background:#ffebe9}
"""


def to_html(report: Report, *, thresholds: list[Threshold] | None = None,
            comparison: Comparison | None = None) -> str:
    """A self-contained page: summary, per-tag table, every failing case with what failed."""
    e = html.escape
    run = report.run
    failed = [c for c in report.cases if not c.passed]
    parts = [
        "<!DOCTYPE html>", '<html lang="zh"><head><meta charset="utf-8">',
        f"<title>Evaluation — {e(run.golden or 'golden set')}</title><style>{_CSS}</style></head><body>",
        f"<h1>Evaluation report — {e(run.golden or 'golden set')}</h1>",
        f'<p class="meta">engine <b>{e(run.engine)}</b> · retrieval <b>{e(run.mode)}</b> · k={run.k} · '
        f"collection <code>{e(run.collection)}</code>" + (f" · corpus <code>{e(run.corpus)}</code>" if run.corpus else "")
        + "</p>",
        _verdict_html(report, failed, thresholds or []),
        _summary_html(report, thresholds or []),
        _tags_html(report),
    ]
    if comparison is not None:
        parts.append(_baseline_html(comparison))
    parts.append(f'<h2 id="failures">Failing cases ({len(failed)})</h2>')
    parts += [_case_html(c) for c in failed] or ["<p>None — every case passed.</p>"]
    passed = [c for c in report.cases if c.passed]
    parts.append(f"<details><summary>Passing cases ({len(passed)})</summary><table><tr><th>id</th><th>question</th>"
                 "<th>answer</th></tr>" + "".join(f"<tr><td>{e(c.id)}</td><td>{e(c.question)}</td><td>{e(c.answer)}</td></tr>"
                                                   for c in passed) + "</table></details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _verdict_html(report: Report, failed: list[CaseResult], thresholds: list[Threshold]) -> str:
    missed = [m for t in thresholds if (m := t.failure(report))]
    if thresholds:
        cls = "bad" if missed else "ok"
        text = ("Thresholds missed: " + "; ".join(missed)) if missed else "All thresholds met."
    else:
        cls = "bad" if failed else "ok"
        text = f"{len(report.cases) - len(failed)} of {len(report.cases)} cases passed."
    return f'<div id="verdict" class="banner {cls}">{html.escape(text)}</div>'


def _summary_html(report: Report, thresholds: list[Threshold]) -> str:
    wanted = {t.metric: t for t in thresholds}
    rows = [f'<tr><td>cases</td><td class="num">{report.summary.cases}</td><td></td></tr>']
    for name in METRICS:
        value = metric_value(report, name)
        t = wanted.get(name)
        note = ""
        if t is not None:
            cls = "bad" if t.failure(report) else "ok"
            note = f'<span class="{cls}">required {html.escape(t.describe())}</span>'
        rows.append(f'<tr><td>{name}</td><td class="num">{fmt(name, value)}</td><td>{note}</td></tr>')
    ret = report.retrieval
    return ('<h2>Summary</h2><table id="summary"><tr><th>metric</th><th>value</th><th>threshold</th></tr>'
            + "".join(rows) + f'</table><p class="meta">retrieval: {ret.cases} cases with a gold passage or '
            f"evidence; recall@1 {fmt('r', ret.recall_at_1)}, recall@{ret.k} {fmt('r', ret.recall_at_k)}, "
            f"MRR {fmt('mrr', ret.mrr)}</p>")


def _tags_html(report: Report) -> str:
    if not report.by_tag:
        return ""
    cols = ("cases", "answer_accuracy", "evidence_accuracy", "refusal_accuracy", "recall_at_k", "citation_validity")
    head = "<tr><th>tag</th>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>"
    body = "".join(f"<tr><td>{html.escape(tag)}</td>" + "".join(f'<td class="num">{fmt(c, getattr(s, c))}</td>' for c in cols)
                   + "</tr>" for tag, s in report.by_tag.items())
    return f'<h2>By tag</h2><table id="by-tag">{head}{body}</table>'


def _baseline_html(comparison: Comparison) -> str:
    e = html.escape
    items = [f'<li class="bad">worse: {e(c.id)} — {e(c.question)}</li>' for c in comparison.worse]
    items += [f'<li class="ok">better: {e(c.id)} — {e(c.question)}</li>' for c in comparison.better]
    items += [f"<li>{e(n)}: {fmt(n, a)} → {fmt(n, b)}</li>" for n, (a, b) in comparison.metrics.items()]
    return (f'<h2 id="baseline">Compared with baseline</h2><p>{len(comparison.worse)} worse, {len(comparison.better)} '
            f"better, {len(comparison.added)} new, {len(comparison.removed)} gone</p><ul>{''.join(items)}</ul>")


def _case_html(case: CaseResult) -> str:
    e = html.escape
    rows = [f'<h3>{e(case.id)} <span class="meta">{"".join(f"<span class=tag>{e(t)}</span>" for t in case.tags)}</span></h3>',
            f'<div><span class="label">Question</span>{e(case.question)}</div>',
            f'<div><span class="label">Answer</span>{e(case.answer)}' + (" <i>(refused)</i>" if case.refused else "") + "</div>"]
    if case.refused and case.refusal_reason:
        rows.append(f'<div><span class="label">Refused because</span>{e(case.refusal_reason)}</div>')
    if not case.answerable:
        rows.append('<div><span class="label">Expected</span>a refusal</div>')
    if case.expected:
        rows.append('<div><span class="label">Expected</span>' + " AND ".join(
            "any of " + " / ".join(f"<code>{e(x)}</code>" for x in g) for g in case.expected) + "</div>")
    if case.evidence:
        rows.append('<div><span class="label">Evidence</span>' + ", ".join(f"<code>{e(x)}</code>" for x in case.evidence) + "</div>")
    for c in case.citations:
        mark = "" if c.valid else ' <span class="bad">quote not found in chunk</span>'
        rows.append(f'<div><span class="label">[{c.n}]</span>{e(c.title)} · <code>{e(c.chunk_id)}</code>{mark}'
                    f"<blockquote>{e(c.quote)}</blockquote></div>")
    for name, check in case.failed_checks().items():
        rows.append(f'<div class="bad">✗ {e(name)}: {e(check.detail)}</div>')
    return f'<section class="case" id="case-{e(case.id)}">' + "".join(rows) + "</section>"
