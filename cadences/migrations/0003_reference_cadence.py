from django.db import migrations


def load_reference_cadence(apps, schema_editor):
    from cadences import reference_cadence

    reference_cadence.load(apps)


class Migration(migrations.Migration):
    dependencies = [("cadences", "0002_step_send_hour_optional_touch_paused")]

    operations = [migrations.RunPython(load_reference_cadence, migrations.RunPython.noop)]
