"""Train the answer reader offline: ``python -m bot.answerability.reader_train`` (needs PyTorch, not shipped).

The reader (``bot.answerability.reader``) reads a question and one sentence together — the bundled
multilingual-e5-small as a cross-encoder — and gives the probability that the sentence states the answer.
Its lower ``FROZEN`` layers are the bundled weights as they are; the upper layers and a logistic head are
fine-tuned here and shipped as ``bot/data/reader.npz`` (int8 weights, per output channel).

Data (read in place from ``../shared/bench``; never shipped), all from the answerability model's *training*
split and never from its validation split:

* CMRC 2018 dev part 1, odd-numbered questions (Chinese Wikipedia, CC BY-SA 4.0): the sentence of the gold
  passage that holds the answer is a positive; the passage's other sentences that share most characters with
  the question, and one at random, are negatives; the question with one word swapped for another of its kind
  from the passage (``train.near_miss``) against the answer sentence is a negative (it is about something else);
  so is, with ``--other-questions N`` (off for the shipped reader), another question on the same passage whose
  answer that sentence does not hold: the same topic, another detail — the near miss a policy text meets most.
* The same CMRC questions in English (``ENGLISH_PATH``: renderings written for this product, as a user would ask
  them; CC BY-SA 4.0 like the originals) against the same Chinese sentences: English questions on Chinese
  documents are read like Chinese ones.
* RGB zh, questions numbered 0 mod 4 (news 2022-23, CC BY-NC-SA 4.0): answer sentences of the positive passages
  are positives, the noise passages' sentences closest to the question negatives.
* The statute questions' training split (STARD, MIT; ``statute_pairs``): gold articles positive, their neighbours
  in the same law negative.

The even-numbered CMRC part 1 questions and RGB questions numbered 2 mod 4 stay unseen, so the answerability
model fitted on them (``train.py``) learns how far to trust the reader on questions it has not read; CMRC part 2
and the odd RGB questions remain the validation split of both.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np

from bot.answerability.reader import FROZEN, READER_PATH, english_questions, pair_ids, passage_text, reader_trained_on
from bot.answerability.train import BENCH, jsonl, near_miss
from bot.e5_onnx import E5Tokenizer, E5Weights, bundled_model_path, dequantize_rows, embedding_input, read_weights
from bot.structure import ARTICLE
from bot.text import sentence_spans

TRAINED_ON = ("CMRC 2018 dev part 1 odd questions (with near-miss variants, and in English) + RGB zh questions "
              "0 mod 4 + statute questions, training split")
LICENCE = ("derived from multilingual-e5-small (MIT), CMRC 2018 (CC BY-SA 4.0), RGB (CC BY-NC-SA 4.0) and STARD (MIT) "
           "data; see docs/answerability.md")
HARD_NEGATIVES = 3  # per question: the passage's sentences sharing most characters with it
OTHER_QUESTIONS = 0  # other questions on the passage against this one's answer sentence (shipped reader: none)


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text) if e - s >= 4]


def _overlap(question: str, sentence: str) -> float:
    q = set(question)
    return len(q & set(sentence)) / (len(q) or 1)


def _has_answer(sentence: str, groups: list[list[str]]) -> bool:
    s = unicodedata.normalize("NFKC", sentence).lower()
    return all(any(unicodedata.normalize("NFKC", a).lower() in s for a in g if a) for g in groups)


def pairs(bench: Path, rng: random.Random, swaps: int = 1, statutes: bool = True,
          english: dict[str, str] | None = None, other_questions: int = OTHER_QUESTIONS) -> list[tuple[str, str, int, str]]:
    """(question, sentence, label, source) training pairs (see the module docstring)."""
    out: list[tuple[str, str, int, str]] = []
    english = english or {}
    cmrc = [case for i, case in enumerate(jsonl(bench / "cmrc_dev_part1.jsonl")) if reader_trained_on("cmrc", i)]
    on_passage: dict[str, list[dict]] = {}
    for case in cmrc:
        on_passage.setdefault(case["passages"][0]["id"], []).append(case)
    for case in cmrc:
        sents = _sentences(case["passages"][0]["text"])
        gold = [s for s in sents if _has_answer(s, case["answer_groups"])]
        if not gold:
            continue
        q = case["question"]
        out.append((q, gold[0], 1, "cmrc"))
        rest = [s for s in sents if s not in gold]
        rest.sort(key=lambda s: -_overlap(q, s))
        chosen = rest[:HARD_NEGATIVES]
        others = rest[HARD_NEGATIVES:]
        if others:
            chosen.append(rng.choice(others))
        out += [(q, s, 0, "cmrc") for s in chosen]
        if case["id"] in english:  # the same sentences, asked in English
            en = english[case["id"]]
            out += [(en, gold[0], 1, "cmrc-en"), *((en, s, 0, "cmrc-en") for s in chosen)]
        variants = {near_miss(case, random.Random(f"{case['id']}/{k}" if k else case["id"])) for k in range(swaps)}
        out += [(v, gold[0], 0, "cmrc-swap") for v in sorted(v for v in variants if v is not None)]
        # a question on the same passage whose answer this sentence does not hold: same topic, other detail
        unanswered = [o for o in on_passage[case["passages"][0]["id"]]
                      if o["id"] != case["id"] and not _has_answer(gold[0], o["answer_groups"])]
        for o in random.Random(f"{case['id']}/other").sample(unanswered, min(other_questions, len(unanswered))):
            out.append((o["question"], gold[0], 0, "cmrc-other"))
            if o["id"] in english:
                out.append((english[o["id"]], gold[0], 0, "cmrc-en-other"))
    for i, case in enumerate(jsonl(bench / "rgb_zh.jsonl")):
        if not reader_trained_on("rgb", i):
            continue
        q = case["question"]
        pos = [s for p in case["passages"] if p.get("label") != "negative" for s in _sentences(p["text"])
               if _has_answer(s, case["answer_groups"])]
        neg = [s for p in case["passages"] if p.get("label") == "negative" for s in _sentences(p["text"])]
        neg.sort(key=lambda s: -_overlap(q, s))
        out += [(q, s, 1, "rgb") for s in pos[:2]]
        out += [(q, s, 0, "rgb") for s in neg[:2]]
    if statutes:
        out += statute_pairs(bench / "statutes")
    return out


def statute_pairs(folder: Path) -> list[tuple[str, str, int, str]]:
    """The statute questions' training split (STARD, MIT): each gold article (its first ``PASSAGE_TOKENS``, read
    with the law's title) is a positive, the articles just before and after it in the same law negatives —
    citizens' own words against legal text, the register of the product's questions and documents."""
    from bot.evaluation.statutes import split_of

    articles: dict[str, list[tuple[str, str]]] = {}  # law title -> [(第N条, text)] in order
    for path in sorted((folder / "corpus").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        found = re.search(r"^title:\s*(\S+)", text, re.M)
        if not found:
            continue
        law = articles.setdefault(found.group(1), [])
        body = text.split("<!-- INFO END -->")[-1]
        starts = list(ARTICLE.finditer(body))
        for at, end in zip(starts, [*(n.start() for n in starts[1:]), len(body)], strict=False):  # none: no end
            block = body[at.start(1):end]
            law.append((at.group(1), " ".join(line for line in block.splitlines() if line and not line.startswith("#"))))
    out: list[tuple[str, str, int, str]] = []
    for case in jsonl(folder / "train.jsonl"):
        if split_of(str(case["id"])) != "train":
            continue
        gold = set(case["gold_articles"])
        for name in case["gold_articles"][:2]:
            m = re.match(r"《(.+?)》(第.+条)$", name)
            if not m:
                continue
            title, number = m.groups()
            law = articles.get(title, [])
            where = next((i for i, (n, _) in enumerate(law) if n == number), None)
            if where is None:
                continue
            out.append((case["question"], passage_text(law[where][1], title), 1, "statute"))
            for j in (where - 1, where + 1):
                if 0 <= j < len(law) and f"《{title}》{law[j][0]}" not in gold:
                    out.append((case["question"], passage_text(law[j][1], title), 0, "statute"))
    return out


def _torch_layers(weights: E5Weights):
    """The encoder's layers as PyTorch modules holding the bundled (dequantized) weights."""
    import torch
    from torch import nn

    h, t = weights.hidden, weights.tensors

    def linear(prefix: str, n_out: int, n_in: int) -> nn.Linear:
        lin = nn.Linear(n_in, n_out)
        lin.weight.data = torch.from_numpy(dequantize_rows(t[f"{prefix}.w"], n_in).copy())
        lin.bias.data = torch.from_numpy(np.asarray(t[f"{prefix}.b"]).copy())
        return lin

    def norm(prefix: str) -> nn.LayerNorm:
        ln = nn.LayerNorm(h, eps=weights.eps)
        ln.weight.data = torch.from_numpy(np.asarray(t[f"{prefix}.w"]).copy())
        ln.bias.data = torch.from_numpy(np.asarray(t[f"{prefix}.b"]).copy())
        return ln

    class Layer(nn.Module):
        def __init__(self, i: int) -> None:
            super().__init__()
            p = f"l{i}"
            self.q, self.k, self.v, self.ao = (linear(f"{p}.{n}", h, h) for n in ("q", "k", "v", "ao"))
            self.aln, self.oln = norm(f"{p}.aln"), norm(f"{p}.oln")
            self.fi, self.fo = linear(f"{p}.fi", weights.ffn, h), linear(f"{p}.fo", h, weights.ffn)

        def forward(self, x, bias):
            b, n, _ = x.shape
            heads = weights.heads

            def split(y):
                return y.view(b, n, heads, h // heads).transpose(1, 2)

            att = torch.nn.functional.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)),
                                                                   split(self.v(x)), attn_mask=bias)
            x = self.aln(x + self.ao(att.transpose(1, 2).reshape(b, n, h)))
            return self.oln(x + self.fo(torch.nn.functional.gelu(self.fi(x))))

    return Layer, norm


def train(args: argparse.Namespace) -> None:
    import torch

    torch.manual_seed(0)
    rng = random.Random(0)
    weights = read_weights(bundled_model_path())
    tok = E5Tokenizer(weights)
    data = pairs(args.bench, rng, args.swaps, statutes=not args.no_statutes,
                 english=None if args.no_english else english_questions(), other_questions=args.other_questions)
    print(f"{len(data)} pairs, {sum(d[2] for d in data)} positive", file=sys.stderr)
    ids = [pair_ids(tok, q, passage_text(s)) for q, s, _, _ in data]
    labels = torch.tensor([d[2] for d in data], dtype=torch.float32)
    Layer, norm = _torch_layers(weights)
    lower = torch.nn.ModuleList(Layer(i) for i in range(args.frozen)).eval()
    upper = torch.nn.ModuleList(Layer(i) for i in range(args.frozen, weights.layers))
    head = torch.nn.Linear(weights.hidden, 1)
    emb_ln = norm("emb.ln")

    def batches(order: list[int], budget: int) -> list[list[int]]:
        out: list[list[int]] = []
        cur: list[int] = []
        for j in order:
            if cur and (len(cur) + 1) * max(len(ids[k]) + 2 for k in [*cur, j]) > budget:
                out.append(cur)
                cur = []
            cur.append(j)
        return [*out, cur] if cur else out

    def attention_bias(m):  # a padded key position gets no attention
        return ((1 - m) * -1e9)[:, None, None, :]

    def inputs(batch: list[int]):
        x, mask = embedding_input(weights, [ids[j] for j in batch])
        m = torch.from_numpy(mask)
        return torch.from_numpy(x), m, attention_bias(m)

    # the frozen layers' output is computed once per pair
    t0 = time.time()
    cache: dict[int, object] = {}
    by_len = sorted(range(len(ids)), key=lambda j: len(ids[j]))
    with torch.no_grad():
        for batch in batches(by_len, 4096):
            x, m, bias = inputs(batch)
            hid = emb_ln(x)
            for layer in lower:
                hid = layer(hid, bias)
            for r, j in enumerate(batch):
                cache[j] = hid[r, : int(m[r].sum())].to(torch.bfloat16).clone()
    print(f"frozen layers {time.time() - t0:.0f}s", file=sys.stderr)

    params = [{"params": upper.parameters(), "lr": args.lr}, {"params": head.parameters(), "lr": args.lr * 30}]
    opt = torch.optim.AdamW(params, weight_decay=0.01)
    plan = []  # each epoch's batches: shuffled within length buckets, then in random order
    for _ in range(args.epochs):
        order = sorted(range(len(ids)), key=lambda j: (len(ids[j]) // 8, rng.random()))
        bs = batches(order, args.batch_tokens)
        rng.shuffle(bs)
        plan.append(bs)
    steps = sum(map(len, plan))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[args.lr, args.lr * 30], total_steps=steps + 1,
                                                pct_start=0.1)
    pos_weight = (len(labels) - labels.sum()) / labels.sum()
    for epoch, bs in enumerate(plan):
        total = 0.0
        for k, batch in enumerate(bs):
            width = max(cache[j].shape[0] for j in batch)  # type: ignore[attr-defined]
            hid = torch.zeros(len(batch), width, weights.hidden)
            m = torch.zeros(len(batch), width)
            for r, j in enumerate(batch):
                n = cache[j].shape[0]  # type: ignore[attr-defined]
                hid[r, :n] = cache[j].float()  # type: ignore[attr-defined]
                m[r, :n] = 1
            bias = attention_bias(m)
            for layer in upper:
                hid = layer(hid, bias)
            pooled = (hid * m[..., None]).sum(1) / m.sum(1, keepdim=True)
            logit = head(pooled).squeeze(-1)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, labels[batch], pos_weight=pos_weight)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_([*upper.parameters(), *head.parameters()], 1.0)
            opt.step()
            sched.step()
            total += float(loss.detach())
            if k % 50 == 0:
                print(f"epoch {epoch} step {k}/{len(bs)} loss {total / (k + 1):.4f} {time.time() - t0:.0f}s",
                      file=sys.stderr)
    save(args.out, weights, upper, head, len(data), args.frozen)


def save(path: Path, weights: E5Weights, upper, head, n_pairs: int, frozen: int) -> None:
    """int8 per output channel for the matrices, float32 for biases and norms, and the head."""
    arrays: dict[str, np.ndarray] = {}
    for k, layer in enumerate(upper):
        p = f"l{frozen + k}"
        for name in ("q", "k", "v", "ao", "fi", "fo"):
            w = getattr(layer, name).weight.detach().numpy()  # (out, in)
            scale = np.maximum(np.abs(w).max(axis=1), 1e-12) / 127.0
            arrays[f"{p}.{name}.q"] = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
            arrays[f"{p}.{name}.s"] = scale.astype(np.float32)
            arrays[f"{p}.{name}.b"] = getattr(layer, name).bias.detach().numpy().astype(np.float32)
        for name in ("aln", "oln"):
            arrays[f"{p}.{name}.w"] = getattr(layer, name).weight.detach().numpy().astype(np.float32)
            arrays[f"{p}.{name}.b"] = getattr(layer, name).bias.detach().numpy().astype(np.float32)
    arrays["head.w"] = head.weight.detach().numpy().reshape(-1).astype(np.float32)
    arrays["head.b"] = head.bias.detach().numpy().astype(np.float32)
    meta = {"frozen": frozen, "layers": weights.layers, "pairs": n_pairs,
            "trained_on": TRAINED_ON, "licence": LICENCE}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", type=Path, default=BENCH)
    ap.add_argument("--out", type=Path, default=READER_PATH)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--frozen", type=int, default=FROZEN, help="lower layers kept as the embedder has them")
    ap.add_argument("--swaps", type=int, default=2, help="near-miss variants per question")
    ap.add_argument("--other-questions", type=int, default=OTHER_QUESTIONS,
                    help="other questions on the same passage per question, as negatives (0: none)")
    ap.add_argument("--no-statutes", action="store_true", help="leave out the statute questions")
    ap.add_argument("--no-english", action="store_true", help="leave out the English renderings of the questions")
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--batch-tokens", type=int, default=2048)
    args = ap.parse_args(argv)
    train(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
