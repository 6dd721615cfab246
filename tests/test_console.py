"""`missionbot console`, driven as a person or a script drives it: lines on standard input.

Each test starts the console in a process of its own (`python -m bot console`, or a fork of
one that has imported the bot already: tests/support/console_fork.py) on its own SQLite file,
types its lines and reads the transcript. The console runs the real Bolt app against its Web
API stand-in, so what it prints is what the bot's listeners answered and posted.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from bot.blocks.ids import Event
from bot.console.commands import HELP
from bot.console.render import Renderer
from bot.console.workspace import CHANNELS, GROUPS, Workspace
from bot.i18n import SHIPPED_LANGUAGES, speech
from tests.conftest import Bot
from tests.support.console_fork import ConsoleForks, can_fork

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def console_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    env.update({"COLUMNS": "100", "PYTHONIOENCODING": "utf-8", **extra})
    return env


_forks: list[ConsoleForks] = []
# The worker's migrated SQLite file (conftest's `sqlite_template`), set by `migrated_template`.
_template: list[Path] = []


# Session-wide: one server per xdist worker, however its console tests are interleaved with
# other modules' (`--dist loadgroup` hands out tests one at a time).
@pytest.fixture(autouse=True, scope="session")
def close_console_forks() -> Iterator[None]:
    yield
    while _forks:
        _forks.pop().close()


@pytest.fixture(autouse=True)
def migrated_template(sqlite_template: Path) -> None:
    _template[:] = [sqlite_template]


def run_console(
    tmp_path: Path,
    *lines: str,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    environ: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m bot console` with these lines as its input: forked from a server that has
    imported the bot already, in the usual environment (tests/support/console_fork.py).

    Without `--database` in `args`, the console gets tmp_path/console.db, a copy of the
    worker's migrated template when the test has none there yet: the console finds its schema
    current and skips the migrations, where each session migrated a new file alike (alembic
    reading 23 scripts and running them, ~0.1 s of CPU and a write per revision, ~30 sessions
    a run). The tests that name `--database` start on a file no migration has touched
    (`test_help_lists_the_console_commands_and_the_default_database_is_here` among them), so
    the console's own migrating start is still run.

    `environ`: variables added for the session, which the console reads as it goes (the
    width, the language); `env`: the whole environment of a new interpreter, for what Python
    reads when it starts (the terminal's encoding)."""
    database = ("--database", str(tmp_path / "console.db")) if "--database" not in args else ()
    if database and _template and not (tmp_path / "console.db").exists():
        shutil.copyfile(_template[0], tmp_path / "console.db")
    typed = "".join(f"{line}\n" for line in lines)
    if env is None and can_fork():
        if not _forks:
            _forks.append(ConsoleForks(console_env(), cwd=tmp_path.parent))
        try:
            return _forks[0].run(
                ["console", *database, *args],
                input=typed,
                cwd=tmp_path,
                timeout=120,
                environ=environ,
            )
        except BaseException:
            _forks.pop().close()  # the next test starts a new server
            raise
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", *database, *args],
        input=typed,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        cwd=tmp_path,
        env=env or console_env(**(environ or {})),
        timeout=120,
        check=False,
    )


def transcript(tmp_path: Path, *lines: str, args: tuple[str, ...] = ()) -> str:
    result = run_console(tmp_path, *lines, args=args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    # "Bye." in the workspace's language (a line may have changed it).
    goodbyes = {speech(language).gettext("Bye.") for language in SHIPPED_LANGUAGES}
    assert result.stdout.rstrip().endswith(tuple(goodbyes)), result.stdout[-200:]
    return result.stdout


def answers(output: str) -> dict[str, str]:
    """What followed each command typed at the prompt (the form's own answers stay inside)."""
    found: dict[str, str] = {}
    parts = re.split(r"^@\w+ #[\w-]+> (.*)$", output, flags=re.MULTILINE)
    for command, answer in zip(parts[1::2], parts[2::2], strict=True):
        # Lines wrapped to the width are joined again, so phrases can be looked for whole.
        found.setdefault(command, re.sub(r"\s*\n\s*", " ", answer))
    return found


# -- every README command --------------------------------------------------------------------

# The words each answer carries, as the bot's block builders write them for Slack.
README_ANSWERS = {
    "/mission": ["Tidewater Freight: our mission", "7. :dart: Own the outcome, not just the task"],
    "/mission 3": [":receipt: No surprises on the invoice", "Principle 3 · #no-surprises"],
    "/mission own-the-outcome": ["Own the outcome, not just the task", "Principle 7"],
    "/mission Solve": ["8. :wrench: Fix the cause, then the symptom", "3 principles"],
    "/mission Solve 2": ["Solve has 1 page of principles: /mission Solve shows the first."],
    "/mission today": ["Principle of the day:", ": Share in channel]", ": Give kudos]"],
    "/mission subscribe 08:30 mon,wed,fri Asia/Kolkata": [
        "will get the principle of the day at 08:30 on Mon, Wed, Fri, Asia/Kolkata time."
    ],
    "/mission schedule": ["#general gets the principle of the day at 08:30 on Mon, Wed, Fri"],
    "/mission unsubscribe": ["Done: no more principle of the day in #general."],
    "/kudos @ana @ben #plain-words thanks for the clear delay notice": [
        "Kudos recorded for @ana and @ben — :speech_balloon: Say it in plain words.",
        "#general · @missionbot · message 1",
        "@carol gave kudos to @ana and @ben for :speech_balloon: Say it in plain words",
        "│ thanks for the clear delay notice",
        "DM with @ana · @missionbot",
        "DM with @ben · @missionbot",
    ],
    "/kudos": ["[form] Give kudos", "Kudos recorded for @dev — :eyes: Notice the quiet work."],
    # README's order decides which kudos is the last one, and so how many remain today.
    "/kudos undo": ["Withdrawn: your kudos to @"],
    "/kudos me": ["Your kudos, @carol", "kudos left today."],
    "/kudos help": ["/kudos undo", "/kudos leaderboard"],
    "/kudos principles quarter": [":bar_chart: Kudos by principle —", "changes against"],
    # The channel reads the workspace language, German since `/kudos settings language de`
    # above; Carol, who shared it, is told in hers.
    "/kudos leaderboard month share": [
        ":trophy: Sharing the leaderboard in #general now.",
        ":trophy: Top-Empfangende —",
        "@ana — 1 Kudos",
        "geteilt von @carol",
    ],
    "/kudos export 2026-Q1": [
        "Preparing the kudos of 2026-Q1: I'll DM you the CSV.",
        "DM with @carol · @missionbot · shared a file: Kudos, 2026-Q1",
        "I sent you the CSV file in DM with @carol: The kudos of 2026-Q1: 0 rows.",
    ],
    "/mission subscribe 09:00 weekdays Europe/Berlin digest": [
        "will get the principle of the day at 09:00 on weekdays (Mon to Fri), Europe/Berlin time."
    ],
    "/mission help": ["/mission subscribe", "/mission schedule", "/mission unsubscribe"],
    "/mission subscribe": [
        "at 09:00 on weekdays (Mon to Fri), America/New_York time."  # Carol's timezone
    ],
}


def readme_commands() -> list[str]:
    """The commands README's "What people can do" table tells people to type."""
    table = README.read_text(encoding="utf-8").split("## What people can do")[1].split("\n## ")[0]
    found: list[str] = []
    for command in re.findall(r"`(/(?:mission|kudos)[^`]*)`", table):
        if "<" not in command and "[" not in command and command not in found:
            found.append(command)  # `<name>` and `[period]` are patterns, not commands
    return found


def test_every_readme_command_is_checked_here() -> None:
    # Commands README gains later still run in the test below, with the general checks.
    assert set(README_ANSWERS) <= set(readme_commands())


def test_every_readme_command_answers_in_the_console_with_the_words_slack_shows(
    tmp_path: Path,
) -> None:
    commands = readme_commands()
    lines = ["as @carol"]
    for command in commands:
        lines.append(command)
        if command == "/kudos":  # the form: who, which principle, the words, where
            lines += ["@dev", "4", "spotted the quiet work", ""]
    said = answers(transcript(tmp_path, *lines))
    for command in commands:
        # Whatever the command, the bot answered it: the console refused nothing.
        assert "@missionbot" in said[command], (command, said[command])
        for refusal in ("I don't know", "is not a command", "There is no @", "HTTP"):
            assert refusal not in said[command], (command, said[command])
        for expected in README_ANSWERS.get(command, []):
            assert expected in said[command], (command, expected, said[command])
    # An ephemeral answer is marked as such; a post says where it went.
    assert "#general · @missionbot · only visible to you" in said["/mission"]


# -- the clock -------------------------------------------------------------------------------


def test_the_morning_post_goes_out_when_the_clock_reaches_it(tmp_path: Path) -> None:
    said = answers(
        transcript(
            tmp_path, "in #support", "/mission subscribe 09:00 daily", "clock tomorrow 09:00"
        )
    )
    moved = said["clock tomorrow 09:00"]
    assert re.search(r"Scheduler: #support \d{4}-\d\d-\d\d: (sent|queued)", moved)
    assert "#support · @missionbot · message 1" in moved
    assert "Principle of the day:" in moved
    assert re.search(r"\[\d+: Give kudos\]", moved)


def test_the_monday_digest_goes_out_with_the_morning_post(tmp_path: Path) -> None:
    said = answers(
        transcript(
            tmp_path,
            "/mission subscribe 09:00 daily Europe/London digest",
            "clock monday 09:00",
            args=("--demo-data",),
        )
    )
    moved = said["clock monday 09:00"]
    assert "Principle of the day:" in moved
    assert moved.count("#general · @missionbot · message") == 2  # the post and the digest
    assert "last week" in moved.lower()


def test_the_clock_is_not_moved_backwards(tmp_path: Path) -> None:
    said = answers(transcript(tmp_path, "clock +1d", "clock today 00:00", "clock"))
    assert "The clock only moves forward" in said["clock today 00:00"]
    before = re.search(r"The clock says (.*) for", said["clock +1d"])
    after = re.search(r"The clock says (.*) for", said["clock"])
    assert before
    assert after
    # The console's clock keeps running in real time after a move, so a slow machine can cross a
    # minute between the two lines: the clock stays where it was moved to, give or take that.
    moved, now = (dt.datetime.strptime(m[1], "%a %Y-%m-%d %H:%M") for m in (before, after))
    assert dt.timedelta(0) <= now - moved <= dt.timedelta(minutes=2)


# -- forms, buttons, shortcuts, the App Home ------------------------------------------------


def test_a_form_is_asked_field_by_field_and_field_errors_are_asked_again(tmp_path: Path) -> None:
    said = answers(
        transcript(tmp_path, "/kudos", "@you", "7", "took the late booking", "#support", "@ben")
    )
    form = said["/kudos"]
    assert "Who? (@names): @you" in form
    assert "1. :telephone_receiver: 1. Be easy to reach" in form
    assert "! Who?" in form  # the bot refused kudos to yourself, on the field
    assert "Who? (@names) [@you]: @ben" in form
    assert "Kudos recorded for @ben — :dart: Own the outcome, not just the task." in form
    assert "(sent through the response_url http://127.0.0.1:" in form
    assert "#support · @missionbot · message 1" in form


def test_a_form_reads_a_choice_in_any_digits_and_holds_text_to_the_fields_limit(
    tmp_path: Path,
) -> None:
    said = answers(
        transcript(tmp_path, "/kudos", "@dev", "⁴", "x" * 5000, "spotted the quiet work", "")
    )
    form = said["/kudos"]
    assert "That's 5,000 characters; this field takes at most" in form
    assert "Kudos recorded for @dev — :eyes: Notice the quiet work." in form
    assert "That line failed" not in form


def test_a_button_is_clicked(tmp_path: Path) -> None:
    said = answers(transcript(tmp_path, "/mission today", "click 1"))
    assert "#general · @missionbot · message 1" in said["click 1"]
    assert "Shared by @you with /mission today" in said["click 1"]


def test_the_app_home_renders_and_its_button_opens_the_form(tmp_path: Path) -> None:
    said = answers(transcript(tmp_path, "home", "click 1", "cancel", args=("--demo-data",)))
    home = said["home"]
    assert "App Home of @you · missionbot" in home
    assert "Today's principle:" in home
    assert "[1: Give kudos]" in home
    assert re.search(r"Your kudos in \w+ \d{4} — \d+ received, \d+ given", home)
    assert "[form] Give kudos" in said["click 1"]
    assert "[form] Give kudos closed; nothing was sent." in said["click 1"]


def test_the_message_shortcut_opens_the_form_for_that_message(tmp_path: Path) -> None:
    said = answers(
        transcript(tmp_path, "say the customer portal is back up", "as @ben", "shortcut 1", "", "7")
    )
    # Ben reads English (Ana would read the form in Portuguese: see the test of languages).
    form = said["shortcut 1"]
    assert "Who? (@names) [@you]:" in form
    assert "now: For this message: https://tidewater.slack.com/archives/C0GENERAL/p" in form


def test_a_reaction_is_sent_as_slacks_reaction_added_event(tmp_path: Path) -> None:
    said = answers(transcript(tmp_path, "say shipped early", "react 1 :dart:", "react 7 :dart:"))
    assert "@you reacted :dart: to message 1." in said["react 1 :dart:"]
    if "reaction_added" not in {e.value for e in Event}:
        assert "Nothing in the bot handled this reaction_added event" in said["react 1 :dart:"]
    assert "There is no message 7; the messages on screen are 1." in said["react 7 :dart:"]


def test_a_shared_file_is_one_line_and_saved_beside_the_database_and_home_still_shows(
    tmp_path: Path,
) -> None:
    from PIL import Image

    result = run_console(
        tmp_path,
        "/kudos @ben #plain-words thanks for the clear delay notice",  # something to chart
        "as @carol",
        "/kudos health",
        "home",
        "/kudos export 2026-Q1",
        "who",
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "PNG" not in result.stdout  # no byte of the chart reached the terminal
    assert "IHDR" not in result.stdout
    said = answers(result.stdout)
    chart = re.search(
        r"DM with @carol · @missionbot · shared a file: Promise health, (\w+ \d{4}) "
        r"\(image/png, [\d.]+ kB\), saved to (missionbot-console-files/[\w.-]+\.png)",
        said["/kudos health"],
    )
    assert chart, said["/kudos health"]
    with Image.open(tmp_path / chart[2]) as image:
        assert image.format == "PNG"
    assert "App Home of @carol · missionbot" in said["home"]
    export = re.search(
        r"shared a file: Kudos, 2026-Q1 \(text/csv, \d+ bytes\), "
        r"saved to (missionbot-console-files/kudos-2026-Q1\.csv)",
        said["/kudos export 2026-Q1"],
    )
    assert export, said["/kudos export 2026-Q1"]
    assert (tmp_path / export[1]).read_text(encoding="utf-8").startswith("date,giver_id,")
    assert "@carol  Carol Nguyen" in said["who"]


def test_a_file_that_cannot_be_saved_is_still_one_line(tmp_path: Path) -> None:
    (tmp_path / "missionbot-console-files").write_text("in the way", encoding="utf-8")
    said = answers(transcript(tmp_path, "as @carol", "/kudos export 2026-Q1", "who"))
    assert (
        "shared a file: Kudos, 2026-Q1 (text/csv, 117 bytes), not saved: "
        "missionbot-console-files is not a folder"
    ) in said["/kudos export 2026-Q1"]
    assert "@carol  Carol Nguyen" in said["who"]


# -- bad input and edges ---------------------------------------------------------------------


def test_unknown_commands_names_and_channels_get_a_line_with_suggestions(tmp_path: Path) -> None:
    said = answers(
        transcript(
            tmp_path,
            "clik 1",
            "/kudso",
            "/kudos @bem #plain-words thanks",
            "in #suport",
            "as @zed",
            "click 4",
            "react 1",
            "/kudos me",
        )
    )
    assert "Did you mean `click`?" in said["clik 1"]
    assert "Did you mean `/kudos`?" in said["/kudso"]
    assert (
        "There is no @bem in this workspace. Did you mean @ben or @emma?"
        in said["/kudos @bem #plain-words thanks"]
    )
    assert "Nothing was sent." in said["/kudos @bem #plain-words thanks"]
    assert "There is no #suport in this workspace. Did you mean #support?" in said["in #suport"]
    assert "There is no @zed in this workspace. There are @you, @ana" in said["as @zed"]
    assert "There is no button 4: none on screen yet." in said["click 4"]
    assert "react 4 :dart:" in said["react 1"]
    assert "Given — none yet" in said["/kudos me"]  # nothing was recorded meanwhile


def test_numbers_times_and_names_the_console_cannot_use_get_one_line_and_it_keeps_going(
    tmp_path: Path,
) -> None:
    hostile = [
        "click ²",
        "shortcut 99999999999999999999",
        "react 1 :💥:",
        "clock 0001-01-01 00:00",
        "clock 9999-12-31 23:00",
        "as @",
        "in #nowhere",
        "/kudos @" + "n" * 60,
    ]
    huge = "say " + "x" * 1_000_000
    result = run_console(tmp_path, *hostile, huge, "/kudos me")
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert "That line failed" not in result.stdout  # none reached the last-resort handler
    said = answers(result.stdout)
    for line in hostile:
        answer = said[line].strip()
        assert answer, line
        assert len(answer) < 250, (line, answer)
    assert "There is no button 2: none on screen yet." in said["click ²"]
    assert "The clock only moves forward" in said["clock 0001-01-01 00:00"]
    assert "The clock goes at most 100 years ahead" in said["clock 9999-12-31 23:00"]
    echoed = next(command for command in said if command.startswith("say xxx"))
    assert echoed.endswith("… (1,000,004 characters)")
    assert "Slack takes at most 40,000 in a message. Nothing was sent." in said[echoed]
    assert "Given — none yet" in said["/kudos me"]  # still answering, and nothing was given


def test_a_form_abandoned_halfway_sends_nothing_and_the_console_ends_cleanly(
    tmp_path: Path,
) -> None:
    output = transcript(tmp_path, "/kudos @ben", "")  # input ends at the principle question
    assert "[form] Give kudos closed; nothing was sent." in output
    with sqlite3.connect(tmp_path / "console.db") as db:
        assert db.execute("select count(*) from kudos").fetchone() == (0,)


def test_ctrl_c_leaves_cleanly_and_the_database_is_intact(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "console", "--database", str(tmp_path / "console.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=console_env(),
    )
    assert process.stdin
    assert process.stdout
    process.stdin.write("/kudos @ben #plain-words thanks for the clear note\n")
    process.stdin.flush()
    seen = ""
    deadline = time.monotonic() + 60
    while "DM with @ben" not in seen and time.monotonic() < deadline:
        seen += process.stdout.readline()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert out.rstrip().endswith("Bye.")
    assert "Traceback" not in err
    said = answers(transcript(tmp_path, "/kudos me"))
    assert "Given — 1 this month, 1 all time" in said["/kudos me"]


def test_long_output_is_wrapped_to_the_width(tmp_path: Path) -> None:
    result = run_console(tmp_path, "/mission", environ={"COLUMNS": "44"})
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 44
    assert "  We move our customers' goods as if they" in lines


def test_a_terminal_that_cannot_show_unicode_gets_ascii(tmp_path: Path) -> None:
    result = run_console(tmp_path, "/mission", env=console_env(PYTHONIOENCODING="ascii"))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Tidewater Freight: our mission" in result.stdout
    assert "--------" in result.stdout  # the divider, in ASCII
    assert "#general - @missionbot - only visible to you" in result.stdout
    result.stdout.encode("ascii")


def test_help_lists_the_console_commands_and_the_default_database_is_here(
    tmp_path: Path,
) -> None:
    output = transcript(tmp_path, "help", args=("--database", "missionbot-console.db"))
    for usage in (
        "as @carol",
        "in #support",
        "home",
        "click N",
        "shortcut N",
        "react N :emoji:",
        "clock tomorrow 09:00",
    ):
        assert usage in answers(output)["help"]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=console_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0
    assert (tmp_path / "missionbot-console.db").exists()
    assert "database missionbot-console.db" in result.stdout.replace("\n", " ")


def test_demo_data_fills_three_months_of_kudos_for_every_principle(tmp_path: Path) -> None:
    transcript(tmp_path, args=("--demo-data",))
    with sqlite3.connect(tmp_path / "console.db") as db:
        (count,) = db.execute("select count(distinct group_id) from kudos").fetchone()
        (principles,) = db.execute("select count(distinct principle_id) from kudos").fetchone()
    assert 150 <= count <= 600
    assert principles == 9


# -- dev.py run -----------------------------------------------------------------------------


@pytest.mark.parametrize(("tokens", "expected"), [(False, "console"), (True, "serve")])
def test_dev_run_starts_the_console_without_slack_tokens(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tokens: bool,
    expected: str,
) -> None:
    sys.path.insert(0, str(ROOT))
    import dev

    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    if tokens:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
        monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setattr(dev, "BIN", Path(sys.executable).parent)
    monkeypatch.setattr(dev, "ROOT", Path.cwd() if (Path.cwd() / "bot").exists() else ROOT)
    monkeypatch.setattr(dev, "ensure_environment", lambda extras: None)
    started: list[list[str]] = []
    monkeypatch.setattr(dev.os, "execv", lambda path, args: started.append(args))
    monkeypatch.setattr(dev.os, "chdir", lambda path: None)
    monkeypatch.setattr(sys, "argv", ["dev.py", "run", "--demo-data"])
    dev.main()
    assert started[0][:2] == ["missionbot", expected]
    said = capsys.readouterr().out
    if expected == "console":
        assert started[0][2:] == ["--demo-data"]
        assert said.count("\n") == 1
        assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in said
    else:
        assert said == ""


# -- the same words as in Slack --------------------------------------------------------------

# Answers that depend on nobody's kudos or timezone: the same in any workspace.
SAME_EVERYWHERE = [
    "/mission",
    "/mission 3",
    "/mission own-the-outcome",
    "/mission Solve",
    "/mission Solve 2",
    "/mission help",
    "/kudos help",
]


@pytest.fixture(scope="module")
def console_answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return answers(transcript(tmp_path_factory.mktemp("console"), *SAME_EVERYWHERE))


# Both databases' cases on one worker, which asks the console once (`console_answers`).
@pytest.mark.xdist_group("console-answers")
def test_the_console_shows_every_line_of_the_answer_slack_gets(
    bot: Bot, console_answers: dict[str, str]
) -> None:
    # Every command in one test: with a test per command, each xdist worker that took one
    # started its own console (seconds each) for the same answers.
    renderer = Renderer(Console(file=io.StringIO(), width=10_000), Workspace())
    for command in SAME_EVERYWHERE:
        name, _, text = command.partition(" ")
        reply = bot.command(name, text).json
        lines = [line.plain for line in renderer.blocks(reply["blocks"], None)]
        assert lines, command
        # Buttons are numbered through the session: compare them without their numbers.
        shown = re.sub(r"\[\d+: ", "[N: ", " ".join(console_answers[command].split()))
        for line in lines:
            for piece in line.split("\n"):
                expected = re.sub(r"\[\d+: ", "[N: ", " ".join(piece.split()))
                assert expected in shown, (command, piece)


def test_a_database_the_console_cannot_use_is_one_line_and_status_2_or_1(tmp_path: Path) -> None:
    unusable = run_console(tmp_path, args=("--database", "mysql://somewhere/db"))
    assert unusable.returncode == 2
    assert unusable.stderr.strip() == (
        "missionbot: --database: expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
    )
    missing = run_console(tmp_path, args=("--database", str(tmp_path / "no" / "such" / "x.db")))
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        f"missionbot: --database: the folder {tmp_path / 'no' / 'such'} does not exist"
    )
    unreachable = run_console(tmp_path, args=("--database", "postgresql://u@127.0.0.1:1/x"))
    assert unreachable.returncode == 1
    assert "missionbot: --database: cannot open it" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr


def test_emma_in_berlin_reads_the_mission_in_german(tmp_path: Path) -> None:
    text = transcript(tmp_path, "as @emma", "/mission", "as @you", "/mission")
    german, english = text.split("@you #general> /mission", 1)
    assert "Tidewater Fracht: unsere Mission" in german
    assert "Sei erreichbar" in german
    assert "Tidewater Freight: our mission" in english


def test_a_german_workspace_gets_the_morning_post_in_german_whoever_subscribed(
    tmp_path: Path,
) -> None:
    said = answers(
        transcript(
            tmp_path,
            "as @carol",
            "/kudos settings language de",
            "as @you",
            "in #support",
            "/mission subscribe 09:00 daily",
            "clock tomorrow 09:00",
        )
    )
    moved = said["clock tomorrow 09:00"]
    assert "Grundsatz des Tages:" in moved
    assert re.search(r"\[\d+: Kudos geben\]", moved)


def test_the_consoles_own_lines_are_in_the_workspace_language_and_a_persons_view_in_theirs(
    tmp_path: Path,
) -> None:
    said = answers(
        transcript(
            tmp_path,
            "as @carol",
            "/kudos settings language fr",
            "as @emma",
            "say Guten Morgen",
            "as @you",
            "bogus",
            "click 99",
        )
    )
    # Emma reads German: what is drawn as her view of Slack is labelled in German; the
    # console's own lines follow the workspace, now French.
    assert "Nachricht 1" in said["say Guten Morgen"]
    assert "Vous êtes maintenant @you" in said["as @you"]
    assert "Je ne connais pas `bogus`." in said["bogus"]
    assert "Il n'y a pas de bouton 99" in said["click 99"]


# Words that are no English left: code, handles, channels, addresses, the pseudo-locale's own.
CONSOLE_PROTECTED = re.compile(
    r"`[^`]*`|⟦[^⟧]*⟧|[@#][\w.-]+|https?://\S+|/\S+|\b[A-Z]{2,}\b|--[\w-]+|:\w+:"
)


def test_the_pseudo_locale_leaves_no_english_in_the_consoles_own_lines(tmp_path: Path) -> None:
    result = run_console(
        tmp_path,
        "help",
        "as @carol",
        "in #support",
        "bogus",
        "hlep",
        "/bogus",
        "/kudoz",
        "say",
        "as",
        "in",
        "click x",
        "click 99",
        "shortcut 99",
        "react 1",
        "clock",
        "who",
        "say " + "x" * 50_000,  # echoed clipped, with its length
        "quit",
        environ={"MISSIONBOT_LANGUAGE": "en_XA"},
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    # The banner's second line, and every answer; the prompts (`@you #general> help`) are typed.
    said = [line for line in lines if not re.match(r"^@\w+ #[\w-]+> ", line)]
    said = [line for line in said if not line.startswith("missionbot console")]
    left = []
    for line in said:
        text = line.strip()
        for usage, _meaning in HELP:  # typed in English in every language
            text = text.removeprefix(usage)
        calendar = r"\b(carol|Carol Diaz|[A-Z][a-z]+/\w+|CET|Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b"
        text = re.sub(calendar, " ", text)
        # `who`: the workspace's own words (groups' names, channels' purposes) are content.
        for content in [g.name for g in GROUPS] + [c.purpose for c in CHANNELS]:
            text = text.replace(content, " ")
        left += re.findall(r"\b[A-Za-z]{4,}\b", CONSOLE_PROTECTED.sub(" ", text))
    assert not left, left


def test_the_consoles_hints_echo_and_scheduler_lines_follow_the_workspace_language(
    tmp_path: Path,
) -> None:
    said = answers(
        transcript(
            tmp_path,
            "as @carol",
            "/kudos settings language de",
            "in #support",
            "/mission subscribe 09:00 daily",
            "clock tomorrow 09:00",
            "who",
            "say " + "x" * 50_000,
            "as @emma",
            "/kudos @ben",
            "",  # Enter keeps @ben
            "cancel",  # at the principle question
        )
    )
    assert re.search(
        r"Zeitplan: #support \d{4}-\d\d-\d\d: (gesendet|in der Warteschlange)",
        said["clock tomorrow 09:00"],
    )
    # Carol's title is the workspace's words; "manager" and the punctuation are the bot's.
    assert re.search(r"@carol\s+Carol Nguyen \(.+, Manager\), America/New_York", said["who"])
    echoed = next(command for command in said if command.startswith("say xxx"))
    assert echoed.endswith("… (50.004 Zeichen)")
    # Emma reads German, and the form is her view: its numbers' hint is hers too.
    assert re.search(r"\(1\u2013\d+\)", said["/kudos @ben"])  # an en dash
