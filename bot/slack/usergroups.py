"""User-group mentions (`<!subteam^S…>`) in a kudos: the group's members, as Slack lists them.

`usergroups.users.list` is Tier 2 (20+ calls a minute), so answers are kept for five minutes
per process. A group reaches its members minus the giver, bots and deactivated people, and
at most `KUDOS_GROUP_CAP` of them: a bigger group is refused with a way out (name people, or
a smaller group) rather than cut down to an arbitrary few.

How it counts against the allowance: **one group mention counts once**, however many people
it reaches (a team recognised together is one recognition); each person named on their own
counts one as always. `give` is told so through its `allowance_cost`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.ids import KudosBlock
from bot.db.engine import Database
from bot.errors import Count, KudosRefused
from bot.i18n.speech import N_, NP_
from bot.people import find_people

log = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 300


class GroupDirectory:
    """Who is in a user group, from `usergroups.users.list`, cached; safe across threads."""

    def __init__(self, ttl_seconds: float = GROUP_CACHE_SECONDS) -> None:
        self._cache: TTLCache[tuple[str, str], tuple[str, ...]] = TTLCache(1000, ttl_seconds)
        self._lock = threading.Lock()

    def members(
        self, client: WebClient, team_id: str, group_id: str, workspace_id: str | None = None
    ) -> tuple[str, ...]:
        """The group's members. `workspace_id`: the workspace it belongs to, which an org-wide
        install's token must name (Slack ignores it for a workspace's token)."""
        key = (team_id, group_id)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        try:
            if workspace_id:
                answer = client.usergroups_users_list(usergroup=group_id, team_id=workspace_id)
            else:
                answer = client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as error:
            reason = error.response.get("error")
            log.info("usergroups.users.list %s failed: %s", group_id, reason)
            refusal = (
                N_(
                    "I couldn't see who is in that user group (it may have been disabled). "
                    "Nothing was recorded; name the people instead."
                )
                if reason == "no_such_subteam"
                else N_(
                    "I couldn't see who is in that user group. Nothing was recorded; name the "
                    "people instead."
                )
            )
            raise KudosRefused(refusal, field=KudosBlock.RECIPIENTS) from None
        members = tuple(str(user) for user in answer.get("users") or [])
        with self._lock:
            self._cache[key] = members
        return members


def expand_groups(
    *,
    groups: GroupDirectory,
    client: WebClient,
    database: Database,
    team_id: str,
    giver_id: str,
    group_ids: Sequence[str],
    named_ids: Sequence[str],
    cap: int,
    workspace_id: str | None = None,
) -> list[str]:
    """The members the groups add to the people named: no giver, no known bots or leavers.

    People the directory doesn't know yet are kept; the caller's look-up drops the bots and
    deactivated among them. Refuses when the kudos would reach more than `cap` people.
    """
    if not group_ids:
        return []
    found: list[str] = []
    for group_id in group_ids:
        found.extend(groups.members(client, team_id, group_id, workspace_id))
    candidates = [m for m in dict.fromkeys(found) if m != giver_id and m not in named_ids]
    with database.reading() as session:
        known = find_people(session=session, team_id=team_id, user_ids=candidates)
    people = [m for m in candidates if m not in known or not (known[m].is_bot or known[m].deleted)]
    if not people and not named_ids:
        raise KudosRefused(
            N_("That user group has nobody else in it to recognise. Nothing was recorded."),
            field=KudosBlock.RECIPIENTS,
        )
    total = len(people) + len(named_ids)
    if total > cap:
        raise KudosRefused(
            NP_(
                "That would recognise {total} people; a kudos reaches at most {cap}. Nothing "
                "was recorded: name the people, or mention a smaller group.",
                "That would recognise {total} people; a kudos reaches at most {cap}. Nothing "
                "was recorded: name the people, or mention a smaller group.",
            ),
            field=KudosBlock.RECIPIENTS,
            fields={"total": Count(total), "cap": Count(cap)},
            count=total,
        )
    return people
