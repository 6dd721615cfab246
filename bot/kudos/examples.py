"""A kudos shown as an example of a principle lived: its giver, everyone who received it, its
words and when. The morning post, the onboarding lessons and `/mission lived` quote these, so
the type lives with the kudos rather than with any one of them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# How far back a "recent" kudos goes when one is quoted.
RECENT_KUDOS = dt.timedelta(days=90)


@dataclass(frozen=True, slots=True)
class KudosExample:
    """A recent kudos tagged with a principle: one giver, everyone who received it."""

    giver_id: str
    receiver_ids: tuple[str, ...]
    message: str
    created_at: dt.datetime
