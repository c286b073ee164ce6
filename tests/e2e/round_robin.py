"""A small load balancer for the two-replica test: the emulator posts every webhook update to
this proxy, which hands each person's updates to the replicas in turn (their first update to
the first replica, the next to the second, and so on), so one person's consecutive updates
alternate between processes.

A replica that does not answer (killed, or not listening) is skipped and the update goes to
the next one, as a load balancer's health check would do; when no replica answers, the emulator
gets a 502 and delivers the update again later. The proxy remembers which replica took which
update, so the test can show that the alternation really happened.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from bot.inbox import sender_of
from tests.e2e.harness import LOOPBACK

FORWARD_TIMEOUT_S = 10.0


@dataclass
class Routed:
    update_id: int
    user_id: int | None
    replica: int  # index into RoundRobin.upstreams of the replica that answered 200


@dataclass
class RoundRobin:
    """Listens on a free loopback port; `url(path)` is what the replicas give Telegram."""

    upstreams: list[str]  # each replica's own webhook URL
    routed: list[Routed] = field(default_factory=list)
    _turns: defaultdict[int | None, int] = field(default_factory=lambda: defaultdict(int))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        balancer = self
        client = httpx.Client(timeout=FORWARD_TIMEOUT_S, trust_env=False)
        self._client = client

        class Forward(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, content = balancer._forward(body, dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(content)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Forward)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/telegram") -> str:
        return f"http://{LOOPBACK}:{self.port}{path}"

    def _forward(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            data: Any = json.loads(body)
            user_id = sender_of(data) if isinstance(data, dict) else None
            update_id = data.get("update_id") if isinstance(data, dict) else None
        except ValueError:
            user_id, update_id = None, None
        with self._lock:
            first = self._turns[user_id]
            self._turns[user_id] += 1
        keep = {k: v for k, v in headers.items() if k.lower().startswith(("content-type", "x-"))}
        for step in range(len(self.upstreams)):
            replica = (first + step) % len(self.upstreams)
            try:
                answer = self._client.post(self.upstreams[replica], content=body, headers=keep)
            except httpx.TransportError:  # down: the next replica takes it
                continue
            if answer.status_code == 200 and isinstance(update_id, int):
                with self._lock:
                    self.routed.append(Routed(update_id, user_id, replica))
            return answer.status_code, answer.content
        return 502, b'{"ok": false, "error": "no replica answered"}'

    def replicas_of(self, user_id: int) -> list[int]:
        """Which replica took each of this person's updates, in the order they came."""
        with self._lock:
            return [r.replica for r in sorted(self.routed, key=lambda r: r.update_id)
                    if r.user_id == user_id]  # fmt: skip

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()
