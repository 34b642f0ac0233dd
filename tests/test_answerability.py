"""The answer decision: answerability model, constraint checks, 'not covered' answers, refusal reasons.

The unit tests use a small invented policy text (not the bundled article) with the real jieba BM25 IDF and the
shipped model; most leave the embedder out (the dense tie-break and the similarity features then do not apply:
the model reads their training means); the similarity test uses a deterministic stand-in embedder.
"""

from __future__ import annotations

import json
import re

import pytest
from langchain_core.documents import Document

from bot.answerability import FEATURES, MODEL_PATH, Model, model
from bot.citations import Claim
from bot.engine import shown_only_verified
from bot.engines import Reply
from bot.evaluation.golden import GoldenCase
from bot.evaluation.report import describe_failure
from bot.evaluation.runner import grade
from bot.extractive import ExtractiveAnswerer
from bot.keyword import Bm25Index
from bot.text import tokenize
from tests.conftest import by_overlap, keyword_answerer
from tests.test_answer import _cli

TEXTS = [
    "对新认定的市级示范园区，给予园区运营单位200万元一次性奖励。园区须在本市注册。",
    "2023年，全市软件产业收入达到1200亿元，同比增长12%。软件企业共有2300家。",
    "市民可通过政务服务网办理居住证，办理时限为5个工作日。",
]
NEAR_MISS_KIND = "对新认定的省级示范园区奖励多少?"


@pytest.fixture(scope="module")
def fixture_answerer(tmp_path_factory):
    engine, chunks = keyword_answerer(TEXTS, tmp_path_factory.mktemp("bm25"))
    return lambda question: engine.answer(question, by_overlap(question, chunks))


def test_answerable_question_is_answered_with_a_probability(fixture_answerer):
    decision = fixture_answerer("市级示范园区能获得多少奖励?")
    assert not decision.refused, decision.reason
    assert "200万元" in decision.answer and decision.probability >= model().threshold


def test_near_miss_kind_says_what_is_not_covered(fixture_answerer):
    decision = fixture_answerer(NEAR_MISS_KIND)
    assert decision.refused and decision.related
    assert decision.answer.startswith("资料未提及“省级示范园区”") and "200万元" in decision.answer
    assert "省级示范园区" in decision.reason


def test_near_miss_year_and_amount_are_refused(fixture_answerer):
    for question in ("2022年全市软件产业收入是多少?", "对新认定的市级示范园区给予500万元奖励的条件是什么?"):
        decision = fixture_answerer(question)
        assert decision.refused, question
        assert decision.reason


def test_unrelated_question_is_refused_plainly(fixture_answerer):
    decision = fixture_answerer("购买新能源汽车的个人有什么补贴?")
    assert decision.refused and not decision.related and not decision.claims


def test_model_file_matches_the_features_and_is_calibrated_on_its_inputs():
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert tuple(data["features"]) == FEATURES and 0 < data["threshold"] < 1
    m = model()
    low, high = [0.0] * len(FEATURES), list(m.mean)
    high[FEATURES.index("coverage")] = 1.0
    high[FEATURES.index("missing_share")] = 0.0
    assert m.predict(high) > m.predict(low)


def test_english_questions_are_decided_by_the_english_model_at_its_own_threshold():
    """English questions have a model of their own, fitted and thresholded on English questions; a model file
    without one reads them with the Chinese model at ``cross_threshold`` (or the Chinese threshold)."""
    from dataclasses import replace

    shipped = model()
    assert shipped.cross is not None and 0 < shipped.cross.threshold < 1
    assert shipped.threshold_for(cross=True) == shipped.cross.threshold != shipped.threshold_for(cross=False)
    m = replace(shipped, threshold=0.5, cross=None, cross_threshold=0.7)
    assert m.threshold_for(cross=True) == 0.7
    assert m.threshold_for(cross=False) == 0.5
    assert replace(m, cross_threshold=None).threshold_for(cross=True) == 0.5
    assert Model.from_dict(shipped.to_dict()) == shipped  # what train.py writes is what the engine reads


def test_model_trained_on_other_features_is_rejected_with_a_clear_error(tmp_path):
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"retrain with python -m bot\.answerability\.train"):
        Model.load(path)


# ---- the engine: "not covered" form, citations, refusal reasons --------------------------------------

LOCAL_STANDARD = "对主导制订地方标准的企业奖励多少?"


def _sentences_are_cited(answer) -> None:
    """Every quoted piece of the answer text lies inside the verified quote of the citation it names."""
    quotes = {c.n: c.quote for c in answer.citations}
    body = re.sub(r"^资料未提及[^：]*：|^The documents do not mention[^:]*: ", "", answer.answer)
    pieces = re.findall(r"(.+?)\[(\d+)\]", body)
    assert pieces and "".join(p for p, _ in pieces) + "".join(f"[{n}]" for _, n in pieces) != ""
    for text, n in pieces:
        assert int(n) in quotes and text in quotes[int(n)], (text, quotes)
    assert not re.sub(r"(.+?)\[(\d+)\]", "", body).strip()  # nothing shown after the last marker


def test_not_covered_answer_cites_the_related_passage(seed_engine):
    answer = seed_engine.ask(LOCAL_STANDARD)
    assert answer.refused and answer.answer.startswith("资料未提及“地方标准”")
    assert len(answer.citations) == 1 and "国际、国家、行业标准" in answer.citations[0].quote
    assert "地方标准" in answer.refusal_reason
    _sentences_are_cited(answer)


def test_every_answer_sentence_carries_a_verified_citation(seed_engine):
    for question in ("算力券每年发放总额是多少?", "成都对购买新能源汽车的个人有什么补贴?", "熊猫机器人有多高?",
                     "机会清单里供给类的有多少项?", LOCAL_STANDARD, "How many AI companies did Chengdu have by November 2023?"):
        answer = seed_engine.ask(question)
        if answer.citations:
            _sentences_are_cited(answer)
        else:
            assert answer.refused and "[" not in answer.answer


def test_a_quote_that_does_not_verify_is_not_shown():
    chunks = [Document(page_content="甲城给予每家企业10万元补贴。", metadata={"doc_id": "a", "chunk_id": "a#0"})]
    reply = Reply(text="甲城给予每家企业10万元补贴。[1]乙城给予20万元。[1]", engine="extractive",
                  claims=[Claim(1, "甲城给予每家企业10万元补贴。"), Claim(1, "乙城给予20万元。")])
    assert shown_only_verified(reply, chunks) == 1
    assert reply.text == "甲城给予每家企业10万元补贴。[1]" and len(reply.claims) == 1


def test_refusal_reason_in_json_and_eval_report(seed_engine):
    refused = seed_engine.ask("深圳的人工智能产业规模是多少?")
    assert refused.refused and "深圳" in refused.model_dump()["refusal_reason"]
    assert seed_engine.ask("算力券每年发放总额是多少?").refusal_reason == ""
    case = GoldenCase(id="x", question="深圳的人工智能产业规模是多少?", answers=["616亿元"])
    result = grade(case, refused, {}, latency_ms=1.0)
    assert result.model_dump()["refusal_reason"] == refused.refusal_reason
    assert "Refused because: " + refused.refusal_reason in describe_failure(result)


def test_cli_json_shows_not_covered_form(settings_factory):
    out = _cli(["ask", LOCAL_STANDARD, "--json"], settings_factory())
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["refused"] is True and data["answer"].startswith("资料未提及") and len(data["citations"]) == 1
    assert data["refusal_reason"]
    assert 0 < data["confidence"] < 1  # the estimate for the related sentence, had the question's kind been met


def test_an_answer_carries_the_models_confidence_and_a_veto_none(seed_engine):
    """``confidence`` is the answerability estimate the decision was taken on: at or above the threshold when the
    engine answers; none when a veto refused before the model was asked (nothing of the question found)."""
    from bot.answerability import model

    answered = seed_engine.ask("算力券一年总共发放多少?")
    assert not answered.refused and answered.confidence is not None
    assert answered.confidence >= model().threshold
    vetoed = seed_engine.ask("量子计算机的冷却系统用什么材料?")
    assert vetoed.refused and vetoed.confidence is None



def _toy_embedder(vectors: dict[str, list[float]]):
    """A deterministic stand-in for the embedder: each text's vector is looked up by a word it contains."""
    import numpy as np

    def vec(text: str) -> np.ndarray:
        v = np.array(next((v for w, v in vectors.items() if w in text), [0.0, 0.0, 1.0]), dtype=float)
        return v / np.linalg.norm(v)

    return (lambda texts: np.stack([vec(t) for t in texts])), vec


def test_similarity_features_compare_the_best_sentence_with_its_runners_up(tmp_path):
    import math

    from bot.answerability import features

    passages, query = _toy_embedder({"园区": [1.0, 0.0, 0.0], "软件": [0.6, 0.8, 0.0]})
    embedded, chunks = keyword_answerer(TEXTS, tmp_path / "with", embed_passages=passages, embed_query=query)
    plain_answerer, _ = keyword_answerer(TEXTS, tmp_path / "without")
    question = "市级示范园区能获得多少奖励?"
    with_embedder = embedded.rank(question, chunks)
    assert with_embedder is not None and "200万元" in with_embedder.best.text
    x = dict(zip(FEATURES, features(with_embedder), strict=True))
    # the question and the best sentence share the 园区 direction (cosine 1); the best runner-up is the other
    # 园区 sentence of the same chunk (cosine 1 too), so the lead is 0
    assert x["similarity"] == pytest.approx(1.0) and x["similarity_lead"] == pytest.approx(0.0)
    # without an embedder (keyword-only training, tests) the features are missing and the model reads its means
    plain = plain_answerer.rank(question, chunks)
    assert plain is not None
    y = dict(zip(FEATURES, features(plain), strict=True))
    assert math.isnan(y["similarity"]) and math.isnan(y["similarity_lead"])
    m = model()
    at_mean = [m.mean[i] if math.isnan(v) else v for i, v in enumerate(features(plain))]
    assert m.predict(features(plain)) == pytest.approx(m.predict(at_mean))
    # an English question's cosine to Chinese text is not comparable with the Chinese training rows: the Chinese
    # model does not read it; the English model, fitted on English questions, does
    english = embedded.rank("How much is the reward for a park?", chunks)
    assert english is not None and math.isnan(features(english)[FEATURES.index("similarity")])
    english_x = features(english, cosine=True)
    assert not math.isnan(english_x[FEATURES.index("similarity")])
    assert m.cross is not None and m.probability(english) == pytest.approx(m.cross.predict(english_x))
    assert m.probability(with_embedder) == pytest.approx(m.predict(features(with_embedder)))


def test_a_sentence_far_from_the_question_in_meaning_lowers_the_estimate():
    m = model()
    near, far = list(m.mean), list(m.mean)
    near[FEATURES.index("similarity")] = 0.95
    far[FEATURES.index("similarity")] = 0.75
    assert m.predict(near) > m.predict(far)


def test_training_script_runs_on_a_few_benchmark_questions(tmp_path, embed_cache_dir):
    """The offline training pipeline end to end on 12 questions per set (skips without ../shared/bench)."""
    from bot.answerability import train
    from tests.conftest import BENCH, bench_file

    bench_file("cmrc_dev_part1.jsonl")
    bench_file("rgb_zh.jsonl")
    out, report = tmp_path / "model.json", tmp_path / "report.json"
    assert train.main(["--bench", str(BENCH), "--rows", str(tmp_path / "rows.jsonl.gz"), "--limit", "12",
                       "--embedding-cache", str(embed_cache_dir / "embeddings.sqlite3"),
                       "--out", str(out), "--report", str(report)]) == 0
    fitted = Model.load(out)
    assert 0 < fitted.threshold < 1 and len(fitted.coef) == len(FEATURES)
    # part 1's even-numbered questions in English fit the English model, part 2's first one chooses its threshold
    assert fitted.cross is not None and 0 < fitted.cross.threshold < 1 and len(fitted.cross.coef) == len(FEATURES)
    curves = json.loads(report.read_text(encoding="utf-8"))
    assert {"cmrc/val", "rgb/val", "rgb-noise/val", "cmrc-en/val"} <= set(curves)


def test_a_one_sentence_corpus_does_not_make_a_weak_match_an_answer(tmp_path):
    """With a single candidate the runner-up margin is large by construction; the coverage floor still refuses."""
    text = "对主导制订国际、国家、行业标准的企业，分别给予60万元、40万元、25万元的奖励。"
    chunk = Document(page_content=text, metadata={"doc_id": "s", "chunk_id": "s#0", "title": ""}, id="s#0")
    bm25 = Bm25Index(tmp_path / "bm25")
    bm25.build([chunk.id], [tokenize(text)], stamp="")
    decision = ExtractiveAnswerer(idf=bm25.idf).answer("首版次软件产品补贴最高多少?", [chunk])
    assert decision.refused and not decision.claims
    assert "covers only" in decision.reason or "none of the question's words" in decision.reason


def test_a_lone_sentence_sharing_no_word_with_the_question_is_never_the_answer():
    """One retrieved sentence with an amount, none of the question's words: the model alone scored it 0.99."""
    from langchain_core.documents import Document

    from bot.extractive import ExtractiveAnswerer

    known = {"主导": 1.0, "制订": 1.0, "国际": 1.0, "国家": 1.0, "行业标准": 1.0, "企业": 1.0, "给予": 1.0, "奖励": 1.0}
    answerer = ExtractiveAnswerer(idf=lambda w: known.get(w, 0.0))
    chunk = Document(page_content="对主导制订国际、国家、行业标准的企业，分别给予60万元、40万元、25万元的奖励。")
    decision = answerer.answer("首版次软件产品补贴最高多少?", [chunk])
    assert decision.refused and not decision.claims
    assert "none of the question's words" in decision.reason


def test_a_list_of_something_the_sources_never_name_is_refused(fixture_answerer):
    from bot.extractive import _listed, _pos_cut

    assert "申报材料" in _listed(_pos_cut("示范园区的申报材料有哪些?"))
    decision = fixture_answerer("示范园区的申报材料有哪些?")
    assert decision.refused and "申报材料" in decision.reason
    # the same form about something the sources do name is not refused for that
    assert "示范园区" in _listed(_pos_cut("示范园区有哪些?"))
    named = fixture_answerer("示范园区有哪些?")
    assert "示范园区" not in named.reason


def test_a_sentence_restating_the_best_ones_figure_is_support_not_a_rival(tmp_path):
    """News and policy texts state a fact in summary and in detail: the sentence that repeats the best one's figure
    does not shrink its margin (a year alone is no shared figure)."""
    texts = ["2021年，某区机器人产业规模为321亿元，位列全省第二，增速全省第一。",
             "2021年某区机器人产业规模321亿元，居全省第2。",
             "2021年，某区机器人企业数量达到58家，位列全省第三。"]
    answerer, chunks = keyword_answerer(texts, tmp_path)
    ranking = answerer.rank("某区机器人产业规模在全省排第几?", chunks)
    assert ranking is not None and "321亿元" in ranking.best.text
    rivals = {c.text for c in ranking.rivals()}
    assert not any("321" in t for t in rivals) and any("58家" in t for t in rivals)


def test_the_reader_reranks_the_best_sentences_and_is_a_feature(tmp_path):
    """A deterministic stand-in for the reader (the real one is tested in test_reader.py): the sentence it reads as
    the answer moves to the top, and its probability is the ``reader`` feature, for English questions too."""
    import math

    from bot.answerability import features

    texts = ["示范园区由市城投集团负责投资建设和运营管理，示范园区占地1200亩。",
             "示范园区的建设单位将于明年确定，示范园区规划已经完成。"]

    def read(question: str, passages: list[str]):
        import numpy as np

        return np.array([0.95 if "城投" in p else 0.05 for p in passages])

    plain, chunks = keyword_answerer(texts, tmp_path / "plain")
    reading, _ = keyword_answerer(texts, tmp_path / "read")
    reading._read = read
    question = "示范园区的建设单位是谁?"
    before, after = plain.rank(question, chunks), reading.rank(question, chunks)
    assert before is not None and after is not None
    assert "明年" in before.best.text and "城投" in after.best.text  # keyword coverage alone prefers the other
    assert dict(zip(FEATURES, features(after), strict=True))["reader"] == pytest.approx(0.95)
    english = reading.rank("Who builds the demonstration park?", chunks)
    assert english is not None and english.cross and english.best.read is not None
    assert not math.isnan(features(english)[FEATURES.index("reader")])


def test_an_english_question_naming_a_chinese_term_the_sources_never_use_is_refused(fixture_answerer):
    """A Chinese term written into an English question is the exact thing meant: 省级示范园区 is not the 市级 one
    the fixture rewards, so the question is refused, naming the term; the term the sources do use is no obstacle."""
    other = fixture_answerer("What one-off reward does the operator of a newly recognised park (省级示范园区) get?")
    assert other.refused and "省级" in other.reason
    same = fixture_answerer("What one-off reward does the operator of a newly recognised park (市级示范园区) get?")
    assert "市级" not in same.reason
