"""The API's token buckets: a website's burst is never refused, abuse is, the count is exact under
concurrency (in Redis across processes, in-process without it), and clients see where they stand."""

import datetime as dt
import threading
import uuid

import pytest
import time_machine
from django.db import connection
from rest_framework.test import APIClient

from intake.throttling import TokenBucket
from leads.models import Lead
from leads.services.api_keys import lead_source_issue_api_key
from testkit.processes import free_port
from tests.factories import LeadSourceFactory
from tests.security.test_login_throttling import CLIENT_A, CLIENT_B, PROXY, trusted_proxies  # noqa: F401 - trusted_proxies is a fixture
from tests.test_settings import SETUP, run

URL = "/api/leads/"
START = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


def lead(i: int) -> dict:
    return {"first_name": f"Web{i}", "phone": f"+1415555{i:04d}", "email": f"web{i}@example.org"}


def hammer(call, *, threads: int, each: int) -> list:
    """`threads` threads released together, each calling `call()` `each` times; every result."""
    barrier = threading.Barrier(threads)
    results, lock = [], threading.Lock()

    def work():
        barrier.wait()
        try:
            for _ in range(each):
                result = call()
                with lock:
                    results.append(result)
        finally:
            connection.close()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


@pytest.fixture
def redis_cache(redis_url, settings):
    """The product's Redis cache (as with REDIS_URL set), under a key prefix of this test's own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }


# --- The defaults fit a busy website ---------------------------------------------------------


def test_defaults_are_a_burst_of_300_and_10_a_second(settings):
    assert settings.API_THROTTLE_BURST == 300
    assert settings.API_THROTTLE_RATE == 10.0
    assert settings.API_BAD_KEY_THROTTLE_BURST == 20
    assert settings.API_BAD_KEY_THROTTLE_RATE == pytest.approx(10 / 60)


def test_200_leads_at_5_a_second_all_get_201_with_the_defaults(api_client, rep):
    with time_machine.travel(START, tick=False) as clock:
        codes = []
        for i in range(200):
            codes.append(post_lead(api_client, i).status_code)
            clock.shift(0.2)
    assert codes == [201] * 200
    assert Lead.objects.count() == 200


def post_lead(client, i):
    return client.post(URL, lead(i), format="json")


def test_a_sustained_9_a_second_is_never_refused_and_a_sustained_20_is():
    bucket = TokenBucket(name=f"sustained-{uuid.uuid4().hex}", capacity=300, rate=10)
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(9 * 600):  # ten minutes at 9/s
            assert bucket.take("site").allowed
            clock.shift(1 / 9)
        refused_at = None
        for n in range(20 * 600):  # then 20/s: the stored burst goes, then half is refused
            if not bucket.take("site").allowed:
                refused_at = n
                break
            clock.shift(1 / 20)
    # 300 stored tokens (less what 9/s left behind) drain at 10/s net: refused after ~30 s, not at once.
    assert refused_at is not None and refused_at > 20 * 25


# --- Headers ----------------------------------------------------------------------------------


def test_every_response_says_the_limit_and_what_remains(api_client, rep):
    with time_machine.travel(START, tick=False):  # no refill between the requests
        first = post_lead(api_client, 1)
        second = post_lead(api_client, 2)
        bad = api_client.post(URL, {"first_name": ""}, format="json")

    assert first.status_code == 201 and bad.status_code == 400
    assert first["RateLimit-Limit"] == "300"
    assert first["RateLimit-Remaining"] == "299"
    assert second["RateLimit-Remaining"] == "298"
    assert bad["RateLimit-Remaining"] == "297"  # a refused body still counts: it cost a request
    assert int(first["RateLimit-Reset"]) >= 0
    assert "Retry-After" not in first


def test_over_the_limit_is_429_with_retry_after_and_passes_again_after_it(api_client, settings, rep):
    settings.API_THROTTLE_BURST = 3
    settings.API_THROTTLE_RATE = 0.5  # one token every 2 s
    with time_machine.travel(START, tick=False) as clock:
        codes = [post_lead(api_client, i).status_code for i in range(3)]
        refused = post_lead(api_client, 3)
        clock.shift(1)
        still = post_lead(api_client, 4)
        clock.shift(1.01)
        again = post_lead(api_client, 5)

    assert codes == [201, 201, 201]
    assert (refused.status_code, still.status_code, again.status_code) == (429, 429, 201)
    assert refused["Retry-After"] == "2" and still["Retry-After"] == "1"
    assert refused["RateLimit-Limit"] == "3" and refused["RateLimit-Remaining"] == "0"
    assert "detail" in refused.json()
    assert Lead.objects.count() == 4


def test_the_schema_documents_the_headers(client):
    operation = client.get("/api/schema/?format=json").json()["paths"]["/api/leads/"]["post"]
    for code in ("201", "429"):
        assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(
            operation["responses"][code].get("headers", {})
        ), code


# --- Missing and bad keys: per client address ------------------------------------------------


def test_bad_keys_from_one_address_get_429_after_their_own_limit(api_key, rep):
    guesser = APIClient(REMOTE_ADDR="203.0.113.9")
    with time_machine.travel(START, tick=False) as clock:
        guesses = [
            guesser.post(URL, lead(i), format="json", HTTP_AUTHORIZATION=f"Api-Key lf_{i:08x}.guess").status_code
            for i in range(20)
        ]
        limited = guesser.post(URL, lead(20), format="json", HTTP_AUTHORIZATION="Api-Key lf_00000000.guess")
        no_key = guesser.post(URL, lead(21), format="json")
        # Once limited, even the right key is refused from that address: a guess cannot be confirmed.
        right_key = guesser.post(URL, lead(22), format="json", HTTP_AUTHORIZATION=f"Api-Key {api_key}")
        # Another address (the website's server) is not affected, bad key or good.
        website = APIClient(REMOTE_ADDR="198.51.100.7")
        other_bad = website.post(URL, lead(23), format="json", HTTP_AUTHORIZATION="Api-Key lf_00000000.typo")
        other_good = website.post(URL, lead(24), format="json", HTTP_AUTHORIZATION=f"Api-Key {api_key}")
        clock.shift(6.1)  # one token back at 10/min
        after = guesser.post(URL, lead(25), format="json", HTTP_AUTHORIZATION="Api-Key lf_00000000.guess")

    assert guesses == [401] * 20
    assert (limited.status_code, no_key.status_code, right_key.status_code) == (429, 429, 429)
    assert int(limited["Retry-After"]) > 0 and limited["RateLimit-Remaining"] == "0"
    assert limited["RateLimit-Limit"] == "20"
    assert (other_bad.status_code, other_good.status_code, after.status_code) == (401, 201, 401)
    assert other_bad["RateLimit-Remaining"] == "19"
    assert Lead.objects.count() == 1


@pytest.mark.parametrize("proxies", [0, 1])
def test_bad_keys_are_counted_per_client_as_the_trusted_proxies_say(request, settings, rep, proxies):
    request.getfixturevalue("trusted_proxies")(proxies)  # TRUSTED_PROXY_COUNT=proxies, as the login lockout
    settings.API_BAD_KEY_THROTTLE_BURST = 2

    def guess(forwarded_for: str) -> int:
        client = APIClient(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)
        return client.post(URL, lead(1), format="json", HTTP_AUTHORIZATION="Api-Key lf_00000000.guess").status_code

    with time_machine.travel(START, tick=False):  # no refill between the requests
        from_a = [guess(CLIENT_A) for _ in range(3)]
        from_b = guess(CLIENT_B)
        # A makes up an entry for B; the proxy appends A's real address after it.
        a_posing_as_b = guess(f"{CLIENT_B}, {CLIENT_A}")

    assert from_a == [401, 401, 429]
    if proxies:
        assert (from_b, a_posing_as_b) == (401, 429)
    else:  # no trusted proxy: X-Forwarded-For is ignored, everyone is the proxy's address
        assert (from_b, a_posing_as_b) == (429, 429)


def test_good_keys_do_not_spend_the_address_allowance(api_client, settings, rep):
    settings.API_BAD_KEY_THROTTLE_BURST = 1
    codes = [post_lead(api_client, i).status_code for i in range(5)]
    assert codes == [201] * 5


# --- Atomic under concurrency ----------------------------------------------------------------


@pytest.mark.parametrize("store", [pytest.param("redis", marks=pytest.mark.redis), "locmem", "file"])
def test_threads_hammering_one_bucket_get_exactly_the_burst(store, settings, tmp_path, request):
    if store == "redis":
        request.getfixturevalue("redis_cache")
    elif store == "file":
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}
        }
    bucket = TokenBucket(name=f"hammer-{uuid.uuid4().hex}", capacity=120, rate=1e-6)

    results = hammer(lambda: bucket.take("one-key").allowed, threads=40, each=5)

    assert len(results) == 200
    assert results.count(True) == 120


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_threads_hammering_one_key_through_the_api_on_redis_never_pass_more_than_the_limit(
    redis_cache, settings, north
):
    settings.API_THROTTLE_BURST = 120
    settings.API_THROTTLE_RATE = 1 / 86400
    key = lead_source_issue_api_key(source=LeadSourceFactory(name="Hammered", team=north))

    def one_request():
        client = APIClient()
        # An empty body passes the throttle and then fails validation: no write, only the count.
        response = client.post(URL, {}, format="json", HTTP_AUTHORIZATION=f"Api-Key {key}")
        return response.status_code, response["RateLimit-Remaining"]

    results = hammer(one_request, threads=40, each=5)

    codes = [code for code, _ in results]
    assert len(codes) == 200
    assert codes.count(400) == 120 and codes.count(429) == 80
    # Each passing request saw its own remaining count: no two were handed the same token.
    assert sorted(int(remaining) for code, remaining in results if code == 400) == list(range(120))


def test_an_unreachable_redis_lets_leads_through(settings, api_client, rep):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    response = post_lead(api_client, 1)
    assert response.status_code == 201, response.content
    assert "RateLimit-Remaining" not in response


# --- Settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["fast", "10", "10/fortnight", "0/s", "-5/min"])
def test_a_malformed_rate_fails_loudly(tmp_path, value):
    result = run(SETUP, tmp_path, API_THROTTLE_RATE=value)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "API_THROTTLE_RATE" in result.stderr


def test_rates_in_any_unit(tmp_path):
    code = "import django; django.setup(); from django.conf import settings as s; print(s.API_THROTTLE_RATE)"
    result = run(["-c", code], tmp_path, API_THROTTLE_RATE="600/min")
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) == 10.0
