"""What the tallies' upsert costs the PostgreSQL server, by key and rows per statement: the
floor under `/kudos`'s write cost (bench/RESULTS.md §17).

    .venv/bin/python bench/tally_upsert.py [--statements N] [--rounds N] [--histogram]

One connection per case, each to its own scratch database holding a copy of `kudos_tallies`
(with 252,168 rows of history) and a two-column table standing in for the
kudos: every case inserts a row there and commits, and the cases add to that the tallies of
one kudos (`summaries._deltas`, sent as bot/reports/summaries.py sends them) with a covering
key (`INCLUDE (kudos)`, migration 0014) or a plain one (fill factor 100 or 75), 17, 9 or 5
rows; or the tallies of 100 kudos in one statement every 100. `--histogram`: the covering
key's 17 rows without and with migration 0018's triggers keeping `kudos_tally_histogram`.
Givers rotate over 1,000 people, receivers over 500. The server's CPU is the backend's
/proc/<pid>/schedstat (the server must run on this machine), per statement, the median over
rounds run in ABBA order.
Not part of the tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
from importlib import import_module
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from bench.databases import postgres_server  # noqa: E402
from bot.reports import summaries  # noqa: E402
from bot.reports.summaries import Grain  # noqa: E402

HISTOGRAM_MIGRATION = "20261206_0018_kudos_tally_histogram"

_KEY = "team_id, role, grain, principle_id, bucket, user_id"
KEYS = {
    "covering": [f"ALTER TABLE kudos_tallies ADD PRIMARY KEY ({_KEY}) INCLUDE (kudos)"],
    "plain": [f"ALTER TABLE kudos_tallies ADD PRIMARY KEY ({_KEY})"],
    "plain-ff75": [
        f"ALTER TABLE kudos_tallies ADD PRIMARY KEY ({_KEY})",
        "ALTER TABLE kudos_tallies SET (fillfactor = 75)",
    ],
}
GRAINS = {
    17: (Grain.ALL, Grain.YEAR, Grain.QUARTER, Grain.MONTH),
    9: (Grain.YEAR, Grain.MONTH),
    5: (Grain.MONTH,),
}
NOW = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
Counted = tuple[str, str, int, dt.datetime]


def _conninfo(database: str) -> str:
    url = make_url(postgres_server()).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


def _kudos(n: int) -> Counted:
    return (f"UG{n % 1000:05d}", f"UR{n % 500:05d}", 1, NOW + dt.timedelta(minutes=n))


class Case:
    """One connection, its database, and what it runs per kudos."""

    def __init__(
        self,
        name: str,
        key: list[str],
        grains: tuple[Grain, ...],
        batch: int,
        histogram: list[str] | None = None,
    ) -> None:
        self.name, self.grains, self.batch = name, grains, batch
        self.database = "bench_tally_" + "".join(c if c.isalnum() else "_" for c in name)
        with psycopg.connect(_conninfo("postgres"), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {self.database}")
            admin.execute(f"CREATE DATABASE {self.database}")
        self.connection = psycopg.connect(_conninfo(self.database))
        self.connection.execute(
            "CREATE TABLE kudos_tallies (team_id varchar(32) NOT NULL, role varchar(1) NOT NULL, "
            "grain varchar(1) NOT NULL, principle_id int NOT NULL, bucket date NOT NULL, "
            "user_id varchar(32) NOT NULL, kudos int)"
        )
        for statement in key:
            self.connection.execute(statement)  # type: ignore[arg-type]
        self.connection.execute(
            "INSERT INTO kudos_tallies SELECT 'T1', r, g, p, "
            "date '2024-01-01' + m * interval '1 month', 'UX' || u, 3 "
            "FROM (VALUES ('r'), ('g')) a(r), (VALUES ('m'), ('y')) b(g), "
            "generate_series(0, 1) p, generate_series(0, 20) m, generate_series(0, 1500) u"
        )
        if histogram is not None:
            self.connection.execute(
                "CREATE TABLE kudos_tally_histogram (team_id varchar(32) NOT NULL, "
                "role varchar(1) NOT NULL, grain varchar(1) NOT NULL, principle_id int NOT NULL, "
                "bucket date NOT NULL, kudos int NOT NULL, people int NOT NULL, "
                "PRIMARY KEY (team_id, role, grain, principle_id, bucket, kudos))"
            )
            self.connection.execute(
                "INSERT INTO kudos_tally_histogram SELECT team_id, role, grain, principle_id, "
                "bucket, kudos, count(*) FROM kudos_tallies WHERE role IN ('r', 'g') "
                "AND grain IN ('m', 'q') AND kudos > 0 GROUP BY 1, 2, 3, 4, 5, 6"
            )
            for statement in histogram:
                self.connection.execute(statement)  # type: ignore[arg-type]
        self.connection.execute("CREATE TABLE stand_in (id bigserial PRIMARY KEY, a text)")
        self.connection.commit()
        self.pid = int(self.connection.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]
        self.pending: list[Counted] = []
        self.given = 0

    def cpu(self) -> float:
        return int(Path(f"/proc/{self.pid}/schedstat").read_text().split()[0]) / 1e9

    def kudos(self, n: int) -> None:
        self.connection.execute(
            "INSERT INTO stand_in (a) VALUES (%s)", (f"thanks {n}",), prepare=True
        )
        if self.batch:
            self.pending.append(_kudos(n))
            if len(self.pending) >= self.batch:
                self._upsert(self.pending)
                self.pending = []
        self.connection.commit()

    def _upsert(self, kudos: list[Counted]) -> None:
        grains = summaries.PERSON_GRAINS
        summaries.PERSON_GRAINS = self.grains  # type: ignore[misc,assignment]
        try:
            deltas = sorted(summaries._deltas(kudos, 1).items())
        finally:
            summaries.PERSON_GRAINS = grains  # type: ignore[misc]
        columns = [
            summaries._SEPARATOR.join(map(str, column))
            for column in zip(*(key for key, _n in deltas), strict=True)
        ]
        counts = summaries._SEPARATOR.join(str(n) for _key, n in deltas)
        self.connection.execute(
            summaries._UPSERT_POSTGRESQL,  # type: ignore[arg-type]
            ("T1", *columns, counts),
            prepare=True,
        )

    def close(self) -> None:
        self.connection.close()
        with psycopg.connect(_conninfo("postgres"), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {self.database}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=800, help="kudos per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--histogram",
        action="store_true",
        help="only: the covering key's 17 rows without and with migration 0018's triggers",
    )
    args = parser.parse_args()
    cases = [Case("no tallies", KEYS["plain"], GRAINS[17], 0)]
    if args.histogram:
        triggers = import_module(f"bot.migrations.versions.{HISTOGRAM_MIGRATION}")
        cases.append(Case("covering 17 rows", KEYS["covering"], GRAINS[17], 1))
        cases.append(
            Case(
                "covering 17 rows + histogram triggers",
                KEYS["covering"],
                GRAINS[17],
                1,
                triggers.postgresql_triggers(),
            )
        )
    else:
        for key, statements in KEYS.items():
            for rows, grains in GRAINS.items():
                cases.append(Case(f"{key} {rows} rows", statements, grains, 1))
        cases.append(Case("covering 17 rows batched by 100", KEYS["covering"], GRAINS[17], 100))
    runs: dict[str, list[float]] = {case.name: [] for case in cases}
    try:
        for case in cases:
            for n in range(2000):
                case.kudos(n)
            case.given = 2000
        for _round in range(args.rounds):
            for case in [*cases, *reversed(cases)]:
                before = case.cpu()
                for n in range(case.given, case.given + args.statements):
                    case.kudos(n)
                case.given += args.statements
                runs[case.name].append((case.cpu() - before) / args.statements * 1e6)
    finally:
        for case in cases:
            case.close()
    print("| Case | server µs per kudos (median) | runs |\n|---|---:|---|")
    for name, values in runs.items():
        print(
            f"| {name} | {statistics.median(values):.0f} "
            f"| {', '.join(f'{v:.0f}' for v in values)} |"
        )


if __name__ == "__main__":
    main()
