"""The answer reader (``bot.answerability.reader``): the shipped cross-encoder on small invented fixtures.

Real model, real onnxruntime graph (converted into ``tmp_path``): no stand-in. The sentences are invented, not
taken from the bundled article or the training data.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.answerability.reader import READER_PATH, Reader, load_arrays, pair_ids, reader_weights
from bot.e5_onnx import E5Tokenizer, bundled_model_path, read_weights


@pytest.fixture(scope="module")
def reader(tmp_path_factory) -> Reader:
    return Reader(cache_dir=tmp_path_factory.mktemp("reader-graph"))


CASES = [  # question, the sentence that answers, a neighbour on the same topic that does not
    ("某市2023年新能源汽车产量是多少?", "2023年，某市新能源汽车产量达到12.5万辆，同比增长30%。",
     "某市已建成充电桩3200个，覆盖全部街道。"),
    ("申请人需要在什么时候之前提交材料?", "申请人应于2025年6月30日前将申报材料提交至区科技局。",
     "申报材料包括营业执照复印件和项目可行性报告。"),
    ("示范园区由哪个单位负责建设?", "示范园区由市城投集团负责投资建设和运营管理。",
     "示范园区占地面积约1200亩，预计明年底建成。"),
]


def test_the_answering_sentence_reads_higher_than_its_neighbour(reader):
    """Each answer far above its neighbour but one: the date question's neighbour (the materials to submit, no date)
    reads about as high as its answer (0.87 against 0.83: the reader does not check that a date is given; the
    extractive engine's date check does), and clearly so on average."""
    read = [reader.probabilities(question, [answer, neighbour]) for question, answer, neighbour in CASES]
    (a1, n1), (a2, n2), (a3, n3) = read
    assert a1 > n1 + 0.5 and a3 > n3 + 0.5 and abs(a2 - n2) < 0.1, read
    assert np.mean([a - n for a, n in read]) > 0.5, read


def test_the_same_sentence_asked_about_another_subject_reads_lower(reader):
    sentence = "对首次获评省级专精特新企业的，给予一次性奖励20万元。"
    asked, other = reader.probabilities("首次获评省级专精特新企业奖励多少?", [sentence])[0], \
        reader.probabilities("首次获评国家级科技小巨人企业奖励多少?", [sentence])[0]
    assert asked > other, (asked, other)


def test_a_passages_probability_does_not_depend_on_the_passages_read_with_it(reader):
    question, sentence = "首次获评省级专精特新企业奖励多少?", "对首次获评省级专精特新的企业，给予20万元奖励。"
    alone = reader.probabilities(question, [sentence])[0]
    with_others = reader.probabilities(question, [sentence, "无关的句子。", "长" * 400])[0]
    assert alone == pytest.approx(with_others, abs=1e-6)


def test_probabilities_are_probabilities_and_empty_input_is_empty(reader):
    p = reader.probabilities("谁负责?", ["由区政府负责。", "无关的句子。", "x" * 2000])
    assert p.shape == (3,) and np.all((p > 0) & (p < 1))
    assert reader.probabilities("谁负责?", []).shape == (0,)


def test_the_shipped_file_replaces_only_the_fine_tuned_layers():
    base = read_weights(bundled_model_path())
    arrays = load_arrays(READER_PATH)
    meta = json.loads(bytes(arrays["meta"]).decode())
    tuned = reader_weights(base, arrays)
    assert tuned.tensors["l0.q.w"] is base.tensors["l0.q.w"]  # a frozen layer: the embedder's own 4-bit blocks
    last = f"l{base.layers - 1}.fo.w"
    assert tuned.tensors[last].dtype == np.float32 and tuned.tensors[last].shape == (base.hidden, base.ffn)
    assert 0 < meta["frozen"] < base.layers and "CMRC" in meta["trained_on"]


def test_the_english_questions_are_cmrc_questions_the_reader_or_the_validation_split_reads():
    """``questions_en.jsonl``: English renderings of CMRC dev part 1 — the reader's half (its training) and the other
    half (the English answerability model's) — and of every fourth part 2 question (that model's validation); each
    one English, none empty (skips without bench)."""
    import re

    from bot.answerability.reader import english_questions, reader_trained_on
    from bot.answerability.train import jsonl
    from tests.conftest import bench_file

    english = english_questions()
    assert len(english) > 1000 and all(q.strip() and re.search(r"[A-Za-z]{3}", q) for q in english.values())
    part1 = {c["id"]: i for i, c in enumerate(jsonl(bench_file("cmrc_dev_part1.jsonl")))}
    part2 = {c["id"] for c in jsonl(bench_file("cmrc_dev_part2.jsonl"))}
    assert all(i in part1 or i in part2 for i in english)
    read = sum(1 for i in english if i in part1 and reader_trained_on("cmrc", part1[i]))
    unread = sum(1 for i in english if i in part1 and not reader_trained_on("cmrc", part1[i]))
    assert read > 800 and unread > 800 and sum(1 for i in english if i in part2) > 400


def test_a_pair_is_cut_to_its_budgets_and_joined_as_xlmr_joins_pairs():
    tok = E5Tokenizer(read_weights(bundled_model_path()))
    ids = pair_ids(tok, "问" * 500, "答" * 1000)
    i = ids.index(tok.eos)
    assert ids[i + 1] == tok.eos and i <= 64 and len(ids) - i - 2 <= 160


def test_training_pairs_come_from_the_readers_half_and_label_the_answer_sentence():
    """The training data (no PyTorch needed to build it; skips without ../shared/bench): CMRC positives hold their
    question's answer, near-miss variants are negatives, and only the questions ``reader_trained_on`` names are read
    — the answerability model is fitted on the others."""
    import random

    from bot.answerability.reader import english_questions, reader_trained_on
    from bot.answerability.reader_train import _has_answer, pairs, statute_pairs
    from bot.answerability.train import jsonl
    from tests.conftest import BENCH, bench_file

    cases = jsonl(bench_file("cmrc_dev_part1.jsonl"))
    bench_file("rgb_zh.jsonl")
    english = english_questions()
    data = pairs(BENCH, random.Random(0), swaps=1, statutes=False, english=english, other_questions=1)
    groups = {c["question"]: c["answer_groups"] for c in cases}
    read = {c["question"] for i, c in enumerate(cases) if reader_trained_on("cmrc", i)}
    cmrc = [d for d in data if d[3] == "cmrc"]
    assert cmrc and {q for q, _, _, _ in cmrc} <= read
    assert all(_has_answer(s, groups[q]) for q, s, label, _ in cmrc if label == 1)
    assert all(not _has_answer(s, groups[q]) for q, s, label, _ in cmrc if label == 0)
    by_id = {c["id"]: c for c in cases}  # the English questions: the same sentences, the same labels
    asked = {en: by_id[i]["answer_groups"] for i, en in english.items() if i in by_id}
    en = [d for d in data if d[3] == "cmrc-en"]
    assert en and {q for q, _, _, _ in en} <= set(asked)
    assert all(_has_answer(s, asked[q]) == bool(label) for q, s, label, _ in en)
    swaps = [d for d in data if d[3] == "cmrc-swap"]
    assert swaps and all(label == 0 and q not in groups for q, _, label, _ in swaps)
    # another question on the same passage against this one's answer sentence: read, and not answered by it
    answer_sentences = {s for _, s, label, _ in cmrc if label == 1}
    other = [d for d in data if d[3] == "cmrc-other"]
    assert other and {q for q, _, _, _ in other} <= read
    assert all(label == 0 and s in answer_sentences and not _has_answer(s, groups[q]) for q, s, label, _ in other)
    assert len([d for d in data if d[3] == "cmrc-en-other"]) <= len(other)
    assert not [d for d in pairs(BENCH, random.Random(0), swaps=1, statutes=False, other_questions=0)
                if d[3] == "cmrc-other"]
    bench_file("statutes/train.jsonl")
    law = statute_pairs(BENCH / "statutes")
    assert {label for _, _, label, _ in law} == {0, 1} and all("第" in s for _, s, _, _ in law[:50])
