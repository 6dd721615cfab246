"""Migration 0023's fill on a large database while a bot writes kudos: how long each write
waits for it, and whether the tallies then equal the kudos (bench/RESULTS.md §43).

    .venv/bin/python bench/channel_fill.py --url postgresql+psycopg://postgres@127.0.0.1:5432/<db>

The database must be at 0020 (a copy of `pw_10m`, say). It is upgraded to 0023 by
`bot.db.migrate.upgrade`, logging the migration's progress and the longest time one slice
held kudos writes, while two threads write as a running bot would, each write its own
transaction timed from its first statement to its commit: one gives a kudos now in the
bench's channel every `--every` seconds, the other withdraws or restores a random older
kudos as often. Then checks the tallies against the kudos: every day's row per principle, the
person rows and people counts of three months, and every month's people counts against its
person rows. Not part of the tests.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from bot.db.engine import Database  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402

TEAM = "TBENCHLB01"
CHANNEL = "CBENCH0001"


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def writer(url: str, every: float, stop: threading.Event, kind: str, waits: list[float]) -> None:
    rng = random.Random(kind)
    with psycopg.connect(libpq(url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT id FROM principles WHERE team_id = %s ORDER BY id", (TEAM,))
        pids = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT min(id), max(id) FROM kudos")
        low, high = cursor.fetchone() or (0, 0)
        connection.commit()
        n = 0
        while not stop.is_set():
            n += 1
            started = time.monotonic()
            if kind == "give":
                giver, receiver = rng.sample(range(50_000), 2)
                cursor.execute(
                    "INSERT INTO kudos (team_id, group_id, giver_id, receiver_id, principle_id, "
                    "message, channel_id, source, created_at, audience) VALUES (%s, %s, %s, %s, "
                    "%s, 'during the fill', %s, 'command', now(), 'public')",
                    (
                        TEAM,
                        f"fill-{n}",
                        f"U{giver:07d}B",
                        f"U{receiver:07d}B",
                        rng.choice(pids),
                        CHANNEL,
                    ),
                )
            else:
                cursor.execute(
                    "UPDATE kudos SET withdrawn_at = CASE WHEN withdrawn_at IS NULL THEN "
                    "created_at + interval '1 minute' END WHERE id = %s",
                    (rng.randint(low, high),),
                )
            connection.commit()
            waits.append(time.monotonic() - started)
            time.sleep(every)


def cancel(url: str, stop: threading.Event) -> None:
    """Cancel the migration's statements (those mentioning the tallies) until it stops."""
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        while not stop.is_set():
            connection.execute(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE "
                "pid <> pg_backend_pid() AND datname = current_database() "
                "AND query LIKE '%kudos_channel_tallies%' AND state = 'active'"
            )
            time.sleep(0.05)


def check(url: str) -> list[str]:
    """What differs between the tallies and the kudos (empty: nothing)."""
    day = "CAST(created_at AT TIME ZONE 'UTC' AS DATE)"
    month = "CAST(date_trunc('month', created_at AT TIME ZONE 'UTC') AS DATE)"
    standing = "withdrawn_at IS NULL AND channel_id IS NOT NULL"
    found: list[str] = []
    with psycopg.connect(libpq(url)) as connection, connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM ((SELECT team_id, channel_id, {day} AS d, principle_id, "
            f"count(*)::int FROM kudos WHERE {standing} GROUP BY 1, 2, 3, 4) EXCEPT ALL "
            "(SELECT team_id, channel_id, bucket, principle_id, kudos FROM "
            "kudos_channel_tallies WHERE role = 'p' AND kudos <> 0)) AS x"
        )
        found += [f"day rows: {n} differ" for (n,) in cursor.fetchall() if n]
        cursor.execute(
            "SELECT count(*) FROM ((SELECT team_id, channel_id, upper(role), bucket, "
            "principle_id, count(*)::int FROM kudos_channel_tallies WHERE role IN ('r', 'g') "
            "AND kudos > 0 GROUP BY 1, 2, 3, 4, 5) EXCEPT ALL (SELECT team_id, channel_id, "
            "role, bucket, principle_id, kudos FROM kudos_channel_tallies "
            "WHERE role IN ('R', 'G') AND kudos <> 0)) AS x"
        )
        found += [f"people counts: {n} differ from their rows" for (n,) in cursor.fetchall() if n]
        cursor.execute(f"SELECT DISTINCT {month} FROM kudos ORDER BY 1")
        months = [row[0] for row in cursor.fetchall()]
        for bucket in (months[0], months[len(months) // 2], months[-1]):
            for role, user in (("r", "receiver_id"), ("g", "giver_id")):
                raw = (
                    f"SELECT team_id, channel_id, '{role}', {month}, p, {user}, count(*)::int "
                    f"FROM kudos, LATERAL (VALUES (principle_id), (0)) AS v(p) WHERE {standing} "
                    "AND created_at >= CAST(%(b)s AS timestamptz) "
                    "AND created_at < CAST(%(b)s AS timestamptz) + interval '1 month' "
                    "GROUP BY 1, 2, 3, 4, 5, 6"
                )
                kept = (
                    "SELECT team_id, channel_id, role, bucket, principle_id, user_id, kudos "
                    f"FROM kudos_channel_tallies WHERE role = '{role}' AND bucket = %(d)s "
                    "AND kudos <> 0"
                )
                cursor.execute(
                    f"SELECT (SELECT count(*) FROM (({raw}) EXCEPT ALL ({kept})) a) + "
                    f"(SELECT count(*) FROM (({kept}) EXCEPT ALL ({raw})) b)",
                    {"b": f"{bucket} 00:00+00", "d": bucket},
                )
                found += [
                    f"{bucket} {role}: {n} person rows differ" for (n,) in cursor.fetchall() if n
                ]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--every", type=float, default=0.1, help="seconds between writes")
    parser.add_argument(
        "--minutes",
        type=float,
        help="cancel the fill after this long (its slices so far stay: the next run starts over)",
    )
    parser.add_argument(
        "--slice", type=int, help="kudos a slice (the migration's FILL_SLICE_KUDOS otherwise)"
    )
    parser.add_argument("--no-check", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    waits: dict[str, list[float]] = {"give": [], "withdraw": []}
    threads = [
        threading.Thread(target=writer, args=(args.url, args.every, stop, kind, waits[kind]))
        for kind in waits
    ]
    for thread in threads:
        thread.start()
    database = Database(args.url)
    started = time.monotonic()
    if args.minutes:
        threading.Timer(args.minutes * 60, cancel, args=(args.url, stop)).start()
    try:
        attributes = {"kudos_channel_tallies_slice": args.slice} if args.slice else None
        upgrade(database, "0023", attributes=attributes)
    except Exception as error:  # the cancel, reported with the waits so far
        print(f"upgrade stopped: {type(error).__name__}: {error}"[:2000])
        if error.__context__ is not None:
            print(f"  after: {error.__context__}"[:2000])
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        database.dispose()
    print(f"upgrade to 0023: {time.monotonic() - started:.0f} s")
    for kind, times in waits.items():
        ordered: list[Any] = sorted(times)
        if ordered:
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            print(
                f"{kind}: {len(ordered)} writes, median {ordered[len(ordered) // 2] * 1000:.0f} "
                f"ms, p99 {p99 * 1000:.0f} ms, longest {ordered[-1] * 1000:.0f} ms"
            )
    if args.no_check:
        return
    started = time.monotonic()
    differ = check(args.url)
    print(f"check ({time.monotonic() - started:.0f} s): " + ("; ".join(differ) or "exact"))


if __name__ == "__main__":
    main()
