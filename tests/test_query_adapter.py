"""The query adapter: a learned map applied to question vectors before the dense search (``bot.query_adapter``)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.query_adapter import ADAPTER_PATH, QueryAdapter, bundled
from bot.query_adapter_train import train
from bot.settings import Settings


def test_a_zero_map_leaves_the_vector_and_any_map_keeps_it_unit_length():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(3, 8)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    assert np.allclose(QueryAdapter(np.zeros((8, 8)), {}).adapt(v), v, atol=1e-6)
    moved = QueryAdapter(rng.normal(size=(8, 8)), {}).adapt(v)
    assert np.allclose(np.linalg.norm(moved, axis=1), 1.0, atol=1e-5) and not np.allclose(moved, v)
    # a vector of another model's width is passed through untouched
    other = np.ones(5, np.float32)
    assert QueryAdapter(np.zeros((8, 8)), {}).adapt(other) is other


def test_training_moves_questions_towards_their_passages():
    """Questions are their passages seen through a fixed distortion; the learned map undoes much of it."""
    rng = np.random.default_rng(1)
    d, n = 16, 300
    passages = rng.normal(size=(n, d)).astype(np.float32)
    passages /= np.linalg.norm(passages, axis=1, keepdims=True)
    distortion = np.eye(d, dtype=np.float32) + 0.9 * rng.normal(size=(d, d)).astype(np.float32) / np.sqrt(d)
    gold = rng.choice(n, size=200, replace=False)
    queries = passages[gold] @ distortion.T + 0.05 * rng.normal(size=(200, d)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    def mean_rank(q: np.ndarray, rows) -> float:
        s = q[rows] @ passages.T
        return float(np.mean([(s[i] > s[i, gold[r]]).sum() for i, r in enumerate(rows)]))

    train_rows, test_rows = np.arange(150), np.arange(150, 200)
    matrix = train(queries[train_rows], [[int(gold[r])] for r in train_rows], passages, lam=0.01, iters=150,
                   lr=1e-2, log=lambda _msg: None)
    adapted = QueryAdapter(matrix, {}).adapt(queries)
    # questions never trained on rank their own passage higher with the map than without
    assert mean_rank(adapted, test_rows) < 0.7 * mean_rank(queries, test_rows)


def test_the_shipped_adapter_is_small_says_what_it_was_trained_on_and_stays_near_the_identity():
    assert ADAPTER_PATH.stat().st_size < 1_000_000
    adapter = bundled()
    assert adapter.matrix.shape == (384, 384) and np.isfinite(adapter.matrix).all()
    assert "training split" in adapter.meta["trained_on"] and "MIT" in adapter.meta["licence"]
    # near the identity: a question keeps most of its direction
    rng = np.random.default_rng(2)
    v = rng.normal(size=(50, 384)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    assert float((adapter.adapt(v) * v).sum(axis=1).mean()) > 0.5


def test_a_broken_adapter_file_is_named_with_what_to_do(tmp_path):
    bad = tmp_path / "adapter.npz"
    bad.write_bytes(b"not numpy")
    with pytest.raises(ValueError, match=r"adapter\.npz.*BOT_QUERY_ADAPTER=0"):
        QueryAdapter.load(bad)


def test_the_setting_switches_the_retrievers_adapter(tmp_path):
    from bot.engine import Engine

    on = Engine(Settings(data_dir=tmp_path / "a")).retriever()
    off = Engine(Settings(data_dir=tmp_path / "b", query_adapter=False)).retriever()
    assert on.adapter is bundled() and off.adapter is None
