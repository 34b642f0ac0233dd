"""Near-miss questions: the document's words, but another subject, qualifier or time than the one it states.

A small invented policy text (not the bundled article), the real jieba BM25 IDF and the shipped model; the dense
tie-break is left out (no embedder), as in training.
"""

from __future__ import annotations

import json

import pytest
from langchain_core.documents import Document

from bot.answerability import swapped_terms
from tests.conftest import by_overlap, keyword_answerer, unmet_of
from tests.test_answer import _cli

TEXTS = [
    "对牵头制定国家标准的企业，给予50万元奖励。高校科研团队可申请实验室建设经费，每个团队不超过80万元。",
    "截至2023年11月，全市共有软件企业2300家，同比增长8%。2022年全年软件产业收入达到1200亿元。",
    "市民可通过政务服务网办理居住证，办理时限为5个工作日。",
]


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    engine, chunks = keyword_answerer(TEXTS, tmp_path_factory.mktemp("bm25"))
    return engine, lambda question: by_overlap(question, chunks)


def test_a_swapped_subject_is_seen_and_refused(answerer):
    engine, ranked = answerer
    question = "对牵头制定国家标准的高校奖励多少?"  # the text rewards 企业; 高校 it names only elsewhere
    ranking = engine.rank(question, ranked(question))
    assert ranking is not None and "50万元" in ranking.best.text
    assert [t.text for t in swapped_terms(ranking)] == ["高校"]
    decision = engine.answer(question, ranked(question))
    assert decision.refused and "50万元" not in decision.answer.replace("资料未提及", "").split("：")[0]
    assert "高校" in decision.reason


def test_the_matching_question_is_answered(answerer):
    engine, ranked = answerer
    question = "对牵头制定国家标准的企业奖励多少?"
    ranking = engine.rank(question, ranked(question))
    assert ranking is not None and swapped_terms(ranking) == []
    decision = engine.answer(question, ranked(question))
    assert not decision.refused, decision.reason
    assert "50万元" in decision.answer


def test_a_swapped_time_is_seen(answerer):
    engine, ranked = answerer
    ranking = engine.rank("2023年全年全市共有软件企业多少家?", ranked("2023年全年全市共有软件企业多少家?"))
    assert ranking is not None and "2300家" in ranking.best.text
    assert [t.text for t in swapped_terms(ranking)] == ["全年"]  # the sentence counts to 11月
    ok = engine.rank("截至2023年11月全市共有软件企业多少家?", ranked("截至2023年11月全市共有软件企业多少家?"))
    assert ok is not None and swapped_terms(ok) == []


def test_a_modifier_before_the_english_thing_asked_for_is_not_a_name_to_find(answerer):
    """"What is the maximum reward": the thing asked for is the reward, so "maximum" need not be in the sources."""
    engine, _ = answerer
    asked = {t.text: t for t in engine.terms("What is the maximum reward for companies?")}
    assert not asked["maximum"].must
    named = {t.text: t for t in engine.terms("What is the reward in Shenzhen?")}
    assert named["shenzhen"].must  # a place the dictionary knows and the sources never mention


def test_cli_json_refuses_a_swapped_subject(settings_factory, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "policy.md").write_text("\n\n".join(TEXTS) + "\n", encoding="utf-8")
    settings = settings_factory(corpus_dir=corpus)
    env = {"BOT_CORPUS_DIR": str(corpus)}
    out = _cli(["ask", "对牵头制定国家标准的高校奖励多少?", "--json"], settings, **env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["refused"] is True and "高校" in data["refusal_reason"]
    out = _cli(["ask", "对牵头制定国家标准的企业奖励多少?", "--json"], settings, **env)
    data = json.loads(out.stdout)
    assert data["refused"] is False and "50万元" in data["answer"]


def _ranking(engine, question: str, sentence: str, *, elsewhere: str = ""):
    chunks = [Document(page_content=sentence, metadata={"doc_id": "a", "chunk_id": "a#0", "title": ""}, id="a#0")]
    if elsewhere:
        chunks.append(Document(page_content=elsewhere, metadata={"doc_id": "b", "chunk_id": "b#0", "title": ""},
                               id="b#0"))
    ranking = engine.rank(question, chunks)
    assert ranking is not None and ranking.best.chunk_n == 1
    return ranking


def test_alignment_is_not_made_across_a_comma_inside_a_title_or_on_an_ambiguous_anchor(answerer):
    engine, _ = answerer
    # the question's 高校 and the sentence's 企业 follow 国家标准 in the same place: a swap
    assert swapped_terms(_ranking(engine, "对牵头制定国家标准的高校奖励多少?", TEXTS[0])) != []
    # after a comma the next word starts another clause: 政府 is not aligned with the sentence's 称号
    sentence = "对新获得示范称号的软件企业，给予30万元一次性奖励。"
    assert swapped_terms(_ranking(engine, "我们评上了示范，政府奖励多少?", sentence)) == []
    # inside a 《title》 a word is part of the title's name
    sentence = "7部门联合印发《软件企业扶持措施》。"
    assert swapped_terms(_ranking(engine, "软件新政是几个部门发的?", sentence, elsewhere="软件新政频出。")) == []
    # the neighbour occurs twice in the sentence: which place would be the question's is not known
    sentence = "支持软件算法研发，推动软件能级提升。"
    assert swapped_terms(_ranking(engine, "软件政策有哪些?", sentence)) == []


def test_a_common_noun_counts_only_when_the_sources_use_the_question_word_elsewhere(answerer):
    from bot.answerability.constraints import unmet

    engine, _ = answerer
    sentence = "对牵头制定国家标准的企业，给予50万元奖励。"
    paraphrase = _ranking(engine, "对牵头制定国家标准的公司奖励多少?", sentence)  # 公司: a paraphrase of 企业
    assert [t.text for t in swapped_terms(paraphrase)] == ["公司"] and unmet(paraphrase) == []
    other = _ranking(engine, "对牵头制定国家标准的高校奖励多少?", sentence, elsewhere="高校可申请实验室建设经费。")
    assert [u.text for u in unmet(other)] == ["高校"]


def test_a_work_named_by_its_title_must_be_the_one_the_sentence_names(answerer):
    from bot.answerability.constraints import unmet

    engine, _ = answerer
    sentence = "《软件产业促进办法》规定，对牵头制定国家标准的企业给予50万元奖励。"
    other = _ranking(engine, "《软件人才办法》对牵头制定国家标准的企业奖励多少?", sentence)
    assert [u.text for u in unmet(other)] == ["《软件人才办法》"]
    same = _ranking(engine, "《软件产业促进办法》对牵头制定国家标准的企业奖励多少?", sentence)
    assert unmet(same) == []


def test_words_inside_a_quoted_title_set_nothing(answerer):
    """A question that names a document by its 《title》 asks about that document; the title's words are not
    qualifiers for the answer sentence to meet (高校 inside the title is not a subject swapped for 企业)."""
    engine, ranked = answerer
    plain = "对牵头制定国家标准的高校奖励多少?"
    titled = "《牵头制定国家标准的高校奖励办法》主要讲了什么?"
    assert [t.text for t in swapped_terms(engine.rank(plain, ranked(plain)))] == ["高校"]
    ranking = engine.rank(titled, ranked(titled))
    assert ranking is not None and "50万元" in ranking.best.text
    assert swapped_terms(ranking) == []


LISTED = [
    "对新认定的国家级、省级、市级重点实验室，分别给予50万元、30万元、10万元一次性奖励。",
    "区级配套资金由各区财政承担，实验室须在申报前完成自评。",
]


@pytest.fixture(scope="module")
def listed(tmp_path_factory):
    return keyword_answerer(LISTED, tmp_path_factory.mktemp("bm25-listed"), prefix="l")


@pytest.mark.parametrize("question", ["新认定的区级重点实验室奖励多少?", "What is the reward for new county key laboratories?"])
def test_a_kind_the_sentence_does_not_list_is_not_covered(listed, question):
    """区级 is a word of the sources (so the rule for qualifiers the corpus never uses does not apply), but the
    sentence lists the kinds it rewards — 国家级、省级、市级 — and 区级 is not among them; nor is any translation of
    "county"."""
    from bot.answerability.constraints import unmet

    engine, chunks = listed
    ranking = engine.rank(question, chunks)
    assert ranking is not None and "50万元" in ranking.best.text
    assert "kind" in [u.kind for u in unmet(ranking)]
    decision = engine.answer(question, chunks)
    assert decision.refused, decision.answer


@pytest.mark.parametrize("question", ["新认定的省级重点实验室奖励多少?", "What is the reward for new provincial key laboratories?"])
def test_a_kind_the_sentence_lists_is_answered(listed, question):
    from bot.answerability.constraints import unmet

    engine, chunks = listed
    ranking = engine.rank(question, chunks)
    assert ranking is not None and "kind" not in [u.kind for u in unmet(ranking)]


def test_a_piece_of_a_word_the_corpus_lacks_does_not_vouch_for_it(tmp_path):
    """下半年 is not in the sources, so the question is weighed by the piece they know (半年), which 上半年 contains;
    the subject check still sees 上半年 in the place of 下半年."""
    from bot.answerability.constraints import unmet

    texts = ["2023年上半年，全市软件产业收入达到620亿元，同比增长9%。", "软件企业可申请研发费用补助。"]
    engine, chunks = keyword_answerer(texts, tmp_path, prefix="h")
    asked = engine.rank("2023年下半年全市软件产业收入是多少?", chunks)
    assert asked is not None and "620亿元" in asked.best.text
    assert "下半年" in [u.text for u in unmet(asked)]
    same = engine.rank("2023年上半年全市软件产业收入是多少?", chunks)
    assert same is not None and unmet(same) == []


TWO_YEARS = [
    "2022年全市软件产业收入达到1200亿元，2023年上半年收入为700亿元，增速12%。",
    "软件企业可申请研发费用补助，每家不超过30万元。",
]


@pytest.fixture(scope="module")
def two_years(tmp_path_factory):
    return keyword_answerer(TWO_YEARS, tmp_path_factory.mktemp("bm25-years"), prefix="y")


def test_what_is_asked_is_stated_only_under_another_year(two_years):
    """The sentence states 2022 and 2023 figures; the growth rate only under 2023: asked for 2022 it is not covered,
    asked for 2023's first half it is, and the 2022 income (stated under 2022) is answered."""
    from bot.answerability.constraints import asked_attribute, unmet

    engine, chunks = two_years
    assert asked_attribute("2022年全市软件产业增速是多少?") == "增速"
    other = engine.rank("2022年全市软件产业增速是多少?", chunks)
    assert other is not None and "12%" in other.best.text
    assert [u.text for u in unmet(other)] == ["2022年的增速"]
    decision = engine.answer("2022年全市软件产业增速是多少?", chunks)
    assert decision.refused and "2022年的增速" in decision.answer
    for question in ("2023年上半年全市软件产业增速是多少?", "2022年全市软件产业收入是多少?"):
        ranking = engine.rank(question, chunks)
        assert ranking is not None and unmet(ranking) == [], question
    whole = engine.rank("2023年全市软件产业增速是多少?", chunks)  # the sentence gives 2023's first half only
    assert whole is not None and [u.text for u in unmet(whole)] == ["2023年全年"]


def test_a_paraphrased_asked_word_is_found_by_its_first_character(tmp_path):
    """增速 asked, 同比增长 stated under 2023 only: asked for 2022 it is not covered; 收入 under both years is."""
    from bot.answerability.constraints import unmet

    texts = ["2022年全市软件产业收入1200亿元，2023年上半年收入700亿元，同比增长12%。", TWO_YEARS[1]]
    engine, chunks = keyword_answerer(texts, tmp_path, prefix="p")
    ranking = engine.rank("2022年全市软件产业增速是多少?", chunks)
    assert ranking is not None and "12%" in ranking.best.text
    assert [u.text for u in unmet(ranking)] == ["2022年的增速"]
    same = engine.rank("2023年上半年全市软件产业增速是多少?", chunks)
    assert same is not None and unmet(same) == []


def test_a_span_of_years_is_one_segment(tmp_path):
    """2020年至2022年 opens one segment for both years: a 2020 question is not sent to another year's figure."""
    from bot.answerability.constraints import unmet

    texts = ["2020年至2022年，全市软件产业收入增速为15%，2023年放缓。", TWO_YEARS[1]]
    engine, chunks = keyword_answerer(texts, tmp_path, prefix="s")
    ranking = engine.rank("2020年全市软件产业收入增速是多少?", chunks)
    assert ranking is not None and "15%" in ranking.best.text
    assert unmet(ranking) == []


def test_what_is_asked_is_stated_for_another_thing_of_the_sort(tmp_path):
    """The sentence names the asked thing (机器人) by the question's name (Alpha) in one clause and states the height
    in another, of 熊猫机器人: not covered.  Asked of 熊猫机器人, it is answered; a height stated in a clause without
    its own name for the thing (Alpha，身高1.2米) belongs to the sentence's subject.  Asked as a measure (有多高), the
    same."""
    from bot.answerability.constraints import unmet

    texts = ["一台名为Alpha的机器人出现在舞台上，随后是4台身高1.3米的熊猫机器人。", "机器人展览每年举办一次。"]
    engine, chunks = keyword_answerer(texts, tmp_path / "a", prefix="r")
    other = engine.rank("Alpha机器人身高多少?", chunks)
    assert other is not None and "1.3米" in other.best.text
    assert [u.text for u in unmet(other)] == ["Alpha机器人的身高"]
    assert engine.answer("Alpha机器人身高多少?", chunks).refused
    same = engine.rank("熊猫机器人身高多少?", chunks)
    assert same is not None and unmet(same) == []
    measured = engine.rank("舞台上那台Alpha机器人有多高?", chunks)  # 多高: the measure, as the sentence words it
    assert measured is not None and [u.text for u in unmet(measured)] == ["Alpha机器人的身高"]
    assert unmet(engine.rank("舞台上的熊猫机器人有多高?", chunks)) == []
    english = engine.rank("How tall is the Alpha robot?", chunks)
    assert english is not None and english.cross and "1.3米" in english.best.text
    assert [u.text for u in unmet(english)] == ["how tall the alpha robot is"]
    texts = ["舞台上出现了名为Alpha的机器人，身高1.2米，能骑平衡车。", "机器人展览每年举办一次。"]
    engine, chunks = keyword_answerer(texts, tmp_path / "b", prefix="s")
    own = engine.rank("Alpha机器人身高多少?", chunks)
    assert own is not None and "1.2米" in own.best.text and unmet(own) == []


def test_a_piece_of_the_question_word_used_elsewhere_makes_a_noun_swap_count(tmp_path):
    """农业产业 is no word of the sources; the engine weighs it by 农业.  Where another retrieved chunk uses 农业, the
    sentence's 人工智能 in its place is another subject (not covered); where none does, it may be a paraphrase."""
    from bot.answerability.constraints import unmet

    question = "全市农业产业增速排名第几?"
    sentence = "2022年全市人工智能产业增速位居全省第一。"
    engine, chunks = keyword_answerer([sentence, "农业保险补贴按面积发放。"], tmp_path / "a", prefix="p")
    ranking = engine.rank(question, chunks)
    assert ranking is not None and ranking.best.text == sentence
    assert [u.text for u in unmet(ranking) if u.kind == "subject"] == ["农业产业"]
    engine, chunks = keyword_answerer([sentence, "保险补贴按面积发放。"], tmp_path / "b", prefix="q")
    alone = engine.rank(question, chunks)
    assert alone is not None and [u for u in unmet(alone) if u.kind == "subject"] == []


@pytest.mark.parametrize(("question", "missing"), [
    ("全市软件产业在西部排第几?", "西部排名"), ("全市软件产业在全省排名第几?", "全省排名"), ("全市软件产业在全国排第几?", None),
    ("全市软件产业排名全国第几?", None), ("全市软件产业在家里排第几?", None),
    ("全市软件产业在长三角地区排名第几?", "长三角地区排名"),  # a field of five characters
])
def test_a_place_in_an_order_is_asked_within_its_field(tmp_path, question, missing):
    """位列全国第七 ranks within 全国: asked within 西部 or 全省 it is not covered; 家里 is no region."""
    texts = ["2022年全市软件产业规模为600亿元，位列全国第七。", "软件企业可申请研发费用补助。"]
    assert unmet_of(tmp_path, texts, question, quoting="第七", kind="place") == ([missing] if missing else [])


def test_a_qualifier_jieba_joins_with_a_known_word_is_kept_and_checked(tmp_path):
    """省级重点 is no word of the sources; 重点 is, 省级 is not: 省级 stays a (missing) term and the sentence about
    国家重点研发计划 does not cover 省级重点."""
    from bot.answerability.constraints import unmet

    texts = ["对国家重点研发计划项目在本市落地转化的，给予最高500万元支持。", "研发费用补助按年度申报。"]
    engine, chunks = keyword_answerer(texts, tmp_path, prefix="g")
    ranking = engine.rank("省级重点研发计划项目落地能获得多少支持?", chunks)
    assert ranking is not None and "500万元" in ranking.best.text
    assert {t.text: t.oov for t in ranking.terms}.get("省级") is True
    assert "省级重点" in [u.text for u in unmet(ranking) if u.kind == "modifier"]
    same = engine.rank("国家重点研发计划项目落地能获得多少支持?", chunks)
    assert same is not None and unmet(same) == []


@pytest.mark.parametrize(("question", "missing"), [
    ("软件产品补贴最低是多少?", "最低"), ("What is the minimum subsidy for software products?", "minimum"),
    ("软件产品补贴最高是多少?", None), ("最高人民法院对软件产品补贴有规定吗?", None),
])
def test_the_bound_asked_must_be_the_bound_stated(tmp_path, question, missing):
    """最高250万元 states an upper bound: a question about the lower one is not covered."""
    texts = ["对经认定的软件产品，给予最高250万元的资金补贴。", "以下简称“办法”。"]
    assert unmet_of(tmp_path, texts, question, quoting="250万元", kind="bound") == ([missing] if missing else [])


@pytest.mark.parametrize(("question", "missing"), [
    ("每家企业每年最多能领多少券?", "每家企业"), ("一家企业最多能领多少券?", "一家企业"), ("每年发放的券总额不超过多少?", None),
])
def test_an_amount_for_each_is_not_answered_by_a_total(tmp_path, question, missing):
    """每年发放总额不超过1000万元 is a total; asked per company it is not covered (单个企业 would be)."""
    texts = ["本市每年发放总额不超过1000万元的券，支持企业使用算力。", "券可在服务平台申领。"]
    assert unmet_of(tmp_path, texts, question, quoting="1000万元", kind="subject") == ([missing] if missing else [])
    texts = ["单个企业每年领取的券总额不超过50万元。", "券可在服务平台申领。"]
    assert unmet_of(tmp_path / "each", texts, "每家企业每年最多能领多少券?", quoting="50万元", kind="subject") == []


@pytest.mark.parametrize(("question", "missing"), [("券什么时候截止申领?", "截止"), ("券什么时候开始申领?", None)])
def test_the_start_of_a_period_does_not_answer_its_end(tmp_path, question, missing):
    texts = ["今年，券从1月开始就可以申领，申领时间比去年更长。", "截至2023年11月，全市共有企业800家。"]
    assert unmet_of(tmp_path, texts, question, quoting="1月开始", kind="bound") == ([missing] if missing else [])


def test_a_possessor_is_no_kind(tmp_path):
    """我们公司软件: 公司 after a pronoun says whose software, not which kind — the qualifier check leaves it."""
    from bot.answerability.constraints import unmet

    texts = ["对经认定的首版次软件产品，给予最高250万元补贴。", "补贴按年度申报。"]
    engine, chunks = keyword_answerer(texts, tmp_path, prefix="w")
    mine = engine.rank("我们公司软件被认定为首版次，最多能补多少钱?", chunks)
    assert mine is not None and "250万元" in mine.best.text
    assert [u for u in unmet(mine) if u.kind == "modifier"] == []
    kind = engine.rank("外资公司软件被认定为首版次，最多能补多少钱?", chunks)
    assert kind is not None and [u.text for u in unmet(kind) if u.kind == "modifier"] == ["公司软件"]


@pytest.mark.parametrize(("question", "missing"), [
    ("排名前二十名的企业奖励多少?", ["二十名"]), ("排名前十名的企业奖励多少?", []), ("排名前十名的企业奖励五十万元吗?", ["五十万元"]),
    ("排名前十名的企业奖励一百万元吗?", []), ("哪两个企业排名前十名?", []),
])
def test_a_quantity_in_chinese_numerals_must_be_the_sentences(tmp_path, question, missing):
    """前二十名 is not 前10名; 一百万元 is 100万元 however either side writes it; 哪两个 sets no quantity."""
    texts = ["对排名前10名的企业，给予100万元一次性奖励。", "奖励按年度申报。"]
    assert unmet_of(tmp_path, texts, question, quoting="100万元", kind="quantity") == missing


@pytest.mark.parametrize(("question", "missing"), [
    ("运动会开幕式上有哪些节目?", ["开幕式"]), ("女子团体赛的冠军是谁?", ["女子"]), ("运动会闭幕式上有哪些节目?", []),
    ("男子团体赛的冠军是谁?", []),
])
def test_a_word_whose_counterpart_the_sentence_states_is_not_covered(tmp_path, question, missing):
    """闭幕式 stated does not answer 开幕式 (one morpheme swapped for its opposite, bot/data/opposites.tsv)."""
    texts = ["运动会闭幕式上有舞蹈表演，男子团体赛冠军由东队获得。", "比赛在体育中心举行。"]
    assert unmet_of(tmp_path, texts, question, quoting="闭幕式", kind="subject") == missing


def test_opposite_morphemes_are_pairs_of_single_characters():
    """Each entry of the opposites file is two different characters (a malformed line would match nothing)."""
    from bot.answerability.constraints import OPPOSITES_PATH
    from bot.text import read_table

    rows = read_table(OPPOSITES_PATH)
    assert len(rows) > 20
    assert all(len(a) == 1 and len(b) == 1 and a != b and source.strip() for a, b, source in rows)


@pytest.mark.parametrize(("question", "missing"), [
    ("中心的算力规模是多少?", ["算力规模"]), ("中心的算力规模有多大?", ["算力规模"]), ("中心的用户数量是多少?", []),
    ("中心的用户总数是多少?", []),
])
def test_an_attribute_the_sentence_does_not_state_is_not_covered(tmp_path, question, missing):
    """A sentence that states the users' number does not give the computing scale: not one character of 规模 in it."""
    texts = ["去年中心用户数量同比增长50%，达到1280家。", "中心位于天府新区。"]
    assert unmet_of(tmp_path, texts, question, quoting="1280家", kind="subject") == missing


def test_an_asked_measure_stated_in_its_unit_meets_the_attribute(tmp_path):
    """面积 asked, 占地5平方公里 stated: the measure is met, whatever word the sentence uses."""
    texts = ["园区占地5平方公里，入驻企业200家。", "园区位于天府新区。"]
    assert unmet_of(tmp_path, texts, "园区的面积是多少?", quoting="5平方公里", kind="subject") == []


@pytest.mark.parametrize(("question", "missing"), [
    ("通过省级大模型备案的企业奖励多少?", ["省级大模型"]), ("通过国家大模型备案的企业奖励多少?", []),
])
def test_a_qualifier_before_a_one_character_lead_is_checked(tmp_path, question, missing):
    """大 of 大模型 is its own jieba word: the qualifier before it qualifies 大模型, which the sentence names."""
    texts = ["对通过国家大模型备案的企业，给予100万元奖励。", "奖励按年度申报。"]
    assert unmet_of(tmp_path, texts, question, quoting="100万元", kind="modifier") == missing


@pytest.mark.parametrize(("question", "missing"), [("超算中心的董事长是谁?", ["董事长"]), ("超算中心的总经理是谁?", [])])
def test_an_office_swapped_for_another_is_seen_through_a_wider_anchor(tmp_path, question, missing):
    """中心 is stated three times, so it points nowhere; 超算中心 once, at 总经理: another office than 董事长."""
    texts = ["国家超级计算成都中心举行用户大会，超算中心总经理王建波介绍，中心用户数量达到1280家。", "中心位于天府新区。"]
    assert unmet_of(tmp_path, texts, question, quoting="王建波", kind="subject") == missing


def test_one_number_in_two_writings_is_no_swap(tmp_path):
    """第八 asked, 第8名 stated: the same place."""
    texts = ["该游戏在销售网站的1月销量榜上排名第8名。", "游戏于去年发行。"]
    assert unmet_of(tmp_path, texts, "该游戏在销售网站的1月销量榜上排名第八?", quoting="第8名", kind="subject") == []


RANKS = ["2022年，全市软件产业规模为600亿元，位列全国第七，产业增速位居全国第一，综合实力排名全国第六。",
         "2022年，全市大数据产业规模800亿元，实现两年翻一番。"]


@pytest.mark.parametrize(("question", "missing"), [
    ("全市软件产业规模排名全国第几?", []), ("全市软件产业增速位居全国第几?", []), ("全市软件产业综合实力排名全国第几?", []),
    ("全市软件产业营收排名全国第几?", ["营收排名"]),
])
def test_a_place_asked_for_one_measure_is_not_answered_by_anothers(tmp_path, question, missing):
    """Each ordinal's clause names what is ranked (位列全国第七 takes 规模 from the clause before it)."""
    assert unmet_of(tmp_path, RANKS, question, quoting="全国第一", kind="subject") == missing


def test_a_place_asked_is_not_answered_by_a_sentence_without_one(tmp_path):
    texts = [RANKS[1], "软件企业可申请研发费用补助。"]
    assert unmet_of(tmp_path, texts, "全市大数据产业规模全国排第几?", quoting="800亿元", kind="unit") == ["排名"]


def test_an_organisation_no_passage_names_is_not_covered_by_words_it_shares(tmp_path):
    """国家自然科学基金 shares 国家 and 科学 with 国家科学技术奖, which the sentence names; it is another body."""
    texts = ["对取得国家重点研发计划或国家科学技术奖成果并落地转化的，给予最高1000万元经费支持。", "支持按年度申报。"]
    question = "取得国家自然科学基金成果并落地转化的，最高给多少经费支持?"
    assert unmet_of(tmp_path, texts, question, quoting="1000万元", kind="subject") == ["国家自然科学基金"]
    assert unmet_of(tmp_path / "same", texts, "取得国家科学技术奖成果并落地转化的，最高给多少经费支持?",
                    quoting="1000万元", kind="subject") == []


@pytest.mark.parametrize(("question", "missing"), [
    ("我是个人，不是企业，主导制订了行业标准，能拿多少奖励?", ["不是企业的情形"]),
    ("项目刚立项、还没出成果的企业，落地能拿多少经费?", ["没出成果的情形"]),
    ("主导制订行业标准的企业能拿多少奖励?", []), ("哪些企业不是主导制订行业标准的?", []),
    ("我们不是行业方，主导制订行业标准的企业能拿多少奖励?", []),  # 行业方, a party the sentence does not name
])
def test_a_condition_the_question_denies_is_not_met_by_the_sentence_that_sets_it(tmp_path, question, missing):
    texts = ["对主导制订行业标准的企业给予25万元奖励；对立项项目成果落地的企业给予经费支持。", "奖励按年度申报。"]
    engine_texts = texts if "成果" not in question else [texts[0].split("；")[1], texts[1]]
    quoting = "经费支持" if "成果" in question else "25万元"
    assert unmet_of(tmp_path, engine_texts, question, quoting=quoting, kind="subject") == missing


def test_a_quoted_name_must_be_the_sentences(tmp_path):
    """“蓉宝”机器人: the quoted name is one term the sentence must name, whatever jieba cuts it into."""
    texts = ["现场有4台身高1.3米的熊猫机器人。", "“蓉宝”机器人在展台迎宾。"]
    engine, chunks = keyword_answerer(texts, tmp_path)
    ranking = engine.rank("“蓉宝”机器人身高多少?", chunks)
    assert ranking is not None and any(t.text == "蓉宝" and t.must for t in ranking.terms)
    assert engine.answer("“蓉宝”机器人身高多少?", chunks).refused


@pytest.mark.parametrize(("question", "missing"), [("全市城市数量同比增长了多少?", ["城市数量增长"]), ("中心用户数量同比增长了多少?", [])])
def test_a_measure_of_another_thing_does_not_answer(tmp_path, question, missing):
    """用户数量同比增长50%: the growth of the users' number, not of the cities' (the same measure, 数量, of another)."""
    texts = ["去年中心用户数量同比增长50%，达到1280家，服务覆盖全国45座城市。", "中心位于天府新区。"]
    assert unmet_of(tmp_path, texts, question, quoting="50%", kind="subject") == missing


@pytest.mark.parametrize("question", ["口头变更的劳动合同有效吗?", "不是继承人，可以分得遗产吗?"])
def test_a_yes_or_no_question_is_answered_by_the_opposite_or_the_denied_case(tmp_path, question):
    """有效吗 is answered by when it is 无效; 不是继承人…吗 by the rule on those who are not heirs."""
    from bot.answerability.constraints import asks_yes_no

    texts = ["以未采用书面形式为由主张口头变更的劳动合同无效的，人民法院不予支持。",
             "对继承人以外的依靠被继承人扶养的人，可以分给适当的遗产。"]
    quoting = "无效" if "有效" in question else "适当的遗产"
    assert asks_yes_no(question) and not asks_yes_no("合同的内容是什么?") and not asks_yes_no("为什么?")
    assert unmet_of(tmp_path, texts, question, quoting=quoting, kind="subject") == []


@pytest.mark.parametrize(("question", "missing"), [("全市企业数量同比增长了多少?", ["企业数量增长"]), ("全市产业规模同比增长了多少?", [])])
def test_a_comparison_without_a_subject_is_the_previous_figures(tmp_path, question, missing):
    """产业规模690亿元，同比增速超20%: the growth is the scale's, not the number of companies'."""
    texts = ["截至11月，全市共有企业835家，产业规模690亿元，同比增速超20%。", "中心位于天府新区。"]
    assert unmet_of(tmp_path, texts, question, quoting="20%", kind="subject") == missing


def test_a_level_of_government_the_sentence_does_not_state_is_a_swapped_place(tmp_path):
    """国家 and 省级 are levels of government: an award at one level does not answer about another."""
    engine, chunks = keyword_answerer(["对取得国家科学技术奖获奖成果并在本市转化的，给予最高1000万元经费支持。",
                                       "四川省内的企业可向省科技厅申报。"], tmp_path / "bm25")
    for question, level in (("取得四川省科学技术奖获奖成果并在本市转化的，最高给予多少经费支持?", "四川省"),
                            ("取得省级科学技术奖获奖成果并在本市转化的，最高给予多少经费支持?", "省级"),
                            ("获得省科学技术奖的成果在本市转化，最高能拿到多少经费支持?", "省")):
        ranking = engine.rank(question, chunks)
        assert ranking is not None and "1000万元" in ranking.best.text
        assert [t.text for t in swapped_terms(ranking)] == [level]
        decision = engine.answer(question, chunks)
        assert decision.refused and level in decision.reason
    assert not engine.answer("取得国家科学技术奖获奖成果并在本市转化的，最高给予多少经费支持?", chunks).refused


def test_an_office_the_sources_never_name_is_refused_naming_it(tmp_path):
    """Nothing in sources that never say 董事长 tells who the 董事长 is; the office they do name is answered."""
    engine, chunks = keyword_answerer(["该中心总经理王建波介绍，中心用户数量达到1280家。", "中心位于成都天府新区。"],
                                      tmp_path / "bm25")
    refused = engine.answer("该中心的董事长是谁?", chunks)
    assert refused.refused and "董事长" in refused.reason and not refused.claims
    answered = engine.answer("该中心的总经理是谁?", chunks)
    assert not answered.refused, answered.reason
    assert "王建波" in answered.answer


def test_an_english_question_asking_the_exact_day_needs_a_sentence_that_gives_one(tmp_path):
    engine, chunks = keyword_answerer(["2023年9月，成都发布了人工智能机会清单，清单信息共165项。"], tmp_path / "bm25")
    decision = engine.answer("On what exact day in September 2023 did Chengdu publish the opportunity list?", chunks)
    assert decision.refused and "date" in decision.reason


HALF_YEAR = ["2022年全市区块链产业产值10亿元，2023年上半年产值12.5亿元，同比增长27%。", "区块链企业可按年度申请补助。"]


@pytest.mark.parametrize(("question", "missing"), [
    ("2023年全市区块链产业产值是多少?", ["2023年全年"]), ("2023年上半年全市区块链产业产值是多少?", []),
    ("2022年全市区块链产业产值是多少?", []),
    ("What was the city's blockchain output in 2023?", ["all of 2023"]),
    ("What was the city's blockchain output in the first half of 2023?", []),
])
def test_a_year_asked_whole_is_not_answered_by_a_part_of_it(tmp_path, question, missing):
    """The sentence gives 2023's first half only: a question about the year gets "not covered", one about the half
    an answer."""
    assert unmet_of(tmp_path, HALF_YEAR, question, quoting="12.5亿元", kind="year") == missing


@pytest.mark.parametrize(("text", "missing"), [
    ("去年中心服务范围覆盖全国45座城市，综合资源利用率大幅提升。", ["利用率的具体数值"]),
    ("去年中心服务范围覆盖全国45座城市，综合资源利用率达到85%。", []),
    ("去年中心服务范围覆盖全国45座城市，综合资源利用率大幅提升，达到85%。", []),
])
def test_a_figure_asked_of_a_thing_the_sentence_names_without_one_is_not_covered(tmp_path, text, missing):
    """利用率 is named, but the only number (45座城市) is in another clause: the rate rose, how high is not said."""
    texts = [text, "中心位于天府新区，用户可在线申请机时。"]
    assert unmet_of(tmp_path, texts, "中心的综合资源利用率达到了多少?", quoting="利用率", kind="unit") == missing


@pytest.mark.parametrize(("text", "missing"), [
    ("清单信息共165项，其中供给类146项，需求类19项，涵盖制造、金融、农业等多个场景的应用。", ["场景的具体数值"]),
    ("清单信息共165项，涵盖制造、金融、农业等场景，其中金融场景32项。", []),
])
def test_a_count_asked_of_listed_things_is_not_answered_by_the_list_totals(tmp_path, text, missing):
    """多少项 counts in a measure word (jieba tags 项 a noun): the scenes are what is counted, and the sentence names
    them in a list without a count of their own."""
    texts = [text, "清单由交易会发布，企业可在线查询。"]
    assert unmet_of(tmp_path, texts, "清单中涉及金融场景的有多少项?", quoting="场景", kind="unit") == missing


LEVELS = ["对新获得国家专精特新“小巨人”称号的人工智能企业，给予30万元一次性奖励。", "企业可在线申报，材料由区经信局受理。"]


@pytest.mark.parametrize(("question", "missing"), [
    ("How much reward do AI enterprises newly recognised as provincial-level 专精特新 SMEs get?", ["provincial-level"]),
    ("How much reward do AI enterprises newly recognised as national 专精特新 SMEs get?", []),
    ("How much reward do AI enterprises newly recognised as 专精特新 SMEs get?", []),  # no level set
])
def test_an_english_level_of_government_the_sentence_does_not_state_is_not_covered(tmp_path, question, missing):
    """The award is for the national title; a question about the provincial one is not answered by it."""
    assert unmet_of(tmp_path, LEVELS, question, quoting="30万元", kind="place") == missing


VOUCHERS = ["全市每年发放总额不超过2000万元的消费券，市民可在线申领。", "2022年全市卫星应用产业规模达120亿元，增速40%。",
            "《若干措施》于3月1日印发，从人才、资金、场景三方面提出支持政策。"]


@pytest.mark.parametrize(("question", "missing"), [
    ("What is the annual total of the culture vouchers (文旅券) the city issues?", ["文旅券"]),
    ("What is the annual total of the consumption vouchers (消费券) the city issues?", []),
])
def test_a_chinese_term_an_english_question_writes_out_must_be_the_sentences(tmp_path, question, missing):
    """The question means 文旅券 exactly: a sentence on 消费券, which shares a character, is another voucher."""
    assert unmet_of(tmp_path, VOUCHERS, question, quoting="消费券", kind="subject") == missing


@pytest.mark.parametrize(("question", "missing"), [
    ("What was the scale of the city's biotechnology industry in 2022?", ["biotechnology industry"]),
    ("What was the scale of the city's satellite industry in 2022?", []),
    ("What is the validity period of the measures issued on 1 March?", ["validity period"]),
])
def test_an_english_qualifier_the_corpus_never_uses_is_not_met(tmp_path, question, missing):
    """biotechnology translates to 生物技术, which no passage uses: the sentence is about another industry."""
    quoting = "措施" if "measures" in question else "产业"
    assert unmet_of(tmp_path, VOUCHERS, question, quoting=quoting, kind="modifier") == missing


@pytest.mark.parametrize(("question", "missing"), [
    ("2023年市民实际领到了多少消费券?", ["实际"]), ("How much voucher money did residents actually redeem?", ["actual amount"]),
    ("每年最多发放多少消费券?", []),
])
def test_an_actual_amount_is_not_answered_by_its_cap(tmp_path, question, missing):
    """不超过2000万元 is what may be issued, not what was."""
    assert unmet_of(tmp_path, VOUCHERS, question, quoting="消费券", kind="bound") == missing


@pytest.mark.parametrize(("question", "missing"), [
    ("《若干措施》的有效期到什么时候?", ["有效期"]), ("若干措施的具体地址在哪里?", ["具体地址"]),
    ("《若干措施》是什么时候印发的?", []),
])
def test_a_time_asked_of_an_attribute_the_sentence_does_not_name_is_not_covered(tmp_path, question, missing):
    """The sentence dates the measures' issue, not how long they are valid."""
    assert unmet_of(tmp_path, VOUCHERS, question, quoting="印发", kind="subject") == missing


ORDERS = ["2022年，全市软件产业规模为900亿元，位列全国第七，产业增速位居全国第一。"]


@pytest.mark.parametrize(("question", "missing"), [
    ("2022年软件产业规模排名全国第一的是哪里?", ["规模排名第一"]),  # first in growth, seventh in size
    ("2022年软件产业增速位居全国第一的是哪里?", []), ("2022年软件产业规模排名全国第七的是哪里?", []),
])
def test_who_holds_a_named_place_needs_that_place_for_that_measure(tmp_path, question, missing):
    assert unmet_of(tmp_path, ORDERS, question, quoting="900亿元", kind="subject") == missing


OFFICES = ["3月2日，市数据中心举行年度用户大会，中心总经理李明给出的数据显示，用户数量同比增长30%。",
           "大会上，一位舞者与机器人进行互动。"]


@pytest.mark.parametrize(("question", "named"), [
    ("数据中心的总经理叫什么名字?", True), ("Who is the general manager of the data center?", True),
    ("数据中心的董事长是谁?", False),  # another office: the sentence names no holder of it
    ("与机器人互动的舞者叫什么名字?", False),  # no office, no name
])
def test_who_holds_an_office_is_answered_by_the_sentence_naming_the_person(tmp_path, question, named):
    """The answer reader scores 总经理李明给出的数据显示 low for "who is the general manager" (the sentence is about
    user numbers); naming the person right after the office asked is the answer all the same."""
    from bot.answerability.constraints import names_office_holder

    engine, chunks = keyword_answerer(OFFICES, tmp_path)
    ranking = engine.rank(question, chunks)
    assert ranking is not None and names_office_holder(ranking) is named
    decision = engine.answer(question, chunks)
    assert decision.refused is not named, decision.reason
    if named:
        assert "李明" in decision.answer


LISTS = ["目录共收录80项，其中新建类52项，续建类28项，涵盖教育、医疗、养老以及文化等多个领域的项目。",
         "对获得金奖、银奖、铜奖的团队，分别给予5万元、3万元、1万元的奖励。",
         "今年，消费券从3月开始就可以申领，而且与去年相比，申领时间延长了不少。"]


@pytest.mark.parametrize(("question", "missing"), [
    ("目录里涉及养老领域的项目有多少项?", ["养老的数量"]),
    ("Of the 52 new items, how many concern education?", ["the number for education"]),
    ("目录中续建类有多少项?", []),  # 续建类28项 gives it its own figure
    ("目录一共有多少项?", []),
])
def test_a_count_of_one_listed_item_is_not_the_lists(tmp_path, question, missing):
    """The sentence counts the list and its two classes; elderly care is only one of the fields it names."""
    assert unmet_of(tmp_path, LISTS, question, quoting="80项", kind="subject") == missing


def test_an_amount_given_for_each_listed_item_in_turn_is_no_list_count(tmp_path):
    """分别给予: each kind of standard has its own amount; an amount asked is no count of the list."""
    texts = ["对主导制订国际、国家、行业标准的企业，分别给予60万元、40万元、25万元的奖励。"]
    assert unmet_of(tmp_path, texts, "主导制订国家标准有多少奖励?", quoting="60万元", kind="subject") == []


@pytest.mark.parametrize(("question", "missing"), [
    ("去年的消费券是几月份开始申领的?", ["去年"]),  # the sentence dates this year's; 与去年相比 compares with last year's
    ("今年的消费券是几月份开始申领的?", []),
])
def test_a_relative_year_is_not_answered_by_the_sentences_other_one(tmp_path, question, missing):
    assert unmet_of(tmp_path, LISTS, question, quoting="3月开始", kind="year") == missing


@pytest.mark.parametrize(("question", "missing"), [
    ("一张消费券能抵多少钱?", ["一张消费"]), ("How much can a single resident get in consumption vouchers?", ["a single resident"]),
    ("每年发放的消费券总额是多少?", []), ("How much in consumption vouchers is issued each year?", []),
])
def test_an_amount_for_one_is_not_answered_by_a_total(tmp_path, question, missing):
    assert unmet_of(tmp_path, VOUCHERS, question, quoting="总额", kind="subject") == missing


@pytest.mark.parametrize(("question", "kind"), [
    ("中心位于杭州哪个区?", "区"), ("这两个版本有什么区别?", None),  # 区别 is a word of its own
    ("鹤哈高速位于哪个省内?", "省"), ("Which district is it in?", "区"),
])
def test_a_one_character_kind_is_asked_only_as_a_word(question, kind):
    from bot.answerability.constraints import asked_kind

    found = asked_kind(question)
    assert (found.name if found else None) == kind


THRESHOLDS = ["对通过省级评审且综合得分排名前五名的项目，给予50万元一次性奖励。",
              "对软件业务收入占比50%以上的企业，给予核心团队20万元一次性支持。"]


@pytest.mark.parametrize(("question", "quoting", "missing"), [
    ("我们的项目通过了省级评审，可惜没排进前五，能拿多少奖励?", "前五名", ["没排进前五的情形"]),
    ("评审排在前五名以外的项目能拿到多少奖励?", "前五名", ["前五名以外的情形"]),
    ("通过评审排名前五名的项目能拿多少奖励?", "前五名", []),
    ("软件业务收入占比不到50%的企业能拿多少支持?", "50%以上", ["不到50%的情形"]),
    ("软件业务收入占比超过50%的企业能拿多少支持?", "50%以上", []),
])
def test_a_threshold_the_question_says_is_not_reached_is_not_met(tmp_path, question, quoting, missing):
    """The sentence grants the reward to the first five, or above 50%; the question is about the others."""
    assert unmet_of(tmp_path, THRESHOLDS, question, quoting=quoting, kind="subject") == missing


def test_a_count_in_a_measure_word_before_its_noun_needs_that_unit(tmp_path):
    """多少条措施 asks how many 条; a sentence on when the measures were issued states none."""
    from bot.answerability.constraints import asked_units

    (count,) = asked_units("《若干措施》一共有多少条措施?")
    assert (count.unit, count.loose, count.noun) == ("条", False, "措施")
    assert asked_units("《若干措施》一共有多少条?")[0].loose  # 条 alone: only where the passages count in it
    assert unmet_of(tmp_path, VOUCHERS, "《若干措施》一共有多少条措施?", quoting="印发", kind="unit") == ["多少条措施"]


@pytest.mark.parametrize(("question", "missing"), [
    ("What was the software industry's output in the second half of 2023?", ["second half"]),
    ("What was the software industry's output in the first half of 2023?", []),
])
def test_an_english_half_year_is_not_answered_by_the_other_half(tmp_path, question, missing):
    texts = ["2023年上半年全市软件产业产值达120亿元，同比增长20%。"]
    assert unmet_of(tmp_path, texts, question, quoting="上半年", kind="year") == missing


EVENTS = ["2020年3月，滨江智能制造园区正式揭牌，由此，该市进入国家级示范区与园区并行建设的新阶段。",
          "大会上，市数据中心主任刘洋给出的数据显示，在刚刚过去的2023年，中心存储规模增长40%；服务覆盖30个区县。"]


@pytest.mark.parametrize(("question", "quoting", "missing"), [
    ("该市是哪一年获批建设国家级示范区的?", "揭牌", ["获批建设国家级示范区"]),  # the year is the park's opening
    ("国家级示范区是哪一年获批的?", "揭牌", ["示范区获批"]),
    ("国家级示范区是哪一年在该市获批建设的?", "揭牌", ["示范区获批建设"]),  # 在该市: where, not what
    ("滨江智能制造园区是什么时候揭牌的?", "揭牌", []),
    ("刘洋是哪年出任数据中心主任的?", "刘洋", ["出任数据中心"]),  # 2023年 dates the storage growth
    ("2023年中心存储规模增长了多少?", "刘洋", []),
])
def test_a_date_of_another_event_does_not_answer_when(tmp_path, question, quoting, missing):
    assert unmet_of(tmp_path, EVENTS, question, quoting=quoting, kind="subject") == missing


@pytest.mark.parametrize(("question", "missing"), [
    ("我们公司软件业务只占三成左右，核心团队能拿多少支持?", ["三成的情形"]),
    ("软件业务大约占一半的企业能拿多少支持?", []),  # 50% meets 50%以上
    ("软件业务占了四成的企业能拿多少支持?", ["四成的情形"]),
    ("软件业务占了七成，核心团队能拿多少支持?", []),
    ("软件业务收入占比75%的企业能拿多少支持?", []),  # 75% meets 50%以上: not a figure the sentence must repeat
])
def test_a_share_outside_the_sentences_bound_is_not_met(tmp_path, question, missing):
    assert unmet_of(tmp_path, THRESHOLDS, question, quoting="50%以上", kind="bound") == missing
    assert unmet_of(tmp_path / "q", THRESHOLDS, question, quoting="50%以上", kind="quantity") == []


AWARD_RULE = ["对取得国家科学技术奖获奖成果并在本市转化的，给予最高800万元经费支持。"]


@pytest.mark.parametrize(("question", "missing"), [
    ("我们拿了省科技进步奖，成果在本市转化，最多能拿多少经费?", ["省"]),
    ("浙江省对在省内转化的国家科学技术奖成果最高给予多少经费支持?", ["浙江省"]),
    ("市里给了国家科学技术奖成果800万，省里还能给多少?", ["省里"]),
    ("取得国家科学技术奖获奖成果并在本市转化的，最高给予多少经费支持?", []),
    ("浙江省杭州市取得国家科学技术奖获奖成果并转化的，最高给予多少经费支持?", []),  # an address, not a level
])
def test_a_province_is_not_answered_by_another_levels_rule(tmp_path, question, missing):
    assert unmet_of(tmp_path, AWARD_RULE, question, quoting="800万元", kind="place") == missing


@pytest.mark.parametrize(("question", "missing"), [
    ("What was the growth rate of the city's software industry in 2022?", ["the growth rate in 2022"]),
    ("What was the size of the city's software industry in 2022?", []),
    ("What was the growth rate of the city's software industry in the first half of 2023?", []),
])
def test_an_english_attribute_stated_only_under_another_year_is_not_met(tmp_path, question, missing):
    """The sentence gives 2022's size and 2023's growth: the growth asked for 2022 is not there."""
    texts = ["2022年全市软件产业规模达120亿元，2023年上半年产值为80亿元，增速25%。"]
    assert unmet_of(tmp_path, texts, question, quoting="增速", kind="year") == missing


@pytest.mark.parametrize(("question", "missing"), [
    ("展会上的智慧物流平台是哪家企业开发的?", ["智慧物流平台的公司"]),  # only an item of the list
    ("《创新产品目录》里的智慧物流平台是哪家公司提供的?", ["智慧物流平台的公司"]),
])
def test_a_kind_asked_of_a_thing_the_sentence_only_lists_is_not_covered(tmp_path, question, missing):
    texts = ["展会发布了《创新产品目录》，共收录产品80项，包括智慧物流平台、智能质检系统、数字孪生工厂等，由星云科技公司牵头组织。"]
    assert unmet_of(tmp_path, texts, question, quoting="智慧物流平台", kind="subject") == missing


def test_a_kind_asked_of_a_thing_the_sentence_says_it_of_is_answered(tmp_path):
    texts = ["展会上，由星云科技公司开发的智慧物流平台首次亮相。"]
    assert unmet_of(tmp_path, texts, "展会上的智慧物流平台是哪家企业开发的?", quoting="智慧物流平台", kind="subject") == []


STANDARDS = ["对主导制订国际、国家标准的企业，分别给予50万元、30万元的奖励。"]


@pytest.mark.parametrize(("question", "missing"), [
    ("我们只是参与制订了一项国家标准，不是牵头的，能拿多少奖励?", ["不是牵头的情形"]),  # 牵头 and 主导 both gloss "lead"
    ("How much is a company rewarded for taking part in, but not leading, the drafting of a national standard?",
     ["not leading"]),
    ("How much can a university (not a company) get for drafting a national standard?", ["not a company"]),
    ("我们牵头制订了一项国家标准，能拿多少奖励?", []),
    ("How much is a company rewarded for leading the drafting of a national standard?", []),
])
def test_a_condition_the_question_denies_in_other_words_is_not_met(tmp_path, question, missing):
    assert unmet_of(tmp_path, STANDARDS, question, quoting="主导", kind="subject") == missing


def test_words_sharing_a_specific_gloss_are_kin():
    from bot.crosslingual import kin

    assert kin("牵头", "主导") and kin("企业", "公司")
    assert not kin("参与", "主导") and not kin("高校", "企业")


def test_a_name_asked_is_given_by_a_sentence_that_names_the_thing(tmp_path):
    """Sources that never say 名字 can still answer 叫什么名字 where a sentence names the thing (名为…); the day asked
    after a month (9月几日) is not given by a sentence that states the month alone."""
    engine, chunks = keyword_answerer(["一台名为Astra的机器人骑着平衡车出现在舞台上，与舞者进行互动。",
                                       "去年9月，全市举办了机器人创新大赛。"], tmp_path / "bm25")
    answered = engine.answer("舞台上骑平衡车的那个机器人叫啥名字?", chunks)
    assert not answered.refused, answered.reason
    assert "Astra" in answered.answer
    dancer = engine.answer("跟Astra互动的那个舞者叫什么名字?", chunks)  # the sentence names the robot, not the dancer
    assert dancer.refused
    refused = engine.answer("机器人创新大赛具体是在9月几日举办的?", chunks)
    assert refused.refused and "date" in refused.reason


@pytest.mark.parametrize(("question", "missing"), [
    ("我们公司营收头一回破了1个亿，软件业务占了七成，核心团队能拿多少?", ["1亿"]),  # 1个亿 is 1亿
    ("我们公司营收头一回破了3个亿，软件业务占了七成，核心团队能拿多少?", []),
])
def test_an_amount_in_ge_yi_is_read_as_the_amount(tmp_path, question, missing):
    texts = ["对年度主营业务收入首次突破3亿元、5亿元，且软件业务收入占比50%以上的企业，分别给予核心团队10万元、20万元支持。"]
    assert unmet_of(tmp_path, texts, question, quoting="3亿元", kind="quantity") == missing


def test_a_kind_asked_as_the_things_of_a_list_needs_one_named(tmp_path):
    """…的企业有哪些 asks which companies; a word in quotation marks that jieba tags as a name (“拦路虎”) is none."""
    from bot.answerability.constraints import asked_kind

    assert asked_kind("在音乐领域打造大模型的软件企业有哪些?").name == "公司"
    assert asked_kind("社区有哪些服务?") is None and asked_kind("支持政策有哪些?") is None
    texts = ["近年来，本市软件企业正在音乐、工业检测等细分领域打造大模型，算力成本高成为企业发展的“拦路虎”。"]
    assert unmet_of(tmp_path, texts, "在音乐领域打造大模型的软件企业有哪些?", quoting="音乐", kind="unit") == ["公司"]


def test_a_number_jieba_tags_as_english_is_no_latin_name(tmp_path):
    """A Latin term (AI) aligned with a number (10 of 3亿元、5亿元、10亿元) is no swap of one name for another.  In a
    sentence over 100 characters (cut without jieba's HMM) the numbers are tagged as English."""
    texts = ["在推动人工智能能级提升方面，《若干措施》提出，支持企业做大做强，对年度主营业务收入首次突破3亿元、5亿元、10亿元，且人工智能相关业务收入占比60%以上的人工智能企业，分别给予企业核心团队10万元、20万元、25万元一次性支持。"]
    question = "我们是搞AI的企业今年主营业务收入头一回破了5亿元AI相关收入也占了七成核心团队一次性能拿多少支持啊?"
    assert unmet_of(tmp_path, texts, question, quoting="5亿元", kind="subject") == []


def test_a_percentage_asked_needs_one_stated():
    from bot.answerability.constraints import asked_measure

    measure = asked_measure("去年产业具体涨了百分之多少?")
    assert measure is not None and measure[1] == "百分比"
    assert measure[2].search("同比增长36.9%") and not measure[2].search("产业规模为616亿元,位列全国第七")


RANKED = ["对性能先进且成功通过国家大模型备案登记的前十名，给予100万元一次性奖励。",
          "对经认定的首版次软件产品，对研制企业、应用单位分别一次性给予最高250万元的资金补贴。",
          "单个企业每年获得奖励累计不超过100万元。"]


@pytest.mark.parametrize(("question", "quoting", "kind", "missing"), [
    ("How much reward does a company get if its large model passes the national filing but ranks 15th?", "前十名",
     "subject", ["ranks 15th"]),
    ("How much reward does a large model outside the top ten of the national filing get?", "前十名", "subject",
     ["outside the top ten"]),
    ("How much reward does a large model that ranks 3rd in the national filing get?", "前十名", "subject", []),
    ("对经认定的首版次软件产品，应用单位每年累计最多能获得多少资金补贴?", "250万元", "bound", ["每年"]),
    ("对经认定的首版次软件产品，应用单位一次性最多能获得多少资金补贴?", "250万元", "bound", []),
    ("单个企业每年获得的奖励累计最多多少?", "累计不超过", "bound", []),
    ("Over the whole life of the measures, what is the most a single company can receive in rewards?", "累计不超过",
     "bound", ["over the whole life"]),  # the sentence caps each year
    ("几年加起来单个企业最多能获得多少奖励?", "累计不超过", "bound", ["几年加起来"]),
    ("在国家大模型备案登记中排第十一至第二十名的企业能获得多少奖励?", "前十名", "subject", ["排第十一至第二十名的情形"]),
    ("通过国家大模型备案登记且排第15名的能获得多少奖励?", "前十名", "subject", ["排第15名的情形"]),
    ("通过国家大模型备案登记排第3名的企业能获得多少奖励?", "前十名", "subject", []),
])
def test_a_place_or_a_period_the_sentences_rule_does_not_cover(tmp_path, question, quoting, kind, missing):
    assert unmet_of(tmp_path, RANKED, question, quoting=quoting, kind=kind) == missing


def test_an_english_count_of_people_needs_persons_counted(tmp_path):
    texts = ["1月19日，数据中心举行年度用户大会，中心用户数量同比增长50%，达到1280家。"]
    question = "How many people attended the data center's annual user conference?"
    assert unmet_of(tmp_path, texts, question, quoting="1280家", kind="unit") == ["how many people"]
    counted = ["1月19日，数据中心举行年度用户大会，共有300名代表参会。"]
    assert unmet_of(tmp_path / "b", counted, question, quoting="300名", kind="unit") == []


def test_an_english_count_is_of_the_noun_not_an_adverb_after_it(tmp_path):
    texts = ["1月18日，市经信局等7部门联合印发《若干措施》。"]
    question = "How many government departments jointly issued the measures on January 18?"
    assert unmet_of(tmp_path, texts, question, quoting="7部门", kind="unit") == []



def test_an_english_question_that_writes_its_chinese_term_out_needs_no_translation_of_the_words_around_it(tmp_path):
    engine, chunks = keyword_answerer(["2021年5月，滨江智能制造先导园正式揭牌。"], tmp_path / "bm25")
    answered = engine.answer("When was the Binjiang smart manufacturing pilot park (滨江智能制造先导园) unveiled?", chunks)
    assert not answered.refused, answered.reason
    assert "2021年5月" in answered.answer
    elsewhere = engine.answer("When was the smart manufacturing pilot park (滨江智能制造先导园) of Wuhan unveiled?", chunks)
    assert elsewhere.refused and "wuhan" in elsewhere.reason  # a name after the Chinese term is not what it translates


ACRONYM = ["2022年全市AI产业规模为300亿元。",
           "2023年上半年全市区块链产业产值12亿元，同比增长40%。"]


@pytest.mark.parametrize(("question", "missing"), [
    ("2023年上半年全市AI产业同比增长多少?", ["AI产业"]),  # 区块链产业's growth
    ("By how much did the city's AI industry grow year on year in the first half of 2023?", ["AI industry"]),
    ("2023年上半年全市区块链产业同比增长多少?", []),
])
def test_an_acronym_qualifier_is_not_met_by_another_things_figure(tmp_path, question, missing):
    assert unmet_of(tmp_path, ACRONYM, question, quoting="区块链", kind="subject") == missing


def test_an_acronym_a_gloss_gives_and_a_set_phrase_are_translated():
    from bot.crosslingual import dictionary_translations

    assert "人工智能" in dictionary_translations("ai")  # "artificial intelligence (AI)"
    assert "国内生产总值" in dictionary_translations("gdp")
    assert "同比" in dictionary_translations("year-on-year")  # "year on year"
    assert not dictionary_translations("tcm-kidney")  # "(TCM)" before another word's gloss names no headword


def test_a_share_that_meets_the_bound_is_not_another_number(tmp_path):
    question = "软件业务占了五成以上，核心团队能拿多少支持?"
    assert unmet_of(tmp_path, THRESHOLDS, question, quoting="50%以上", kind="subject") == []
    assert unmet_of(tmp_path / "b", THRESHOLDS, question, quoting="50%以上", kind="bound") == []


def test_a_final_particle_after_a_question_word_is_no_yes_no_question(tmp_path):
    from bot.answerability.constraints import asks_yes_no

    assert asks_yes_no("口头变更有效吗?") and asks_yes_no("能不能拿到补贴?")
    assert not asks_yes_no("核心团队能拿多少支持嘛?") and not asks_yes_no("能领好多钱嘛?")
    question = "我们软件业务只占了三成，核心团队能拿多少支持嘛?"  # so the share is read as for any other question
    assert unmet_of(tmp_path, THRESHOLDS, question, quoting="50%以上", kind="bound") == ["三成的情形"]


def test_a_half_year_and_a_dialects_how_much_are_read_as_the_sources_write_them(tmp_path):
    from bot.extractive import plain_question

    assert plain_question("2023年前六个月产值多少?") == "2023年上半年产值多少?"
    assert plain_question("2023年7-12月产值多少?") == "2023年下半年产值多少?"
    assert plain_question("能拿好多钱嘛?") == "能拿多少钱嘛?"
    assert plain_question("好多企业拿了哪种补贴?") == "好多企业拿了哪种补贴?"  # another question word: 好多 is "many"
    engine, chunks = keyword_answerer(["2023年上半年全市软件产业规模达424亿元，同比增长12%。"], tmp_path / "bm25")
    decision = engine.answer("2023年前六个月全市软件产业规模达到多少?", chunks)
    assert not decision.refused and "424亿元" in decision.answer, decision.reason


def test_one_as_the_first_is_no_amount_for_each(tmp_path):
    texts = ["本市在全国首创“数据券”，每年发放总额不超过500万元。"]
    first = "听说本市数据券是全国头一个搞的，一年总共发多少?"
    assert unmet_of(tmp_path, texts, first, quoting="500万元", kind="subject") == []
    each = "一家企业一年能领多少数据券?"
    assert unmet_of(tmp_path / "b", texts, each, quoting="500万元", kind="subject") == ["一家企业"]


def test_a_change_asked_of_a_figure_the_sentence_lacks_is_not_met(tmp_path):
    texts = ["大会上，中心用户数量同比增长50%，达到1280家。", "对新获评的企业，政府给予30万元奖励。"]
    changed = unmet_of(tmp_path, texts, "用户涨了50%，那中心的营业收入涨了多少?", quoting="1280家", kind="subject")
    assert changed and "营业" in changed[0]
    assert unmet_of(tmp_path / "b", texts, "新获评的企业政府给多少奖励?", quoting="30万元", kind="subject") == []


def test_an_english_count_is_of_the_noun_before_a_preposition(tmp_path):
    texts = ["中心服务范围覆盖全省45座城市。"]
    question = "How many cities across the province does the center serve?"
    assert unmet_of(tmp_path, texts, question, quoting="45座", kind="unit") == []


QUALIFIED = ["2022年全市大数据产业规模为800亿元。",
             "截至2023年11月，全市共有人工智能企业800家，产业规模600亿元。",
             "2022年全市人工智能产业规模500亿元。"]


@pytest.mark.parametrize(("question", "missing"), [
    ("截至2023年11月全市大数据产业规模是多少?", ["大数据产业"]),  # the 2023 figure is the AI industry's
    ("截至2023年11月全市人工智能产业规模是多少?", []),
])
def test_a_qualifier_the_passages_use_is_not_met_by_another_ones_figure(tmp_path, question, missing):
    assert unmet_of(tmp_path, QUALIFIED, question, quoting="600亿元", kind="subject") == missing


@pytest.mark.parametrize(("question", "quoting", "missing"), [
    ("目前全市有多少个人工智能应用场景?", "力争", ["目前的情况"]),  # a goal for 2027 states no present figure
    ("How many AI application scenarios does the city have at present?", "力争", ["the present figure"]),
    ("到2027年全市人工智能应用场景数量力争达到多少?", "力争", []),
    ("目前全市共有人工智能企业多少家?", "截至", []),  # where things stand
])
def test_a_goal_does_not_answer_what_there_is_now(tmp_path, question, quoting, missing):
    texts = ["力争到2027年，全市人工智能应用场景数量达到200个以上。", "截至2024年6月，全市共有人工智能企业900家。"]
    assert unmet_of(tmp_path, texts, question, quoting=quoting, kind="subject") == missing


def test_an_english_count_needs_a_number_that_counts(tmp_path):
    texts = ["本市2023年首创“数据券”，每年发放总额不超过500万元，让企业享受数据服务。",
             "截至2023年底，全市共有120家企业领取了数据券。"]
    money = "How many companies received data vouchers under the yearly budget of the city?"
    assert unmet_of(tmp_path, texts[:1], money, quoting="500万元", kind="unit") == ["how many companies"]
    counted = "How many companies received data vouchers by the end of 2023?"
    assert unmet_of(tmp_path / "b", texts, counted, quoting="120家", kind="unit") == []


def test_a_total_asked_need_not_be_named_by_the_sources(tmp_path):
    engine, _chunks = keyword_answerer(["截至2023年11月，全市共有软件企业2300家。"], tmp_path / "bm25")
    total = next(t for t in engine.terms("截至2023年11月全市软件企业总数是多少?") if t.text == "总数")
    assert not total.must  # a number answers it
    face = next(t for t in engine.terms("单张数据券的面额是多少?") if t.text == "面额")
    assert face.must  # an attribute the sources never name is still a reason to refuse


def test_an_english_bound_asked_is_read_against_the_sentences_not_looked_for_as_a_word(tmp_path):
    engine, _chunks = keyword_answerer(RANKED, tmp_path / "bm25")
    terms = {t.text: t for t in engine.terms("What is the annual cap on the rewards a single enterprise can receive?")}
    assert "cap" in terms and not terms["cap"].must
    assert unmet_of(tmp_path / "b", RANKED, "What is the minimum reward a single enterprise can receive each year?",
                    quoting="累计不超过", kind="bound") == ["minimum"]


@pytest.mark.parametrize(("question", "missing"), [
    ("牵头制定国际标准的高校能拿多少奖励?", ["高校"]),
    ("我是个人开发者，主导制定了一项行业标准，能拿多少奖励?", ["个人"]),
    ("我们公司主导制定了国际标准，能拿多少奖励?", []),  # 公司 is the sentence's 企业
    ("主导制定国际标准的能拿多少奖励?", []),  # no recipient asked
])
def test_a_recipient_the_sentence_does_not_support_is_not_covered(tmp_path, question, missing):
    """对…的企业给予… is a rule for companies: a university or a person asking is another rule's business
    (``bot/data/recipients.tsv``)."""
    texts = ["对主导制定国际标准、行业标准的企业，分别给予最高50万元、30万元奖励。", "奖励每年申报一次。"]
    assert unmet_of(tmp_path, texts, question, quoting="50万元", kind="subject") == missing


def test_a_recipient_in_english_and_a_sentence_that_names_none(tmp_path):
    from bot.answerability.constraints import _recipients

    assert _recipients("How much does a university receive for a standard?", english=True) == {"高校": "university"}
    assert _recipients("Which firms and hospitals qualify?", english=True).keys() == {"企业", "医院"}
    assert _recipients("企业家协会怎么申请?") == {}  # 企业家 is a person, not a company
    # a sentence that names no recipient is not judged by it
    texts = ["主导制定国际标准的，给予最高50万元奖励。", "奖励每年申报一次。"]
    assert unmet_of(tmp_path, texts, "牵头制定国际标准的高校能拿多少奖励?", quoting="50万元", kind="subject") == []


def test_which_university_needs_one_named(tmp_path):
    """哪所高校 is not answered by 高校院所 in general, and is by a name with a school's suffix (…大学, …军校)."""
    texts = ["《措施》支持企业、高校院所研制通用大模型，最高给予1000万元支持。", "奖励每年申报一次。"]
    assert unmet_of(tmp_path, texts, "本市由哪所高校牵头研制通用大模型?", quoting="大模型", kind="unit") == ["高校"]
    for name in ("清华大学", "黄埔军校"):
        texts = [f"{name}牵头研制了通用大模型。", "《措施》由市经信局等7部门联合印发。"]
        assert unmet_of(tmp_path / name, texts, "哪所高校牵头研制了通用大模型?", quoting=name, kind="unit") == []


@pytest.mark.parametrize(("question", "missing"), [
    ("2023年上半年全市硬件产业规模是多少?", ["硬件产业"]), ("2023年上半年全市软件产业规模是多少?", []),
])
def test_a_bare_noun_carries_the_qualifier_of_the_sentence_before(tmp_path, question, missing):
    """上半年产业规模达300亿元 right after 软件产业规模为600亿元 is the software industry's figure: asked of the hardware
    industry it is another's."""
    texts = ["2022年，全市软件产业规模为600亿元，位列全国第七。2023年上半年产业规模达300亿元，同比增长20%。",
             "全市硬件产业加快发展，新建工厂两座。"]
    assert unmet_of(tmp_path, texts, question, quoting="300亿元", kind="subject") == missing


@pytest.mark.parametrize(("question", "quoting", "missing"), [
    ("Where did the city's software industry rank nationally by scale in the first half of 2023?", "300亿元", ["rank"]),
    ("Where did the city's software industry rank nationally by scale in 2022?", "第七", []),
    ("What rank did the city's software industry hold nationally in 2022?", "第七", []),
])
def test_an_english_rank_asked_needs_an_ordinal(tmp_path, question, quoting, missing):
    """The English side of the ranking check: a place in an order is not answered by the half year's size."""
    texts = ["2022年，全市软件产业规模为600亿元，位列全国第七。", "2023年上半年，全市软件产业规模达300亿元，同比增长20%。"]
    assert unmet_of(tmp_path, texts, question, quoting=quoting, kind="unit") == missing
