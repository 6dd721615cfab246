"""`/kudos settings`: each workspace turns principle reactions and kudos in a message on or off."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import WorkspaceSettings
from tests.conftest import Bot
from tests.support.conversation import message, new_ts, reaction_added, wait_until
from tests.support.fake_slack import FakeSlack
from tests.support.kudos import BEN, CARL, GIVER, kudos_rows, outbox_settled

ADMIN = "UADMIN001"


def test_only_managers_change_the_settings(bot: Bot, slack: FakeSlack) -> None:
    reply = bot.command("/kudos", "settings reactions off", user=GIVER)
    assert "Only workspace admins and missionbot managers" in reply.text
    with bot.database.reading() as session:
        assert session.scalars(select(WorkspaceSettings)).all() == []


def test_turned_off_reactions_and_messages_give_nothing(bot: Bot, slack: FakeSlack) -> None:
    slack.add_user(ADMIN, is_admin=True)
    reply = bot.command("/kudos", "settings reactions off messages off", user=ADMIN)
    assert "principle reactions *off*" in reply.text
    assert "kudos in a message *off*" in reply.text
    bot.event(reaction_added(user=GIVER, name="dart", item_user=BEN, ts=new_ts()))
    bot.event(message(f"kudos <@{BEN}> #plain-words thanks", user=GIVER))
    # /kudos itself is unaffected, and is what we wait for.
    assert "Kudos recorded" in bot.command("/kudos", f"<@{CARL}> #plain-words marker").text
    outbox_settled(bot.database)
    assert [row.source for row in kudos_rows(bot.database)] == ["command"]
    assert not slack.calls("reactions.add")
    reply = bot.command("/kudos", "settings reactions on", user=ADMIN)
    assert "principle reactions *on*" in reply.text
    bot.event(reaction_added(user=GIVER, name="dart", item_user=BEN, ts=new_ts()))
    wait_until(lambda: len(kudos_rows(bot.database)) == 2, what="the reaction's kudos")


def test_the_trigger_word_is_a_setting(bot: Bot, slack: FakeSlack) -> None:
    slack.add_user(ADMIN, is_admin=True)
    reply = bot.command("/kudos", "settings trigger Props", user=ADMIN)
    assert "starting with `props`" in reply.text
    bot.event(message(f"kudos <@{BEN}> #plain-words not the word any more", user=GIVER))
    bot.event(message(f"props <@{CARL}> #plain-words the new word", user=GIVER))
    wait_until(lambda: len(kudos_rows(bot.database)) == 1, what="the props kudos")
    outbox_settled(bot.database)
    assert [row.receiver_id for row in kudos_rows(bot.database)] == [CARL]


def test_settings_that_make_no_sense_change_nothing(bot: Bot, slack: FakeSlack) -> None:
    slack.add_user(ADMIN, is_admin=True)
    for args in ("reactions maybe", "colour blue", "trigger", "trigger <!channel>"):
        reply = bot.command("/kudos", f"settings {args}", user=ADMIN)
        assert reply.status == 200
        assert "Try `/kudos settings`" in reply.text or "trigger word must be" in reply.text
    with bot.database.reading() as session:
        assert session.scalars(select(WorkspaceSettings)).all() == []
    assert "principle reactions *on*" in bot.command("/kudos", "settings", user=ADMIN).text
