"""Deadlines on every network wait: the Chroma HTTP client and the model's stream.

Neither dependency bounds the whole wait by itself.  ``chromadb.HttpClient``
builds its ``httpx.Client`` with ``timeout=None``, so a frozen server (SIGSTOP,
a full disk, a stuck proxy) blocked every question for as long as it stayed
frozen; ``bound_chroma_http`` gives that session a timeout.  The OpenAI client's
timeout applies to each read, so a model sending a token every 2 s never trips
it (400 s observed with a 3 s timeout); ``within`` bounds the whole stream.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_END = object()


def bound_chroma_http(client: Any, seconds: float) -> None:
    """Give a ``chromadb.HttpClient``'s HTTP session a connect/read/write timeout of ``seconds``."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if not isinstance(session, httpx.Client):  # a chromadb release that moved it: fail loudly in tests, not silently
        raise RuntimeError("chromadb's HTTP session was not found — bot.deadlines needs updating for this chromadb")
    session.timeout = httpx.Timeout(seconds)


def within(items: Iterable[T], *, seconds: float) -> Iterator[T]:
    """Yield from ``items`` until ``seconds`` have passed in all, then raise ``TimeoutError``.

    ``items`` is consumed in a daemon thread, so a read blocked inside the
    client cannot hold the caller past the deadline; the thread stops at its
    next item (its own read timeout bounds how long that takes).
    """
    box: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=64)
    stop = threading.Event()
    worker = threading.Thread(target=_pump, args=(items, box, stop), daemon=True, name="deadline-stream")
    worker.start()
    deadline = time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            try:
                item, error = box.get(timeout=max(left, 0.0))
            except queue.Empty:
                raise TimeoutError(f"no complete answer within {seconds:g} s") from None
            if error is not None:
                raise error
            if item is _END:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()


def _pump(items: Iterable[T], box: queue.Queue, stop: threading.Event) -> None:
    try:
        for item in items:
            if stop.is_set():
                break
            box.put((item, None))
        else:
            box.put((_END, None))
    except BaseException as err:  # handed to the consumer, which re-raises it
        box.put((None, err))
    finally:
        close = getattr(items, "close", None)
        if stop.is_set() and callable(close):
            close()
