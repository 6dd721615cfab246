"""How long `missionbot console` takes from start to the answer of `/mission` (target < 2 s).

    .venv/bin/python bench/console_start.py [--runs 5] [--quick]

Each run starts a new `python -m bot console` process, types `/mission` into it and stops the
clock when the answer's first line (the mission's header) is on its standard output: the
imports, the migrations, the mission sync, the Bolt app, the stand-in and the first request
with its answer drawn, all included. Twice over: on a new database file (the first start
creates and migrates it) and on one that already exists (every later start). Prints the
median and the slowest run of each, and the CPU time the process had used when the answer
appeared: on a machine busy with other work the wall time mostly measures the wait for a
core, and the CPU time says what the start costs itself. Not part of the tests: nothing here
passes or fails.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSWER = "Tidewater Freight: our mission"
TARGET_S = 2.0


def start_to_answer(database: Path) -> tuple[float, float]:
    """Seconds from starting the console to the first line of `/mission`'s answer, and the
    CPU seconds the process had used by then (all of it, where /proc can't say)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "console", "--database", str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write("/mission\n")
    process.stdin.flush()
    elapsed = None
    cpu_at_answer = None
    for line in process.stdout:
        if ANSWER in line:
            elapsed = time.perf_counter() - started
            cpu_at_answer = cpu_seconds(process.pid)
            break
    process.stdin.close()
    process.wait(timeout=60)
    if elapsed is None:
        raise RuntimeError("the console ended without answering /mission")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu_at_answer if cpu_at_answer is not None else cpu


def cpu_seconds(pid: int) -> float | None:
    """The CPU time (user + system, all threads) a running process has used, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_console_start(runs: int) -> list[str]:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        fresh = [start_to_answer(Path(tmp) / f"fresh-{n}.db") for n in range(runs)]
        existing = Path(tmp) / "existing.db"
        start_to_answer(existing)  # created and migrated once, not timed
        again = [start_to_answer(existing) for _ in range(runs)]
    rows = [
        f"## Console: start to the answer of /mission ({runs} runs each; target < {TARGET_S} s)",
        "",
        f"Load average when it began: {load:.1f} on {os.cpu_count()} cores.",
        "",
        "| Database | median | slowest | CPU to the answer, median |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, runs_ in (("new file (created, migrated)", fresh), ("existing file", again)):
        walls, cpus = [w for w, _ in runs_], [c for _, c in runs_]
        rows.append(
            f"| {label} | {statistics.median(walls):.2f} s | {max(walls):.2f} s "
            f"| {statistics.median(cpus):.2f} s |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="two runs each")
    args = parser.parse_args()
    print("\n".join(bench_console_start(2 if args.quick else args.runs)))


if __name__ == "__main__":
    main()
