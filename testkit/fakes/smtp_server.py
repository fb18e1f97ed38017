"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it accepted, with fault injection.

    with FakeSMTPServer() as smtp:
        ... send to 127.0.0.1:smtp.port ...
        smtp.messages()   # [email.message.EmailMessage], in arrival order

Faults: `reject_recipient(addr, code=550)` refuses RCPT TO for an address; `temp_fail_next(n, code=421,
stage="rcpt" | "mail" | "data")` answers the next n transactions with a temporary error at that stage
("data" = the reply to the final dot, i.e. after the client's commit point).
Run alone: `python -m testkit.fakes.smtp_server --port 8025`.
"""

import argparse
import email
import email.policy
import sys
import threading
from collections import Counter

from aiosmtpd.controller import Controller

from testkit.fakes.standalone import serve_until_signal
from testkit.processes import free_port


class _Handler:
    def __init__(self, server: "FakeSMTPServer"):
        self.server = server

    async def handle_EHLO(self, smtp, session, envelope, hostname, responses):
        # One EHLO per SMTP session: lets tests count connections.
        session.host_name = hostname
        with self.server._lock:
            self.server._sessions += 1
        return responses

    async def handle_MAIL(self, smtp, session, envelope, address, mail_options):
        status = self.server._fault("mail")
        if status:
            return status
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        with self.server._lock:
            rejected = self.server._rejected.get(address.lower())
        if rejected:
            return rejected
        status = self.server._fault("rcpt")
        if status:
            return status
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):
        status = self.server._fault("data")
        if status:
            return status
        parsed = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
        with self.server._lock:
            self.server._messages.append(parsed)
            self.server._envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            count = len(self.server._messages)
        return f"250 2.0.0 Ok: queued as FAKE{count:06d}"


class FakeSMTPServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self._requested_port = port
        self._lock = threading.Lock()
        self._messages: list[email.message.EmailMessage] = []
        self._envelopes: list[tuple[str, list[str]]] = []
        self._rejected: dict[str, str] = {}
        self._temp_fail = {"count": 0, "status": "", "stage": ""}
        self._sessions = 0
        self.controller: Controller | None = None
        self.port = port

    def start(self) -> "FakeSMTPServer":
        last_error = None
        for _attempt in range(5):  # a picked free port can be taken in between: try another
            self.port = self._requested_port or free_port(self.host)
            self.controller = Controller(_Handler(self), hostname=self.host, port=self.port)
            try:
                self.controller.start()
                return self
            except OSError as exc:
                last_error = exc
                self.controller = None
                if self._requested_port:
                    break
        raise last_error

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # --- what arrived -----------------------------------------------------------------------------
    def messages(self) -> list:
        with self._lock:
            return list(self._messages)

    def envelopes(self) -> list[tuple[str, list[str]]]:
        """(MAIL FROM, [RCPT TO, ...]) of each accepted message."""
        with self._lock:
            return list(self._envelopes)

    def session_count(self) -> int:
        """How many SMTP sessions (EHLO greetings) the server has seen."""
        with self._lock:
            return self._sessions

    def count_by_message_id(self) -> Counter:
        with self._lock:
            return Counter(m["Message-ID"] for m in self._messages)

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._envelopes.clear()
            self._rejected.clear()
            self._temp_fail = {"count": 0, "status": "", "stage": ""}

    # --- faults ----------------------------------------------------------------------------------
    def reject_recipient(self, address: str, code: int = 550, text: str = "5.1.1 No such user here") -> None:
        with self._lock:
            self._rejected[address.lower()] = f"{code} {text}"

    def temp_fail_next(
        self, count: int = 1, *, code: int = 421, stage: str = "rcpt", text: str = "4.3.2 Try again later"
    ) -> None:
        if stage not in ("mail", "rcpt", "data"):
            raise ValueError(stage)
        with self._lock:
            self._temp_fail = {"count": count, "status": f"{code} {text}", "stage": stage}

    def _fault(self, stage: str) -> str:
        with self._lock:
            fault = self._temp_fail
            if fault["count"] > 0 and fault["stage"] == stage:
                fault["count"] -= 1
                return fault["status"]
        return ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="A local SMTP server that keeps messages in memory.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = FakeSMTPServer(args.host, args.port)
    return serve_until_signal(server, address=lambda: f"{server.host}:{server.port}")


if __name__ == "__main__":
    sys.exit(main())
