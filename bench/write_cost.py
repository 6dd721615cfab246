"""The read model's cost on the write path: CPU per kudos given through the kudos service
(`give`, one transaction each, as `/kudos` records it), the bot's and the database server's.

    .venv/bin/python bench/write_cost.py [--kudos N] [--rounds N] [--only postgresql]
        [--variants before,now,...]

Each variant gets its own fresh migrated database, set up as the variant says (`VARIANTS`):
`before` is the reference, the write path before the read model (`summaries.count_given` a
no-op: the kudos and its allowance written, nothing tallied); `now` is the write path as it
is; the others are the options measured for issue 21 (a tally key without the count, a
fill factor, fewer grains).

On a shared two-core machine the load moves between one minute and the next, so the
variants are interleaved: each round runs every variant once, in order, then once in
reverse (A B C … C B A: ABBA pairs for every two of them), `--kudos` kudos per run after a
warm-up of `--warmup`. A variant's figure is the median over its runs; its ratio to `before`
is the median of the per-round ratios (each round's two runs of each, summed), so a loaded
minute moves both sides of a ratio alike.

Two CPU figures, not wall time (which other work on the machine moves most):
* bot: `time.process_time()` of this process (building, sending, reading statements; on
  SQLite it includes the database's own work, which runs in-process);
* server (PostgreSQL): the CPU time of the backend process(es) serving the variant's
  database, from /proc/<pid>/schedstat (nanoseconds on a CPU), read before and after each
  run. The server must run on this machine. Background work (WAL writer, autovacuum) is not
  counted: it is shared with every other database on the server.

Givers rotate over `GIVERS` people and receivers over 500, so (as in a workspace) most of a
kudos's tallies are updates of rows its givers and receivers already have. Not part of the
tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from bench.databases import fresh_database, postgres_server  # noqa: E402
from bot.audience import Audience  # noqa: E402
from bot.db.engine import Database  # noqa: E402
from bot.kudos.service import Giver, Giving, Place, Recipient, Source, give  # noqa: E402
from bot.mission.file import parse_mission  # noqa: E402
from bot.mission.service import sync_mission  # noqa: E402
from bot.reports import summaries  # noqa: E402

TEAM = "TWRITECOST"
MISSION = "mission: Write fast.\nprinciples:\n  - {key: speed, title: Speed}\n"
GIVERS = 1000
_KEY = "team_id, role, grain, principle_id, bucket, user_id"


@dataclass(frozen=True)
class Variant:
    """A write path to measure: SQL run on its fresh database (PostgreSQL only) and what the
    tallies' write is while it runs."""

    about: str
    sql: tuple[str, ...] = ()
    tallied: bool = True
    # SQL run on its fresh database when it is SQLite.
    sqlite: tuple[str, ...] = ()
    # The per-person grains written (None: the code's own `PERSON_GRAINS`).
    grains: tuple[summaries.Grain, ...] | None = None


_PLAIN_KEY = (
    "ALTER TABLE kudos_tallies DROP CONSTRAINT pk_kudos_tallies",
    f"ALTER TABLE kudos_tallies ADD CONSTRAINT pk_kudos_tallies PRIMARY KEY ({_KEY})",
)
_COVERING_KEY = (
    "ALTER TABLE kudos_tallies DROP CONSTRAINT pk_kudos_tallies",
    f"ALTER TABLE kudos_tallies ADD CONSTRAINT pk_kudos_tallies PRIMARY KEY ({_KEY}) "
    "INCLUDE (kudos)",
)
_FINE = (summaries.Grain.YEAR, summaries.Grain.MONTH)
_NO_WEEKS = tuple(g for g in summaries.PERSON_GRAINS if g != summaries.Grain.WEEK)
# The pair tallies' triggers (migration 0017), dropped: the write path without them.
_NO_PAIRS = (
    "DROP TRIGGER kudos_pairs_move ON kudos",
    "DROP TRIGGER kudos_pairs_count ON kudos",
)
_NO_PAIRS_SQLITE = tuple(
    f"DROP TRIGGER {name}"
    for name in (
        "kudos_pairs_add",
        "kudos_pairs_remove",
        "kudos_pairs_move_out",
        "kudos_pairs_move_in",
    )
)

# The channel tallies' triggers (migration 0023), dropped: the write path without them.
_NO_CHANNEL_TALLIES = tuple(
    f"DROP TRIGGER {name} ON kudos"
    for name in (
        "kudos_channel_lock",
        "kudos_channel_lock_move",
        "kudos_channel_count",
        "kudos_channel_uncount",
        "kudos_channel_move",
    )
)
_NO_CHANNEL_TALLIES_SQLITE = tuple(
    f"DROP TRIGGER {name}"
    for name in (
        "kudos_channel_add",
        "kudos_channel_remove",
        "kudos_channel_move_out",
        "kudos_channel_move_in",
    )
)

# The tally histogram's triggers (migration 0018), dropped: the write path without them.
_NO_HISTOGRAM = tuple(
    f"DROP TRIGGER kudos_tally_histogram_{event} ON kudos_tallies"
    for event in ("insert", "update", "delete", "truncate")
)
_NO_HISTOGRAM_SQLITE = tuple(
    f"DROP TRIGGER kudos_tally_histogram_{name}"
    for name in ("add", "remove", "move_out", "move_in")
)


def _pairs_without_all_time() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Migration 0020's pair triggers without the all-time rows (each kudos counted in its
    quarter only, as 0017 counted it), PostgreSQL's and SQLite's statements: built by that
    migration's own functions, so the variant differs from `now` in nothing else."""
    spec = importlib.util.spec_from_file_location(
        "_pairs_0020",
        ROOT / "migrations/versions/20261206_0020_message_length_index_and_all_time_pairs.py",
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    postgresql = (module._function(None, all_time=False),)
    changes = f"UPDATE OF {module._CHANGES}"
    triggers = {
        "kudos_pairs_add": ("INSERT", "NEW", module._add),
        "kudos_pairs_remove": ("DELETE", "OLD", module._take),
        "kudos_pairs_move_out": (changes, "OLD", module._take),
        "kudos_pairs_move_in": (changes, "NEW", module._add),
    }
    sqlite = tuple(f"DROP TRIGGER {name}" for name in triggers) + tuple(
        f"CREATE TRIGGER {name} AFTER {event} ON kudos FOR EACH ROW "
        f"WHEN {row}.withdrawn_at IS NULL BEGIN "
        + " ".join(f"{action('sqlite', row, b)};" for b in module._buckets("sqlite", row, False))
        + " END"
        for name, (event, row, action) in triggers.items()
    )
    return postgresql, sqlite


_QUARTER_PAIRS, _QUARTER_PAIRS_SQLITE = _pairs_without_all_time()
# Each person's latest kudos (migration 0021), its triggers dropped: the write path without it.
_NO_LATEST = (
    *(
        f"DROP TRIGGER kudos_latest_tally_{event} ON kudos_tallies"
        for event in ("insert", "update")
    ),
    "DROP TRIGGER kudos_latest_withdrawn ON kudos",
)
_NO_LATEST_SQLITE = tuple(
    f"DROP TRIGGER kudos_latest_{name}" for name in ("tally_insert", "tally_update", "withdrawn")
)
_NO_LENGTH_INDEX = ("DROP INDEX ix_kudos_team_id_message_length",)


_USERGROUP_TRIGGERS = (
    "kudos_group_lock",
    "kudos_group_lock_move",
    "kudos_usergroup_count",
    "kudos_usergroup_uncount",
    "kudos_usergroup_move",
)
_NO_USERGROUP_TALLIES = tuple(f"DROP TRIGGER {name} ON kudos" for name in _USERGROUP_TRIGGERS)
_NO_USERGROUP_TALLIES_SQLITE = tuple(
    f"DROP TRIGGER {name}"
    for name in (
        "kudos_usergroup_add",
        "kudos_usergroup_remove",
        "kudos_usergroup_move_out",
        "kudos_usergroup_move_in",
    )
)
_SETTLED_TRIGGERS = ("settled_counts_insert", "settled_counts_update", "settled_counts_delete")
_NO_SETTLED_COUNTS = tuple(f"DROP TRIGGER {name} ON kudos" for name in _SETTLED_TRIGGERS)
_NO_SETTLED_COUNTS_SQLITE = tuple(f"DROP TRIGGER {name}" for name in _SETTLED_TRIGGERS)
# Three tallied user groups (migration 0026), each holding every giver and receiver: the
# most a kudos can cost them (each kudos counted in all three).
_GROUPS = "(SELECT 1 AS g UNION ALL SELECT 2 UNION ALL SELECT 3)"


def _three_groups(padded: str) -> tuple[str, str]:
    """The groups and their members; `padded`: the dialect's five-digit number of `i`."""
    people = (
        f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {GIVERS - 1}) "
        f"SELECT 'UR' || {padded} AS user_id FROM n WHERE i < 500 UNION "
        f"SELECT 'UG' || {padded} FROM n"
    )
    return (
        "INSERT INTO tallied_usergroups (team_id, group_id, members_digest, counted_since) "
        f"SELECT '{TEAM}', 'SWRITE' || g, 'bench', NULL FROM {_GROUPS} AS g",
        "INSERT INTO tallied_usergroup_members (team_id, group_id, user_id) "
        f"SELECT '{TEAM}', 'SWRITE' || g.g, p.user_id FROM {_GROUPS} AS g, ({people}) AS p",
    )


VARIANTS = {
    "before": Variant(
        "the write path before the read model (nothing tallied, no pair or channel triggers)",
        _NO_PAIRS + _NO_CHANNEL_TALLIES + _NO_USERGROUP_TALLIES + _NO_SETTLED_COUNTS,
        tallied=False,
        sqlite=_NO_PAIRS_SQLITE
        + _NO_CHANNEL_TALLIES_SQLITE
        + _NO_USERGROUP_TALLIES_SQLITE
        + _NO_SETTLED_COUNTS_SQLITE,
    ),
    "now": Variant("as it is"),
    "no-usergroup-tallies": Variant(
        "as it is without the user groups' triggers (migration 0025's write path)",
        _NO_USERGROUP_TALLIES,
        sqlite=_NO_USERGROUP_TALLIES_SQLITE,
    ),
    "no-settled-counts": Variant(
        "as it is without the settled counts' triggers (migration 0026's write path)",
        _NO_SETTLED_COUNTS,
        sqlite=_NO_SETTLED_COUNTS_SQLITE,
    ),
    "three-groups": Variant(
        "as it is with three tallied user groups holding every giver and receiver",
        _three_groups("lpad(i::text, 5, '0')"),
        sqlite=_three_groups("printf('%05d', i)"),
    ),
    "no-channel-tallies": Variant(
        "as it is without the channel tallies' triggers (migration 0020's write path)",
        _NO_CHANNEL_TALLIES,
        sqlite=_NO_CHANNEL_TALLIES_SQLITE,
    ),
    "no-pairs": Variant(
        "as it is without the pair tallies' triggers (migration 0016's write path)",
        _NO_PAIRS,
        sqlite=_NO_PAIRS_SQLITE,
    ),
    "no-histogram": Variant(
        "as it is without the tally histogram's triggers (migration 0017's write path)",
        _NO_HISTOGRAM,
        sqlite=_NO_HISTOGRAM_SQLITE,
    ),
    "no-channel-index": Variant(
        "as it is without the kudos' channel covering index (migration 0019)",
        ("DROP INDEX ix_kudos_team_id_channel_id_covering",),
        sqlite=("DROP INDEX ix_kudos_team_id_channel_id_covering",),
    ),
    "no-all-time-pairs": Variant(
        "as it is with the pair triggers counting quarters only (migration 0017's, not 0020's)",
        _QUARTER_PAIRS,
        sqlite=_QUARTER_PAIRS_SQLITE,
    ),
    "no-length-index": Variant(
        "as it is without the index on the message length (migration 0020)",
        _NO_LENGTH_INDEX,
        sqlite=_NO_LENGTH_INDEX,
    ),
    "no-latest": Variant(
        "as it is without each person's latest kudos (migration 0021's triggers)",
        _NO_LATEST,
        sqlite=_NO_LATEST_SQLITE,
    ),
    "no-weeks": Variant(
        "as it is without the week rows (migration 0023's write path, 0024's week locks kept)",
        grains=_NO_WEEKS,
    ),
    "covering": Variant("the key INCLUDE (kudos) (migration 0014)", _COVERING_KEY),
    "plain": Variant("key without the count, fill factor 100", _PLAIN_KEY),
    "plain-ff90": Variant(
        "key without the count, fill factor 90",
        (*_PLAIN_KEY, "ALTER TABLE kudos_tallies SET (fillfactor = 90)"),
    ),
    "plain-ff75": Variant(
        "key without the count, fill factor 75",
        (*_PLAIN_KEY, "ALTER TABLE kudos_tallies SET (fillfactor = 75)"),
    ),
    "covering-ym": Variant(
        "the covering key; person grains year and month only", _COVERING_KEY, grains=_FINE
    ),
    "plain-ff75-ym": Variant(
        "key without the count, fill factor 75; year and month only",
        (*_PLAIN_KEY, "ALTER TABLE kudos_tallies SET (fillfactor = 75)"),
        grains=_FINE,
    ),
}


@dataclass
class Runs:
    """One variant's measurements: per run, the bot's and the server's CPU seconds."""

    bot: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)


def server_cpu(admin_url: str | None, name: str | None) -> float:
    """Seconds on a CPU so far of the server's backends for database `name` (0 on SQLite)."""
    if admin_url is None or name is None:
        return 0.0
    admin = _admin(admin_url)
    with admin.connect() as connection:
        pids = connection.scalars(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :name AND backend_type = "
                "'client backend'"
            ),
            {"name": name},
        ).all()
        connection.rollback()
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue  # a backend that ended: its time is lost, so the pool keeps them open
    return total / 1e9


_ADMINS: dict[str, object] = {}


def _admin(url: str):  # type: ignore[no-untyped-def]
    if url not in _ADMINS:
        _ADMINS[url] = create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)
    return _ADMINS[url]


def run(database: Database, principle_id: int, count: int, offset: int) -> None:
    now = dt.datetime.now(dt.UTC)
    for n in range(offset, offset + count):
        receivers = [Recipient(f"UR{n % 500:05d}")]
        if n % 4 == 0:
            receivers.append(Recipient(f"UR{(n + 7) % 500:05d}"))
        with database.transaction() as session:
            give(
                session=session,
                giving=Giving(
                    recipients=tuple(receivers),
                    principle_id=principle_id,
                    message=f"thanks for shipment {n}",
                    source=Source.COMMAND,
                ),
                giver=Giver(f"UG{n % GIVERS:05d}", "America/New_York"),
                place=Place(team_id=TEAM, channel_id="CWRITE001", audience=Audience.PUBLIC),
                limit=10,
                # A kudos a minute: a giver gives once in GIVERS minutes, inside the allowance.
                now=now + dt.timedelta(minutes=n),
            )


def _uncounted(*_args: object, **_kwargs: object) -> None:
    """The write path before the read model: nothing tallied."""


@contextmanager
def as_variant(variant: Variant) -> Iterator[None]:
    counting, grains = summaries.count_given, summaries.PERSON_GRAINS
    summaries.count_given = counting if variant.tallied else _uncounted  # type: ignore[assignment]
    summaries.PERSON_GRAINS = variant.grains or grains  # type: ignore[misc,assignment]
    try:
        yield
    finally:
        summaries.count_given, summaries.PERSON_GRAINS = counting, grains  # type: ignore[misc]


@dataclass
class Prepared:
    name: str
    variant: Variant
    database: Database
    principle_id: int
    database_name: str | None
    runs: Runs = field(default_factory=Runs)
    given: int = 0


def prepare(stack: ExitStack, backend: str, tmp: Path, name: str, warmup: int) -> Prepared:
    variant = VARIANTS[name]
    url = stack.enter_context(fresh_database(backend, tmp, f"write_cost_{name}"))
    database = Database(url)
    stack.callback(database.dispose)
    with database.transaction() as session:
        sync_mission(session, team_id=TEAM, document=parse_mission(MISSION))
    with database.transaction() as session:
        for statement in variant.sql if backend == "postgresql" else variant.sqlite:
            session.execute(text(statement))
    with database.reading() as session:
        pid = int(session.scalar(text("SELECT min(id) FROM principles")) or 0)
    prepared = Prepared(
        name, variant, database, pid, make_url(url).database if backend == "postgresql" else None
    )
    with as_variant(variant):
        run(database, pid, warmup, 0)
    if backend == "postgresql":
        # Statistics, as a running database has them: without, the triggers' seeks of a
        # person's kudos (migration 0021) were planned as scans of the team's.
        with database.transaction() as session:
            session.execute(text("ANALYZE"))
    prepared.given = warmup
    return prepared


def measure(prepared: Prepared, count: int, admin_url: str | None) -> None:
    with as_variant(prepared.variant):
        server = server_cpu(admin_url, prepared.database_name)
        bot = time.process_time()
        run(prepared.database, prepared.principle_id, count, prepared.given)
        bot = time.process_time() - bot
        server = server_cpu(admin_url, prepared.database_name) - server
    prepared.given += count
    prepared.runs.bot.append(bot)
    prepared.runs.server.append(server)


def _ratio(runs: Runs, reference: Runs, pick: Callable[[Runs], list[float]]) -> float:
    """The median over rounds of this variant's CPU over the reference's (2 runs each)."""
    mine, theirs = pick(runs), pick(reference)
    ratios = [
        (mine[i] + mine[i + 1]) / (theirs[i] + theirs[i + 1])
        for i in range(0, len(mine) - 1, 2)
        if theirs[i] + theirs[i + 1] > 0
    ]
    return statistics.median(ratios) if ratios else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kudos", type=int, default=400, help="kudos per run (default 400)")
    parser.add_argument("--rounds", type=int, default=3, help="ABBA rounds (default 3)")
    parser.add_argument("--warmup", type=int, default=600, help="kudos first, per variant")
    parser.add_argument("--only", default="postgresql,sqlite")
    parser.add_argument("--variants", default="before,now", help=", ".join(VARIANTS))
    args = parser.parse_args()
    import bot

    names = args.variants.split(",")
    assert names[0] == "before", "the reference comes first"
    print(
        f"code: {Path(bot.__file__).parent.parent}; {args.rounds} rounds of ABBA, "
        f"{args.kudos} kudos a run; load {os.getloadavg()}",
        flush=True,
    )
    for name in names:
        print(f"- {name}: {VARIANTS[name].about}")
    for backend in args.only.split(","):
        admin_url = postgres_server() if backend == "postgresql" else None
        with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
            chosen = [
                n
                for n in names
                if backend == "postgresql" or n in ("before", "now") or VARIANTS[n].sqlite
            ]
            prepared = [prepare(stack, backend, Path(tmp), n, args.warmup) for n in chosen]
            loads = [os.getloadavg()[0]]
            for _round in range(args.rounds):
                for each in [*prepared, *reversed(prepared)]:
                    measure(each, args.kudos, admin_url)
                loads.append(os.getloadavg()[0])
            print(
                f"\n{backend}: load (1 min) {min(loads):.1f} to {max(loads):.1f} during the runs\n"
                "| Variant | bot CPU ms/kudos | server CPU ms/kudos | bot x before "
                "| server x before | (bot + server) x before |\n|---|---:|---:|---:|---:|---:|"
            )
            reference = prepared[0].runs
            for each in prepared:
                bot_ms = statistics.median(each.runs.bot) / args.kudos * 1000
                server_ms = statistics.median(each.runs.server) / args.kudos * 1000
                both = Runs(
                    [b + s for b, s in zip(each.runs.bot, each.runs.server, strict=True)], []
                )
                reference_both = Runs(
                    [b + s for b, s in zip(reference.bot, reference.server, strict=True)], []
                )
                print(
                    f"| {each.name} | {bot_ms:.3f} | {server_ms:.3f} "
                    f"| {_ratio(each.runs, reference, lambda r: r.bot):.2f} "
                    f"| {_ratio(each.runs, reference, lambda r: r.server):.2f} "
                    f"| {_ratio(both, reference_both, lambda r: r.bot):.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
