"""`missionbot serve` as a real child process, as README deploys it (HTTP mode, waitress),
talking to a Slack simulator.

For the tests and benchmarks that need what a thread can't give: several processes on one
database, `kill -9`, a process's own memory. Each process gets a free port (bound to port 0 to
find one) and its own log file; `stop()` never waits more than a few seconds and always leaves
no child behind.

A port found free can be taken by another process before `serve` binds it (six test workers
start serve processes at once). Then this one's `/healthz` was answered by the other one, on
another database: a kudos test read another test's "You already gave this kudos". So a process
is ready only once it holds the socket listening on its port (`listens_on`), and one that could
not bind it is started again on another port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from bot.simulator.signing import SIGNING_SECRET

START_TIMEOUT_S = 20.0
# A socket's state in /proc/net/tcp when it listens.
TCP_LISTEN = "0A"
# What a serve process that could not bind its port logs (errno 98).
ADDRESS_IN_USE = "Address already in use"
# What `python` is given: `missionbot serve`.
SERVE = ("-m", "bot", "serve")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listens_on(pid: int, port: int) -> bool:
    """Whether process `pid` holds the socket listening on TCP `port` (Linux's /proc: the
    listening socket's inode among the process's open files). Elsewhere, assumed so."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        return True
    listening = {
        fields[9]
        for fields in (line.split() for line in table.read_text().splitlines()[1:])
        if fields[3] == TCP_LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port
    }
    try:
        files = [os.readlink(entry) for entry in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return False  # gone, or its files are changing under us: look again
    return any(f"socket:[{inode}]" in files for inode in listening)


class SlackEndpoint(Protocol):
    """Whatever answers the bot's Web API calls: a SlackSimulator, or one in its own process."""

    @property
    def api_url(self) -> str: ...


class ServeProcess:
    def __init__(
        self,
        database_url: str,
        slack: SlackEndpoint,
        log_dir: Path,
        *,
        python: str = sys.executable,
        arguments: Sequence[str] = SERVE,
        **env: str | int | None,
    ) -> None:
        """`env` overrides variables by lower-case name; None removes one. `python` runs it:
        another checkout's `.venv/bin/python` serves that checkout's bot (a before/after pair
        measured by one benchmark). `arguments` follow it: a benchmark may start `serve` from
        a `-c` program that first swaps one function of the bot for another."""
        self.python = python
        self.arguments = tuple(arguments)
        self.port = free_port()
        self.slack = slack
        self.log_dir = log_dir
        self.log_path = log_dir / f"serve-{self.port}.log"
        variables = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "LOG_LEVEL": "INFO",
            **{name.upper(): value for name, value in env.items()},
        }
        self.env = {name: str(value) for name, value in variables.items() if value is not None}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready: Callable[[], bool] | None = None, *, attempts: int = 3) -> ServeProcess:
        """Start it and wait until `ready()` (default: it listens on its port and /healthz
        answers 200); on another free port if this one was taken meanwhile."""
        is_ready = ready or self._healthy
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [self.python, *self.arguments],
                env=self.env,
                cwd=self.log_dir,  # no stray .env from the repository
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: a stray child of it can be killed with it.
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if ADDRESS_IN_USE in self.log() and attempts > 1:
                    self.use_port(free_port())
                    return self.start(ready, attempts=attempts - 1)
                raise RuntimeError(f"serve exited at start:\n{self.log()}")
            if is_ready():
                return self
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"serve did not answer within {START_TIMEOUT_S}s:\n{self.log()}")

    def use_port(self, port: int) -> None:
        """Serve on `port` rather than the one found free (before `start`)."""
        self.port = port
        self.env["PORT"] = str(port)
        self.log_path = self.log_dir / f"serve-{port}.log"

    def _healthy(self) -> bool:
        if self.process is None or not listens_on(self.process.pid, self.port):
            return False  # whatever answers on the port is not this process (yet)
        try:
            with urllib.request.urlopen(self.base_url + "/healthz", timeout=1) as reply:
                return bool(reply.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def kill(self) -> None:
        """`kill -9`: no shutdown, no flush, nothing runs after it."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL if it is not gone within `grace` seconds; the exit status. A
        test of the clean exit gives a busy machine longer (its shutdown waits up to 4 s for
        listeners, then stops the sender and the scheduler)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def serve_processes(
    serves: int,
    database_url: str,
    slack: SlackEndpoint,
    log_dir: Path,
    *,
    python: str = sys.executable,
    arguments: Sequence[str] = SERVE,
    **env: str | int | None,
) -> Iterator[list[ServeProcess]]:
    """`serves` processes of `missionbot serve` on one database, started one after the other
    and all stopped on the way out, however it is left."""
    processes = [
        ServeProcess(database_url, slack, log_dir, python=python, arguments=arguments, **env)
        for _ in range(serves)
    ]
    try:
        for process in processes:
            process.start()
        yield processes
    finally:
        for process in processes:
            process.stop()
