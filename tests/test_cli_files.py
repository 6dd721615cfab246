"""Every `missionbot` command that writes or reads a file, and every option a person types, given
what people give: a folder that isn't there, a folder as the file, a place that can't be
written, a file that is no database, a megabyte of text. Each answer is one line on stderr
with the right exit status (2 for a usage error) and no traceback; nothing is half-written.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.db.engine import Database
from tests.support.reports import kudos_row, principle_ids, seed, sync

MEGABYTE = "x" * 1_000_000
# Root may write anywhere by permission bits; /proc takes no new file even from root.
UNWRITABLE = "/proc/missionbot-report.csv"


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The command's stderr, asserted to be one short line with no traceback."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err[:2000]
    assert len(lines[0]) < 500, lines[0][:500]
    return lines[0]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


# -- --output ---------------------------------------------------------------------------------

REPORTS = [
    ["export", "--team", "T1"],
    ["export", "--team", "T1", "--format", "json"],
    ["health", "--team", "T1"],
    ["health", "--team", "T1", "--format", "png"],
]


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize("command", REPORTS, ids=" ".join)
@pytest.mark.parametrize(
    ("output", "says"),
    [
        ("missing/dir/report.out", "--output: the folder missing/dir does not exist"),
        (".", "--output: . is a folder; give a file name in it"),
        ("in-the-way/report.out", "--output: the folder in-the-way is not a folder"),
        (UNWRITABLE, f"--output: {UNWRITABLE}: No such file or directory"),
        (MEGABYTE, "--output: xxxxxxxx"),
    ],
    ids=["missing folder", "a folder", "a file as folder", "unwritable", "1 MB name"],
)
def test_an_output_that_cannot_be_written_is_a_usage_error_before_any_work(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    output: str,
    says: str,
) -> None:
    (tmp_path / "in-the-way").write_text("a file", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main([*command, "--output", output]) == 2
    assert one_line(capsys).startswith(f"missionbot: {says}")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing made, nothing left


@pytest.mark.usefixtures("env")
def test_a_write_that_fails_midway_says_so_and_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sorted(tmp_path.iterdir())
    # /dev/full takes the open and refuses the bytes, as a full disk does.
    assert main(["export", "--team", "T1", "--output", "/dev/full"]) == 1
    assert one_line(capsys) == (
        "missionbot: --output: could not write /dev/full (No space left on device); "
        "nothing was written"
    )
    assert sorted(tmp_path.iterdir()) == before


def test_a_report_replaces_an_earlier_file_whole_and_keeps_its_permissions(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = Database(env)
    try:
        sync(database, "T1")
        plain = principle_ids(database, "T1")["plain-words"]
        an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        seed(database, [kudos_row("T1", "UA", "UB", plain, an_hour_ago, message="clear notice")])
    finally:
        database.dispose()
    earlier = tmp_path / "kudos.csv"
    earlier.write_text("an older, longer export\n" * 100, encoding="utf-8")
    earlier.chmod(0o640)
    assert main(["export", "--team", "T1", "--period", "all", "--output", "kudos.csv"]) == 0
    assert "Wrote 1 kudos of" in capsys.readouterr().err
    text = earlier.read_text(encoding="utf-8")
    assert text.startswith("date,giver_id,")
    assert "clear notice" in text
    assert "older" not in text
    assert stat.S_IMODE(earlier.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".kudos")] == []


# -- databases ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("database", "says"),
    [
        ("missing/dir/console.db", "--database: the folder missing/dir does not exist"),
        (".", "--database: . is a folder; give a database file's name in it"),
        ("/proc/missionbot.db", "--database: /proc/missionbot.db: No such file or directory"),
        ("junk.db", "--database: not a database missionbot can use (file is not a database)"),
        (MEGABYTE, "--database: xxxxxxxx"),
    ],
    ids=["missing folder", "a folder", "unwritable", "not a database", "1 MB name"],
)
def test_a_console_database_that_cannot_be_used_is_one_line_and_status_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database: str,
    says: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "junk.db").write_bytes(os.urandom(4096))
    assert main(["console", "--database", database]) == 2
    assert one_line(capsys).startswith(f"missionbot: {says}")


@pytest.mark.parametrize(
    "command",
    [["leaderboard"], ["export"], ["health"], ["outbox"], ["db", "upgrade"], ["serve"]],
    ids=" ".join,
)
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sqlite:///missing/dir/bot.db", "DATABASE_URL: the folder missing/dir does not exist"),
        ("sqlite:///junk.db", "DATABASE_URL: not a database missionbot can use"),
    ],
    ids=["missing folder", "not a database"],
)
def test_a_database_url_that_cannot_be_used_is_one_line_and_status_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    url: str,
    says: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-never-used")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "never-used")
    (tmp_path / "junk.db").write_bytes(os.urandom(4096))
    assert main(command) == 2
    assert one_line(capsys).startswith(f"missionbot: {says}")


def test_a_database_without_tables_says_to_upgrade_it(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_url)
    assert main(["leaderboard", "--team", "T1"]) == 1
    assert one_line(capsys) == (
        "missionbot: DATABASE_URL: the database has no tables yet; run `missionbot db upgrade`"
    )


# -- what people type -----------------------------------------------------------------------


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(
    "args",
    [
        ["leaderboard", "--period", MEGABYTE],
        ["leaderboard", "--timezone", MEGABYTE],
        ["leaderboard", "--team", "T1", "--principle", MEGABYTE],
        ["leaderboard", "--top", MEGABYTE],
        ["leaderboard", "--top", "9" * 5000],  # past int()'s 4,300-digit limit
        ["leaderboard", "--top", "0"],
        ["leaderboard", "--format", MEGABYTE],
        ["health", "--period", "0001-01"],
        ["health", "--period", "9999-Q4"],
        ["health", "--period", "²⁰²⁶-01"],
        ["outbox", "--failures", "99999999999999999999999"],
        ["export", MEGABYTE],
        ["db", "rebuild-summaries", "--jobs", "4"],
        ["db", "rebuild-summaries", "--jobs", MEGABYTE],
    ],
    ids=lambda args: " ".join(a[:12] for a in args),
)
def test_a_megabyte_years_1_and_9999_and_huge_numbers_are_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    with pytest.raises(SystemExit) as usage:  # argparse's own usage errors exit
        raise SystemExit(main(args))
    assert usage.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]  # argparse prints its usage above its line
    assert last.startswith("missionbot")
    assert len(last) < 500


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "file not found"),
        (b"\xff\xfe" + os.urandom(1_000_000), "cannot be read"),
        (("mission: " + MEGABYTE).encode(), "'principles' must be a non-empty list"),
    ],
    ids=["missing", "1 MB not UTF-8", "1 MB statement"],
)
def test_mission_check_of_a_file_it_cannot_use_says_why_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, says: str
) -> None:
    path = tmp_path / "mission.yaml"
    if content is not None:
        path.write_bytes(content)
    assert main(["mission", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert says in err
    assert all(len(line) < 500 for line in err.splitlines())


def test_a_reader_that_leaves_early_is_no_traceback(tmp_path: Path, db_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["DATABASE_URL"] = db_url
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "export", "--team", "T1", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    )
    assert process.stdout
    assert process.stderr
    process.stdout.close()  # `| head -0`: nobody reads what it writes
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1
    assert err == ""
