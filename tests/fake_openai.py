"""A small OpenAI-compatible chat-completions server on 127.0.0.1 for tests.

It is a deterministic stand-in for a real endpoint (OpenAI, llama.cpp,
vLLM, Ollama): a real HTTP server speaking the same wire protocol —
``POST /v1/chat/completions`` answered with a JSON completion, or with
server-sent events (``data: {...}`` chunks ending in ``data: [DONE]``) when
the request asks for ``stream``.  Replies are scripted, and so are faults: an
HTTP error status, a stall longer than the client's timeout, a stream whose
connection is cut halfway, a stream that ends without finishing.  Every
request is recorded, so a test can count retries and read the prompt.

Run it by hand with ``python tests/fake_openai.py --port 8099 --reply '…'``.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
                429: "rate_limit_error", 500: "server_error", 503: "server_error"}


@dataclass
class Reply:
    """What the server does with one request."""

    text: str = ""
    status: int = 200
    delay: float = 0.0  # seconds of silence before anything is sent (a stalled endpoint)
    piece: int = 4  # characters per streamed chunk
    pace: float = 0.0  # seconds between streamed chunks (a model that writes slowly)
    cut_after: int | None = None  # streamed: drop the connection after this many content chunks
    finish: bool = True  # streamed: send finish_reason and [DONE]; False ends the body without them
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    """One request as the server received it."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def system(self) -> str:
        return next((str(m.get("content")) for m in self.messages if m.get("role") == "system"), "")

    @property
    def prompt(self) -> str:
        """The last user message."""
        return next((str(m.get("content")) for m in reversed(self.messages) if m.get("role") == "user"), "")

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def sources(self) -> dict[int, str]:
        """The numbered sources in the prompt (``[n] title\ntext`` blocks inside ``<sources>``)."""
        block = re.search(r"<sources>\n(.*?)\n</sources>", self.prompt, re.DOTALL)
        parts = re.split(r"(?:^|\n\n)\[(\d+)\] [^\n]*\n", block.group(1)) if block else []
        return {int(n): text for n, text in zip(parts[1::2], parts[2::2], strict=True)}

    def source_with(self, text: str) -> int:
        """The number of the first source containing ``text`` (how a scripted model picks what to cite)."""
        return next(n for n, body in self.sources.items() if text in body)


Responder = Callable[[Request], Reply]
Scripted = Reply | str | Responder


class FakeOpenAI:
    """The server: ``script(...)`` queues replies; when the queue is empty, ``default`` (or ``responder``) answers."""

    def __init__(self, *, default: Reply | None = None, responder: Responder | None = None,
                 model: str = "fake-model", port: int = 0) -> None:
        self.default = default or Reply(text="NO_ANSWER")
        self.responder = responder
        self.model = model
        self.requests: list[Request] = []
        self._queue: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", port), _handler_class(self))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-openai", daemon=True)

    # ---- lifecycle -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The base URL to give an OpenAI client (``OPENAI_BASE_URL``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- scripting -----------------------------------------------------------------------------

    def script(self, *replies: Scripted) -> None:
        """Queue replies, answered in order: a ``str`` is a plain 200 reply, a callable builds one from the request."""
        with self._lock:
            self._queue.extend(replies)

    def completions(self) -> list[Request]:
        """The chat-completion requests received so far."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _next(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            scripted = self._queue.popleft() if self._queue else (self.responder or self.default)
        if isinstance(scripted, str):
            return Reply(text=scripted)
        return scripted if isinstance(scripted, Reply) else scripted(request)

    def _sleep(self, seconds: float) -> bool:
        """Wait (cut short when the server stops); True if the server is still running."""
        return not self._stopping.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up (its timeout, the end of a test) is part of the script, not an error."""
        import sys

        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def _handler_class(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        server_fake = fake

    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked bodies, as real endpoints do
    server_fake: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": self.server_fake.model, "object": "model"}]})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found_error"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
            return
        request = Request(path=self.path, body=body, headers=dict(self.headers.items()), at=time.monotonic())
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self.server_fake.requests.append(request)
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found_error"}})
            return
        reply = self.server_fake._next(request)
        try:
            self._respond(request, reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (its timeout): nothing to do

    # ---- responses -----------------------------------------------------------------------------

    def _respond(self, request: Request, reply: Reply) -> None:
        if reply.delay and not self.server_fake._sleep(reply.delay):
            self.close_connection = True
            return
        if reply.status != 200:
            kind = _ERROR_TYPES.get(reply.status, "server_error")
            self._json(reply.status, {"error": {"message": f"scripted HTTP {reply.status}", "type": kind,
                                                "code": kind}}, headers=reply.headers)
        elif request.stream:
            self._sse(request, reply)
        else:
            self._json(200, self._completion(request, reply), headers=reply.headers)

    def _completion(self, request: Request, reply: Reply) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-fake{len(self.server_fake.requests)}", "object": "chat.completion",
            "created": int(time.time()), "model": request.body.get("model") or self.server_fake.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    def _json(self, status: int, payload: dict[str, Any], *, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, request: Request, reply: Reply) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        base = {"id": f"chatcmpl-fake{len(self.server_fake.requests)}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": request.body.get("model") or self.server_fake.model}
        self._event({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                          "finish_reason": None}]})
        pieces = [reply.text[i : i + reply.piece] for i in range(0, len(reply.text), reply.piece)]
        for sent, piece in enumerate(pieces):
            if reply.cut_after is not None and sent >= reply.cut_after:
                self._cut()
                return
            if sent and reply.pace and not self.server_fake._sleep(reply.pace):
                return
            self._event({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
        if reply.finish:
            self._event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")  # the zero-length chunk ends the body cleanly

    def _event(self, payload: dict[str, Any]) -> None:
        self._chunk(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode())

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _cut(self) -> None:
        """Announce a chunk, send half of it, then drop the connection (a network cut mid-answer)."""
        self.wfile.write(b"40\r\ndata: {\"id\"")
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def closed_port() -> int:
    """A local port with nothing listening on it (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible endpoint answering with a fixed reply.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reply", default="NO_ANSWER", help="text of every reply")
    args = parser.parse_args()
    fake = FakeOpenAI(default=Reply(text=args.reply), port=args.port).start()
    print(f"OPENAI_BASE_URL={fake.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
