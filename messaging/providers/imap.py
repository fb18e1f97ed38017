"""The reply mailbox over IMAP (imap-tools): read new messages by UID, move the processed ones.

    with ImapMailbox(ImapConfig(host=..., port=993, user=..., password=..., security="ssl")) as box:
        validity = box.select("INBOX")             # the folder's UIDVALIDITY
        for message in box.fetch_after(last_uid):  # FetchedEmail(uid, raw), ascending UIDs
            ...
            box.move(message.uid, "LeadFollow/Processed")
        box.idle_wait(60)                          # when box.can_idle: until the server says something

Nothing here marks a message \\Seen (BODY.PEEK): a person reading the mailbox sees what is new, and
the poller's own record is the folder a message sits in and its cursor (reactions/mailbox_poll.py).
Every failure to reach or talk to the server raises ImapError. A leaf: imports no model.
"""

from __future__ import annotations

import imaplib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessage
from imap_tools.errors import ImapToolsError

# UIDs fetched per FETCH command: one round trip for many replies, a bounded response for a backlog.
FETCH_CHUNK = 25


class ImapError(Exception):
    """The server could not be reached, refused the login, or answered a command with an error."""


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    user: str
    password: str
    security: str = "ssl"  # "ssl" (implicit TLS, 993) | "starttls" | "none" (plain text: tests, localhost)
    timeout: float = 30
    # The certificate (or CA) to trust instead of the system's: a private CA, the tests' dovecot.
    ca_file: str = ""

    @property
    def label(self) -> str:
        """Names the mailbox in MailboxState and logs: the user, never the password."""
        return f"{self.user}@{self.host}:{self.port}"


@dataclass(frozen=True)
class FetchedEmail:
    uid: int
    raw: bytes  # the message exactly as the server holds it (RFC 5322)


class _RawMessage(MailMessage):
    """imap-tools' message, keeping the raw bytes it was parsed from."""

    def __init__(self, fetch_data: list):
        super().__init__(fetch_data)
        self.raw = self._get_message_data_parts(fetch_data)[0] or b""


_FAILURES = (ImapToolsError, imaplib.IMAP4.error, OSError, socket.timeout, ssl.SSLError, EOFError)


class ImapMailbox:
    def __init__(self, config: ImapConfig):
        self.config = config
        self._box = None
        self._folder = ""

    def __enter__(self) -> ImapMailbox:
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def connect(self) -> None:
        c = self.config
        try:
            # Certificates verified, host name checked (create_default_context).
            context = ssl.create_default_context(cafile=c.ca_file or None)
            if c.security == "ssl":
                box = MailBox(c.host, c.port, timeout=c.timeout, ssl_context=context)
            elif c.security == "starttls":
                box = MailBoxStartTls(c.host, c.port, timeout=c.timeout, ssl_context=context)
            elif c.security == "none":
                box = MailBoxUnencrypted(c.host, c.port, timeout=c.timeout)
            else:
                raise ImapError(f"unknown IMAP security {c.security!r}")
            box.email_message_class = _RawMessage
            box.login(c.user, c.password, initial_folder=None)
            # imaplib keeps the capabilities announced before login; servers announce more after
            # it (dovecot: MOVE, UIDPLUS), and imap-tools' move() reads this attribute.
            typ, data = box.client.capability()
            if typ == "OK" and data and data[-1]:
                box.client.capabilities = tuple(data[-1].decode().upper().split())
        except _FAILURES as exc:
            raise ImapError(f"cannot log in to {c.label}: {_reason(exc)}") from exc
        self._box = box

    def close(self) -> None:
        if self._box is None:
            return
        box, self._box = self._box, None
        try:
            box.logout()
        except _FAILURES:
            pass  # the server went away: nothing left to close politely

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(str(c).upper() for c in self._box.client.capabilities)

    @property
    def can_idle(self) -> bool:
        return "IDLE" in self.capabilities

    def select(self, folder: str) -> int:
        """Select `folder` (read-write: moves expunge from it); returns its UIDVALIDITY."""
        try:
            self._box.folder.set(folder)
            validity = self._box.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"]
        except _FAILURES as exc:
            raise ImapError(f"cannot select {folder!r}: {_reason(exc)}") from exc
        self._folder = folder
        return int(validity)

    def fetch_after(self, last_uid: int, *, chunk: int = FETCH_CHUNK) -> Iterator[FetchedEmail]:
        """The messages of the selected folder with UID > last_uid, in UID order, FETCH_CHUNK per
        round trip. The UIDs are searched once, up front: mail arriving meanwhile waits for the
        next call. Each chunk is read whole before its messages are yielded, so the caller may
        move messages between two of them."""
        try:
            # "n:*" always matches the highest UID, even below n (RFC 3501 §6.4.8): filter here.
            uids = sorted(u for u in map(int, self._box.uids(f"UID {last_uid + 1}:*")) if u > last_uid)
        except _FAILURES as exc:
            raise ImapError(f"cannot search {self._folder!r}: {_reason(exc)}") from exc
        for start in range(0, len(uids), chunk):
            part = [str(u) for u in uids[start : start + chunk]]
            try:
                fetched = list(self._box.fetch(uid_list=part, mark_seen=False, bulk=True))
            except _FAILURES as exc:
                raise ImapError(f"cannot fetch from {self._folder!r}: {_reason(exc)}") from exc
            # A message expunged meanwhile (by a person, another client) is simply not there.
            for message in sorted((m for m in fetched if m.uid), key=lambda m: int(m.uid)):
                yield FetchedEmail(uid=int(message.uid), raw=message.raw)

    def folder_ensure(self, folder: str) -> None:
        try:
            if not self._box.folder.exists(folder):
                self._box.folder.create(folder)
        except _FAILURES as exc:
            raise ImapError(f"cannot create {folder!r}: {_reason(exc)}") from exc

    def move(self, uid: int, folder: str) -> None:
        """Move one message of the selected folder into `folder` (made if missing): MOVE (RFC 6851)
        when the server has it, else COPY, flag \\Deleted and expunge that UID only (UID EXPUNGE,
        RFC 4315) where the server allows, so nobody else's deleted mail is expunged with it."""
        self.folder_ensure(folder)
        try:
            if "MOVE" in self.capabilities:
                self._box.move(str(uid), folder)
                return
            self._box.copy(str(uid), folder)
            self._check(self._box.client.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)"))
            if "UIDPLUS" in self.capabilities:
                self._check(self._box.client.uid("EXPUNGE", str(uid)))
            else:
                self._check(self._box.client.expunge())
        except _FAILURES as exc:
            raise ImapError(f"cannot move UID {uid} to {folder!r}: {_reason(exc)}") from exc

    def idle_wait(self, seconds: float) -> bool:
        """IMAP IDLE (RFC 2177) on the selected folder for up to `seconds`: True when the server
        announced something (new mail, an expunge), False on timeout."""
        try:
            return bool(self._box.idle.wait(timeout=seconds))
        except _FAILURES as exc:
            raise ImapError(f"IDLE failed on {self._folder!r}: {_reason(exc)}") from exc

    @staticmethod
    def _check(result: tuple) -> None:
        if result[0] != "OK":
            raise ImapError(f"server answered {result[0]}: {result[1]!r}"[:300])


def _reason(exc: BaseException) -> str:
    # Short and free of message content: it lands in MailboxState.last_error and the logs.
    return f"{type(exc).__name__}: {exc}"[:300]
