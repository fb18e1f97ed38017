"""The shipped "Text message inquiry" cadence (cadences.shipped_cadences): a text from a new number."""

from django.db import migrations


def load_shipped_cadences(apps, schema_editor):
    from cadences import shipped_cadences

    shipped_cadences.load(apps)


class Migration(migrations.Migration):
    dependencies = [("cadences", "0013_report_indexes")]

    operations = [migrations.RunPython(load_shipped_cadences, migrations.RunPython.noop)]
