"""Reading one inbound email: raw RFC 5322 bytes in, plain values out (pure functions, no models).

`parse_email(raw)` never raises: a header it cannot decode is left empty, and bytes that are not an
email at all (none of From, To, Subject, Date, Message-ID) give kind "reply" with every field empty,
which the caller stores unmatched.

Message-IDs keep their angle brackets with whitespace removed; In-Reply-To and References list every
id found, in order, each once. Addresses are bare and lower-cased; `to_addresses` is To + Cc +
Delivered-To + X-Original-To, each once.

Classification, first rule that applies:

1. **bounce / delay** — an RFC 3464 report (`multipart/report; report-type=delivery-status`): the
   first per-recipient block whose Action is failed or delayed (else the first block) gives `bounce`.
   Action failed with a status other than 4.x.x is "bounce" (hard when the status is 5.x.x);
   Action delayed, or any 4.x.x status, is "delay". A report that only says delivered/relayed/expanded
   is "auto_reply" with no bounce. Without a report: mail from MAILER-DAEMON / postmaster / "Mail
   Delivery System" whose body holds a 5.x.x status is a hard "bounce" (a 4.x.x one a "delay"); the
   recipient is X-Failed-Recipients, else the first "<address>:" line (qmail), else the first
   address next to the status. `original_message_id` is the Message-ID of the returned original
   (its message/rfc822 or text/rfc822-headers part, else a "Message-ID:" line in the body).
2. **auto_reply** — RFC 3834 `Auto-Submitted` other than "no"; `X-Autoreply`; `X-Autorespond`;
   `X-Auto-Response-Suppress` naming OOF or AutoReply; `Precedence` or `X-Precedence` auto_reply,
   bulk or junk; an out-of-office subject in English, German, French, Spanish, Italian, Dutch or
   Portuguese (OOF_SUBJECT); other mail from a mailer daemon; any other `multipart/report` (a read
   receipt, RFC 8098; an abuse feedback report, RFC 5965). `return_date` is read from its
   subject and body (messaging.inbound_return_date).
3. **reply** — everything else. `reply_text` is the new text only (messaging.inbound_reply_text).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses, parsedate_to_datetime

from messaging.inbound_reply_text import body_text, reply_text
from messaging.inbound_return_date import return_date_in

logger = logging.getLogger(__name__)

REPLY = "reply"
AUTO_REPLY = "auto_reply"
BOUNCE = "bounce"
DELAY = "delay"

DIAGNOSTIC_MAX_CHARS = 200
_EMAIL_HEADERS = ("from", "to", "subject", "date", "message-id")

OOF_SUBJECT = re.compile(
    r"\b(?:out of (?:the )?office|automatic reply|auto[- ]?reply|autoresponder|auto[- ]?response|vacation reply"
    r"|abwesenheitsnotiz|abwesenheit|automatische antwort|nicht im b(?:ü|ue)ro|abwesend"
    r"|absence du bureau|r[ée]ponse automatique|absent(?:e)? du bureau"
    r"|fuera de la oficina|respuesta autom[áa]tica|ausente"
    r"|risposta automatica|fuori (?:sede|ufficio)"
    r"|afwezig|automatisch antwoord|niet aanwezig|buiten kantoor"
    r"|resposta autom[áa]tica|fora do escrit[óo]rio)\b",
    re.IGNORECASE,
)
_AUTO_PRECEDENCE = {"auto_reply", "bulk", "junk"}
_DAEMON_LOCALS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
_DAEMON_NAME = re.compile(r"mail delivery (?:system|subsystem)|mailer-daemon", re.IGNORECASE)
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_MESSAGE_ID = re.compile(r"<([^<>]+)>")
_BODY_MESSAGE_ID = re.compile(r"^[ >]*Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_QMAIL_RECIPIENT = re.compile(r"^<([^<>\s]+@[^<>\s]+)>:\s*$", re.MULTILINE)
_RETURNED_COPY = re.compile(
    r"^-+ ?(?:Below this line is a copy of the message|This is a copy of the message)", re.IGNORECASE | re.MULTILINE
)
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class Bounce:
    recipient: str = ""  # Final-Recipient (else Original-Recipient), bare, lower-cased
    status: str = ""  # "5.1.1"
    action: str = ""  # "failed" / "delayed"
    diagnostic: str = ""  # short, single line
    hard: bool = False


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    from_address: str = ""
    from_name: str = ""
    to_addresses: list[str] = field(default_factory=list)
    subject: str = ""
    sent_at: dt.datetime | None = None
    kind: str = REPLY
    reply_text: str = ""
    return_date: dt.date | None = None
    bounce: Bounce | None = None
    original_message_id: str = ""


def parse_email(raw: bytes) -> ParsedEmail:
    """The plain values of one raw email (see the module docstring); never raises."""
    try:
        return _parse(bytes(raw))
    except Exception:  # each piece below is guarded already; this is the last line of that promise
        logger.warning("inbound email could not be parsed", exc_info=True)
        return ParsedEmail()


def _parse(raw: bytes) -> ParsedEmail:
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception:
        return ParsedEmail()
    if not any(_header(message, name) for name in _EMAIL_HEADERS):
        return ParsedEmail()
    from_name, from_address = _from(message)
    sent_at = _date(_header(message, "date"))
    body = clean_text(_safe(lambda: body_text(message), ""))
    kind, bounce = _safe(lambda: _delivery_report(message, from_address, from_name, body), (REPLY, None))
    if kind == REPLY and _safe(lambda: _is_auto_reply(message, from_address, from_name), False):
        kind = AUTO_REPLY
    subject = _header(message, "subject")
    return_date = None
    if kind == AUTO_REPLY:
        base = sent_at or dt.datetime.now(dt.UTC)
        return_date = _safe(lambda: return_date_in(f"{subject}\n{body}", sent_at=base), None)
    return ParsedEmail(
        message_id=_first_message_id(_header(message, "message-id")),
        in_reply_to=_message_ids(_header(message, "in-reply-to")),
        references=_message_ids(_header(message, "references")),
        from_address=from_address,
        from_name=from_name,
        to_addresses=_recipients(message),
        subject=subject,
        sent_at=sent_at,
        kind=kind,
        reply_text=_safe(lambda: reply_text(_without_returned_copy(body, from_address, from_name)), ""),
        return_date=return_date,
        bounce=bounce,
        original_message_id=_safe(lambda: _original_message_id(message, body), "") if bounce else "",
    )


def _safe(compute, default):
    try:
        return compute()
    except Exception:  # one unreadable piece must not lose the rest of the email
        return default


# Headers


def _header(message: Message, name: str) -> str:
    """All values of header `name`, RFC 2047-decoded, joined and on one line; "" if absent or unreadable."""
    values = []
    for value in _safe(lambda: message.get_all(name) or [], []):
        text = _safe(lambda v=value: str(v), "")
        if "=?" in text:  # the policy leaves a malformed encoded word alone; try the lenient decoder
            text = _safe(lambda t=text: str(make_header(decode_header(t))), text)
        values.append(text)
    return clean_text(" ".join(" ".join(values).split()))


def clean_text(text: str) -> str:
    """`text` safe to store: lone surrogates (undecodable bytes) become U+FFFD, NUL characters go."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace").replace("\x00", "")


def _first_message_id(value: str) -> str:
    ids = _message_ids(value)
    if ids:
        return ids[0]
    return "".join(value.split())


def _message_ids(value: str) -> list[str]:
    found: list[str] = []
    for inner in _MESSAGE_ID.findall(value):
        message_id = "<" + "".join(inner.split()) + ">"
        if message_id != "<>" and message_id not in found:
            found.append(message_id)
    if not found and "@" in value:  # some clients forget the brackets
        found = [f"<{token.strip('<>')}>" for token in value.split() if "@" in token]
    return found


def _from(message: Message) -> tuple[str, str]:
    """(name, address) of the sender. The name may be an old-style comment, "daemon@x (Mail Delivery
    System)", which the modern header parser drops: the raw value is read for it."""
    pairs = _safe(lambda: getaddresses([_header(message, "from")]), [])
    for name, address in pairs:
        if address:
            if not name:
                raw = next((str(value) for key, value in message.raw_items() if key.lower() == "from"), "")
                raw_pairs = _safe(lambda r=raw: getaddresses([str(make_header(decode_header(r)))]), [])
                name = next((n for n, a in raw_pairs if a.strip().lower() == address.strip().lower()), "")
            return clean_text(" ".join(name.split())), address.strip().lower()
    return "", ""


def _recipients(message: Message) -> list[str]:
    found: list[str] = []
    for name in ("to", "cc", "delivered-to", "x-original-to"):
        for _, address in _safe(lambda n=name: getaddresses([_header(message, n)]), []):
            address = address.strip().lower()
            if "@" in address and address not in found:
                found.append(address)
    return found


def _date(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        sent_at = parsedate_to_datetime(value)
    except Exception:
        return None
    if sent_at.tzinfo is None:  # "-0000": UTC, origin unknown (RFC 5322 §3.3)
        sent_at = sent_at.replace(tzinfo=dt.UTC)
    return sent_at


def _without_returned_copy(body: str, address: str, name: str) -> str:
    """A mailer daemon's prose without the copy of our own email it quotes below it."""
    copy = _RETURNED_COPY.search(body) if _is_daemon(address, name) else None
    return body[: copy.start()] if copy else body


# Classification


def _is_daemon(address: str, name: str) -> bool:
    return address.partition("@")[0] in _DAEMON_LOCALS or bool(_DAEMON_NAME.search(name))


def _is_auto_reply(message: Message, address: str, name: str) -> bool:
    auto_submitted = _header(message, "auto-submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if _header(message, "x-autoreply") or _header(message, "x-autorespond"):
        return True
    suppress = {value.strip().lower() for value in _header(message, "x-auto-response-suppress").split(",")}
    if suppress & {"oof", "autoreply"}:
        return True
    for precedence in ("precedence", "x-precedence"):
        if _header(message, precedence).lower() in _AUTO_PRECEDENCE:
            return True
    return bool(OOF_SUBJECT.search(_header(message, "subject"))) or _is_daemon(address, name)


def _delivery_report(message: Message, address: str, name: str, body: str) -> tuple[str, Bounce | None]:
    """(kind, bounce) from an RFC 3464 report or a mailer daemon's prose; (REPLY, None) otherwise."""
    if message.get_content_type() == "multipart/report":
        blocks = _delivery_status_blocks(message)
        if blocks:
            return _from_status_blocks(blocks)
        if str(_safe(lambda: message.get_param("report-type"), "") or "").lower() != "delivery-status":
            return AUTO_REPLY, None  # a read receipt (disposition-notification), an abuse report: no one wrote it
    if not _is_daemon(address, name):
        return REPLY, None
    text = body or _safe(lambda: _all_text(message), "")
    status = _STATUS.search(text)
    if not status or status.group(1) == "2":
        return REPLY, None
    code = status.group(0)
    line_start = text.rfind("\n", 0, status.start()) + 1
    line_end = text.find("\n", status.end())
    diagnostic = text[line_start : line_end if line_end >= 0 else len(text)]
    recipient = _header(message, "x-failed-recipients").split(",")[0].strip().lower()
    if not recipient:
        qmail = _QMAIL_RECIPIENT.search(text)
        near = _ADDRESS.search(diagnostic)
        recipient = (qmail.group(1) if qmail else near.group(0) if near else "").lower()
    hard = code.startswith("5")
    return (
        BOUNCE if hard else DELAY,
        Bounce(
            recipient=recipient,
            status=code,
            action="failed" if hard else "delayed",
            diagnostic=_short(diagnostic),
            hard=hard,
        ),
    )


def _delivery_status_blocks(message: Message) -> list[Message]:
    """The per-recipient field blocks of the message/delivery-status part (the per-message block dropped)."""
    for part in message.walk():
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            payload = part.get_payload()
            if not isinstance(payload, list):  # left as text by the parser (e.g. base64-encoded)
                blocks = _field_blocks(_decoded(part) or str(payload or ""))
            else:
                blocks = []
                for block in payload:
                    if isinstance(block, Message):
                        blocks.append(block)
                        # message/global-delivery-status is parsed as one message: its first block as
                        # headers, the later blocks (the recipients) kept as its body.
                        if isinstance(block.get_payload(), str):
                            blocks += _field_blocks(_decoded(block))
            return [block for block in blocks if block.get("action") or block.get("final-recipient")] or blocks
    return []


def _decoded(part: Message) -> str:
    payload = _safe(lambda: part.get_payload(decode=True), b"")
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def _field_blocks(text: str) -> list[Message]:
    parser = HeaderParser(policy=policy.default)
    return [parser.parsestr(chunk) for chunk in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")) if chunk.strip()]


def _from_status_blocks(blocks: list[Message]) -> tuple[str, Bounce | None]:
    def field_value(block: Message, name: str) -> str:
        return clean_text(" ".join(str(block.get(name, "")).split()))

    chosen = next(
        (block for block in blocks if field_value(block, "action").lower() in ("failed", "delayed")), blocks[0]
    )
    action = field_value(chosen, "action").lower()
    status_match = _STATUS.search(field_value(chosen, "status"))
    status = status_match.group(0) if status_match else ""
    if action not in ("failed", "delayed") and not status.startswith(("4", "5")):
        return AUTO_REPLY, None  # a delivered / relayed / expanded notice
    recipient = field_value(chosen, "final-recipient") or field_value(chosen, "original-recipient")
    recipient = recipient.split(";", 1)[-1].strip().strip("<>").lower()
    diagnostic = field_value(chosen, "diagnostic-code")
    if ";" in diagnostic[:12]:  # "smtp; 550 5.1.1 …": drop the diagnostic type
        diagnostic = diagnostic.split(";", 1)[1]
    delay = action == "delayed" or status.startswith("4")
    bounce = Bounce(
        recipient=recipient,
        status=status,
        action=action,
        diagnostic=_short(diagnostic),
        hard=action == "failed" and status.startswith("5"),
    )
    return (DELAY if delay else BOUNCE), bounce


def _original_message_id(message: Message, body: str) -> str:
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                found = _first_message_id(_header(inner, "message-id"))
                if found:
                    return found
        elif content_type in ("text/rfc822-headers", "message/rfc822-headers"):
            headers = HeaderParser(policy=policy.default).parsestr(_safe(lambda p=part: p.get_content(), "") or "")
            found = _first_message_id(_header(headers, "message-id"))
            if found:
                return found
    match = _BODY_MESSAGE_ID.search(body or _all_text(message))
    return match.group(1) if match else ""


def _all_text(message: Message) -> str:
    """Every text part, joined: a daemon's prose and its copy of the original may sit in separate parts."""
    texts = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            texts.append(_safe(lambda p=part: p.get_content(), "") or "")
    return clean_text("\n".join(text for text in texts if isinstance(text, str)))


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= DIAGNOSTIC_MAX_CHARS else line[: DIAGNOSTIC_MAX_CHARS - 1].rstrip() + "…"
