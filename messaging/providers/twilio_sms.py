"""SMS through Twilio's REST API, with the commit point right after Twilio accepted the message.

The API has no two-phase create, so `commit_point()` runs right AFTER Twilio accepted the message
(HTTP 201). A worker killed between acceptance and the commit point leaves the touch claimed but not
sent; the dispatcher's reconciler then asks `lookup_sent()` whether Twilio has it (same number, same
body, created after the send started) before ever sending again. If `commit_point()` returns False
after acceptance, the result is returned anyway (it went out; the dispatcher sorts out the lost
claim). When the create request times out or the connection drops after the request went out (Twilio
may have accepted it), `send()` itself asks `lookup_sent()` before reporting a temporary error; if
that lookup fails too, the error's code is "outcome_unknown" and the dispatcher must call
`lookup_sent()` before retrying.

One twilio `Client` per process, optionally pointed at another API base URL: tests and benchmarks
have no internet, so with `settings.TWILIO_API_BASE_URL` set, every request the twilio library makes
to https://api.twilio.com (or a regional/edge host) goes to that base URL instead, e.g. the fake
Twilio API in testkit/fakes/twilio_api.py on 127.0.0.1.
"""

from __future__ import annotations

import datetime
import email.utils
import logging
import re
import threading
import time

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from messaging.providers.base import CommitPoint, OutgoingMessage, ProviderResult, TransportError

logger = logging.getLogger(__name__)

# Twilio error codes that no retry will fix (healthchecks' hc/api/transports.py does the same).
PERMANENT_TWILIO_CODES = {
    21211: "invalid 'To' phone number",
    21408: "permission to send to this region is not enabled",
    21610: "the recipient opted out (STOP)",
    21612: "the 'To' number cannot be reached from this sender",
    21614: "the 'To' number is not a mobile number",
}
# Twilio keeps a message's date_created to the second; allow for clock skew against our `since`.
LOOKUP_CLOCK_SKEW = datetime.timedelta(seconds=5)
# Seconds for connect and for each read: a hung provider must not hold a worker (and its claim) for long.
# settings.TWILIO_TIMEOUT_SECONDS overrides it (tests use a short one).
DEFAULT_TIMEOUT_SECONDS = 10

_TWILIO_API_ORIGIN = re.compile(r"^https://api(?:\.[a-z0-9-]+)*\.twilio\.com", re.IGNORECASE)


# --- The client ------------------------------------------------------------------------------------


class LeadFollowTwilioHttpClient(TwilioHttpClient):
    """The library's HTTP client, plus a base-URL rewrite and the last response's headers per thread.

    The twilio library drops response headers when it raises `TwilioRestException`; the transport
    needs `Retry-After` from a 429, so the headers of the calling thread's last response are kept.
    """

    def __init__(self, *, base_url: str = "", timeout: float = DEFAULT_TIMEOUT_SECONDS):
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")
        self._local = threading.local()

    def request(self, method, url, *args, **kwargs):
        if self.base_url:
            url = _TWILIO_API_ORIGIN.sub(self.base_url, url, count=1)
        self._local.headers = {}
        response = super().request(method, url, *args, **kwargs)
        self._local.headers = dict(response.headers or {})
        return response

    def last_response_headers(self) -> dict:
        return getattr(self._local, "headers", {}) or {}


_clients: dict[tuple, Client] = {}
_clients_lock = threading.Lock()


def twilio_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN)


def twilio_client() -> Client:
    """The process's Client for the current settings (tests change settings: the key follows them)."""
    timeout = float(getattr(settings, "TWILIO_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    key = (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_BASE_URL, timeout)
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                http_client = LeadFollowTwilioHttpClient(base_url=settings.TWILIO_API_BASE_URL, timeout=timeout)
                client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)
                _clients[key] = client
    return client


def reset_client_cache() -> None:
    """Forget cached clients (tests that start a new fake API; after a fork if sessions must not be shared)."""
    with _clients_lock:
        _clients.clear()


def retry_after_seconds(client: Client) -> float | None:
    """`Retry-After` of the calling thread's last response, as seconds (delta-seconds or an HTTP date)."""
    http_client = client.http_client
    if not isinstance(http_client, LeadFollowTwilioHttpClient):
        return None
    headers = {k.lower(): v for k, v in http_client.last_response_headers().items()}
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# --- Send and look up -------------------------------------------------------------------------------


def send(message: OutgoingMessage, *, commit_point: CommitPoint) -> ProviderResult:
    kwargs = {"to": message.to, "body": message.body}
    if settings.TWILIO_FROM_NUMBER:
        kwargs["from_"] = settings.TWILIO_FROM_NUMBER
    elif settings.TWILIO_MESSAGING_SERVICE_SID:
        kwargs["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
    else:
        raise TransportError(
            "set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID", permanent=False, code="misconfigured"
        )
    if settings.PUBLIC_BASE_URL:
        kwargs["status_callback"] = f"{settings.PUBLIC_BASE_URL}/webhooks/twilio/status/"

    client = twilio_client()
    started = datetime.datetime.now(datetime.UTC)
    try:
        created = client.messages.create(**kwargs)
    except TwilioException as exc:
        raise _twilio_error(exc, client)
    except requests.exceptions.ConnectTimeout as exc:
        raise TransportError(f"Twilio connect timeout: {exc}", permanent=False, code="timeout")
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as exc:
        # The request may have reached Twilio: ask before saying "not sent" (a retry would text twice).
        found = _lookup_after_ambiguous_error(message, started, exc)
        if found is None:
            code = "timeout" if isinstance(exc, requests.exceptions.Timeout) else "connection"
            raise TransportError(f"Twilio unreachable: {exc}", permanent=False, code=code)
        created_sid, created_status = found.provider_message_id, found.status
    except requests.exceptions.RequestException as exc:
        raise TransportError(f"Twilio request failed: {exc}", permanent=False, code="connection")
    else:
        created_sid, created_status = created.sid, "queued" if created.status in ("accepted", "queued") else "sent"

    result = ProviderResult(provider_message_id=created_sid, status=created_status)
    if not commit_point():
        # Twilio has it already: no way back. The dispatcher sees the lost claim on its side.
        logger.warning("SMS %s accepted by Twilio but the claim on touch %s was lost", created_sid, message.touch_id)
    return result


def lookup_sent(message: OutgoingMessage, *, since: datetime.datetime) -> ProviderResult | None:
    """A message to the same number with the same body created since `since` (minus clock skew)."""
    since_utc = since.astimezone(datetime.UTC)
    earliest = since_utc - LOOKUP_CLOCK_SKEW
    client = twilio_client()
    filters = {"to": message.to, "limit": 50}
    if settings.TWILIO_FROM_NUMBER:
        filters["from_"] = settings.TWILIO_FROM_NUMBER
    try:
        candidates = client.messages.list(date_sent_after=since_utc - datetime.timedelta(days=1), **filters)
        found = _matching(candidates, message, earliest)
        if found is None:
            # A message still queued at Twilio has no date_sent yet, so the date filter hides it:
            # look at the newest messages to that number too.
            found = _matching(client.messages.list(**filters), message, earliest)
    except TwilioException as exc:
        raise _twilio_error(exc, client)
    except requests.exceptions.RequestException as exc:
        raise TransportError(f"Twilio unreachable: {exc}", permanent=False, code="connection")
    if found is None:
        return None
    return ProviderResult(provider_message_id=found.sid, status="sent")


def _lookup_after_ambiguous_error(message, started, original) -> ProviderResult | None:
    try:
        return lookup_sent(message, since=started)
    except TransportError as exc:
        raise TransportError(
            f"Twilio did not answer ({original}) and the check for the message failed ({exc.reason})",
            permanent=False,
            code="outcome_unknown",
        )


def _twilio_error(exc: TwilioException, client) -> TransportError:
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    detail = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", None) or ""
    reason = f"Twilio error {code or ''} (HTTP {status}): {detail}".replace("  ", " ")[:500]
    if code in PERMANENT_TWILIO_CODES:
        return TransportError(f"{reason} - {PERMANENT_TWILIO_CODES[code]}", permanent=True, code=str(code))
    if status == 429:
        return TransportError(reason, permanent=False, code="rate_limited", retry_after=retry_after_seconds(client))
    if status is None or status >= 500 or status in (401, 403):
        # Outages and bad credentials: an operator fixes them; the touches should wait, not fail.
        return TransportError(reason, permanent=False, code=str(code or status or "twilio"))
    return TransportError(reason, permanent=True, code=str(code or status))


def _matching(candidates, message: OutgoingMessage, earliest: datetime.datetime):
    for candidate in candidates:
        if candidate.body != message.body:
            continue
        created = candidate.date_created
        if isinstance(created, datetime.datetime) and created < earliest:
            continue
        return candidate
    return None
