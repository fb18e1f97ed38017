"""The new text of an inbound reply: what the lead wrote, without quoted history or signature.

1. The body: the first text/plain part that is not an attachment, unless it is blank; else the
   text/html part turned into plain text (quoted blocks — <blockquote>, Gmail's div.gmail_quote,
   Outlook's divRplyFwdMsg and everything after it — dropped first, then tags removed and entities
   decoded).
2. mail-parser-reply splits it at the reply headers of the languages in REPLY_LANGUAGES ("On … wrote:",
   "Am … schrieb …:", "Le … a écrit :", "El … escribió:", an Outlook "From: … Sent: …" block,
   "-----Original Message-----") and strips the signature and disclaimers of the first part.
3. A safety net for what the library misses (its Spanish header wants two spaces before "escribió",
   a "wrote" line folded by the client): the text is cut at the first "… wrote:"-style line in any
   of those languages, and a trailing block of "> " lines and a phone's "Sent from my …" line in
   those languages ("Von meinem iPhone gesendet", "Envoyé de mon iPhone") are dropped.
"""

from __future__ import annotations

import html
import logging
import re
from email.message import EmailMessage as StdlibEmailMessage
from email.message import Message
from html.parser import HTMLParser

from mailparser_reply.parser import EmailMessage as ReplyMessage

logger = logging.getLogger(__name__)

REPLY_LANGUAGES = ("en", "de", "fr", "es", "it", "nl")

# A line that introduces quoted history, in the languages above (and Portuguese).
_WROTE_LINE = re.compile(
    r"^[ >]*(?:On\s.+\swrote|Am\s.+\sschrieb.*|Le\s.+\sa\s+[ée]crit\s*|El\s.+\sescribi[óo]"
    r"|Il\s.+\sha\s+scritto|Op\s.+\sschreef|Em\s.+\sescreveu)\s*:\s*$",
    re.IGNORECASE | re.MULTILINE,
)
MAX_BODY_CHARS = 50_000  # the newest text is at the top
LONG_LINE_CHARS = 300
_LONG_LINE = re.compile(rf"^[^\n]{{{LONG_LINE_CHARS},}}$", re.MULTILINE)
_MOBILE = re.compile(
    r"\s*(?:Sent from my|Von meinem .{1,30} gesendet|Gesendet von|Envoy[ée] de(?:puis)? mon|Enviado desde mi"
    r"|Enviado do meu|Inviato da|Verstuurd vanaf mijn|Verzonden vanaf mijn|Get Outlook for)\b[^.,;!?]{0,40}$",
    re.IGNORECASE,
)
_STAND_IN = re.compile(r"LFLONGLINE\d+X")
_BLANK_LINES = re.compile(r"\n{3,}")

# HTML elements whose content is never text, and those that hold quoted history.
_INVISIBLE = {"script", "style", "head", "title", "template"}
_BLOCK = {
    "p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "pre",
}  # fmt: skip
_QUOTE_CLASSES = {"gmail_quote", "yahoo_quoted", "moz-cite-prefix"}
_QUOTE_IDS = {"divrplyfwdmsg", "appendonsend"}


def body_text(message: Message) -> str:
    """The readable body of `message`: its text/plain part, else its text/html part as plain text."""
    part = None
    if isinstance(message, StdlibEmailMessage):
        part = message.get_body(preferencelist=("plain", "html"))
    elif message.get_content_maintype() == "text":
        part = message
    if part is None:
        return ""
    content = _part_text(part)
    if part.get_content_subtype() == "html":
        return html_to_text(content)
    if not content.strip() and isinstance(message, StdlibEmailMessage):  # an empty plain part beside the HTML one
        html_part = message.get_body(preferencelist=("html",))
        if html_part is not None:
            return html_to_text(_part_text(html_part))
    return content


def _part_text(part: Message) -> str:
    try:
        content = part.get_content()
    except Exception:  # an unknown charset or a broken transfer encoding: decode what is there
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload or "")
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    return content if isinstance(content, str) else ""


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML body, leaving out quoted history."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip_tag = ""
        self._skip_depth = 0
        self._stopped = False  # Outlook's quoted header: everything after it is history

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._stopped:
            return
        if self._skip_depth:
            self._skip_depth += tag == self._skip_tag
            return
        values = dict(attrs)
        classes = set((values.get("class") or "").lower().split())
        element_id = (values.get("id") or "").lower()
        if element_id in _QUOTE_IDS:
            self._stopped = True
            return
        if tag in _INVISIBLE or tag == "blockquote" or classes & _QUOTE_CLASSES:
            self._skip_tag, self._skip_depth = tag, 1
            return
        if tag in _BLOCK:
            self.chunks.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not (self._stopped or self._skip_depth) and tag in _BLOCK:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._stopped:
            return
        if self._skip_depth:
            self._skip_depth -= tag == self._skip_tag
            return
        if tag in _BLOCK:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not (self._stopped or self._skip_depth):
            self.chunks.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML body: no tags, entities decoded, quoted history left out, blank runs collapsed."""
    extractor = _TextExtractor()
    try:
        extractor.feed(markup)
        extractor.close()
        text = "".join(extractor.chunks)
    except Exception:  # HTMLParser is lenient; this is for the truly broken
        text = html.unescape(re.sub(r"<[^>]*>", " ", markup))
    lines = [" ".join(line.replace("\xa0", " ").split()) for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def reply_text(body: str) -> str:
    """The newest part of a reply body: quoted history, reply headers, signature and disclaimers removed.

    The library's header patterns take time quadratic in a line's length (a 100 kB line of HTML-less
    text would hold a worker for minutes), so it sees the first MAX_BODY_CHARS only, and each line
    longer than any reply header (LONG_LINE_CHARS) as a short stand-in, put back afterwards."""
    text = body.replace("\r\n", "\n").replace("\r", "\n")[:MAX_BODY_CHARS]
    long_lines: dict[str, str] = {}

    def stand_in(match: re.Match) -> str:
        key = f"LFLONGLINE{len(long_lines)}X"
        long_lines[key] = match.group(0).strip()
        return key

    text = _LONG_LINE.sub(stand_in, text)
    try:
        # keep_hyphen_lists: a lead's "- Tuesday works" bullet is not a signature.
        parsed = ReplyMessage(text=text, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True).read()
        if parsed.replies:
            text = parsed.replies[0].body
    except Exception:  # the library is regex-based; never let it lose the message
        logger.debug("mail-parser-reply failed; keeping the whole body", exc_info=True)
    wrote = _WROTE_LINE.search(text)
    if wrote:
        text = text[: wrote.start()]
    lines = text.split("\n")
    # A quoted tail, and the phone's signature line the library knows only in some languages.
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">") or _MOBILE.match(lines[-1])):
        lines.pop()
    text = _STAND_IN.sub(lambda match: long_lines.get(match.group(0), match.group(0)), "\n".join(lines))
    return _BLANK_LINES.sub("\n\n", text).strip()
