"""A fake Twilio REST API on 127.0.0.1, enough of it for the real `twilio` library.

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json   create (To, From | MessagingServiceSid, Body, StatusCallback)
    GET  /2010-04-01/Accounts/{AccountSid}/Messages.json   list (To, From, DateSent[<>], PageSize, Page)
    GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json   fetch
    GET  /_fake/messages                                   accepted messages (JSON), for a separate process
    GET  /_fake/arrivals                                   [[to, accepted_at], ...]: the wall-clock time (seconds)
                                                           each was accepted, finer than date_created (benchmarks)
    POST /_fake/faults                                     fault injection (JSON body, see `FakeTwilioAPI.configure`)
    POST /_fake/reset                                      forget messages and faults

Twilio's magic test numbers fail as on the real test credentials: +15005550001 (21211 invalid),
+15005550002 (21612 cannot route), +15005550003 (21408 no permission), +15005550004 (21610 opted
out), +15005550009 (21614 not a mobile number).

Status callbacks: `call_back_before_reply(["sent", "delivered"])` makes the fake POST those
callbacks, signed as Twilio signs them, to the next message's StatusCallback URL *before* it answers
the create (Twilio can be that quick: the callback then beats the sender's own record of the sid).

In-process: `with FakeTwilioAPI() as api: ... api.url` (tests/fakes/fixtures.py has the fixture).
As a process (benchmarks, a real worker): `python -m testkit.fakes.twilio_api --port 8765`; it prints
"listening on http://127.0.0.1:8765" once ready. No Django here: it starts without settings.
"""

import argparse
import base64
import datetime
import email.utils
import hashlib
import hmac
import json
import secrets
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from testkit.fakes.standalone import serve_until_signal

DEFAULT_ACCOUNT_SID = "AC" + "f" * 32
DEFAULT_AUTH_TOKEN = "fake-auth-token"
API_VERSION = "2010-04-01"

MAGIC_NUMBER_ERRORS = {
    "+15005550001": 21211,
    "+15005550002": 21612,
    "+15005550003": 21408,
    "+15005550004": 21610,
    "+15005550009": 21614,
}
ERROR_MESSAGES = {
    21211: "The 'To' number {to} is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number: {to}, is not currently reachable using the 'From' phone number via SMS.",
    21614: "'To' number {to} is not a valid mobile number",
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    21602: "Message body is required.",
    21603: "The 'From' phone number or a Messaging Service SID is required.",
    21604: "A 'To' phone number is required.",
}


def _rfc2822(when: datetime.datetime) -> str:
    return email.utils.format_datetime(when.astimezone(datetime.UTC))


def _parse_filter_date(value: str) -> datetime.datetime | None:
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(value, fmt).replace(tzinfo=datetime.UTC)
        except ValueError:
            continue
    return None


class FakeTwilioAPI:
    """The server plus its state: accepted messages and the faults to inject (all thread-safe)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
    ):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._lock = threading.Lock()
        self._messages: list[dict] = []
        self._stopping = threading.Event()
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API request, for assertions
        self.callbacks: list[tuple[str, str, int]] = []  # (sid, status, HTTP answer) of each status callback made
        self._reset_faults()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.fake = self
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._server.server_address[0]}:{self.port}"

    def start(self) -> "FakeTwilioAPI":
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-twilio", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes hanging requests
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # --- state -------------------------------------------------------------------------------
    def messages(self) -> list[dict]:
        """Accepted messages, oldest first (copies of the resources the API returned)."""
        with self._lock:
            return [dict(m) for m in self._messages]

    def count_by_body(self) -> Counter:
        with self._lock:
            return Counter(m["body"] for m in self._messages)

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self.requests.clear()
            self.callbacks.clear()
            self._reset_faults()

    def _reset_faults(self):
        self._number_errors: dict[str, tuple[int, int]] = {n: (400, c) for n, c in MAGIC_NUMBER_ERRORS.items()}
        self._fail_next = 0
        self._fail_status = 500
        self._rate_limit_next = 0
        self._retry_after = "1"
        self._hang_next = 0
        self._hang_seconds = 0.0
        self._hang_accept = False
        self._hold_in_queue = False
        self._early_callbacks: list[str] = []

    # --- fault injection -----------------------------------------------------------------------
    def fail_number(self, number: str, code: int, status: int = 400) -> None:
        """Creates to `number` fail with this Twilio error code (e.g. 21211) and HTTP status."""
        with self._lock:
            self._number_errors[number] = (status, code)

    def fail_next(self, count: int, status: int = 500) -> None:
        """The next `count` creates fail with HTTP `status` (a 5xx outage by default)."""
        with self._lock:
            self._fail_next, self._fail_status = count, status

    def rate_limit_next(self, count: int, retry_after: float | str | None = 1) -> None:
        """The next `count` creates get 429 Too Many Requests, with Retry-After unless None."""
        with self._lock:
            self._rate_limit_next = count
            self._retry_after = None if retry_after is None else str(retry_after)

    def hang_next(self, count: int, seconds: float, *, accept: bool = False) -> None:
        """The next `count` creates stall for `seconds` before answering (client timeouts).

        accept=True records the message BEFORE stalling: Twilio took it but the answer never
        arrived in time (the ambiguous case that `lookup_sent` settles).
        """
        with self._lock:
            self._hang_next, self._hang_seconds, self._hang_accept = count, seconds, accept

    def hold_in_queue(self, held: bool = True) -> None:
        """Accepted messages stay "queued" with no date_sent (so a DateSent filter does not see them)."""
        with self._lock:
            self._hold_in_queue = held

    def call_back_before_reply(self, statuses: list[str]) -> None:
        """The next accepted message's status callbacks (e.g. ["sent", "delivered"]) are POSTed to its
        StatusCallback, signed with the auth token, before the create is answered."""
        with self._lock:
            self._early_callbacks = list(statuses)

    def _call_back(self, resource: dict, statuses: list[str]) -> None:
        url = resource.get("status_callback")
        for status in statuses if url else []:
            params = {"AccountSid": self.account_sid, "MessageSid": resource["sid"], "MessageStatus": status}
            # Twilio's signature: HMAC-SHA1 of the URL followed by each POST parameter and value, sorted.
            payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
            signature = base64.b64encode(hmac.new(self.auth_token.encode(), payload.encode(), hashlib.sha1).digest())
            request = urllib.request.Request(
                url, data=urlencode(params).encode(), headers={"X-Twilio-Signature": signature.decode()}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310 - the test's own server
                    answer = response.status
            except urllib.error.HTTPError as exc:
                answer = exc.code
            with self._lock:
                self.callbacks.append((resource["sid"], status, answer))

    def configure(self, spec: dict) -> None:
        """Fault injection from JSON (POST /_fake/faults):
        {"reset": true, "fail_numbers": {"+1...": 21211}, "fail_next": {"count": 2, "status": 500},
         "rate_limit_next": {"count": 1, "retry_after": 3}, "hang_next": {"count": 1, "seconds": 15, "accept": false},
         "hold_in_queue": true}
        """
        if spec.get("reset"):
            self.reset()
        for number, code in (spec.get("fail_numbers") or {}).items():
            self.fail_number(number, int(code))
        if "fail_next" in spec:
            self.fail_next(int(spec["fail_next"].get("count", 1)), int(spec["fail_next"].get("status", 500)))
        if "rate_limit_next" in spec:
            s = spec["rate_limit_next"]
            self.rate_limit_next(int(s.get("count", 1)), s.get("retry_after", 1))
        if "hang_next" in spec:
            s = spec["hang_next"]
            self.hang_next(int(s.get("count", 1)), float(s.get("seconds", 30)), accept=bool(s.get("accept", False)))
        if "hold_in_queue" in spec:
            self.hold_in_queue(bool(spec["hold_in_queue"]))

    def _take_fault(self) -> tuple[str, object] | None:
        """The fault for this create request, if any (consumes one unit of a counted fault)."""
        with self._lock:
            if self._hang_next > 0:
                self._hang_next -= 1
                return "hang", (self._hang_seconds, self._hang_accept)
            if self._fail_next > 0:
                self._fail_next -= 1
                return "fail", self._fail_status
            if self._rate_limit_next > 0:
                self._rate_limit_next -= 1
                return "rate_limit", self._retry_after
        return None

    # --- the resource ---------------------------------------------------------------------------
    def _accept(self, form: dict) -> dict:
        now = datetime.datetime.now(datetime.UTC)
        sid = "SM" + secrets.token_hex(16)
        held = self._hold_in_queue
        resource = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": form.get("Body", ""),
            "date_created": _rfc2822(now),
            "date_sent": None if held else _rfc2822(now),
            "date_updated": _rfc2822(now),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(form.get("Body", "")) // 153))),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "to": form.get("To", ""),
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json",
            # Not in Twilio's resource: kept for assertions (the twilio library ignores unknown keys).
            "status_callback": form.get("StatusCallback") or None,
            "_created": now.timestamp(),
        }
        with self._lock:
            self._messages.append(resource)
        return resource

    def _list(self, query: dict) -> list[dict]:
        to, sender = query.get("To"), query.get("From")
        after = _parse_filter_date(query["DateSent>"]) if query.get("DateSent>") else None
        before = _parse_filter_date(query["DateSent<"]) if query.get("DateSent<") else None
        on = _parse_filter_date(query["DateSent"]) if query.get("DateSent") else None
        found = []
        for m in self.messages():
            if to and m["to"] != to:
                continue
            if sender and m["from"] != sender:
                continue
            if after or before or on:
                if not m["date_sent"]:
                    continue
                sent = email.utils.parsedate_to_datetime(m["date_sent"])
                if after and sent < after:
                    continue
                if before and sent > before:
                    continue
                if on and sent.date() != on.date():
                    continue
            found.append(m)
        found.sort(key=lambda m: m["_created"], reverse=True)  # newest first, like Twilio
        return found


def _public(resource: dict) -> dict:
    return {k: v for k, v in resource.items() if not k.startswith("_")}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeTwilio/1.0"
    # One write per response and no Nagle: otherwise keep-alive clients wait ~40 ms for delayed ACKs.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024

    def log_message(self, format, *args):  # quiet in test output
        pass

    @property
    def fake(self) -> FakeTwilioAPI:
        return self.server.fake

    # --- plumbing --------------------------------------------------------------------------------
    def _send_json(self, status: int, payload, headers: dict | None = None):
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _error(self, status: int, code: int, headers: dict | None = None, **fmt):
        message = ERROR_MESSAGES.get(code, "Error").format(**{"to": "", **fmt})
        self._send_json(
            status,
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
            headers,
        )

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return secrets.compare_digest(user, self.fake.account_sid) and secrets.compare_digest(
            password, self.fake.auth_token
        )

    def _route(self):
        """(kind, message_sid) for an API path of this account, or (None, None)."""
        parts = urlsplit(self.path).path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == [API_VERSION, "Accounts"] and parts[3] == "Messages.json":
            return ("messages", None) if parts[2] == self.fake.account_sid else ("other_account", None)
        if len(parts) == 5 and parts[:2] == [API_VERSION, "Accounts"] and parts[3] == "Messages":
            if parts[2] != self.fake.account_sid:
                return "other_account", None
            return "message", parts[4].removesuffix(".json")
        return None, None

    # --- verbs -----------------------------------------------------------------------------------
    def do_GET(self):
        split = urlsplit(self.path)
        if split.path == "/_fake/messages":
            return self._send_json(200, [_public(m) for m in self.fake.messages()])
        if split.path == "/_fake/arrivals":
            return self._send_json(200, [[m["to"], m["_created"]] for m in self.fake.messages()])
        kind, sid = self._route()
        if kind is None:
            return self._error(404, 20404)
        self.fake.requests.append(("GET", split.path))
        if not self._authorized():
            return self._error(401, 20003, {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        if kind == "other_account":
            return self._error(404, 20404)
        if kind == "message":
            for m in self.fake.messages():
                if m["sid"] == sid:
                    return self._send_json(200, _public(m))
            return self._error(404, 20404)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        try:
            page = max(0, int(query.get("Page", 0)))
            page_size = min(1000, max(1, int(query.get("PageSize", 50))))
        except ValueError:
            return self._error(400, 20001)
        found = self.fake._list(query)
        chunk = found[page * page_size : (page + 1) * page_size]
        base = f"/{API_VERSION}/Accounts/{self.fake.account_sid}/Messages.json"
        keep = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

        def page_uri(n):
            return f"{base}?{urlencode({**keep, 'PageSize': page_size, 'Page': n})}"

        has_next = (page + 1) * page_size < len(found)
        self._send_json(
            200,
            {
                "messages": [_public(m) for m in chunk],
                "end": page * page_size + max(0, len(chunk) - 1),
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1) if has_next else None,
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
                "page": page,
                "page_size": page_size,
                "start": page * page_size,
                "uri": page_uri(page),
            },
        )

    def do_POST(self):
        split = urlsplit(self.path)
        raw = self._read_body()
        if split.path == "/_fake/faults":
            try:
                self.fake.configure(json.loads(raw or b"{}"))
            except (ValueError, TypeError, AttributeError) as exc:
                return self._send_json(400, {"error": str(exc)})
            return self._send_json(200, {"ok": True})
        if split.path == "/_fake/reset":
            self.fake.reset()
            return self._send_json(200, {"ok": True})
        kind, _sid = self._route()
        if kind is None or kind == "message":
            return self._error(404, 20404)
        self.fake.requests.append(("POST", split.path))
        if not self._authorized():
            return self._error(401, 20003, {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        if kind == "other_account":
            return self._error(404, 20404)
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}

        fault = self.fake._take_fault()
        if fault is not None:
            what, arg = fault
            if what == "hang":
                seconds, accept = arg
                resource = self.fake._accept(form) if accept else None
                self.fake._stopping.wait(seconds)
                if resource is not None:
                    return self._send_json(201, _public(resource))
                return self._error(503, 20500)
            if what == "fail":
                return self._error(int(arg), 20500 if int(arg) >= 500 else 20001)
            if what == "rate_limit":
                return self._error(429, 20429, {"Retry-After": arg} if arg is not None else None)

        to = form.get("To", "")
        if not to:
            return self._error(400, 21604)
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return self._error(400, 21603)
        if not form.get("Body") and not form.get("MediaUrl"):
            return self._error(400, 21602)
        with self.fake._lock:
            number_error = self.fake._number_errors.get(to)
        if number_error is not None:
            status, code = number_error
            return self._error(status, code, to=to)
        resource = self.fake._accept(form)
        with self.fake._lock:
            early, self.fake._early_callbacks = self.fake._early_callbacks, []
        self.fake._call_back(resource, early)
        self._send_json(201, _public(resource))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    args = parser.parse_args(argv)
    api = FakeTwilioAPI(args.host, args.port, account_sid=args.account_sid, auth_token=args.auth_token)
    return serve_until_signal(api, address=lambda: api.url)


if __name__ == "__main__":
    sys.exit(main())
