"""The wheel, as a deploy, a container image or pipx gets it: built from the sources, installed
with its real dependencies into a fresh virtual environment outside the repository, it migrates
an empty database and checks the shipped mission file.

It takes about 30 s (the build, and pip installing the dependencies; some 10 s less once their
wheels are kept, see `_dependency_wheels`), once per run however many xdist workers share its
tests, so it is marked `wheel`: `pytest -m "not wheel"` leaves it out while you work; CI runs it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from bot.config import example_mission_file
from bot.db.models import Base
from bot.mission.file import load_mission_file, summarize

ROOT = Path(__file__).resolve().parents[1]
# What the build reads; copied so that setuptools' build/ and egg-info stay out of the tree.
SOURCES = ("pyproject.toml", "README.md", "bot", "migrations")
BIN = "Scripts" if os.name == "nt" else "bin"

# One worker takes both tests (`--dist loadgroup`): the other workers needn't wait for its build.
pytestmark = [pytest.mark.wheel, pytest.mark.xdist_group("wheel")]


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path

    def missionbot(
        self, *args: str, cwd: Path, database_url: str
    ) -> subprocess.CompletedProcess[str]:
        # Only PATH and DATABASE_URL: no PYTHONPATH or settings of the test run leak in.
        env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": database_url}
        return subprocess.run(
            [str(self.venv / BIN / "missionbot"), *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Built and installed once per run, whichever xdist worker asks first: the others wait
    for it rather than each building and installing their own (that took 50 s apiece)."""
    basetemp = tmp_path_factory.getbasetemp()
    # Under xdist each worker's temporary folder sits in the run's: the workers share that one.
    shared = basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp
    work, done, failed = shared / "wheel", shared / "wheel.done", shared / "wheel.failed"
    try:
        work.mkdir()  # atomic: one worker wins and builds
    except FileExistsError:
        deadline = time.monotonic() + 900
        while not done.exists():
            assert not failed.exists(), failed.read_text()
            assert time.monotonic() < deadline, "another worker's wheel build never finished"
            time.sleep(0.2)
        return Installed(wheel=next((work / "dist").glob("missionbot-*.whl")), venv=work / "venv")
    try:
        result = _build_and_install(work)
    except BaseException as exc:
        failed.write_text(f"the wheel build failed in another worker: {exc}")
        raise
    done.touch()
    return result


def _build_and_install(work: Path) -> Installed:
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    # `pip wheel` needs nothing beyond pip; the build backend comes through pip's cache.
    _run([*pip, "wheel", "--no-deps", "--wheel-dir", str(work / "dist"), str(source)])
    (wheel,) = (work / "dist").glob("missionbot-*.whl")
    # No pip inside the new environment (ensurepip costs seconds): this pip installs into it.
    # --no-compile: byte-compiling every installed library took most of the install's CPU;
    # Python compiles what `missionbot` imports when it first runs, as from any source tree.
    environment = work / "venv"
    venv.create(environment, with_pip=False)
    install = [*pip, "--python", str(environment / BIN / "python"), "install", "--no-compile"]
    wheels = _dependency_wheels(wheel, pip)
    if wheels is None:  # nowhere to keep them: from the package index, like any `pip install`
        _run([*install, str(wheel)])
    else:
        _run([*install, "--no-index", "--find-links", str(wheels), str(wheel)])
    return Installed(wheel=wheel, venv=environment)


def _dependency_wheels(wheel: Path, pip: list[str]) -> Path | None:
    """A folder with a wheel of each of `wheel`'s dependencies (and theirs), as pip resolves
    them from the package index for its Requires-Dist, kept beside the test run's Python
    (its virtual environment) under a hash of those requirements; None if it can't be kept.

    Resolving from the index read some 60,000 links (every file of numpy, matplotlib...) for
    11 s of the install's 15 s of CPU, every run. The first run with given requirements
    resolves and keeps the wheels (`pip wheel`); later runs install the same wheels with
    `--no-index`, which still fails if the wheel's metadata names a dependency not kept. A
    changed dependency in pyproject.toml is another hash, so resolved afresh."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        requires = sorted(
            line
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith(("Requires-Dist:", "Requires-Python:"))
        )
    key = hashlib.sha256("\n".join([sys.version, *requires]).encode()).hexdigest()[:16]
    kept = Path(sys.prefix) / "missionbot-test-wheels" / key
    if kept.is_dir():
        return kept
    try:
        kept.parent.mkdir(exist_ok=True)
        filling = Path(tempfile.mkdtemp(dir=kept.parent, prefix=".filling-"))
    except OSError:
        return None
    _run([*pip, "wheel", "--wheel-dir", str(filling), str(wheel)])
    for own in filling.glob("missionbot-*.whl"):
        own.unlink()
    try:
        filling.rename(kept)  # atomic: a run reading it never sees half
    except OSError:  # another run kept the same meanwhile
        shutil.rmtree(filling, ignore_errors=True)
    return kept


def _files(folder: Path, shipped_as: str) -> set[str]:
    return {
        f"{shipped_as}/{path.relative_to(folder).as_posix()}"
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_ships_every_module_the_data_and_the_migrations(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as archive:
        names = set(archive.namelist())
    expected = _files(ROOT / "bot", "bot") | _files(ROOT / "migrations", "bot/migrations")
    missing = sorted(expected - names)
    assert not missing, f"not in the wheel (add the package to pyproject.toml): {missing}"


def test_the_installed_wheel_migrates_an_empty_database_and_checks_the_mission(
    installed: Installed, fresh_url: str, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    upgraded = installed.missionbot("db", "upgrade", cwd=elsewhere, database_url=fresh_url)
    checked = installed.missionbot("mission", "check", cwd=elsewhere, database_url=fresh_url)

    assert upgraded.returncode == 0, upgraded.stderr
    assert "Database is at revision head." in upgraded.stdout
    assert "Traceback" not in upgraded.stderr
    assert checked.returncode == 0, checked.stderr
    # The mission file it checked is the installed package's, not the repository's.
    assert checked.stdout.startswith(str(installed.venv)), checked.stdout
    shipped = summarize(load_mission_file(example_mission_file()))
    assert checked.stdout.strip().endswith(f"OK. {shipped}."), checked.stdout
    engine = create_engine(fresh_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
