"""The morning posts on a clock: one APScheduler cron job per subscribed channel.

Each job's CronTrigger runs in the channel's own timezone, so 09:00 stays 09:00 local across
DST changes. Jobs follow the `subscriptions` table: `reload()` after a change made here, and
every `MISSIONBOT_SCHEDULE_REFRESH_SECONDS` (a minute by default) to pick up changes made by
another process. The same refresh sweeps for posts that are due but unclaimed (a job added
just after its time, a misfire), and at start a catch-up also retries the day's failed posts.

Whatever fires, the post goes through `DailyPoster`, which claims it in the database and queues
it in the outbox in one transaction: the cron job, the sweep and another process never queue
one post twice, and the outbox's sender sends it (`settle` waits for that).

`run_due()` is the whole decision "what should be posted now" as one synchronous call, which
is what the tests drive (with time travel) instead of starting background threads.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
from collections.abc import Callable, Collection, Iterable
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.daily.claims import PostKind, claimed_keys
from bot.daily.flows import DailyPoster, Due, PostResult, Render
from bot.daily.subscriptions import ChannelSchedule, all_schedules, schedules_of
from bot.db.engine import Database
from bot.db.models import Clock, utcnow
from bot.reports.summaries import dashboard_url

log = logging.getLogger(__name__)

REFRESH_JOB_ID = "schedule:refresh"
CATCH_UP_JOB_ID = "schedule:catch-up"
# Threads that claim, draw and queue due posts: each is a transaction, so a few keep ahead of
# the sender (which sends at Slack's pace); the database pool has a connection for each
# (bot/runtime.py's `database_connections`).
POSTING_THREADS = 8
# Of those, how many queue batches of due posts at once (the others hand their channel over);
# SQLite has one writer, so one: more would only wait on each other's write lock.
QUEUEING_THREADS = {"sqlite": 1}
QUEUEING_THREADS_DEFAULT = 4
SWEEP_EXECUTOR = "sweep"


class DailyCronTrigger(CronTrigger):
    """A CronTrigger that fires at most once per local date and always moves forward.

    APScheduler 3.11's CronTrigger, asked for the fire after a wall time in the hour repeated
    at a DST fall-back, answers that same instant again and again (agronholm/apscheduler#1021),
    which spins the scheduler's loop; it would also fire twice that day. After a fire we ask
    for the first fire of the next local day instead.
    """

    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None:
        if previous_fire_time is None:
            return super().get_next_fire_time(None, now)
        next_day = previous_fire_time.astimezone(self.timezone).date() + dt.timedelta(days=1)
        start = dt.datetime.combine(next_day, dt.time(0), tzinfo=self.timezone)
        return super().get_next_fire_time(None, max(now, start))


def trigger_of(schedule: ChannelSchedule) -> DailyCronTrigger:
    """The cron trigger of the channel's posts, in the channel's timezone."""
    hour, minute = schedule.hour_minute
    return DailyCronTrigger(
        day_of_week=",".join(schedule.weekdays), hour=hour, minute=minute, timezone=schedule.zone
    )


def next_post(schedule: ChannelSchedule, now: dt.datetime) -> dt.datetime | None:
    """The next post time strictly after `now`, in the channel's timezone."""
    return trigger_of(schedule).get_next_fire_time(None, now + dt.timedelta(microseconds=1))


class DailyScheduler:
    """Owns the APScheduler instance and the poster; safe to build without starting."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        render: Render | None = None,
        *,
        clock: Clock = utcnow,
        poster: DailyPoster | None = None,
        notify: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.clock = clock
        self.cutoff = settings.missionbot_catchup_cutoff
        self._stopping = threading.Event()
        if poster is None:
            if render is None:
                raise TypeError("DailyScheduler needs a render or a poster")
            poster = DailyPoster(
                database,
                render,
                clock=clock,
                notify=notify or (lambda: None),
                dashboard_url=dashboard_url(settings.missionbot_public_url),
                language=settings.missionbot_language,
            )
        self.poster = poster
        self._scheduler = BackgroundScheduler(
            timezone=ZoneInfo("UTC"),
            executors={
                "default": ThreadPoolExecutor(POSTING_THREADS),
                # The refresh sweep and catch-up must not queue behind a morning fan-out.
                SWEEP_EXECUTOR: ThreadPoolExecutor(1),
            },
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                # However late a cron job starts (2,000 channels at one minute wait their turn
                # for a thread), it runs: `run_due` decides whether the post is still due, with
                # the same cut-off as the sweep, and the claim makes it once.
                "misfire_grace_time": None,
            },
        )
        self._fingerprints: dict[str, tuple[str, tuple[str, ...], str]] = {}
        # Channels whose cron job fired and whose post is not yet queued (an ordered set).
        self._firing: dict[tuple[str, str], None] = {}
        self._firing_lock = threading.Lock()
        self._queueing = 0
        self._queueing_threads = QUEUEING_THREADS.get(database.dialect, QUEUEING_THREADS_DEFAULT)
        self._reload_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        self._stopping.clear()
        self._scheduler.start()
        self.reload()
        self._scheduler.add_job(
            self.refresh,
            IntervalTrigger(seconds=self.settings.missionbot_schedule_refresh_seconds),
            id=REFRESH_JOB_ID,
            executor=SWEEP_EXECUTOR,
            replace_existing=True,
        )
        # Runs once, straight away, off the main thread: posts missed while we were down.
        self._scheduler.add_job(
            self.catch_up, id=CATCH_UP_JOB_ID, executor=SWEEP_EXECUTOR, replace_existing=True
        )
        log.info("scheduler started with %d channel(s)", len(self._fingerprints))

    def shutdown(self) -> None:
        self._stopping.set()
        if self.running:
            self._scheduler.shutdown(wait=True)
            log.info("scheduler stopped")

    # -- jobs ------------------------------------------------------------------------------
    def reload(self) -> None:
        """Make the cron jobs match the subscriptions table (added, changed, removed)."""
        if not self.running:
            return
        with self.database.transaction() as session:
            schedules = all_schedules(session=session)
        wanted = {s.job_id: s for s in schedules if not s.paused_reason}
        with self._reload_lock:
            for job_id in set(self._fingerprints) - set(wanted):
                self._scheduler.remove_job(job_id)
                del self._fingerprints[job_id]
                log.info("schedule removed %s", job_id)
            for job_id, schedule in wanted.items():
                if self._fingerprints.get(job_id) == schedule.fingerprint:
                    continue
                self._scheduler.add_job(
                    self._fire,
                    trigger_of(schedule),
                    args=(schedule.team_id, schedule.channel_id),
                    id=job_id,
                    replace_existing=True,
                )
                self._fingerprints[job_id] = schedule.fingerprint
                log.info(
                    "schedule set %s at %s %s on %s",
                    job_id,
                    schedule.post_time,
                    schedule.timezone,
                    ",".join(schedule.weekdays),
                )

    def next_run(self, team_id: str, channel_id: str) -> dt.datetime | None:
        """When the running scheduler will next post in the channel (None when not scheduled)."""
        job = self._scheduler.get_job(f"daily:{team_id}:{channel_id}")
        return job.next_run_time if job else None

    def refresh(self) -> None:
        self.reload()
        self.run_due()

    def catch_up(self) -> list[PostResult]:
        return self.run_due(retry_failed=True)

    def every(self, seconds: int, job: Callable[[], object], job_id: str) -> None:
        """Run `job` every `seconds` beside the sweep (the onboarding drip), once started."""
        self._scheduler.add_job(
            job,
            IntervalTrigger(seconds=seconds),
            id=job_id,
            executor=SWEEP_EXECUTOR,
            replace_existing=True,
        )

    def _fire(self, team_id: str, channel_id: str) -> None:
        """A channel's cron job: its post is due. Posts due together are queued in batches:
        a job hands its channel over to a thread already queueing (a few at a time:
        `QUEUEING_THREADS`) and returns, so 2,000 channels at one minute cost 40 transactions, not
        2,000."""
        with self._firing_lock:
            self._firing[(team_id, channel_id)] = None
            if self._queueing >= self._queueing_threads:
                return
            self._queueing += 1
        while True:
            with self._firing_lock:
                batch = list(itertools.islice(self._firing, self.poster.BATCH))
                for key in batch:
                    del self._firing[key]
                if not batch:
                    self._queueing -= 1
                    return
            try:
                self.run_due(channels=batch)
            except Exception:
                # The refresh sweep queues whatever is still due in a few seconds.
                log.exception("queueing the posts of %d channel(s) failed", len(batch))

    # -- the decision ----------------------------------------------------------------------
    def run_due(
        self,
        *,
        retry_failed: bool = False,
        channel: tuple[str, str] | None = None,
        channels: Collection[tuple[str, str]] | None = None,
    ) -> list[PostResult]:
        """Queue every post (or Monday digest) that is due now and not yet claimed.

        `channel` (team, channel), or several as `channels`, as cron jobs ask: those channels
        only, reading only their own schedules and claims (2,000 jobs at one minute each
        reading every claim is 4M rows).
        """
        if channel is not None:
            channels = [channel]
        now = self.clock()
        since = (now - dt.timedelta(days=2)).date()
        with self.database.reading() as session:
            schedules: list[ChannelSchedule]
            if channels is None:
                schedules = all_schedules(session=session)
            else:
                schedules = schedules_of(session=session, channels=channels)
            taken = claimed_keys(
                session=session, since=since, include_failed=not retry_failed, channels=channels
            )
            digests_taken = claimed_keys(
                session=session,
                since=since,
                kind=PostKind.DIGEST,
                include_failed=not retry_failed,
                channels=channels,
            )
        due = []
        for schedule in schedules:
            key = (schedule.team_id, schedule.channel_id)
            day = schedule.due(now, cutoff=self.cutoff)
            if day is not None and (*key, day) not in taken:
                due.append(Due(schedule, day))
            monday = schedule.digest_due(now, cutoff=self.cutoff)
            if monday is not None and (*key, monday) not in digests_taken:
                due.append(Due(schedule, monday, PostKind.DIGEST))
        return self.poster.queue(due, retry_failed=retry_failed) if due else []

    def settle(self, results: Iterable[PostResult], *, timeout: float = 30.0) -> list[PostResult]:
        """`results` once their queued posts have been sent or have failed (see DailyPoster)."""
        return self.poster.settle(results, timeout=timeout)

    def post_today(self, *, channels: Iterable[str] = (), force: bool = False) -> list[PostResult]:
        """Queue today's principle now in the given (or every) subscribed channel.

        Once a day unless `force`: a channel already posted today is left alone.
        """
        now = self.clock()
        wanted = set(channels)
        with self.database.transaction() as session:
            schedules = all_schedules(session=session)
        unknown = wanted - {s.channel_id for s in schedules}
        if unknown:
            raise LookupError(", ".join(sorted(unknown)))
        due = [
            Due(schedule, schedule.local_date(now))
            for schedule in schedules
            if (not wanted or schedule.channel_id in wanted)
            and (not schedule.paused_reason or force or schedule.channel_id in wanted)
        ]
        return self.poster.queue(due, retry_failed=True, force=force)
