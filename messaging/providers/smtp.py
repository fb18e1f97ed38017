"""Email: SMTP with a commit point inside the SMTP transaction, and any other Django email backend.

RFC 5321 §4.1.1.4: a server takes responsibility for a message only when it has acknowledged the
end-of-data indicator ("<CRLF>.<CRLF>"). Everything before that is revocable: if the client closes
the connection first, the server discards the message. `TwoPhaseSMTPBackend.send_with_commit_point`
(the production default EMAIL_BACKEND) uses that window:

1. connect (+ STARTTLS/login as configured), EHLO, MAIL FROM, RCPT TO for every recipient, DATA;
2. send the whole dot-stuffed message, but NOT the final ".";
3. call `commit_point()`, which durably marks the touch as sent and returns True
   (False: the dispatcher lost its claim); a commit point with `and_then(write)` is handed the
   write of the final "." to make right behind its commit, before awaiting the commit's answer
   (messaging/commit_point.py: a worker killed in that wait no longer loses the email);
4. False or an exception: close the socket abruptly (no final dot, no QUIT) -> the server discards it
   and TransportError(code="claim_lost") is raised; True: send "." (unless sent), read the reply.
   250 = accepted.

So a worker killed before step 3 completes leaves no delivered mail (the kernel closes its socket
mid-DATA), and one killed after it leaves the database already saying "sent". The residual window is
the server's reply to the final dot: if the connection dies after the dot went out but before the
reply arrived, the outcome is unknown (the classic RFC 1047 duplicate problem); that is reported as a
permanent TransportError with code "outcome_unknown" so that it is never re-sent (at most once).

Email through any other backend (locmem, console, filebased, anymail): `commit_point()` first, then
`backend.send_messages()`. A crash between the two loses that email: at most once, never twice.

`batch()` keeps one SMTP session open for a batch of sends; the commit point stays per message.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import re
import smtplib
import socket
import struct
import threading
from collections.abc import Iterator

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.message import BadHeaderError, EmailMessage, sanitize_address
from django.db import DatabaseError

from messaging.providers.base import CommitPoint, OutgoingMessage, ProviderResult, TransportError, claim_lost

logger = logging.getLogger(__name__)

# RFC 5321 §4.5.2 transparency: a line starting with "." gets another ".".
_LEADING_DOT = re.compile(rb"(?m)^\.")
# Permanent recipient failures: mailbox unavailable, user not local, mailbox name not allowed.
HARD_BOUNCE_CODES = {550, 551, 553}


def smtp_error(code: int, reply, *, stage: str, after_commit: bool = False) -> TransportError:
    """Map an SMTP reply to a TransportError: 4xx temporary, 5xx permanent (recipient 550/551/553: hard bounce)."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    reason = f"SMTP {code} at {stage}: {text}".strip()[:500]
    if 500 <= code < 600 and not (stage == "rcpt" and code == 552):
        # RFC 5321 §4.5.3.1.10: a 552 to RCPT (too many recipients / storage) is to be treated as 452.
        bounce = code in HARD_BOUNCE_CODES and stage in ("rcpt", "end of data")
        return TransportError(
            reason, permanent=True, code="hard_bounce" if bounce else f"smtp_{code}", after_commit=after_commit
        )
    return TransportError(reason, permanent=False, code=f"smtp_{code}", after_commit=after_commit)


class TwoPhaseSMTPBackend(EmailBackend):
    """Django's SMTP backend plus `send_with_commit_point`; `send_messages` still works as usual."""

    def open(self):
        opened = super().open()
        sock = getattr(self.connection, "sock", None)
        if opened and sock is not None:
            # The final "." is a tiny write right after the body: with Nagle's algorithm it waits for
            # the server's delayed ACK (~40 ms a message). Send it at once.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return opened

    def send_with_commit_point(self, email_message: EmailMessage, commit_point: CommitPoint) -> str:
        """Send one message, calling `commit_point()` after the data and before the final dot.

        Returns the server's reply text to the final dot (often with its queue id). Raises
        TransportError: code "claim_lost" when commit_point() returned False (nothing delivered),
        "hard_bounce" for 550/551/553 recipients, "smtp_<code>" for other replies, "smtp_connect"
        when the server cannot be reached, "outcome_unknown" when the reply to the final dot was lost.
        `error.after_commit` says whether commit_point() had already returned True.
        """
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        recipients = [sanitize_address(addr, encoding) for addr in email_message.recipients()]
        if not recipients:
            raise TransportError("the message has no recipients", permanent=True, code="no_recipients")
        from_email = sanitize_address(email_message.from_email, encoding)
        data = email_message.message().as_bytes(linesep="\r\n")

        with self._lock:
            try:
                new_connection = self.open()
            except (OSError, smtplib.SMTPException) as exc:
                self._drop_connection()
                raise TransportError(f"SMTP server unreachable: {exc}", permanent=False, code="smtp_connect")
            try:
                return self._transaction(from_email, recipients, data, commit_point)
            finally:
                if new_connection:
                    try:
                        self.close()
                    except (OSError, smtplib.SMTPException):
                        self._drop_connection()

    def _transaction(self, from_email, recipients, data, commit_point) -> str:
        connection = self.connection
        try:
            connection.ehlo_or_helo_if_needed()
            options = [f"size={len(data)}"] if connection.does_esmtp and connection.has_extn("size") else []
            code, reply = connection.mail(from_email, options)
            if code != 250:
                self._reset()
                raise smtp_error(code, reply, stage="mail from")
            for recipient in recipients:
                code, reply = connection.rcpt(recipient)
                if code not in (250, 251):
                    # All or nothing: a lead's message never goes out to only some of its recipients.
                    self._reset()
                    raise smtp_error(code, reply, stage="rcpt")
            connection.putcmd("data")
            code, reply = connection.getreply()
            if code != 354:
                self._reset()
                raise smtp_error(code, reply, stage="data")
            payload = _LEADING_DOT.sub(b"..", data)
            if not payload.endswith(b"\r\n"):
                payload += b"\r\n"
            connection.send(payload)
        except (OSError, smtplib.SMTPException) as exc:
            # Before the commit point nothing was accepted: safe to retry.
            self._drop_connection()
            raise TransportError(f"SMTP error before end of data: {exc}", permanent=False, code="smtp_connection")

        dot = {"written": False}

        def final_dot():
            dot["written"] = True  # from here on, the server may have the message
            connection.send(b".\r\n")

        try:
            # A commit point that can write the "." right behind its commit does (messaging/commit_point.py).
            and_then = getattr(commit_point, "and_then", None)
            committed = and_then(final_dot) if and_then else commit_point()
            if committed and not dot["written"]:
                final_dot()
        except BaseException as exc:
            self._drop_connection()
            if dot["written"] and isinstance(exc, OSError | smtplib.SMTPException | DatabaseError):
                raise _outcome_unknown(exc) from exc
            raise
        if not committed:
            self._drop_connection()
            raise claim_lost()

        try:
            code, reply = connection.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop_connection()
            raise _outcome_unknown(exc) from exc
        if code != 250:
            raise smtp_error(code, reply, stage="end of data", after_commit=True)
        return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)

    def _reset(self):
        try:
            self.connection.rset()
        except (OSError, smtplib.SMTPException):
            self._drop_connection()

    def _drop_connection(self):
        """Close the socket at once (RST, no QUIT): an unfinished DATA is discarded by the server."""
        for attr in ("connection", "_partial_connection"):
            connection = getattr(self, attr, None)
            if connection is None:
                continue
            sock = getattr(connection, "sock", None)
            if sock is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            try:
                connection.close()
            except OSError:
                pass
            setattr(self, attr, None)


# --- Sending: the two-phase backend or any other, in a batch or alone --------------------------------


_batch = threading.local()


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Send a batch of messages over one provider session: one SMTP connection for all its emails
    instead of a connect/EHLO/QUIT per message. A connection that fails is dropped and the next
    send opens a new one; the commit-point semantics are the same per message."""
    _batch.active, _batch.email_backend = True, None
    try:
        yield
    finally:
        backend, _batch.email_backend, _batch.active = _batch.email_backend, None, False
        if backend is not None:
            try:
                backend.close()
            except Exception:  # closing a dead session must not fail a finished batch
                logger.warning("could not close the SMTP session cleanly", exc_info=True)


def _email_backend():
    """The batch's backend (kept open between sends), or a fresh one outside a batch."""
    if not getattr(_batch, "active", False):
        return get_connection(fail_silently=False)
    if _batch.email_backend is None:
        _batch.email_backend = get_connection(fail_silently=False)
    backend = _batch.email_backend
    if getattr(backend, "connection", True) is None:
        try:
            backend.open()  # opened here, so each send reuses it instead of closing it
        except Exception:  # the send reopens it and reports the error as a TransportError
            logger.debug("SMTP open failed; the send will report it", exc_info=True)
    return backend


class _EmailWithTypeParameters(EmailMultiAlternatives):
    """Django's email, keeping the parameters of a part's type as given: "text/calendar; method=REQUEST"
    becomes `Content-Type: text/calendar; charset="utf-8"; method=REQUEST`, as calendar clients expect."""

    def _create_mime_attachment(self, content, mimetype):
        mimetype, _, parameters = mimetype.partition(";")
        part = super()._create_mime_attachment(content, mimetype.strip())
        for parameter in filter(None, (p.strip() for p in parameters.split(";"))):
            name, _, value = parameter.partition("=")
            part.set_param(name.strip(), value.strip().strip('"'), requote=False)
        return part


def build_email(message: OutgoingMessage) -> EmailMultiAlternatives:
    headers = dict(message.headers)
    if message.message_id:
        headers["Message-ID"] = message.message_id
    email = _EmailWithTypeParameters(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers=headers,
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    # Parts of the message like the rest: built here, so the two-phase send transmits them before its commit point.
    for content, mimetype in message.alternatives:
        email.attach_alternative(content, mimetype)
    for filename, content, mimetype in message.attachments:
        email.attach(filename, content, mimetype)
    return email


def _outcome_unknown(exc: BaseException) -> TransportError:
    return TransportError(
        f"no reply to the end of data, the server may have accepted the message: {exc}",
        permanent=True,
        code="outcome_unknown",
        after_commit=True,
    )


def send(message: OutgoingMessage, *, commit_point: CommitPoint) -> ProviderResult:
    email = build_email(message)
    try:
        email.message()  # header injection and encoding problems surface here, before any commit
    except (BadHeaderError, ValueError) as exc:
        raise TransportError(f"invalid email: {exc}", permanent=True, code="invalid_message")

    backend = _email_backend()
    if isinstance(backend, TwoPhaseSMTPBackend):
        reply = backend.send_with_commit_point(email, commit_point)
        return ProviderResult(provider_message_id=message.message_id or reply[:200], status="sent")

    # Any other backend has no commit point of its own: commit first (at most once across a crash).
    if not commit_point():
        raise claim_lost()
    try:
        backend.send_messages([email])
    except Exception as exc:
        # anymail raises AnymailRecipientsRefused / AnymailAPIError; SMTP errors are OSErrors.
        permanent = type(exc).__name__ == "AnymailRecipientsRefused"
        raise TransportError(
            f"email backend error: {exc}"[:500],
            permanent=permanent,
            code="hard_bounce" if permanent else "email_backend",
            after_commit=True,
        )
    anymail_status = getattr(email, "anymail_status", None)
    provider_id = (
        getattr(anymail_status, "message_id", None) or message.message_id or email.extra_headers.get("Message-ID", "")
    )
    return ProviderResult(provider_message_id=str(provider_id)[:200], status="sent")


def lookup_sent(message: OutgoingMessage, *, since: datetime.datetime) -> ProviderResult | None:
    """Always None: two-phase SMTP never accepted an unfinished send; other backends cannot be asked,
    and their commit point came before the send."""
    return None
