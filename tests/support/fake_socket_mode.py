"""A fake Socket Mode endpoint: the WebSocket that `apps.connections.open` hands out.

It greets the bot with `hello`, lets a test push envelopes (slash commands, events) and
collects the bot's acknowledgements by envelope_id.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve


class FakeSocketMode:
    def __init__(self) -> None:
        self._outbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self._acks: dict[str, dict[str, Any]] = {}
        self._acked = threading.Condition()
        self.connected = threading.Event()
        self._server = serve(self._session, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link"

    def start(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def send(self, kind: str, payload: dict[str, Any]) -> str:
        envelope_id = str(uuid.uuid4())
        self._outbox.put(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
            }
        )
        return envelope_id

    def ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        with self._acked:
            if not self._acked.wait_for(lambda: envelope_id in self._acks, timeout):
                raise AssertionError(f"no acknowledgement for {envelope_id} within {timeout}s")
            return self._acks[envelope_id]

    def _session(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1}))
        self.connected.set()
        while True:
            try:
                connection.send(json.dumps(self._outbox.get(timeout=0.05)))
            except queue.Empty:
                pass
            except ConnectionClosed:
                return
            try:
                message = json.loads(connection.recv(timeout=0.05))
            except TimeoutError:
                continue
            except ConnectionClosed:
                return
            if "envelope_id" in message:
                with self._acked:
                    self._acks[message["envelope_id"]] = message
                    self._acked.notify_all()
