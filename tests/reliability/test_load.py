"""Load: 50 concurrent clients post leads to the web-to-lead API on a real gunicorn for 30 s
(LOAD_SECONDS overrides; `make soak`: 5 minutes). No 5xx; the leads in the database are exactly the
201 answers (200 = added to an existing open lead, counted apart; 429 = throttled, not an error);
a phone posted again and again, or by 50 clients at the same instant, is one lead.

stdlib http.client in threads, one keep-alive connection per client. The API throttle is raised
for the run (API_THROTTLE_RATE): it would otherwise turn most of the load into 429s.
"""

import http.client
import itertools
import json
import os
import threading
import time
from collections import Counter

import phonenumbers
import pytest
import redis
from django.db.models import Count

from leads.models import Lead
from leads.services.api_keys import lead_source_issue_api_key
from testkit.processes import Process, free_port, gunicorn_args, http_status, wait_until
from tests.reliability.conftest import scaled
from tests.worker import product_process_environ

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CLIENTS = 50
SECONDS = float(os.environ.get("LOAD_SECONDS") or scaled(30, 300))
HOT_PHONES = 20  # posted over and over by every client: each must stay one lead
BURSTS = 5  # all clients post one new phone at the same instant


def _valid_phones():
    """An endless supply of distinct, valid North American numbers."""
    for area, exchange, line in itertools.product(
        ("212", "312", "415", "617", "713", "305"), range(201, 1000), range(1000, 10000, 7)
    ):
        number = f"+1{area}{exchange}{line:04d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            yield number


class Gunicorn(Process):
    def __init__(self, *, redis_url, tmp_path):
        self.port = free_port()
        self.queue = f"lf-load-{self.port}"
        self.redis_url = redis_url
        env = {
            # Instant-response tasks queue up where no worker listens; dropped after the test.
            **product_process_environ(redis_url=redis_url, queue=self.queue),
            "ALLOWED_HOSTS": "127.0.0.1",
            "API_THROTTLE_RATE": "100000/min",
            "LEADFOLLOW_VAR_DIR": str(tmp_path / "var"),
        }
        options = ["--threads", "4", "--keep-alive", "5", "--error-logfile", "-"]
        super().__init__(
            gunicorn_args(port=self.port, workers=2, options=options), env=env, log_path=tmp_path / "gunicorn.log"
        )

    def start(self) -> "Gunicorn":
        super().start()
        assert wait_until(self._healthy, timeout=30, interval=0.2), self.log()
        return self

    def _healthy(self) -> bool:
        return http_status(self.port) == 200

    def stop(self) -> None:
        super().stop()
        client = redis.Redis.from_url(self.redis_url)
        client.delete(self.queue, *client.keys(f"_kombu.binding.{self.queue}*"))


@pytest.fixture
def gunicorn(postgres, redis_url, tmp_path):
    server = Gunicorn(redis_url=redis_url, tmp_path=tmp_path).start()
    yield server
    server.stop()


class Client(threading.Thread):
    def __init__(self, *, port, key, phones, hot, deadline, barrier, bursts):
        super().__init__(daemon=True)
        self.port, self.key, self.phones, self.hot = port, key, phones, hot
        self.deadline, self.barrier, self.bursts = deadline, barrier, bursts
        self.statuses = Counter()
        self.by_phone: dict[str, Counter] = {}
        self.errors: list[str] = []
        self.conn = None

    def post(self, phone: str, name: str) -> None:
        body = json.dumps({"first_name": name, "phone": phone, "interest": "load test"})
        headers = {"Content-Type": "application/json", "Authorization": f"Api-Key {self.key}"}
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request("POST", "/api/leads/", body, headers)
            response = self.conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.errors.append(repr(exc))
            self.conn = None
            return
        self.statuses[response.status] += 1
        self.by_phone.setdefault(phone, Counter())[response.status] += 1
        if response.status >= 500:
            self.errors.append(f"{response.status} for {phone}")

    def run(self) -> None:
        i = 0
        while time.monotonic() < self.deadline:
            i += 1
            if i % 5 == 0:
                self.post(self.hot[i % len(self.hot)], "Hot")
            else:
                self.post(next(self.phones), "Load")
        for phone in self.bursts:
            self.barrier.wait(timeout=60)
            self.post(phone, "Burst")
        if self.conn is not None:
            self.conn.close()


class LockedIterator:
    def __init__(self, iterable):
        self.it, self.lock = iter(iterable), threading.Lock()

    def __next__(self):
        with self.lock:
            return next(self.it)


def test_fifty_clients_posting_leads_lose_nothing_and_duplicate_nothing(gunicorn, web_source, rep, teammate):
    key = lead_source_issue_api_key(source=web_source)
    supply = _valid_phones()
    hot = [next(supply) for _ in range(HOT_PHONES)]
    bursts = [next(supply) for _ in range(BURSTS)]
    phones = LockedIterator(supply)
    before = Lead.objects.count()
    barrier = threading.Barrier(CLIENTS)
    deadline = time.monotonic() + SECONDS
    clients = [
        Client(port=gunicorn.port, key=key, phones=phones, hot=hot, deadline=deadline, barrier=barrier, bursts=bursts)
        for _ in range(CLIENTS)
    ]
    started = time.monotonic()
    for c in clients:
        c.start()
    for c in clients:
        c.join(timeout=SECONDS + 120)
    elapsed = time.monotonic() - started
    assert not any(c.is_alive() for c in clients), "a client hung"

    statuses = sum((c.statuses for c in clients), Counter())
    errors = [e for c in clients for e in c.errors]
    by_phone: dict[str, Counter] = {}
    for c in clients:
        for phone, counter in c.by_phone.items():
            by_phone.setdefault(phone, Counter()).update(counter)
    print(f"\n{sum(statuses.values())} requests in {elapsed:.1f} s by {CLIENTS} clients: {dict(statuses)}")

    assert not errors, (errors[:20], gunicorn.log())
    assert set(statuses) <= {200, 201, 429}, (statuses, gunicorn.log())  # 429: throttled, not an error
    assert statuses[201] > 0 and statuses[200] > 0
    created = Lead.objects.count() - before
    assert created == statuses[201], (created, statuses)
    # One lead per phone, whoever won; exactly one 201 for each phone that got an answer.
    doubles = list(Lead.objects.values("phone").annotate(n=Count("id")).filter(n__gt=1))
    assert not doubles, doubles
    answered = {p for p, counter in by_phone.items() if counter[200] + counter[201]}
    assert all(by_phone[p][201] == 1 for p in answered), {p: c for p, c in by_phone.items() if c[201] != 1}
    assert Lead.objects.filter(phone__in=answered).count() == len(answered)
    for phone in bursts:
        assert by_phone[phone] == Counter({201: 1, 200: CLIENTS - 1}), (phone, by_phone[phone])
        assert Lead.objects.filter(phone=phone).count() == 1
