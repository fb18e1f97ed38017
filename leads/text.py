"""The input rule for text that comes from outside (a form, the API, a CSV cell, an SMS).

Text a lead or a rep typed ends up in places that cannot take every character: an email subject
("Header values can't contain newlines"), a rep's alert, a terminal reading the logs (ANSI
escapes), a CSV. So every intake path cleans it once, on the way in
(leads.services.intake.lead_clean_input, used by the phone form, the API, CSV imports, referrals,
inbound SMS and lead edits):

- one-line fields (names, company, how heard, handles, URLs): ANSI/terminal escape sequences are
  removed, every line break or tab (CR, LF, VT, FF, NEL, U+2028, U+2029) becomes one space, and
  every other C0/C1 control character (U+0000–U+001F, U+007F–U+009F) is removed;
- free text (the lead's interest, notes): the same, except that line breaks are kept as "\\n"
  (CRLF and CR become LF).

Letters, marks, emoji and other printable characters are kept as typed. A NUL character is
refused by the form and API fields before it gets here (Django's and DRF's CharField), and the
intake service refuses it too, so a NUL is an error, never silently dropped.
"""

import re

# ESC-introduced sequences: CSI ("ESC [ … final", colours and cursor moves), OSC ("ESC ] … BEL/ST",
# window titles, hyperlinks), the other string commands (DCS, SOS, PM, APC … ST), and the two-byte
# escapes. C1 CSI (U+009B) is the one-character form of "ESC [".
_ESCAPE_SEQUENCES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?          # CSI
    | (?:\x1b\]|\x9d)[^\x07\x1b\x9c]{0,512}(?:\x07|\x1b\\|\x9c)  # OSC … BEL or ST
    | (?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]{0,512}(?:\x1b\\|\x9c)  # DCS, SOS, PM, APC … ST
    | \x1b[ -/]*[0-~]?                         # any other escape (an unterminated string loses only its introducer)
    """,
    re.VERBOSE,
)
_LINE_BREAKS = "\r\n\v\f\x85\u2028\u2029"
_BREAKS_AND_TABS = re.compile(rf"[ \t]*[{_LINE_BREAKS}\t]+[ \t]*")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROLS_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_NEWLINES = re.compile(r"\r\n|[\r\v\f\x85\u2028\u2029]")


def single_line(value: str) -> str:
    """`value` as one clean line (see the module docstring), stripped of surrounding spaces."""
    value = _ESCAPE_SEQUENCES.sub("", value or "")
    value = _BREAKS_AND_TABS.sub(" ", value)
    return _CONTROLS.sub("", value).strip()


def multi_line(value: str) -> str:
    """`value` as clean free text: line breaks kept as LF, tabs as spaces, other controls removed."""
    value = _ESCAPE_SEQUENCES.sub("", value or "")
    value = _NEWLINES.sub("\n", value).replace("\t", " ")
    return _CONTROLS_BUT_NEWLINE.sub("", value).strip()
