"""Idempotency records are purged after IDEMPOTENCY_KEYS_KEPT_FOR by a daily task (issue 15)."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from leads.models import IdempotencyRecord, Lead
from leads.services.api_keys import lead_source_issue_api_key
from leads.services.retention import IDEMPOTENCY_KEYS_KEPT_FOR
from leads.tasks import idempotency_records_purge_task

pytestmark = pytest.mark.django_db


def test_idempotency_keys_are_honoured_for_their_retention_then_purged_once(client, web_source, rep):
    key = lead_source_issue_api_key(source=web_source)

    def post(idempotency_key):
        return client.post(
            "/api/leads/",
            {"first_name": "Kim", "phone": "+14155550150"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Api-Key {key}",
            HTTP_IDEMPOTENCY_KEY=idempotency_key,
        )

    start = timezone.now()
    assert post("old").status_code == 201
    with time_machine.travel(start + IDEMPOTENCY_KEYS_KEPT_FOR - dt.timedelta(hours=1)):
        assert post("recent").status_code == 200  # the same person again: the open lead
        assert idempotency_records_purge_task() == 0  # "old" is still within its retention
        assert post("old")["Idempotent-Replayed"] == "true"
    with time_machine.travel(start + IDEMPOTENCY_KEYS_KEPT_FOR + dt.timedelta(minutes=1)):
        assert idempotency_records_purge_task() == 1
        assert idempotency_records_purge_task() == 0  # a second run: nothing more
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
        # Past its retention the key is new again; intake still lands it on the open lead.
        again = post("old")
        assert again.status_code == 200 and "Idempotent-Replayed" not in again
    assert Lead.objects.count() == 1
