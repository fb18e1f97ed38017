"""One twilio `Client` per process, optionally pointed at another API base URL.

Tests and benchmarks have no internet: with `settings.TWILIO_API_BASE_URL` set, every request the
twilio library makes to https://api.twilio.com (or a regional/edge host) goes to that base URL
instead, e.g. the fake Twilio API in tests/fakes/twilio_api.py on 127.0.0.1.
"""

import email.utils
import re
import threading
import time

from django.conf import settings
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

# Seconds for connect and for each read: a hung provider must not hold a worker (and its claim) for long.
# settings.TWILIO_TIMEOUT_SECONDS overrides it (tests use a short one).
DEFAULT_TIMEOUT_SECONDS = 10

_TWILIO_API_ORIGIN = re.compile(r"^https://api(?:\.[a-z0-9-]+)*\.twilio\.com", re.IGNORECASE)


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
