"""Every person in their own language: which language a reader gets, and the words in it.

- `negotiate.py`: Slack's locale (`pt-BR`) to a shipped language (`pt_BR` → `pt` → the
  workspace language); anything unknown or malformed falls back.
- `catalogs.py`: the compiled gettext catalogues in bot/locales, loaded once per language, and
  the pseudo-locale `en_XA` that makes an untranslated string stand out.
- `speech.py`: `Speech`, what a renderer is handed: `_`/`ngettext` and Babel's dates, numbers
  and lists in one language. Block builders take one explicitly (`t: Speech`), so a channel
  post can never pick up the language of whoever caused it.

Who reads in which language: what one person reads (ephemeral answers, DMs, modals) in theirs
(`people.locale`, negotiated); what a channel reads in the workspace language
(`workspace_settings.language`, else `MISSIONBOT_LANGUAGE`).
"""

from bot.i18n.catalogs import PSEUDO_LOCALE, SHIPPED_LANGUAGES
from bot.i18n.negotiate import negotiate
from bot.i18n.speech import ENGLISH, Speech, speech

__all__ = ["ENGLISH", "PSEUDO_LOCALE", "SHIPPED_LANGUAGES", "Speech", "negotiate", "speech"]
