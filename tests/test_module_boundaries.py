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
# load once and each bot module is imported in a child forked from that state, where no bot
# module has been imported yet: what `python -c` would see. One child per core at a time.
ISOLATED_IMPORTS = """
import importlib, json, os, sys, traceback
preload, modules = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for name in preload:
    try:
        importlib.import_module(name)
    except ImportError:  # `from a import b` where b is a class, or a TYPE_CHECKING-only name
        pass
assert not [name for name in sys.modules if name == "bot" or name.startswith("bot.")]
failures, running, waiting = {}, {}, list(reversed(modules))


def finish_one():
    pid, status = os.wait()
    name, read = running.pop(pid)
    with os.fdopen(read, "rb") as pipe:  # a traceback fits in the pipe's buffer
        output = pipe.read().decode()
    if status != 0:
        failures[name] = output or f"exit status {status}"


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
            importlib.import_module(name)
        except BaseException:
            os.write(write, traceback.format_exc()[-60000:].encode())
            os._exit(1)
        os._exit(0)
    os.close(write)
    running[pid] = (name, read)
print(json.dumps(failures))
"""


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
    if hasattr(os, "fork"):
        result = subprocess.run(
            [sys.executable, "-c", ISOLATED_IMPORTS, json.dumps(third_party), json.dumps(modules)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            # A guard against a hang, not a speed test: on a busy shared machine the imports
            # of every module (one fork each) have taken two minutes.
            timeout=900,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        failures: dict[str, str] = json.loads(result.stdout.splitlines()[-1])
    else:  # no fork: a whole interpreter per module, slower but the same check
        failures = {}
        for name in modules:
            run = subprocess.run(
                [sys.executable, "-c", f"import {name}"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            if run.returncode != 0:
                failures[name] = run.stderr
    assert len(modules) > 30
    assert failures == {}, "\n".join(f"{name}:\n{error}" for name, error in failures.items())


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
