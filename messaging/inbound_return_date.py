"""The day an out-of-office sender says they are back ("back on 12 January", "bis zum 7. Dezember").

1. Find the cue phrases (RETURN_CUES: "back on", "until", "returning", "bis", "zurück am", "jusqu'au",
   "de retour le", "hasta el", "fino al", "tot en met", "até" …) in the subject and body: the first
   MAX_CUES of them in the first MAX_TEXT_CHARS.
2. Take the words after the cue on the same line and let dateparser read the longest prefix of them
   (up to six words, in the languages of DATE_LANGUAGES) that it resolves to a day; a bare month
   ("until January") or a time is not a day and is skipped. Dates without a year, weekdays
   ("returning Monday") and "tomorrow" are read relative to when the email was sent, towards the future.
3. The first such day, in text order, after the day the email was sent and at most a year later
   (half a year for a date written without its year: a stale out-of-office's "until 1 December"
   must not read as next December) is the return date; anything else (a past date, "until further
   notice") gives None.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from dateparser.date import DateDataParser

logger = logging.getLogger(__name__)

DATE_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pt"]
MAX_AHEAD = dt.timedelta(days=366)
# A date without a year reads as its next occurrence: "until 1 December" in a stale out-of-office
# sent on 2 December would be a year ahead. Half a year is as far as a year-less date may reach.
MAX_AHEAD_WITHOUT_YEAR = dt.timedelta(days=183)
_YEAR = re.compile(r"\b\d{4}\b")
_MAX_WORDS = 6
# An out-of-office says when in its first lines; dateparser takes about a millisecond a phrase, so
# a long body of cue words must not make thousands of calls.
MAX_TEXT_CHARS = 3000
MAX_CUES = 20

RETURN_CUES = re.compile(
    r"\b(?:"
    # English
    r"(?:be |i'?ll be |i will be )?back(?: in the office)?(?: on| from)?|return(?:ing)?(?: to the office)?(?: on)?"
    r"|until|till|through|in the office (?:on|from)"
    # German
    r"|bis(?: einschlie(?:ß|ss)lich| inkl\.?)?(?: zum| am)?|zur(?:ü|ue)ck(?: am| ab)?|wieder(?: im b(?:ü|ue)ro)?(?: am| ab)?"
    # French
    r"|jusqu'(?:au|à|a)|de retour(?: le| à partir du)?|retour(?: le| prévu le)?"
    # Spanish
    r"|hasta(?: el)?|de vuelta(?: el)?|regreso(?: el)?|vuelvo(?: el)?|volver[ée](?: el)?"
    # Italian
    r"|fino(?: al| a)|rientro(?: previsto)?(?: il)?|di ritorno(?: il)?"
    # Dutch
    r"|tot(?: en met)?|terug(?: op)?"
    # Portuguese
    r"|at[ée](?: ao| o| dia)?|regresso(?: a| no dia)?|retorno(?: em| no dia)?"
    r")\b",
    re.IGNORECASE,
)
_FILLER = {"on", "the", "le", "el", "il", "den", "dem", "zum", "am", "dia", "o", "a", "ao", "em", "no", "op", "de"}


def return_date_in(text: str, *, sent_at: dt.datetime) -> dt.date | None:
    """The first return day stated in `text` after `sent_at`'s day (and within a year), or None."""
    base = sent_at.replace(tzinfo=None)
    parser = DateDataParser(
        languages=DATE_LANGUAGES,
        settings={"PREFER_DATES_FROM": "future", "RELATIVE_BASE": base, "PREFER_DAY_OF_MONTH": "first"},
    )
    for number, cue in enumerate(RETURN_CUES.finditer(text[:MAX_TEXT_CHARS])):
        if number >= MAX_CUES:
            break
        line_rest = text[cue.end() :].split("\n", 1)[0]
        day, phrase = _first_day(parser, line_rest)
        ahead = MAX_AHEAD if _YEAR.search(phrase) else MAX_AHEAD_WITHOUT_YEAR
        if day and base.date() < day <= (base + ahead).date():
            return day
    return None


def _first_day(parser: DateDataParser, words_after: str) -> tuple[dt.date | None, str]:
    """The day the longest prefix of `words_after` names, and that prefix; (None, "") if none does."""
    words = words_after.replace(",", " ").split()[: _MAX_WORDS + 2]
    while words and words[0].lower() in _FILLER:
        words = words[1:]
    for count in range(min(len(words), _MAX_WORDS), 0, -1):
        phrase = " ".join(words[:count]).rstrip(".;:!?)")
        if phrase.isdigit():  # "until 3 (pm)": a bare number is no day
            continue
        try:
            found = parser.get_date_data(phrase)
        except Exception:  # dateparser on odd input (huge numbers, stray scripts): not a date
            logger.debug("dateparser failed on %r", phrase, exc_info=True)
            continue
        if found and found.date_obj and found.period == "day":
            return found.date_obj.date(), phrase
    return None, ""
