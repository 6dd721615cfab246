"""The person checks' job: after a kudos was answered without Slack's word on someone, find
out who they are, at Slack's pace, and correct the kudos when they are no person to count.

The rules are bot/kudos/checks.py's; this is the Slack side: a thread (started by `serve`)
that claims the people due (`claim_due`, safe with several processes), looks each one up in
the directory first — the fill (`DirectorySync`) or a `user_change` may have described them
meanwhile, and that costs Slack nothing — and only then asks `users.info`, at
`CHECKS_PER_MINUTE` (half of Tier 4's 100, leaving the rest to requests), never while a 429's
Retry-After runs. What Slack says is stored in the directory, applied (`settle`), and any
correction queued through the outbox (`queue_correction`) in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import SQLAlchemyError

from bot.db.engine import Database
from bot.db.models import Clock, utcnow
from bot.kudos.checks import Correction, check_later, claim_due, postpone, settle
from bot.people import Person, remember_people
from bot.slack.outbound.kudos import queue_correction
from bot.slack.users import CallPace, UserDirectory, retry_after_seconds

log = logging.getLogger(__name__)

CHECKS_PER_MINUTE = 50
CHECKS_BURST = 5
# How many people one round claims, and how long a claim keeps them from other processes.
BATCH = 20
HOLD = dt.timedelta(minutes=2)
POLL_S = 1.0
# A person not asked for want of budget is due again this long after (divided by the scale).
NOT_NOW_S = 5.0
NOT_FOUND = frozenset({"user_not_found", "users_not_found"})


class PersonChecks:
    """Checks the people kudos were recorded for before Slack could describe them."""

    def __init__(
        self,
        client: WebClient,
        users: UserDirectory,
        database: Database,
        *,
        scale: float = 1.0,
        clock: Clock = utcnow,
        notify: Callable[[], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        language: str = "en",
    ) -> None:
        self._client = client
        # MISSIONBOT_LANGUAGE: the giver's correction DM where neither they nor the workspace
        # chose a language the bot speaks.
        self._language = language
        self._users = users
        self._database = database
        self._clock = clock
        self._notify = notify
        self._scale = scale
        self._stop = threading.Event()
        self._pace = CallPace(
            CHECKS_PER_MINUTE * scale, CHECKS_BURST, stop=self._stop, monotonic=monotonic
        )
        self._thread = threading.Thread(target=self._run, name="person-checks", daemon=True)
        # What this process has done, for the log and the benchmark.
        self.corrected = 0
        self.asked = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                checked = self.run_due()
            except SQLAlchemyError as error:
                log.warning("person checks: database unavailable: %s", type(error).__name__)
                checked = 0
            if not checked:
                self._stop.wait(POLL_S)

    def run_due(self, limit: int = BATCH) -> int:
        """Check the people due now (up to `limit`); how many were claimed."""
        with self._database.transaction() as session:
            claimed = claim_due(session, now=self._clock(), limit=limit, hold=HOLD)
        for team_id, user_id in claimed:
            if self._stop.is_set():
                break
            self._check(team_id, user_id)
        return len(claimed)

    def _check(self, team_id: str, user_id: str) -> None:
        with self._database.reading() as session:
            person: Person | None = self._users.stored(session, team_id, [user_id]).get(user_id)
        learnt = False
        if person is None:
            if not self._pace.wait():
                self._postpone(team_id, user_id)
                return
            if not self._users.may_ask(team_id):
                # The budget went to requests (or a 429 is being waited out): soon again.
                self._postpone(team_id, user_id)
                return
            self.asked += 1
            try:
                person = self._users.ask_slack(self._client, team_id, user_id)
                learnt = True
            except SlackApiError as error:
                if error.response.status_code == 429:
                    self._users.hold_asking(team_id, retry_after_seconds(error.response.headers))
                if error.response.get("error") not in NOT_FOUND:
                    self._later(team_id, user_id)
                    return
                person = None  # Slack says they aren't in the workspace
            except (SlackClientError, OSError) as error:
                log.info("person check %s: %s", user_id, type(error).__name__)
                self._later(team_id, user_id)
                return
        now = self._clock()
        with self._database.transaction() as session:
            if learnt and person is not None:
                remember_people(session=session, team_id=team_id, people=[person], now=now)
            corrections = settle(session, team_id=team_id, user_id=user_id, person=person, now=now)
            for correction in corrections:
                queue_correction(
                    session,
                    team_id=team_id,
                    correction=correction,
                    now=now,
                    language=self._language,
                )
        self._report(corrections)

    def _report(self, corrections: list[Correction]) -> None:
        for correction in corrections:
            self.corrected += 1
            log.info(
                "kudos corrected: %s for %s (%s)",
                f"kudos:{correction.withdrawn.group_id}",
                correction.user_id,
                correction.verdict,
            )
        if corrections and self._notify is not None:
            self._notify()

    def _postpone(self, team_id: str, user_id: str) -> None:
        until = self._clock() + dt.timedelta(seconds=NOT_NOW_S / self._scale)
        with self._database.transaction() as session:
            postpone(session, team_id=team_id, user_id=user_id, until=until)

    def _later(self, team_id: str, user_id: str) -> None:
        with self._database.transaction() as session:
            check_later(session, team_id=team_id, user_id=user_id, now=self._clock())
