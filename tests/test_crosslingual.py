"""English questions on Chinese text: names in pinyin, the dictionary's other names, what is asked for."""

from __future__ import annotations

import math

from bot.answerability import FEATURES, features
from bot.crosslingual import dictionary_translations, keyword_query, pinyin_key, proper_names, romanised_names
from bot.keyword import Bm25Index
from bot.text import tokenize
from tests.conftest import keyword_answerer

TEXTS = ["1月19日，成都超算中心总经理王建波介绍，中心用户数量同比增长50%，达到1280家。",
         "诗人杜小兰生于成都，著有诗集三部。",
         "该机器人由钟子涵团队在成都一家公司研制，身高1.3米。"]


def test_pinyin_keys_spell_chinese_words_and_romanised_names_alike():
    assert pinyin_key("王建波") == pinyin_key("Wang Jianbo") == "wangjianbo"
    assert pinyin_key("吕布") == pinyin_key("Lü Bu") == pinyin_key("Lv Bu") == "lubu"
    assert pinyin_key("西安") == pinyin_key("Xi'an")


def test_a_name_in_pinyin_is_found_as_the_corpus_writes_it(tmp_path):
    bm25 = Bm25Index(tmp_path / "bm25")
    bm25.build(["a", "b"], [tokenize(t) for t in TEXTS[:2]], stamp="")
    known = lambda zh: bm25.idf(zh) > 0
    found = romanised_names("What did Wang Jianbo say about Du Xiaolan?", spelt=bm25.spelt, known=known)
    assert found == [("wang jianbo", ("王建波",)), ("du xiaolan", ("杜小兰",))]
    # a word the dictionary translates into the corpus's words is left to the dictionary; unknown names find nothing
    assert romanised_names("How many users did Chengdu have?", spelt=bm25.spelt, known=known) == []
    assert romanised_names("What did Zhang Wei say?", spelt=bm25.spelt, known=known) == []
    assert "王建波" in keyword_query("What did Wang Jianbo say?", known=known, spelt=bm25.spelt).split()
    # the lookup follows the index: a rebuilt index spells its own words
    bm25.build(["c"], [tokenize(TEXTS[2])], stamp="")
    assert bm25.spelt("wangjianbo") == () and bm25.spelt("zhongzihan") == ("钟子涵",)
    # only words that can be names: jieba's dictionary holds 机器人 as a common noun
    assert bm25.spelt("jiqiren") == ()


def test_a_question_naming_someone_in_pinyin_is_answered_and_an_unknown_name_refused(tmp_path):
    answerer, chunks = keyword_answerer(TEXTS, tmp_path / "bm25")
    named = answerer.rank("How many users did Wang Jianbo report?", chunks)
    assert named is not None and "王建波" in named.best.text
    assert any(t.text == "wang jianbo" and "王建波" in t.variants for t in named.terms)
    assert "wang" not in answerer._refusal_reason(named.terms, named.best, cross=True)
    other = answerer.answer("How many users did Zhang Wei report?", chunks)
    assert other.refused and "zhang" in other.reason


def test_the_dictionary_indexes_the_other_names_a_gloss_gives_in_brackets():
    """CC-CEDICT: 大运 "World University Games (formerly "Universiade")", 孟买 "Mumbai (formerly Bombay)"."""
    assert "大运" in dictionary_translations("Universiade")
    assert "孟买" in dictionary_translations("bombay")


def test_the_thing_an_english_question_asks_for_must_be_named_by_the_sentence(tmp_path):
    answerer, chunks = keyword_answerer(TEXTS, tmp_path / "bm25")
    said = answerer.rank("Which company developed the robot?", chunks)
    assert said is not None and "公司" in said.best.text
    unsaid = answerer.rank("Which province developed the robot?", chunks)
    assert unsaid is not None and "机器人" in unsaid.best.text
    asked = FEATURES.index("asked_said")
    assert features(said)[asked] == 1.0 and features(unsaid)[asked] == 0.0
    neither = answerer.rank("How tall is the robot?", chunks)
    assert neither is not None and features(neither)[asked] == 0.5
    # the embedding features are left out for the Chinese model, computed for the English one (no embedder: none)
    assert math.isnan(features(said)[FEATURES.index("similarity")])


def test_a_place_named_with_a_possessive_is_a_name_the_sources_must_state(tmp_path):
    """Chongqing's is Chongqing: a place the dictionary knows (重庆) and the sources never name refuses the question."""
    assert proper_names("What was the size of Chongqing's satellite industry?") == ["Chongqing"]
    answerer, chunks = keyword_answerer(["2022年成都卫星产业规模达113亿元，同比增长20%。", "成都软件企业可申请研发补助。"],
                                        tmp_path / "bm25")
    decision = answerer.answer("What was the size of Chongqing's satellite industry in 2022?", chunks)
    assert decision.refused and "chongqing" in decision.reason
    assert not answerer.answer("What was the size of Chengdu's satellite industry in 2022?", chunks).refused
