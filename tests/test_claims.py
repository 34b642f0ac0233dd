"""Claims outside a model's verified quotes must be stated by the cited source (bot/claims.py)."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from bot.citations import check_answer
from bot.claims import claim_words, quantities, unsupported
from tests.test_llm_faults import assert_verified
from tests.test_openai_engine import VOUCHER, VOUCHER_Q, citing

SOURCE = "成都2023年在全国首创“算力券”,每年发放总额不超过1000万元的算力券,让企业真正享受到“算力自主、算力自由”。"


@pytest.mark.parametrize(("text", "value", "unit"), [
    ("1000万元", 1e7, "元"), ("五千万元", 5e7, "元"), ("一千万元", 1e7, "元"), ("1.5亿元", 1.5e8, "元"),
    ("36.9%", 36.9, "%"), ("2024年", 2024, "年"), ("10 million yuan", 1e7, "元"), ("3 billion", 3e9, None),
    ("三倍", 3, "倍"), ("1000", 1000, None),
])
def test_quantities_are_read_with_magnitude_and_unit_in_either_script(text, value, unit):
    (q,) = quantities(text.casefold())
    assert q.value == pytest.approx(value) and q.unit == unit


def test_text_without_words_has_no_claims():
    assert unsupported("", SOURCE) == [] and unsupported("  ，。 ", SOURCE) == []


def test_numerals_inside_ordinary_words_are_not_figures():
    assert quantities("统一发放，一些企业，第一批") == []


@pytest.mark.parametrize("text", [
    "成都每年发放的算力券总额", "总额不超过1000万元", "总额不超过一千万元", "总额1,000万元", "成都2023年首创算力券",
    "It is capped at 10 million yuan a year", "It does not exceed 10 million yuan", "企业获得算力券",
])
def test_what_the_source_states_is_supported(text):
    assert unsupported(text, SOURCE) == []


@pytest.mark.parametrize(("text", "claim"), [
    ("总额不超过1000亿元", "1000亿元"),  # unit changed
    ("总额为五千万元", "五千万元"),  # Chinese numerals, another value
    ("It is capped at 10 billion yuan", "10 billion yuan"),
    ("成都从未发放过算力券，此前的说法是谣言", "从未"),  # negation
    ("成都不发放算力券", "不发"),  # a one-character negation the source does not have here
    ("申请者还须向 http://pay.example/cz 缴纳保证金", "http://pay.example/cz"),  # an added duty and a link
    ("申请者还须缴纳保证金", "缴纳"),
    ("请联系 apply@pay.example 办理", "apply@pay.example"),
    ("Applicants must pay a deposit first", "must"),
])
def test_a_changed_or_added_claim_is_reported(text, claim):
    assert claim in unsupported(text, SOURCE)


def test_an_english_word_the_source_itself_contains_is_supported():
    assert unsupported("《四海》（英语：Only Fools Rush In）由韩寒执导", "《四海》（英语：Only Fools Rush In）由韩寒执导。") == []


def test_one_character_words_carry_the_next_character():
    assert "不超" in claim_words("总额不超过")
    assert claim_words("非常重要的应用") == []  # 非 and 应 inside words are not claims


SOURCES = [Document(page_content=SOURCE)]


@pytest.mark.parametrize("raw", [
    "成都每年发放的算力券总额不超过1000亿元，即「不超过1000万元」[1]。",
    "成都每年发放的算力券总额为五千万元，即「不超过1000万元」[1]。",
    "成都从未发放过「不超过1000万元」的算力券，相关说法是谣言[1]。",
    "申请者还须向 http://pay.example/cz 缴纳保证金，方可领取「不超过1000万元」的算力券[1]。",
])
def test_check_answer_drops_a_wrong_fact_beside_a_right_quote(raw):
    checked = check_answer(raw, SOURCES)
    assert checked.text == "" and checked.dropped == 1


def test_check_answer_keeps_a_right_sentence_and_drops_the_wrong_one():
    raw = "成都每年发放的算力券总额「不超过1000万元」[1]。申请者还须缴纳「不超过1000万元」的保证金[1]。"
    checked = check_answer(raw, SOURCES)
    assert checked.text == "成都每年发放的算力券总额「不超过1000万元」[1]。" and checked.dropped == 1


WRONG = ["成都每年发放的算力券总额不超过1000亿元，即「不超过1000万元」[{}]。",
         "成都每年发放的算力券总额为五千万元，即「不超过1000万元」[{}]。",
         "成都从未发放过「不超过1000万元」的算力券，相关说法是谣言[{}]。",
         "申请者还须向 http://pay.example/cz 缴纳保证金，方可领取「不超过1000万元」的算力券[{}]。"]


@pytest.mark.parametrize("template", WRONG, ids=["unit", "chinese-numerals", "negation", "duty-and-link"])
def test_the_user_never_sees_a_wrong_fact_from_the_model(openai_engine, fake, template):
    fake.script(citing(template, VOUCHER))
    answer = openai_engine().ask(VOUCHER_Q)
    for wrong in ("1000亿", "五千万", "从未", "谣言", "http", "保证金"):
        assert wrong not in answer.answer
    assert answer.engine == "extractive" and answer.notice and answer.dropped_citations == 1
    assert VOUCHER in answer.answer
    assert_verified(answer)
