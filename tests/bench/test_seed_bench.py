"""seed_bench: the benchmark data generator makes what it says and the app works on it."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from bench.management.commands.seed_bench import Command as SeedBenchCommand
from cadences.models import Touch, TouchStatus
from leads.models import Lead, LeadEvent, LeadSource, LeadStatus
from messaging.models import Message

pytestmark = pytest.mark.django_db


def seed(**options):
    # The command object: `bench` is an app in the bench settings only, not in the test settings.
    call_command(SeedBenchCommand(), stdout=open("/dev/null", "w"), **options)  # noqa: SIM115


def bench_leads():
    return Lead.objects.filter(source__name__startswith="Bench ")


def test_counts_status_mix_and_touch_spread():
    seed(leads=120, touches_per_lead=8)
    now = timezone.now()
    leads = bench_leads()
    assert leads.count() == 120
    assert Touch.objects.filter(lead__in=leads).count() == 120 * 8
    assert LeadEvent.objects.filter(lead__in=leads, kind="inquiry").count() == 120
    assert User.objects.filter(username__startswith="bench_rep_").count() == 20
    assert LeadSource.objects.filter(name__startswith="Bench ").count() == 4
    statuses = set(leads.values_list("status", flat=True))
    assert {LeadStatus.NEW, LeadStatus.WORKING} <= statuses and statuses & {LeadStatus.WON, LeadStatus.LOST}
    touches = Touch.objects.filter(lead__in=leads)
    # Past automated touches went out (with their Message row); future ones wait; manual past ones are mostly done.
    assert touches.filter(due_at__lt=now, automated=True, status=TouchStatus.SCHEDULED).count() == 0
    assert touches.filter(status=TouchStatus.SENT).count() == Message.objects.filter(lead__in=leads).count() > 0
    assert touches.filter(due_at__gt=now, status=TouchStatus.SCHEDULED).exists()
    assert touches.filter(due_at__lt=now, status=TouchStatus.DONE).exclude(outcome="").exists()
    assert touches.filter(due_at__gt=now + timezone.timedelta(days=7)).exists()
    assert touches.filter(due_at__lt=now - timezone.timedelta(days=7)).exists()
    # Manual tasks belong to the lead's owner, automated ones to nobody.
    assert not touches.filter(automated=False, assigned_to__isnull=True).exists()
    assert not touches.filter(automated=True, assigned_to__isnull=False).exists()


def test_target_count_is_idempotent_and_reset_removes_only_bench_leads(web_source):
    other = Lead.objects.create(first_name="Kept", source=web_source, timezone="UTC", created_at=timezone.now())
    seed(leads=30, touches_per_lead=4)
    seed(leads=30, touches_per_lead=4)
    assert bench_leads().count() == 30
    seed(leads=50, touches_per_lead=4)
    assert bench_leads().count() == 50
    assert Touch.objects.count() == 200
    seed(leads=10, touches_per_lead=4, reset=True)
    assert bench_leads().count() == 10
    assert Touch.objects.count() == 40
    assert Lead.objects.filter(pk=other.pk).exists()


def test_due_now_touches_are_automated_scheduled_and_due():
    seed(leads=0, due_now=9)
    due = Touch.objects.filter(automated=True, status=TouchStatus.SCHEDULED, due_at__lte=timezone.now())
    assert due.count() == 9
    assert set(due.values_list("channel", flat=True)) == {"sms", "email"}


def test_today_page_works_on_generated_data(client):
    seed(leads=200, touches_per_lead=10)
    rep = User.objects.get(username="bench_rep_1_1")
    client.force_login(rep)
    response = client.get(reverse("today:index"))
    assert response.status_code == 200
    open_tasks = Touch.objects.filter(
        assigned_to=rep, status=TouchStatus.SCHEDULED, automated=False, due_at__lt=timezone.now()
    )
    assert open_tasks.exists()
    assert open_tasks.first().lead.full_name in response.content.decode()
