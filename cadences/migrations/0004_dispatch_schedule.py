"""Created the dispatch and reconcile periodic tasks ("Send automated touches that are due",
"Settle touches left in 'sending' by a dead worker"). They are declared in code now
(leadfollow/schedules.py) and synced after every migrate and by `manage.py sync_schedules`, so
this migration does nothing, in either direction. It stays because migrations are history:
databases that applied it, and 0005, refer to it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cadences", "0003_reference_cadence"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = []
