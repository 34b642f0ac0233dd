"""The answer reader: does this sentence state the answer to this question?

A cross-encoder: the question and the sentence (with its document title and heading) are read together by the
bundled multilingual-e5-small — ``query: …</s></s>passage: …`` — whose upper layers were fine-tuned for the
question (``reader_train.py``); a logistic head on the mean of the last hidden states gives the probability.
Unlike the embedding cosine, which says the two are about the same thing, it is trained to tell the sentence
that answers from its neighbours in the same passage and from the same sentence asked about another year, place
or subject. Its probability is one feature of the answerability model (``bot.answerability``).

The lower layers are the embedder's own 4-bit weights; ``bot/data/reader.npz`` holds the fine-tuned layers
(int8 per output channel) and the head. The graph is converted once into the data folder, like the embedder's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from bot.e5_onnx import (
    E5Tokenizer,
    E5Weights,
    build_graph,
    bundled_model_path,
    cached_graph,
    embedding_input,
    load_ranges,
    read_weights,
    usable_cores,
)

READER_PATH = Path(__file__).resolve().parents[1] / "data" / "reader.npz"
# CMRC dev questions in English, written for this product (reader_train.py reads part 1's, train.py part 2's)
ENGLISH_PATH = Path(__file__).with_name("questions_en.jsonl")
FROZEN = 3  # layers kept as the embedder has them by default; the rest are fine-tuned (the file says how many)
QUESTION_TOKENS = 64
PASSAGE_TOKENS = 160


def reader_trained_on(source: str, index: int) -> bool:
    """Whether the reader was trained on the ``index``-th question of ``source`` ("cmrc" for CMRC dev part 1,
    "rgb"): the answerability model is fitted only on the others, so it learns how far to trust the reader on
    questions the reader has not read."""
    return index % 2 == 1 if source == "cmrc" else index % 4 == 0


def english_questions(path: Path = ENGLISH_PATH) -> dict[str, str]:
    """CMRC question id → the question in English (``ENGLISH_PATH``; one JSON object per line)."""
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {r["id"]: r["en"] for r in rows}


def passage_text(sentence: str, context: str = "") -> str:
    """What the reader reads of a candidate: its title/heading context, then the sentence."""
    return f"{context} {sentence}".strip()


def pair_ids(tok: E5Tokenizer, question: str, passage: str) -> list[int]:
    """Content ids of a (question, passage) pair, each side cut to its budget, joined as XLM-R joins pairs."""
    return question_rows(tok, question, [passage])[0]


def question_rows(tok: E5Tokenizer, question: str, passages: Sequence[str]) -> list[list[int]]:
    """``pair_ids`` of the question with each passage, the question tokenised once."""
    q, *ps = tok.encode(["query: " + question, *("passage: " + p for p in passages)])
    return [[*q[:QUESTION_TOKENS], tok.eos, tok.eos, *p[:PASSAGE_TOKENS]] for p in ps]


def load_arrays(path: Path = READER_PATH) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def reader_weights(base: E5Weights, arrays: dict[str, np.ndarray]) -> E5Weights:
    """The bundled weights with the fine-tuned layers' tensors (float32) in place of the 4-bit ones."""
    meta = json.loads(bytes(arrays["meta"]).decode())
    if meta["layers"] != base.layers:
        raise ValueError(f"{READER_PATH}: built for a model of {meta['layers']} layers, the bundled one has "
                         f"{base.layers}; retrain with python -m bot.answerability.reader_train")
    tensors = dict(base.tensors)
    for i in range(meta["frozen"], base.layers):
        p = f"l{i}"
        for name in ("q", "k", "v", "ao", "fi", "fo"):
            q, s = arrays[f"{p}.{name}.q"], arrays[f"{p}.{name}.s"]
            tensors[f"{p}.{name}.w"] = q.astype(np.float32) * s[:, None]
            tensors[f"{p}.{name}.b"] = arrays[f"{p}.{name}.b"]
        for name in ("aln", "oln"):
            tensors[f"{p}.{name}.w"] = arrays[f"{p}.{name}.w"]
            tensors[f"{p}.{name}.b"] = arrays[f"{p}.{name}.b"]
    return replace(base, tensors=tensors)


class Reader:
    """``probabilities(question, passages)``: for each passage, the probability that it states the answer."""

    def __init__(self, *, cache_dir: Path, path: Path = READER_PATH, threads: int | None = None) -> None:
        import onnxruntime as ort

        base = read_weights(bundled_model_path())
        self._tok = E5Tokenizer(base)
        arrays = load_arrays(path)
        self._w = reader_weights(base, arrays)
        self._head_w, self._head_b = arrays["head.w"], float(arrays["head.b"][0])
        graph = self._graph(cache_dir, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or usable_cores()
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])

    def _graph(self, cache_dir: Path, path: Path) -> Path:
        st, base = path.stat(), bundled_model_path().stat()

        def build():
            # the embedder's measured input ranges hold for the layers it shares with the reader (still 4-bit)
            smooth = {k: v for k, v in load_ranges().items() if self._w.tensors[f"{k}.w"].dtype != np.float32}
            return build_graph(self._w, smooth=smooth)

        return cached_graph(cache_dir / f"reader-{st.st_size}-{int(st.st_mtime)}-{base.st_size}.onnx", build)

    def probabilities(self, question: str, passages: Sequence[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0)
        # one passage per run: the int8 products quantise a whole batch with one scale, so a passage read with
        # others got another probability (0.18 alone 0.47); one at a time costs ~20 % more (44 ms for five)
        pooled = []
        for row in question_rows(self._tok, question, passages):
            x, mask = embedding_input(self._w, [row])
            pooled.append(self._session.run(["pooled"], {"x": x, "mask": mask})[0])
        return 1.0 / (1.0 + np.exp(-(np.concatenate(pooled) @ self._head_w + self._head_b)))


_READER: Reader | None = None
_LOCK = threading.Lock()


def reader(cache_dir: Path) -> Reader:
    """The process's reader (built on first use)."""
    global _READER
    with _LOCK:
        if _READER is None:
            _READER = Reader(cache_dir=cache_dir)
        return _READER
