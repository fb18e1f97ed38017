"""The shipped cadences besides the reference one: phone inquiry, long-term nurture, no-show follow-up."""

from django.db import migrations


def load_shipped_cadences(apps, schema_editor):
    from cadences import shipped_cadences

    shipped_cadences.load(apps)


class Migration(migrations.Migration):
    dependencies = [("cadences", "0009_gate_running_enrollments")]

    operations = [migrations.RunPython(load_shipped_cadences, migrations.RunPython.noop)]
