"""Created the "Feedback Friday email" periodic task (Fridays 16:00 organisation time). It is
declared in code now (leadfollow/schedules.py) and synced after every migrate and by
`manage.py sync_schedules`, so this migration does nothing, in either direction. It stays because
migrations are history: databases that applied it refer to it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_report_delivery"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = []
