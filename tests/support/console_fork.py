"""`python -m bot console` without paying for its imports each time: console sessions forked
from one interpreter that has already imported the bot, for tests/test_console.py.

A console test starts the console as a person would, in a process of its own. Most of such a
start is importing the bot and its libraries (about 1.5 s of CPU, more than the session then
costs), and the console tests start it some thirty times. So each xdist worker starts one
server, which imports what `python -m bot console` imports and then, per session, forks: the
child changes to the test's directory, takes a file as standard input and files as standard
output and error, and runs `bot.cli.main` exactly as bot/__main__.py does, exiting through
the interpreter's own shutdown. The server answers with the child's exit status.

Each session's runtime measures its requests as the in-process tests' do (its ack's 2.5 s on
the stall-free clock, Bolt's wait for the ack long: tests/support/stall.py), so that a busy
machine doesn't turn a command's answer into "my answer will follow here".

The child gets the environment the server was started with (`console_env()`) plus what the
request adds (the terminal's width, the language: read when the console uses them). A test
that changes what Python reads when it starts (the terminal's encoding) runs `python -m bot
console` itself, as does one that needs the process (Ctrl-C). Without `fork`
(Windows), every session is its own `python -m bot console`.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
from pathlib import Path

# The server: preload, then one JSON request per line on stdin, one JSON answer per line.
SERVER = r"""
import gc, io, json, os, sys
import bot.cli, bot.console.start, bot.console.session  # what `python -m bot console` loads
import bot.db.migrate, bot.web.app  # and loads later: migrating its database, the dashboard

# A session's requests measured as the in-process tests' are (tests/conftest.py `running_bot`):
# the ack's 2.5 s on a clock without the busy machine's stalls, and Bolt waiting for the ack
# as long as a stalled machine needs; otherwise a command held past Bolt's wall-clock 3 s
# printed "my answer will follow here" and its answer after the next one.
sys.path.insert(0, PROJECT_ROOT)
from tests.support.stall import StallFreeClock, wait_for_acks_on_a_stalled_machine

_build_runtime = bot.console.start.build_runtime


def build_runtime_for_a_busy_machine(*args, **kwargs):
    runtime = _build_runtime(*args, ack_clock=StallFreeClock().start(), **kwargs)
    wait_for_acks_on_a_stalled_machine(runtime)
    return runtime


bot.console.start.build_runtime = build_runtime_for_a_busy_machine

# Out of the garbage collector's passes: a session's full passes (and its interpreter's
# shutdown) would walk all that was preloaded, copying each page they touch from the server.
gc.freeze()
requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
print(json.dumps({"ready": True}), file=answers, flush=True)
for line in requests:
    request = json.loads(line)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        requests.close()
        answers.close()
        os.chdir(request["cwd"])
        os.environ.update(request["environ"])  # read when used (the width, the language)
        for fd, path, flags in (
            (0, request["stdin"], os.O_RDONLY),
            (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
            (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        ):
            opened = os.open(path, flags, 0o644)
            os.dup2(opened, fd)
            os.close(opened)
        # Fresh text streams on the new descriptors, as the interpreter makes at start.
        sys.stdin = sys.__stdin__ = io.TextIOWrapper(
            io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding=sys.stdin.encoding
        )
        sys.argv = ["bot", *request["args"]]
        from bot.cli import main

        raise SystemExit(main(request["args"]))
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"status": os.waitstatus_to_exitcode(status)}), file=answers, flush=True)
"""


class ConsoleForks:
    """Runs console sessions as forks of one pre-imported server (see the module docstring)."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        root = Path(__file__).resolve().parents[2]
        self._server = subprocess.Popen(
            [sys.executable, "-c", SERVER.replace("PROJECT_ROOT", repr(str(root)))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            cwd=cwd,
            env=env,
        )
        self._answer(timeout=120)  # ready

    def _answer(self, timeout: float) -> dict[str, int]:
        assert self._server.stdout is not None
        ready, _, _ = select.select([self._server.stdout], [], [], timeout)
        if not ready:
            self._server.kill()
            raise subprocess.TimeoutExpired(["python", "-m", "bot", "console"], timeout)
        line = self._server.stdout.readline()
        if not line:
            raise RuntimeError(f"the console server ended (status {self._server.wait()})")
        answer: dict[str, int] = json.loads(line)
        return answer

    def run(
        self,
        args: list[str],
        *,
        input: str,
        cwd: Path,
        timeout: float,
        environ: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Like `subprocess.run([python, -m, bot, *args], input=..., capture_output=True)`,
        with `environ` added to the session's environment (not what Python reads at start)."""
        assert self._server.stdin is not None
        streams = cwd.parent / f".{cwd.name}-console"
        streams.mkdir(exist_ok=True)
        stdin, stdout, stderr = (streams / name for name in ("stdin", "stdout", "stderr"))
        stdin.write_text(input, encoding="utf-8")
        request = {
            "args": args,
            "cwd": str(cwd),
            "stdin": str(stdin),
            "stdout": str(stdout),
            "stderr": str(stderr),
            "environ": environ or {},
        }
        self._server.stdin.write(json.dumps(request) + "\n")
        self._server.stdin.flush()
        status = self._answer(timeout)["status"]
        return subprocess.CompletedProcess(
            [sys.executable, "-m", "bot", *args],
            status,
            stdout.read_text(encoding="utf-8", errors="replace"),
            stderr.read_text(encoding="utf-8", errors="replace"),
        )

    def close(self) -> None:
        if self._server.stdin is not None:
            with contextlib.suppress(OSError):  # a server that ended: nothing to tell it
                self._server.stdin.close()
        try:
            self._server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._server.kill()
            self._server.wait()
        if self._server.stdout is not None:
            self._server.stdout.close()


def can_fork() -> bool:
    return hasattr(os, "fork")
