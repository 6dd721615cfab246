"""Every person in their own language: `/mission`, help, refusals and `/kudos settings
language`, through signed requests; the reader's Slack locale picks the language."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from bot.db.models import WorkspaceSettings
from tests.conftest import Bot
from tests.support.conversation import new_ts, reaction_added
from tests.support.fake_slack import FakeSlack
from tests.support.kudos import outbox_settled

EMMA = "UEMMA0001"  # de-DE
ANA = "UANAPT001"  # pt-BR
XAVI = "UXXYY0001"  # a locale nobody ships
BOSS = "UBOSS0001"  # an admin, en-GB


def people(slack: FakeSlack) -> None:
    slack.add_user(EMMA, locale="de-DE", tz="Europe/Berlin")
    slack.add_user(ANA, locale="pt-BR", tz="America/Sao_Paulo")
    slack.add_user(XAVI, locale="xx-YY")
    slack.add_user(BOSS, locale="en-GB", is_admin=True)


def test_a_german_reader_gets_mission_in_german_with_the_translated_principles(
    bot: Bot, slack: FakeSlack
) -> None:
    people(slack)
    text = bot.command("/mission", user=EMMA).text
    assert "Tidewater Fracht: unsere Mission" in text
    assert "Wir bewegen die Waren unserer Kunden" in text
    assert "`1.` :telephone_receiver: *Sei erreichbar*  `#easy-to-reach`" in text
    assert "`/mission <Nummer oder Kürzel>` zeigt einen Grundsatz im Detail." in text
    assert "Be easy to reach" not in text


def test_an_english_reader_is_unchanged_by_the_translations(bot: Bot, slack: FakeSlack) -> None:
    people(slack)
    text = bot.command("/mission", user=BOSS).text
    assert "Tidewater Freight: our mission" in text
    assert "*Be easy to reach*" in text
    assert "Sei erreichbar" not in text


def test_a_translated_title_finds_the_principle_and_shows_it_in_the_readers_language(
    bot: Bot, slack: FakeSlack
) -> None:
    people(slack)
    german = bot.command("/mission", "sei erreichbar", user=EMMA).text
    assert "*Sei erreichbar*" in german
    assert "Grundsatz 1 · `#easy-to-reach` · Easy" in german
    assert "So haben wir ihn gelebt" in german
    english = bot.command("/mission", "sei erreichbar", user=BOSS).text
    assert "*Be easy to reach*" in english


def test_bot_words_follow_the_reader_where_the_mission_file_has_no_translation(
    bot: Bot, slack: FakeSlack
) -> None:
    people(slack)
    text = bot.command("/mission", user=ANA).text
    assert "Tidewater Freight: nossa missão" in text
    assert "*Be easy to reach*" in text  # the example file has no Portuguese principles


def test_an_unknown_locale_reads_the_workspace_language(bot: Bot, slack: FakeSlack) -> None:
    people(slack)
    assert "Tidewater Freight: our mission" in bot.command("/mission", user=XAVI).text
    bot.command("/kudos", "settings language de", user=BOSS)
    assert "Tidewater Fracht: unsere Mission" in bot.command("/mission", user=XAVI).text
    # Someone whose own language is shipped keeps it.
    assert "Tidewater Freight: nossa missão" in bot.command("/mission", user=ANA).text


def test_an_unknown_principle_is_refused_in_the_readers_language(
    bot: Bot, slack: FakeSlack
) -> None:
    people(slack)
    text = bot.command("/mission", "erreichbarkeit-xyz", user=EMMA).text
    assert "Einen Grundsatz namens `erreichbarkeit-xyz` kenne ich nicht." in text
    assert "Die Grundsätze sind: `#easy-to-reach`" in text


def test_help_lists_a_languages_own_words_which_work_like_the_english(
    bot: Bot, slack: FakeSlack
) -> None:
    people(slack)
    help_text = bot.command("/kudos", "hilfe", user=EMMA).text
    assert "`/kudos leaderboard [Zeitraum] [#Grundsatz] [givers]`" in help_text
    assert "(auch: `rangliste`)" in help_text
    english_help = bot.command("/kudos", "help", user=BOSS).text
    assert "rangliste" not in english_help
    assert (
        bot.command("/kudos", "rangliste", user=EMMA).text
        == bot.command("/kudos", "leaderboard", user=EMMA).text
    )


def test_managers_set_the_workspace_language(bot: Bot, slack: FakeSlack) -> None:
    people(slack)
    reply = bot.command("/kudos", "settings language pt-BR", user=BOSS).text
    assert "• language *Português (Brasil)* (`pt_BR`)" in reply
    with bot.database.reading() as session:
        assert session.scalars(select(WorkspaceSettings.language)).all() == ["pt_BR"]


def test_a_language_the_bot_doesnt_ship_is_refused_with_the_list(
    bot: Bot, slack: FakeSlack
) -> None:
    people(slack)
    reply = bot.command("/kudos", "settings language klingon", user=BOSS).text
    assert "The bot doesn't speak `klingon` yet." in reply
    assert "`de` (Deutsch)" in reply
    assert "Nothing was changed." in reply
    with bot.database.reading() as session:
        assert session.scalars(select(WorkspaceSettings)).all() == []


def test_only_managers_set_the_language_and_are_told_so_in_their_language(
    bot: Bot, slack: FakeSlack
) -> None:
    people(slack)
    reply = bot.command("/kudos", "settings language fr", user=EMMA).text
    assert "Nur Workspace-Admins und missionbot-Manager" in reply
    with bot.database.reading() as session:
        assert session.scalars(select(WorkspaceSettings)).all() == []


# -- kudos: the giver reads theirs, the channel the workspace's, the receiver theirs -------


def test_a_channel_post_stays_in_the_workspace_language_whoever_gave_the_kudos(
    bot: Bot, slack: FakeSlack
) -> None:
    people(slack)
    reply = bot.command("/kudos", f"<@{ANA}> #sei-erreichbar danke!", user=EMMA)
    assert "Kudos für <@UANAPT001> gespeichert: :telephone_receiver: *Sei erreichbar*" in (
        reply.text
    )
    assert "Du hast heute noch 4 von 5 Kudos." in reply.text
    outbox_settled(bot.database)
    [post] = [c for c in slack.calls("chat.postMessage") if c["channel"] == "CGENERAL01"]
    assert f"<@{EMMA}> gave kudos to <@{ANA}> for :telephone_receiver: *Be easy to reach*" in (
        json.dumps(post["blocks"], ensure_ascii=False)
    )
    [dm] = [c for c in slack.calls("chat.postMessage") if c["channel"] == ANA]
    assert f"<@{EMMA}> deu kudos para você em <#CGENERAL01>" in json.dumps(
        dm["blocks"], ensure_ascii=False
    )


def test_a_german_workspace_announces_an_english_givers_kudos_in_german(
    bot: Bot, slack: FakeSlack
) -> None:
    people(slack)
    bot.command("/kudos", "settings language de", user=BOSS)
    reply = bot.command("/kudos", f"<@{EMMA}> #easy-to-reach thanks for the call", user=BOSS)
    assert "Kudos recorded for <@UEMMA0001>" in reply.text
    outbox_settled(bot.database)
    [post] = [c for c in slack.calls("chat.postMessage") if c["channel"] == "CGENERAL01"]
    blocks = json.dumps(post["blocks"], ensure_ascii=False)
    assert f"<@{BOSS}> hat <@{EMMA}> Kudos für :telephone_receiver: *Sei erreichbar* gegeben" in (
        blocks
    )
    assert "mit `/kudos` jemanden würdigen" in blocks


def test_a_refusal_is_in_the_givers_language(bot: Bot, slack: FakeSlack) -> None:
    people(slack)
    reply = bot.command("/kudos", f"<@{EMMA}> #plain-words ich bin toll", user=EMMA)
    assert "dir selbst kannst du keine geben" in reply.text
    assert "Você não tem kudos para desfazer." in bot.command("/kudos", "undo", user=ANA).text


def test_the_schedule_reply_is_in_the_askers_language_with_its_dates(
    bot: Bot, slack: FakeSlack
) -> None:
    people(slack)
    text = bot.command("/mission", "subscribe 09:00 daily Europe/Berlin", user=EMMA).text
    assert "<#CGENERAL01> bekommt den Grundsatz des Tages um *09:00* jeden Tag" in text
    assert re.search(
        r"Der nächste: (Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag), "
        r"\d+\. \w+, 09:00 ",
        text,
    ), text
    english = bot.command("/mission", "schedule", user=BOSS).text
    assert "gets the principle of the day at *09:00* on every day, Europe/Berlin time" in english


def test_a_reactions_thread_reply_is_in_the_workspace_language_and_the_authors_dm_in_theirs(
    bot: Bot, slack: FakeSlack
) -> None:
    people(slack)
    ts = new_ts()
    event = reaction_added(user=EMMA, name="telephone_receiver", item_user=ANA, ts=ts)
    assert bot.event(event).status == 200
    [reply] = slack.wait_for("chat.postMessage", where=lambda c: c.get("thread_ts") == ts)
    assert ":telephone_receiver: *Be easy to reach* — recognised by" in reply["text"]
    [dm] = slack.wait_for(
        "chat.postMessage",
        where=lambda c: c.get("channel") == ANA and "reações de princípio" in str(c["blocks"]),
    )
    assert "foi reconhecida com reações de princípio" in str(dm["blocks"])


def test_the_kudos_form_is_in_the_givers_language_with_the_principles_translated(
    bot: Bot, slack: FakeSlack
) -> None:
    people(slack)
    bot.command("/kudos", "", user=EMMA)
    [call] = slack.wait_for("views.open")
    view = call["view"] if isinstance(call["view"], dict) else json.loads(call["view"])
    text = json.dumps(view, ensure_ascii=False)
    assert view["title"]["text"] == "Kudos geben"
    assert "Für welchen Grundsatz?" in text
    assert "1. Sei erreichbar" in text


def test_a_locale_changed_before_delivery_reaches_the_reader_but_never_the_channel(
    bot: Bot, slack: FakeSlack
) -> None:
    people(slack)
    reply = bot.command("/kudos", f"<@{ANA}> #sei-erreichbar danke!", user=EMMA)
    assert "Kudos für <@UANAPT001> gespeichert" in reply.text  # the ack: Emma's German, then
    # Before anything is delivered, both change their Slack language: Ana to French, the
    # giver to Japanese. What is drawn at delivery is drawn for who they are now.
    for user, locale in ((ANA, "fr-FR"), (EMMA, "ja-JP")):
        changed = slack.add_user(user, **{**slack.users[user], "locale": locale})
        assert bot.event({"type": "user_change", "user": changed}).status == 200
    bot.deliver()
    outbox_settled(bot.database)
    [dm] = [c for c in slack.calls("chat.postMessage") if c["channel"] == ANA]
    said = json.dumps(dm["blocks"], ensure_ascii=False)
    assert f":tada: <@{EMMA}> vous a donné des kudos dans <#CGENERAL01> pour" in said
    assert "deu kudos para você" not in said  # not the Portuguese of the command's moment
    [post] = [c for c in slack.calls("chat.postMessage") if c["channel"] == "CGENERAL01"]
    announced = json.dumps(post["blocks"], ensure_ascii=False)
    # The workspace's English: neither the giver's German then nor their Japanese now.
    assert f"<@{EMMA}> gave kudos to <@{ANA}> for :telephone_receiver: *Be easy to reach*" in (
        announced
    )
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", announced)
    assert "Sei erreichbar" not in announced
