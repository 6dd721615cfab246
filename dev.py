#!/usr/bin/env python3
"""The two commands a newcomer needs, with nothing but Python 3.11+ installed:

    python3 dev.py run     # create .venv, install, migrate the database, start the bot
    python3 dev.py test    # create .venv, install with test tools, run the tests, lint, type-check
    python3 dev.py i18n    # extract the bot's strings, update every catalogue, compile them

Extra arguments go to `missionbot serve` or to `pytest` respectively. Without Slack tokens
(in the environment or .env), `run` starts `missionbot console` instead: the bot in a
terminal with a demo workspace; extra arguments then go to the console (`--demo-data`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".missionbot-installed"
LINT_PATHS = ["bot", "tests", "bench", "migrations", "dev.py"]


def ensure_environment(extras: str) -> None:
    """Create the virtual environment and (re)install when pyproject.toml has changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs under whatever python3 is
        sys.exit("missionbot needs Python 3.11 or newer: run this with python3.11 or later.")
    if not (BIN / "python").exists() and not (BIN / "python.exe").exists():
        print(f"Creating the virtual environment in {VENV} ...", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest() + extras
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("Installing missionbot and its dependencies ...", flush=True)
    target = f".[{extras}]" if extras else "."
    # A newer pip is welcome but not needed: a failed upgrade (a mirror's hash mismatch, no
    # network for pip itself) must not stop the install that follows.
    upgrade = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"]
    if subprocess.run(upgrade, cwd=ROOT, check=False).returncode != 0:
        print("Could not upgrade pip; installing with the one the venv has.", flush=True)
    run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "-e", target])
    STAMP.write_text(wanted)


def ensure_browser() -> None:
    """The dashboard's browser tests drive Debian's Chromium: install it when missing and this
    runs as root on a machine with apt-get (elsewhere those tests skip, saying why, unless CI)."""
    import shutil

    if shutil.which("chromium") and shutil.which("chromedriver"):
        return
    if os.name == "nt" or os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    print("Installing Chromium for the browser tests ...", flush=True)
    quiet = {"stdout": subprocess.DEVNULL}
    if subprocess.run(["apt-get", "update", "-qq"], check=False, **quiet).returncode == 0:
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"], check=False, **quiet
        )


def run(command: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        sys.exit(result.returncode)


# Exit status 0: Slack's credentials are set; 1: they are missing; other: the settings are bad
# (then `serve` starts and says which variable is wrong).
SLACK_PROBE = (
    "import sys\n"
    "from bot.config import ConfigError, load_settings\n"
    "try:\n"
    "    sys.exit(1 if load_settings().missing_slack_credentials() else 0)\n"
    "except ConfigError:\n"
    "    sys.exit(2)\n"
)
CONSOLE_INSTEAD = (
    "No Slack tokens, so here is the console: the bot with a demo workspace in this terminal. "
    "To connect a real workspace, set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET in .env "
    "(README.md#slack-setup) and run this again."
)


LOCALES = ROOT / "bot" / "locales"
TEMPLATE = LOCALES / "messages.pot"
# The catalogues shipped besides English (the source language); bot/i18n/catalogs.py agrees.
CATALOGUES = ("de", "fr", "es", "pt_BR", "ja")


def i18n() -> None:
    """Extract into messages.pot (the code and the dashboard's templates, as babel.cfg says),
    bring each .po up to date with it, compile each to .mo.

    New strings arrive in every .po untranslated; the catalogue test fails until they are
    translated, so a release never ships English among German."""
    pybabel = str(BIN / "pybabel")
    run(
        [
            pybabel, "-q", "extract", "--no-location", "--sort-output",
            "--keywords=N_", "--keywords=NP_:1,2", "--add-comments=TRANSLATORS:",
            "--project=missionbot", f"--mapping-file={ROOT / 'babel.cfg'}",
            "--copyright-holder=missionbot contributors", "--output-file", str(TEMPLATE), "bot",
        ]
    )  # fmt: skip
    for language in CATALOGUES:
        catalogue = LOCALES / language / "LC_MESSAGES" / "messages.po"
        action = "update" if catalogue.exists() else "init"
        extra = ["--no-fuzzy-matching", "--ignore-obsolete"] if action == "update" else []
        run(
            [pybabel, "-q", action, "-i", str(TEMPLATE), "-d", str(LOCALES), "-l", language, *extra]
        )
    run([pybabel, "-q", "compile", "-d", str(LOCALES)])


def test_environment() -> dict[str, str]:
    """The environment for pytest: this one, caching bytecode even if PYTHONDONTWRITEBYTECODE
    says not to (some containers set it).

    A run starts some two hundred interpreters that import the bot (the xdist workers, the
    console's and serve's processes, a fork per module in the import check); without the cache
    each compiled the bot and the tests from source again, 2 s of CPU per worker alone. The
    .pyc files go to __pycache__/ beside the sources, which git ignores."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def test(extra: list[str]) -> int:
    """Lint, format check and type check beside pytest, not before it: mypy alone is ~10 s of
    one core, and the test workers spend much of their time waiting (processes starting,
    sockets, deadlines), so the checks fit in their gaps. The checks' output is printed after
    the tests' (never interleaved with them); any failure fails the command."""
    import contextlib
    import tempfile

    checks = {
        "ruff check": [str(BIN / "ruff"), "check", *LINT_PATHS],
        "ruff format --check": [str(BIN / "ruff"), "format", "--check", *LINT_PATHS],
        "mypy bot": [str(BIN / "mypy"), "bot"],
    }
    with contextlib.ExitStack() as files:
        running = []
        for name, command in checks.items():
            output = files.enter_context(tempfile.TemporaryFile())
            process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
            running.append((name, process, output))
        tests = subprocess.run(
            [str(BIN / "python"), "-m", "pytest", *extra],
            cwd=ROOT,
            env=test_environment(),
            check=False,
        )
        failed = []
        for name, process, output in running:
            status = process.wait()
            output.seek(0)
            text = output.read().decode(errors="replace").strip()
            if status != 0:
                failed.append(name)
                print(f"\n{name} failed:\n{text}", flush=True)
            else:
                print(f"{name}: {text.splitlines()[-1] if text else 'ok'}", flush=True)
    if failed:
        print(f"\nFailed: {', '.join(failed)}.", flush=True)
        return 1
    return tests.returncode


def slack_missing() -> bool:
    """Whether the settings lack what `serve` needs to talk to Slack (asked of the bot itself)."""
    probe = subprocess.run([str(BIN / "python"), "-c", SLACK_PROBE], cwd=ROOT, check=False)
    return probe.returncode == 1


def main() -> None:
    action, extra = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if action == "run":
        ensure_environment("")
        os.chdir(ROOT)
        if slack_missing():
            print(CONSOLE_INSTEAD, flush=True)
            os.execv(str(BIN / "missionbot"), ["missionbot", "console", *extra])
        os.execv(str(BIN / "missionbot"), ["missionbot", "serve", *extra])
    elif action == "test":
        ensure_environment("test")
        ensure_browser()
        sys.exit(test(extra))
    elif action == "i18n":
        ensure_environment("test")
        i18n()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
