"""The answer chain: extractive answers, verified citations, refusals, follow-ups, CLI."""

import json
import os
import subprocess
import sys

import pytest
from langchain_core.documents import Document

from bot.citations import Claim, verify
from tests.conftest import ROOT

SCHEMA = {"question", "standalone_question", "answer", "refused", "engine", "citations", "retrieved", "timings_ms"}
CITATION = {"n", "doc_id", "title", "chunk_id", "quote", "text", "start", "end", "score"}


def test_answer_quotes_the_supporting_sentence(seed_engine):
    answer = seed_engine.ask("算力券每年发放总额是多少?")
    assert not answer.refused
    assert "1000万元" in answer.answer and answer.answer.endswith("[1]")
    assert len(answer.answer) < 120, "a sentence or two, not a pasted chunk"
    (cit,) = answer.citations
    assert cit.quote in cit.text and "1000万元" in cit.quote
    document = seed_engine.document_text(cit.doc_id)
    assert document[cit.start : cit.end] == cit.quote


def test_every_citation_offset_slices_its_document(seed_engine):
    for question in ("首版次软件补贴多少?", "截至2023年11月成都有多少家人工智能企业?", "成都超算中心用户数量增长了多少?"):
        answer = seed_engine.ask(question)
        assert answer.citations, question
        for cit in answer.citations:
            assert seed_engine.document_text(cit.doc_id)[cit.start : cit.end] == cit.quote


def test_refuses_without_a_basis_and_in_the_question_language(seed_engine):
    zh = seed_engine.ask("深圳的人工智能产业规模是多少?")
    assert zh.refused and not zh.citations and "没有找到" in zh.answer
    en = seed_engine.ask("How many AI companies are there in Chongqing?")
    assert en.refused and not en.citations and en.answer.startswith("Sorry")


def test_english_question_finds_chinese_answer(seed_engine):
    answer = seed_engine.ask("How many AI companies did Chengdu have by November 2023?")
    assert not answer.refused and "835家" in answer.answer


def test_follow_up_carries_the_subject_over(seed_engine):
    first = seed_engine.ask("对主导制订国际标准的企业奖励多少?")
    history = [("user", first.standalone_question), ("assistant", first.answer)]
    follow = seed_engine.ask("那国家标准呢?", history=history)
    assert "国家标准" in follow.standalone_question and follow.standalone_question != follow.question
    assert not follow.refused and "40万元" in follow.answer


def test_json_schema(seed_engine):
    data = seed_engine.ask("首版次软件补贴多少?").model_dump()
    assert set(data) >= SCHEMA
    assert set(data["citations"][0]) >= CITATION
    assert {"chunk_id", "doc_id", "text", "score"} <= set(data["retrieved"][0])


def test_empty_and_hostile_questions_get_a_reply(seed_engine):
    assert seed_engine.ask("   ").refused
    long = seed_engine.ask("算力券" * 50_000)
    assert long.question and len(long.question) <= seed_engine.settings.max_question_chars
    weird = seed_engine.ask("\x00\x07'; DROP TABLE chunks; -- <script>alert(1)</script> 🤖")
    assert weird.refused


def test_chain_is_a_runnable(seed_engine):
    answers = seed_engine.chain.batch([{"question": "首版次软件补贴多少?"}, {"question": "北京今天天气怎么样?"}])
    assert [a.refused for a in answers] == [False, True]


def test_verification_drops_bad_citations():
    chunk = Document(page_content="对新获得“小巨人”称号的企业，给予30万元一次性奖励。",
                     metadata={"doc_id": "d", "chunk_id": "d#1", "start": 100, "title": "t"})
    citations, renumber, dropped = verify(
        [Claim(n=1, quote="给予30万元一次性奖励"), Claim(n=9, quote="给予30万元"), Claim(n=1, quote="给予50万元")],
        [chunk],
    )
    assert dropped == 2 and renumber == {1: 1}
    assert citations[0].quote == "给予30万元一次性奖励"
    assert citations[0].start == 100 + chunk.page_content.index("给予30万元")


def test_verification_tolerates_width_and_spacing():
    chunk = Document(page_content="同比增长36.9%，位居全国第一。", metadata={"doc_id": "d", "start": 0})
    citations, _, dropped = verify([Claim(n=1, quote="同比增长 36.9% ,位居全国第一")], [chunk])
    assert dropped == 0 and citations[0].quote == "同比增长36.9%，位居全国第一"


def _cli(args, settings, **env):
    environ = {**os.environ, "BOT_DATA_DIR": str(settings.data_dir), "BOT_EMBEDDING_CACHE": str(settings.embedding_cache),
               **env}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=environ, capture_output=True, text=True,
                          timeout=300)


def test_cli_ask_builds_the_index_then_answers_json(settings_factory):
    settings = settings_factory()
    out = _cli(["ask", "首版次软件补贴多少?", "--json"], settings)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) >= SCHEMA and not data["refused"] and "250万元" in data["answer"]
    assert "built the index first" in out.stderr
    text = _cli(["ask", "首版次软件补贴多少?"], settings)
    assert "[1] 剑指2025年产业规模突破1500亿元" in text.stdout


@pytest.mark.parametrize("args", [["ask", ""], ["ask", "  \t\u200b"], ["ask", "问题", "--k", "0"]])
def test_cli_usage_errors_exit_2_before_any_work(settings_factory, args):
    settings = settings_factory()
    out = _cli(args, settings)
    assert out.returncode == 2 and ("question is empty" in out.stderr or "--k must be" in out.stderr), out.stderr
    assert "Traceback" not in out.stderr and not (settings.data_dir / "chroma").exists()  # nothing was indexed


def test_cli_reports_a_missing_corpus(settings_factory, tmp_path):
    settings = settings_factory(corpus_dir=tmp_path / "nowhere")
    out = _cli(["ingest"], settings, BOT_CORPUS_DIR=str(tmp_path / "nowhere"))
    assert out.returncode == 1 and "BOT_CORPUS_DIR" in out.stderr and "Traceback" not in out.stderr


REASONS = ["去年中心用户数量同比增长50%，达到1280家；服务范围覆盖全国45座城市。“这与全市谋划布局算力高地息息相关。”主任说。",
           "中心位于天府新区，面向全国提供算力服务。"]


@pytest.mark.parametrize("question", ["中心用户数量增长的原因是什么?", "中心用户数量为什么增长?"])
def test_a_why_question_is_answered_with_the_sentence_that_gives_the_reason(tmp_path, question):
    """原因 is asked for, not a word the answer must contain: the figure's sentence is quoted on to the next
    sentence that gives its reason (这与…相关), over the clause cut at ；."""
    from tests.conftest import keyword_answerer

    engine, chunks = keyword_answerer(REASONS, tmp_path)
    decision = engine.answer(question, chunks)
    assert not decision.refused, decision.reason
    assert "1280家" in decision.answer and "算力高地息息相关" in decision.answer


def test_a_question_that_does_not_ask_why_is_not_quoted_on(tmp_path):
    from tests.conftest import keyword_answerer

    engine, chunks = keyword_answerer(REASONS, tmp_path)
    decision = engine.answer("中心用户数量达到多少家?", chunks)
    assert not decision.refused and "1280家" in decision.answer and "息息相关" not in decision.answer


def test_a_clause_cut_at_a_semicolon_is_quoted_to_the_end_of_its_sentence(tmp_path):
    """The best clause ends at ；: the quote runs on through the sentence's next clause (the list the question asks
    for), not into the next sentence."""
    from tests.conftest import keyword_answerer

    texts = ["省政府工作报告提出：重点发展人工智能产业；培育生物技术、卫星网络等新兴产业。全年目标另行公布。",
             "中心位于天府新区，面向全国提供算力服务。"]
    engine, chunks = keyword_answerer(texts, tmp_path)
    decision = engine.answer("省政府工作报告提出重点发展什么产业?", chunks)
    assert not decision.refused, decision.reason
    assert "人工智能产业；培育生物技术" in decision.answer and "另行公布" not in decision.answer


def test_a_colloquial_verb_with_its_particle_is_not_an_unknown_noun():
    """jieba's HMM joins 搞了个 into one "noun" the corpus never uses, which would weigh as a missing term."""
    from bot.extractive import _pos_cut

    words = dict(_pos_cut("公司牵头搞了个国际标准，政府奖多少?"))
    assert "搞了个" not in words and words.get("搞") == "v"
    assert dict(_pos_cut("为了发展产业，除了补贴还有什么?")).get("为了") == "p"  # dictionary words stay whole


@pytest.mark.parametrize(("english", "chinese"), [
    ("a scale of 69 billion yuan", "a scale of 690亿 yuan"), ("1 million yuan", "100万 yuan"),
    ("2.5 million people", "250万 people"), ("1.5 trillion", "1.5万亿"), ("15 thousand", "1.5万"), ("500 people", "500 people"),
])
def test_english_amounts_are_searched_and_matched_as_chinese_writes_them(english, chinese):
    """An English question's 69 billion is the sources' 690亿: the number a Chinese sentence must state."""
    from bot.extractive import _chinese_magnitudes

    assert _chinese_magnitudes(english) == chinese


def test_words_the_corpus_lacks_are_cut_again_by_the_words_it_knows(tmp_path):
    """jieba cuts 搞算力券 into 搞算 / 力券; the corpus says 算力券, so that is the question's term."""
    from tests.conftest import keyword_answerer

    engine, _ = keyword_answerer(["全市发放算力券，支持企业使用算力。", "算力券可在平台申领。"], tmp_path)
    texts = [t.text for t in engine.terms("政府搞算力券是想让企业得到啥?")]
    assert "算力券" in texts and "力券" not in texts and "搞算" not in texts
