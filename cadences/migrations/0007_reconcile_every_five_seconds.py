"""The reconciler runs every 5 s instead of every 60 s (leadfollow/schedules.py): with leases that a
live worker renews, a dead worker's touches are free within seconds, and the reconciler is what
hands them back. Databases whose "Settle touches left in 'sending' by a dead worker" row still has
the old default get the new one; a schedule an admin changed stays as it is."""

from django.db import migrations
from django.utils import timezone

RECONCILE = "Settle touches left in 'sending' by a dead worker"


def every_five_seconds(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    rows = PeriodicTask.objects.filter(name=RECONCILE, interval__every=60, interval__period="seconds")
    if not rows.exists():
        return
    five = IntervalSchedule.objects.filter(every=5, period="seconds").first()
    five = five or IntervalSchedule.objects.create(every=5, period="seconds")
    rows.update(interval=five)
    # What a running beat's DatabaseScheduler watches to reload its schedule (PeriodicTask.save() does it).
    apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cadences", "0006_touch_lease"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(every_five_seconds, migrations.RunPython.noop)]
