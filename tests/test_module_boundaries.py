"""Checks on the package's shape that need no database or Slack: every module imports on its
own, and the domain modules never reach Slack.

The domain modules are, by rule, every module under bot/ except the Slack adapters and the
entry points: bot/slack/, bot/blocks/ (Block Kit), bot/cli.py, bot/__main__.py,
bot/runtime.py, bot/console/ (Slack's stand-in for `missionbot console`) and bot/web/ (the
dashboard: user groups and Sign in with Slack come from Slack; its numbers are bot/insights/).
That includes the domain packages bot/daily/ (the posting flow and its jobs too), bot/kudos/,
bot/reports/ and bot/mission/. A new package under bot/ is domain unless added to `ADAPTERS`.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bot"
ADAPTERS = (
    "bot.slack",
    "bot.blocks",
    "bot.cli",
    "bot.__main__",
    "bot.runtime",
    "bot.console",
    "bot.web",
)
DOMAIN_PACKAGES = ("bot.daily", "bot.kudos", "bot.reports", "bot.mission", "bot.home")
SLACK = ("slack_bolt", "slack_sdk")

# Runs in a clean interpreter. Loading slack_bolt, SQLAlchemy and the rest costs about 0.4 s,
# so a `python -c "import bot.x"` per module took 20 s; instead the libraries the bot imports
# load once, and each bot module is imported in a child forked from the state a fresh
# `python -c "import bot.x"` reaches just before it runs bot/x.py: importing a.b.c runs a's
# __init__ to its end, then a.b's, then c, and nothing else in between. So the child for a
# package imports it, then forks one grandchild per module inside it, which imports only
# that module, as a fresh interpreter would after the package: each package's closure is
# imported once, not once per module in it (16 s of CPU for the flat forks, 12 s for the
# tree). A module whose package fails fails too, with the package's traceback, as it would.
# Garbage collection is frozen in the fork server so that no child's collection walks (and
# copies, page by page) the libraries' objects. At most one importing child per core.
ISOLATED_IMPORTS = """
import gc, importlib, json, os, select, sys, traceback
preload, modules = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for name in preload:
    try:
        importlib.import_module(name)
    except ImportError:  # `from a import b` where b is a class, or a TYPE_CHECKING-only name
        pass
roots = {name.partition(".")[0] for name in modules}
assert not [name for name in sys.modules if name.partition(".")[0] in roots]


def parent(name):  # the nearest enclosing module checked (namespace packages are skipped)
    while "." in name:
        name = name.rpartition(".")[0]
        if name in modules:
            return name
    return None


inside = {}
for name in modules:
    inside.setdefault(parent(name), []).append(name)


def import_alone(name):
    \"\"\"In a child forked from the state before `name`: import it, then its modules each in
    a grandchild; the failures of the whole subtree, as JSON, to the parent.\"\"\"
    try:
        importlib.import_module(name)
    except BaseException:
        error = traceback.format_exc()
        failures = {name: error}
        for below in modules:
            if below.startswith(name + "."):
                failures[below] = f"its package {name} fails to import (above)"
        return failures
    return check_each(inside.get(name, []))


def check_each(names):
    failures, running, waiting = {}, {}, list(reversed(names))

    def finish_one():  # read a child's report to its end (it may exceed a pipe's buffer)
        readable, _, _ = select.select(list(running), [], [])
        read = readable[0]
        chunk = os.read(read, 1 << 16)
        if chunk:
            running[read][2].append(chunk)
            return
        os.close(read)
        pid, name, chunks = running.pop(read)
        _, status = os.waitpid(pid, 0)
        output = b"".join(chunks).decode()
        try:
            failures.update(json.loads(output))
        except ValueError:
            failures[name] = f"exit status {status}: {output}"

    while waiting or running:
        if not waiting or len(running) >= (os.cpu_count() or 1):
            finish_one()
            continue
        name = waiting.pop()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            try:
                output = json.dumps(import_alone(name)).encode()
            except BaseException:
                output = json.dumps({name: traceback.format_exc()}).encode()
            with os.fdopen(write, "wb") as pipe:
                pipe.write(output)
            os._exit(0)
        os.close(write)
        running[read] = (pid, name, [])
    return failures


gc.freeze()
print(json.dumps(check_each(inside.get(None, []))))
"""


def imports_alone(modules: list[str], preload: list[str], cwd: Path) -> dict[str, str]:
    """Each of `modules` imported by itself in an interpreter where no module of their
    packages was imported before (the libraries in `preload` may be): the traceback of each
    that fails, by name."""
    if hasattr(os, "fork"):
        result = subprocess.run(
            [sys.executable, "-c", ISOLATED_IMPORTS, json.dumps(preload), json.dumps(modules)],
            cwd=cwd,
            capture_output=True,
            text=True,
            # A guard against a hang, not a speed test: on a busy shared machine the imports
            # of every module (one fork each) have taken two minutes.
            timeout=900,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        failures: dict[str, str] = json.loads(result.stdout.splitlines()[-1])
        return failures
    failures = {}  # no fork: a whole interpreter per module, slower but the same check
    for name in modules:
        run = subprocess.run(
            [sys.executable, "-c", f"import {name}"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if run.returncode != 0:
            failures[name] = run.stderr
    return failures


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def bot_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in sorted(PACKAGE.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


@functools.cache
def imported_names(name: str, path: Path) -> frozenset[str]:
    """Every module an import statement in the file names, wherever the statement is
    (functions and `if TYPE_CHECKING:` blocks included), with `from a import b` giving both
    `a` and `a.b` since b may be a module. Parsed once per file: `reaches` walks the whole
    graph from every module of a package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(names)


def with_parents(name: str) -> list[str]:
    """Importing a.b.c runs a/__init__.py and a/b/__init__.py too."""
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts) + 1)]


def is_adapter(name: str) -> bool:
    return any(name == adapter or name.startswith(adapter + ".") for adapter in ADAPTERS)


def test_every_module_under_bot_imports_on_its_own() -> None:
    modules = [name for name in bot_modules() if not name.endswith("__main__")]
    third_party = sorted(
        {
            imported
            for name, path in bot_modules().items()
            for imported in imported_names(name, path)
            if imported.split(".")[0] not in ("bot", "__future__")
        }
    )
    failures = imports_alone(modules, third_party, ROOT)
    assert len(modules) > 30
    assert failures == {}, "\n".join(f"{name}:\n{error}" for name, error in failures.items())


# A package whose modules import in one order and not in another: the check must see it.
TANGLED = {
    "pkg/__init__.py": "",
    "pkg/fine.py": "VALUE = 1\n",
    # A cycle: whichever is imported first, the other wants a name it has not defined yet.
    "pkg/a.py": "from pkg.b import B\n\nA = 1\n",
    "pkg/b.py": "from pkg.a import A\n\nB = 2\n",
    # Uses pkg.fine without importing it: passes only after something else imported it.
    "pkg/sub/__init__.py": "import pkg\n\nUSED = pkg.fine.VALUE\n",
    "pkg/sub/inner.py": "X = 1\n",
    "pkg/ns/leaf.py": "import pkg.fine\n\nY = pkg.fine.VALUE\n",  # pkg/ns has no __init__
}


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "fresh interpreters"])
def test_the_import_check_fails_on_a_cycle_and_on_a_missing_import(
    fork: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, text in TANGLED.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    if not fork:
        monkeypatch.delattr(os, "fork")
    modules = ["pkg", "pkg.fine", "pkg.a", "pkg.b", "pkg.sub", "pkg.sub.inner", "pkg.ns.leaf"]

    failures = imports_alone(modules, ["json"], tmp_path)

    assert sorted(failures) == ["pkg.a", "pkg.b", "pkg.sub", "pkg.sub.inner"]
    # pkg.a first: b, run from inside a, finds a without its A yet (and the reverse).
    assert "cannot import name 'A' from partially initialized module 'pkg.a'" in failures["pkg.a"]
    assert "cannot import name 'B' from partially initialized module 'pkg.b'" in failures["pkg.b"]
    assert "has no attribute 'fine'" in failures["pkg.sub"]


def test_domain_modules_never_import_slack_even_through_other_modules() -> None:
    modules = bot_modules()
    imports = {name: imported_names(name, path) for name, path in modules.items()}
    domain = [name for name in modules if not is_adapter(name)]
    offences: list[str] = []
    for start in domain:
        # Depth-first through the bot modules it imports, keeping the chain for the message.
        seen: set[str] = set()
        stack: list[list[str]] = [[start]]
        while stack:
            chain = stack.pop()
            for imported in sorted(imports[chain[-1]]):
                if imported.split(".")[0] in SLACK:
                    offences.append(" -> ".join([*chain, imported]))
                    continue
                for module in with_parents(imported):
                    if module in modules and module not in seen:
                        seen.add(module)
                        stack.append([*chain, module])
    for package in DOMAIN_PACKAGES:
        assert package in domain
    assert {"bot.daily.flows", "bot.daily.jobs", "bot.kudos.service"} <= set(domain)
    assert "bot.db.models" in domain
    assert "bot.slack.app" not in domain
    assert offences == []


def reaches(start: str, forbidden: str) -> list[str]:
    """Chains of bot modules from `start` to any module of package `forbidden`, through the
    modules it imports (directly or through others)."""
    modules = bot_modules()
    imports = {name: imported_names(name, path) for name, path in modules.items()}
    found: list[str] = []
    seen: set[str] = {start}
    stack: list[list[str]] = [[start]]
    while stack:
        chain = stack.pop()
        for imported in sorted(imports[chain[-1]]):
            for module in with_parents(imported):
                if module not in modules or module in seen:
                    continue
                seen.add(module)
                if module == forbidden or module.startswith(forbidden + "."):
                    found.append(" -> ".join([*chain, module]))
                else:
                    stack.append([*chain, module])
    return found


def package_modules(package: str) -> list[str]:
    return [name for name in bot_modules() if name == package or name.startswith(package + ".")]


def test_block_kit_builders_never_import_the_slack_adapter() -> None:
    # Block Kit is pure functions of domain objects; the listeners import them, not the reverse.
    blocks = package_modules("bot.blocks")
    assert {"bot.blocks.kudos", "bot.blocks.ids"} <= set(blocks)
    assert [chain for start in blocks for chain in reaches(start, "bot.slack")] == []


def test_daily_and_reports_import_in_one_direction_only() -> None:
    # The digest is a report, so bot.daily may use bot.reports; never the reverse, which would
    # make the two packages one.
    assert reaches("bot.daily.digest", "bot.reports") != []
    assert [
        chain for start in package_modules("bot.reports") for chain in reaches(start, "bot.daily")
    ] == []


def test_the_package_and_the_benchmarks_never_import_the_tests() -> None:
    # The simulator, the serve child process and scratch databases live in the package, so
    # bench/ and an installed wheel work without tests/ (issue 22).
    files = [*sorted(PACKAGE.rglob("*.py")), *sorted((ROOT / "bench").glob("*.py"))]
    reaching_tests = [
        str(path.relative_to(ROOT))
        for path in files
        if "__pycache__" not in path.parts
        and any(name == "tests" or name.startswith("tests.") for name in imported_names("x", path))
    ]
    assert len(files) > 100
    assert reaching_tests == []
