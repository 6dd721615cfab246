"""What a kudos must know before it is written, found with as few round trips as possible:
the people it names and the audience of the conversation it is given in.

Each kudos used to look these up one at a time, each in its own transaction: the giver
(a read, then `users.info` and a write for someone new), each receiver, then the audience
(a read, then `conversations.info` and a write). On two cores that was a third of a kudos's
cost. Now: people from memory; what memory lacks, and the audience, in one read; Slack only
for what the database doesn't know either; and what Slack said is written by
`Lookup.remember`, inside the kudos's own transaction (or on its own when the kudos is
refused, so that the answer is still kept).

`SlackDirectory` is what the give flow (bot/kudos/flow.py) asks: these look-ups and the
user-group expansion, for one request's client.

When Slack can't answer about someone in time (slow, 429, 5xx), the kudos is not refused: the
person is taken as one (`provisional`, in the workspace's usual timezone) and named in
`Lookup.unconfirmed`, which the flow turns into checks after the answer (bot/kudos/checks.py).
After a 429 nobody is asked until its Retry-After has passed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.audience import Audience, known_audience, remember_audience
from bot.blocks.ids import KudosBlock
from bot.db.engine import Database
from bot.errors import KudosRefused
from bot.i18n.speech import N_
from bot.people import Person, remember_people
from bot.slack.channels import ask_audience, unanswered
from bot.slack.deadline import SlackTooSlow
from bot.slack.services import Services
from bot.slack.usergroups import GroupDirectory, expand_groups
from bot.slack.users import UserDirectory, retry_after_seconds

log = logging.getLogger(__name__)

SLACKBOT = "USLACKBOT"


@dataclass
class Lookup:
    """The people by ID, the audience, and what of them Slack told this request."""

    team_id: str
    channel_id: str | None
    people: dict[str, Person]
    audience: Audience
    learnt_people: list[Person] = field(default_factory=list)
    learnt_audience: bool = False
    # Those Slack couldn't answer about in time: taken as people for now, checked later.
    unconfirmed: set[str] = field(default_factory=set)

    def remember(self, session: Session, now: dt.datetime) -> None:
        """Write what Slack said, in the caller's transaction (the kudos's own)."""
        if self.learnt_people:
            remember_people(
                session=session, team_id=self.team_id, people=self.learnt_people, now=now
            )
        if self.learnt_audience and self.channel_id:
            remember_audience(
                session=session,
                team_id=self.team_id,
                channel_id=self.channel_id,
                audience=self.audience,
                now=now,
            )

    def remember_alone(self, database: Database, now: dt.datetime) -> None:
        """Write what Slack said in a transaction of its own (the kudos was refused)."""
        if not self.learnt_people and not self.learnt_audience:
            return
        try:
            with database.transaction() as session:
                self.remember(session, now)
        except SQLAlchemyError as error:
            # Only the copy is lost: the next request asks Slack again.
            log.warning("could not store what Slack said: %s", type(error).__name__)


@dataclass(frozen=True, slots=True)
class SlackDirectory:
    """The give flow's look-ups (`bot.kudos.flow.Directory`) through one request's client:
    before the ack, a client that keeps to the request's deadline."""

    database: Database
    users: UserDirectory
    groups: GroupDirectory
    client: WebClient
    bot_user_id: str | None
    group_cap: int
    # The workspace the request came from: an org-wide install's user groups are asked for
    # by workspace (Slack refuses an org token's call without it).
    workspace_id: str | None = None

    @classmethod
    def of(
        cls,
        services: Services,
        client: WebClient,
        bot_user_id: str | None,
        workspace_id: str | None = None,
    ) -> SlackDirectory:
        return cls(
            database=services.db,
            users=services.users,
            groups=services.groups,
            client=client,
            bot_user_id=bot_user_id,
            group_cap=services.settings.kudos_group_cap,
            workspace_id=workspace_id,
        )

    def members(
        self, *, team_id: str, giver_id: str, group_ids: Sequence[str], named_ids: Sequence[str]
    ) -> list[str]:
        return expand_groups(
            groups=self.groups,
            client=self.client,
            database=self.database,
            team_id=team_id,
            giver_id=giver_id,
            group_ids=group_ids,
            named_ids=named_ids,
            cap=self.group_cap,
            workspace_id=self.workspace_id,
        )

    def look_up(
        self,
        *,
        team_id: str,
        giver_id: str,
        recipient_ids: Sequence[str],
        channel_id: str | None,
        now: dt.datetime,
    ) -> Lookup:
        """The giver, the recipients and the audience, or a refusal naming what Slack wouldn't
        say: people from memory; what memory lacks, and the audience, in one read; Slack only
        for the rest. With the request's deadline client, a Slack too slow for the giver raises
        `SlackTooSlow`; for a recipient, a refusal under the recipients field."""
        wanted = list(dict.fromkeys([giver_id, *recipient_ids]))
        people = self.users.cached(team_id, wanted)
        missing = [user_id for user_id in wanted if user_id not in people]
        audience: Audience | None = Audience.UNKNOWN
        if missing or channel_id:
            with self.database.reading() as session:
                people.update(self.users.stored(session, team_id, missing))
                if channel_id:
                    audience = known_audience(
                        session=session, team_id=team_id, channel_id=channel_id, now=now
                    )
        found = Lookup(
            team_id=team_id, channel_id=channel_id, people=people, audience=Audience.UNKNOWN
        )
        # Once Slack has failed to answer in time (or said 429 lately), nobody else is asked:
        # the rest are taken as people too, and the kudos still answers within the deadline.
        slack_quiet = False
        for user_id in wanted:
            if user_id in people:
                continue
            person = None
            if not slack_quiet and self.users.may_ask(team_id):
                person = _ask(
                    self.users, self.client, team_id, user_id, recipient=user_id != giver_id
                )
            if person is None:
                slack_quiet = True
                person = provisional(user_id, self.users.usual_timezone(team_id))
                if not person.is_bot:
                    found.unconfirmed.add(user_id)
            else:
                found.learnt_people.append(person)
            people[user_id] = person
        if audience is not None:
            found.audience = audience
        elif channel_id:
            asked = ask_audience(client=self.client, channel_id=channel_id)
            found.audience = asked or unanswered(channel_id)
            found.learnt_audience = asked is not None
        bot = people.get(self.bot_user_id or "")
        if bot is not None:
            # The bot never receives kudos, however Slack describes its user.
            people[bot.id] = replace(bot, is_bot=True)
            found.unconfirmed.discard(bot.id)
        return found


def provisional(user_id: str, timezone: str | None) -> Person:
    """Someone Slack couldn't describe in time, as the kudos takes them until it can: a
    person, in the workspace's usual timezone (Slackbot is known to be a bot)."""
    return Person(
        id=user_id,
        name=user_id,
        timezone=timezone,
        is_bot=user_id == SLACKBOT,
        deleted=False,
        is_admin=False,
        is_owner=False,
    )


def _ask(
    users: UserDirectory, client: WebClient, team_id: str, user_id: str, *, recipient: bool
) -> Person | None:
    """Slack's answer about someone; None when Slack couldn't give one in time (slow, 429,
    5xx, unreachable), which is the bot's budget, not the person's doing."""
    try:
        return users.ask_slack(client, team_id, user_id)
    except SlackTooSlow as slow:
        if slow.retry_after is not None:
            users.hold_asking(team_id, slow.retry_after)
        return None
    except SlackApiError as error:
        status = error.response.status_code
        if status == 429:
            users.hold_asking(team_id, retry_after_seconds(error.response.headers))
            return None
        if status >= 500:
            return None
        if not recipient:
            raise
        reason = error.response.get("error")
        if reason in {"user_not_found", "users_not_found"}:
            raise KudosRefused(
                N_("I can't find one of those people in this workspace. Nothing was recorded."),
                field=KudosBlock.RECIPIENTS,
            ) from None
        raise KudosRefused(
            N_(
                "I couldn't check those people with Slack just now ({reason}). "
                "Nothing was recorded; please try again in a moment."
            ),
            field=KudosBlock.RECIPIENTS,
            fields={"reason": reason},
        ) from None
    except (SlackClientError, OSError):
        return None
