"""A learned linear map from a citizen's question vector towards the wording of the articles that answer it.

Citizens ask "老板不给交社保怎么办"; the article that answers says "用人单位应当自用工之日起三十日内为其职工
申请办理社会保险登记". The embedding model places such a question far from its article. The adapter is a 384 × 384
matrix ``A`` learned from citizens' questions and the articles a lawyer found relevant (the training part of the
statute questions; ``python -m bot.query_adapter_train``): a question's vector ``q`` becomes
``(q + A q) / |q + A q|`` before the dense search. Passages are not touched, so nothing needs re-embedding and the
adapter can be switched off (``BOT_QUERY_ADAPTER=0``) at any time. Model card and figures: ``docs/query_adapter.md``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np

ADAPTER_PATH = Path(__file__).with_name("data") / "query_adapter.npz"
MODEL_CARD = "docs/query_adapter.md"


class QueryAdapter:
    """``adapt(vector)``: the question vector moved by the learned map and re-normalised."""

    def __init__(self, matrix: np.ndarray, meta: dict) -> None:
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"query adapter: expected a square matrix, got shape {matrix.shape}")
        self.matrix = matrix.astype(np.float32)
        self.meta = meta

    @classmethod
    def load(cls, path: Path = ADAPTER_PATH) -> QueryAdapter:
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(data["matrix"], json.loads(str(data["meta"])))
        except (OSError, KeyError, ValueError) as err:
            raise ValueError(f"{path}: not a query adapter ({err}); rebuild it with "
                             "`python -m bot.query_adapter_train` or set BOT_QUERY_ADAPTER=0") from err

    def save(self, path: Path = ADAPTER_PATH) -> None:
        np.savez_compressed(path, matrix=self.matrix, meta=np.array(json.dumps(self.meta, ensure_ascii=False)))

    def adapt(self, vector: np.ndarray) -> np.ndarray:
        if vector.shape[-1] != self.matrix.shape[0]:
            return vector  # another embedding model: the map does not apply
        moved = vector + vector @ self.matrix.T
        norm = np.linalg.norm(moved, axis=-1, keepdims=True)
        return (moved / np.maximum(norm, 1e-12)).astype(np.float32)


@cache
def bundled() -> QueryAdapter:
    """The adapter shipped in ``bot/data`` (loaded once)."""
    return QueryAdapter.load()
