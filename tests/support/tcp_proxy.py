"""A TCP proxy on 127.0.0.1 (port 0) in front of a real server, which the test can break.

The bot reaches PostgreSQL through it, so a test can make "the database go away" without
touching the real server:

* `down()`: open connections are cut and new ones are refused at once (reset), like a server
  that has stopped or a port with nothing behind it;
* `blackhole()`: connections are still accepted but nothing is forwarded either way, like a
  hung server or a network that silently drops packets — the hard case, only timeouts help;
* `up()`: forwarding again (connections from before are cut: their protocol state is lost).
"""

from __future__ import annotations

import contextlib
import enum
import select
import socket
import struct
import threading

POLL_S = 0.05


class Mode(enum.Enum):
    UP = "up"
    DOWN = "down"
    BLACKHOLE = "blackhole"


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = Mode.UP
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(POLL_S)
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket | None]] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def start(self) -> TcpProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._listener.close()
        self._cut_all()

    def up(self) -> None:
        self._set(Mode.UP)

    def down(self) -> None:
        self._set(Mode.DOWN)

    def blackhole(self) -> None:
        self._set(Mode.BLACKHOLE)

    def _set(self, mode: Mode) -> None:
        previous, self.mode = self.mode, mode
        if mode is Mode.DOWN or previous is Mode.BLACKHOLE:
            self._cut_all()

    def _cut_all(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream in pairs:
            _reset(client)
            if upstream is not None:
                _reset(upstream)

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.mode is Mode.DOWN:
                _reset(client)
                continue
            upstream = None
            if self.mode is Mode.UP:
                try:
                    upstream = socket.create_connection(self.target, timeout=2)
                except OSError:
                    _reset(client)
                    continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket | None) -> None:
        sockets = [client] if upstream is None else [client, upstream]
        try:
            while not self._stopped.is_set():
                readable, _, _ = select.select(sockets, [], [], POLL_S)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    if self.mode is not Mode.UP or upstream is None:
                        continue  # swallowed: nobody will ever answer
                    (upstream if source is client else client).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in sockets:
                with contextlib.suppress(OSError):
                    sock.close()


def _reset(sock: socket.socket) -> None:
    """Close with RST rather than FIN, as a dead peer's kernel would answer."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()
