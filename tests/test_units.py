"""A count asked in a measure word (几年, 几台, 多少人) must be stated in that unit by the quoted sentence.

A small invented text (not the bundled article), the real jieba BM25 IDF and the shipped model; the dense tie-break
is left out (no embedder), as in training.
"""

from __future__ import annotations

import pytest

from bot.answerability.constraints import asked_units, states_count, unmet
from bot.extractive import _WANTS_NUMBER, _has_new_number
from tests.conftest import by_overlap, keyword_answerer

TEXTS = [
    "截至2023年底，示范区共有软件企业835家，其中享受税收优惠的企业120家。",
    "2024年春节前，示范区举办机器人展示活动，一共展出4台巡检机器人。",
    "示范区人才公寓自2021年起向引进人才开放申请。",
]


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    engine, chunks = keyword_answerer(TEXTS, tmp_path_factory.mktemp("bm25"))
    return engine, lambda question: by_overlap(question, chunks)


def test_the_measure_word_of_the_count_asked_for():
    assert [(c.said, c.unit) for c in asked_units("在示范区开公司能免几年税?")] == [("几年", "年")]
    assert [(c.said, c.unit) for c in asked_units("一共出来了几台机器人?")] == [("几台", "台")]
    assert [(c.unit, c.loose) for c in asked_units("这座城市有多少人?")] == [("人", True)]  # 多少税 is not a count
    assert [(c.said, c.unit) for c in asked_units("买一台要多少钱?")] == [("多少钱", "钱")]  # money: 元/万/亿
    # the noun counted may stand for the classifier; a rank is answered by 第N
    departments = asked_units("这份通知是几个部门联合发的?")[0]
    assert departments.noun == "部门" and states_count("由三部门联合印发", departments)
    assert not states_count("由三家单位联合印发", departments)
    rank = asked_units("该区的综合实力排多少名?")[0]
    assert rank.ordinal and states_count("综合实力位列第五", rank) and not states_count("综合实力较强", rank)
    # which years, a year, "those few years", a school grade: no count of years is asked
    for question in ("他哪几年获得冠军?", "车站设站于几几年?", "那几年什么帮派势力最大?", "他读几年级?"):
        assert asked_units(question) == [], question


def test_a_date_year_is_not_a_number_of_years():
    assert states_count("免征地方税收3年", "年") and states_count("已有两千多年历史", "年")
    assert states_count("距今约3750~3295年", "年")  # a span of years ago, not calendar years
    assert not states_count("自2023年起实施", "年") and not states_count("1998至2008年间", "年")
    assert not states_count("共有软件企业835家", "年")
    # a percentage is a ratio: it never states a count (多少个国家 is not answered by 增长50%)
    assert not states_count("用户数量同比增长50%", "个") and states_count("全长40km", "米")
    # 几年 asks for a number: a duration answers it, a date year does not
    assert _WANTS_NUMBER.search("能免几年税?") and not _WANTS_NUMBER.search("他哪几年获得冠军?")
    assert _has_new_number("免征地方税收3年。", "能免几年税?")
    assert not _has_new_number("自2023年起实施。", "能免几年税?")


def test_a_count_in_another_unit_is_refused(answerer):
    engine, ranked = answerer
    question = "示范区软件企业能免几年税?"  # the text counts enterprises (835家) and states no duration
    ranking = engine.rank(question, ranked(question))
    assert ranking is not None and "835家" in ranking.best.text
    assert "unit" in [u.kind for u in unmet(ranking)]
    decision = engine.answer(question, ranked(question))
    assert decision.refused and "几年" in decision.reason, decision.reason


def test_the_not_covered_answer_names_what_was_counted():
    from bot.answerability.constraints import Count

    assert asked_units("超算中心服务了多少个国家?") == [Count("多少个", "个", False, False, "国家")]


def test_the_matching_unit_is_answered(answerer):
    engine, ranked = answerer
    question = "示范区机器人展示活动一共展出了几台机器人?"
    ranking = engine.rank(question, ranked(question))
    assert ranking is not None and "4台" in ranking.best.text
    assert unmet(ranking) == []
    decision = engine.answer(question, ranked(question))
    assert not decision.refused, decision.reason
    assert "4台" in decision.answer


def test_a_date_year_does_not_answer_how_many_years(answerer):
    engine, ranked = answerer
    question = "示范区人才公寓向引进人才开放申请几年了?"  # the text gives the year it began, not a number of years
    ranking = engine.rank(question, ranked(question))
    assert ranking is not None and "2021年" in ranking.best.text
    assert "unit" in [u.kind for u in unmet(ranking)]
    decision = engine.answer(question, ranked(question))
    assert decision.refused and "2021年" not in decision.answer.split("资料中相关的内容是")[0]


@pytest.mark.parametrize(("question", "asked"), [
    ("熊猫机器人有多重?", "重量"), ("机器人身高多少?", "长度"), ("项目要多长时间?", "时长"), ("任期是多长?", "长度"),
    ("园区占地面积是多少?", "面积"), ("How heavy is the robot?", "重量"), ("How long did it take?", "时长"),
])
def test_the_measure_asked_for(question, asked):
    from bot.answerability.constraints import asked_measure

    found = asked_measure(question)
    assert found is not None and found[1] == asked


@pytest.mark.parametrize("question", ["他有多重身份?", "体长是体高的多少倍?", "Which area does the policy cover?", "机器人是谁设计的?"])
def test_no_measure_is_asked(question):
    from bot.answerability.constraints import asked_measure

    assert asked_measure(question) is None


def test_a_measure_answered_in_another_unit_is_not_covered(tmp_path):
    """身高1.3米 answers 多高 and 身高多少 (1.3米, or 130cm), never 多重; 任期三年 answers 多长."""
    texts = ["展台上的熊猫机器人身高1.3米，能与观众互动。", "该职位任期三年，可连任一次。"]
    engine, chunks = keyword_answerer(texts, tmp_path, prefix="m")
    heavy = engine.rank("熊猫机器人有多重?", chunks)
    assert heavy is not None and "1.3米" in heavy.best.text
    assert "重量" in [u.text for u in unmet(heavy) if u.kind == "unit"]
    assert engine.answer("熊猫机器人有多重?", chunks).refused
    for question in ("熊猫机器人有多高?", "熊猫机器人身高多少?", "该职位任期是多长?"):
        ranking = engine.rank(question, chunks)
        assert ranking is not None and [u for u in unmet(ranking) if u.kind == "unit"] == [], question


def test_every_measure_entry_says_where_it_came_from():
    from bot.answerability.constraints import MEASURES_PATH

    rows = [line.split("\t") for line in MEASURES_PATH.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    assert rows and all(len(r) == 4 and all(c.strip() for c in r) for r in rows)


def test_what_an_english_question_counts_must_be_named(tmp_path):
    """"How many software companies" is not answered by a sentence on the industry's revenue, which names no 企业/公司."""
    texts = ["2022年全市软件产业收入达到1200亿元。", "截至2023年底，全市共有软件企业2300家。"]
    engine, chunks = keyword_answerer(texts, tmp_path, prefix="e")
    revenue = engine.rank("How many software companies did the city have in 2022?", chunks[:1])
    assert revenue is not None and revenue.cross
    assert [u.text for u in unmet(revenue) if u.kind == "unit"] == ["how many software companies"]
    count = engine.rank("How many software companies did the city have in 2023?", chunks[1:])
    assert count is not None and [u for u in unmet(count) if u.kind == "unit"] == []


def test_the_measure_asked_ranks_the_sentence_that_states_it(tmp_path):
    """多高 asks a length: of two sentences about the robots, the one with 1.3米 is chosen over one with 10岁."""
    texts = ["舞台上有4台身高1.3米的机器人，随后一名男孩登台。", "接着，机器人从一名10岁男孩手中接过风车。"]
    engine, chunks = keyword_answerer(texts, tmp_path, prefix="h")
    ranking = engine.rank("机器人有多高?", chunks[::-1])
    assert ranking is not None and "1.3米" in ranking.best.text


def test_the_count_asked_ranks_the_sentence_that_states_it(tmp_path):
    """多少座城市 asks a number of 座: the sentence with 45座城市 is chosen over one with another number."""
    texts = ["超算中心服务覆盖城市的用户数量同比增长50%。", "超算中心服务范围达到全国45座城市。"]
    engine, chunks = keyword_answerer(texts, tmp_path, prefix="c")
    ranking = engine.rank("超算中心服务覆盖了多少座城市?", chunks)
    assert ranking is not None and "45座" in ranking.best.text


@pytest.mark.parametrize(("question", "form"), [
    ("申领电话是多少?", "电话"), ("政策的官方网址是什么?", "网址"), ("What is the phone number of the centre?", "电话"),
    ("在什么网站上发布?", None), ("为什么移动电话难窃听?", None),
])
def test_the_written_form_asked_for(question, form):
    from bot.answerability.constraints import asked_form

    found = asked_form(question)
    assert (found[0] if found else None) == form


@pytest.mark.parametrize(("question", "kind"), [
    ("AI水稻系统是在哪个县试点的?", "县"), ("清单是由哪个部门发布的?", "部门"), ("是哪些部门联合印发的?", "部门"),
    ("Which department issued the list?", "部门"), ("In which county was it piloted?", "县"),
    ("Which company built it?", "公司"), ("两种补贴有什么区别?", None), ("企业能在哪里申请?", None),
])
def test_the_kind_of_name_asked_for(question, kind):
    from bot.answerability.constraints import asked_kind

    found = asked_kind(question)
    assert (found.name if found else None) == kind


@pytest.mark.parametrize(("sentence", "named"), [
    ("去年9月在蓉举办的交易会上发布了清单。", False),  # where and when it was released, not by whom (举办 is no office)
    ("成都市经信局等7部门联合印发。", True), ("她在儿童杂志社工作。", True), ("向劳动行政部门投诉。", True),
    ("全部企业都可申报,社会资本参与。", False),  # 全部 and 社会 are words, not names
])
def test_a_sentence_names_a_body(sentence, named):
    from bot.answerability.constraints import asked_kind, names_kind

    kind = asked_kind("这是由哪个部门负责的?")
    assert kind is not None and names_kind(sentence, "这是由哪个部门负责的?", kind) is named


def test_a_county_asked_is_named_only_by_another_county():
    from bot.answerability.constraints import asked_kind, names_kind

    kind = asked_kind("在哪个县试点?")
    assert kind is not None
    assert names_kind("在蒲江县试点。", "在哪个县试点?", kind)
    assert not names_kind("该县已在全县推广。", "在哪个县试点?", kind)  # 该县 and 全县 refer, they do not name
    assert not names_kind("在蒲江县试点。", "在蒲江县哪个县试点?", kind)  # the question's own county


@pytest.mark.parametrize(("question", "sentence", "dated"), [
    ("算力券从几月份开始申领?", "成都2023年首创算力券。", False),  # a year does not say which month
    ("算力券从几月份开始申领?", "算力券自1月起申领。", True),
    ("In which month does it open?", "It opens in 2024.", False),
    ("政策是哪天发布的?", "政策于1月发布。", False), ("政策是哪天发布的?", "政策于1月18日发布。", True),
    ("政策是什么时候发布的?", "政策于2024年发布。", True),
])
def test_the_date_a_question_asks_for(question, sentence, dated):
    from bot.extractive import date_form

    assert bool(date_form(question).search(sentence)) is dated


@pytest.mark.parametrize(("sentence", "named"), [
    ("一台名为Walker X的机器人骑着平衡车出现在舞台上。", False),  # the robot the question names, no maker
    ("Walker X由优必选公司研发。", True), ("该机器人由UBTech研发。", True),  # a company's name, in characters or Latin
    ("支持企业、高校院所开展研发。", False),  # 支持企业 supports enterprises, it names none
])
def test_a_sentence_names_a_company(sentence, named):
    from bot.answerability.constraints import asked_kind, names_kind

    question = "Walker X机器人是哪家公司研发的?"
    kind = asked_kind(question)
    assert kind is not None and names_kind(sentence.lower(), question, kind) is named


@pytest.mark.parametrize(("question", "sentence", "named"), [
    ("哪些企业能获得奖励?", "对新获得称号的人工智能企业给予奖励。", True),  # a kind of enterprise answers 哪些企业
    ("哪些企业能获得奖励?", "支持企业开展研发,给予奖励。", False),  # a verb before the question's word: no name
    ("由哪个部门负责认定?", "鼓励企业、科研机构研制开发框架。", False),  # 机构 is not the word the question asks
    ("由哪个部门负责认定?", "向劳动行政部门申请认定。", True),
    ("Which Chengdu company developed it?", "成都的企业研制了它。", False),  # the question's own city is no answer
    ("Which city hosted the games?", "大运会在成都举办。", True), ("Which city ranked first?", "全国城市中排名第一。", False),
])
def test_the_question_s_own_word_and_places_name_none(question, sentence, named):
    from bot.answerability.constraints import asked_kind, names_kind

    kind = asked_kind(question)
    said = ("成都",) if question.isascii() and "Chengdu" in question else ()
    assert kind is not None and names_kind(sentence, question, kind, said=said) is named


def test_a_kind_the_sentence_does_not_name_is_not_covered(tmp_path):
    """哪个部门发布 is not answered by a sentence that says at which event the list was released."""
    texts = ["去年9月在蓉举办的交易会上发布了机会清单,清单信息共165项。", "机会清单由市科技局编制发布。"]
    engine, chunks = keyword_answerer(texts, tmp_path, prefix="k")
    event = engine.rank("机会清单是由哪个部门发布的?", chunks[:1])
    assert event is not None and "部门" in [u.text for u in unmet(event) if u.kind == "unit"]
    named = engine.rank("机会清单是由哪个部门发布的?", chunks[1:])
    assert named is not None and unmet(named) == []


def test_a_form_or_amount_the_sentence_lacks_is_not_covered(tmp_path):
    """电话是多少 is not answered by 1000万元; 总金额 asks money, which 19项 is not; 咨询电话 028-12345678 answers."""
    texts = ["本市每年发放总额不超过1000万元的券。", "清单共165项，其中需求类19项。", "咨询电话：028-61234567。"]
    engine, chunks = keyword_answerer(texts, tmp_path, prefix="f")
    phone = engine.rank("券的申领电话是多少?", chunks[:1])
    assert phone is not None and "电话" in [u.text for u in unmet(phone) if u.kind == "unit"]
    money = engine.rank("清单里需求类项目的总金额是多少?", chunks[1:2])
    assert money is not None and "金额" in [u.text for u in unmet(money) if u.kind == "unit"]
    stated = engine.rank("咨询电话是多少?", chunks)
    assert stated is not None and "028" in stated.best.text and unmet(stated) == []
