# Reps get their own weekly summary too (issue 13): a delivery names its recipient and its kind.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_alter_reportdelivery_options"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="reportdelivery", name="report_delivery_once_per_manager_week"),
        migrations.RenameField(model_name="reportdelivery", old_name="manager", new_name="recipient"),
        migrations.AddField(
            model_name="reportdelivery",
            name="kind",
            field=models.CharField(
                choices=[("team", "Teams' Feedback Friday (manager)"), ("own", "Own summary (rep)")],
                default="team",
                max_length=10,
            ),
        ),
        migrations.AlterModelOptions(
            name="reportdelivery",
            options={"ordering": ["-week_start", "recipient_id"], "verbose_name_plural": "report deliveries"},
        ),
        migrations.AddConstraint(
            model_name="reportdelivery",
            constraint=models.UniqueConstraint(
                fields=("recipient", "week_start"), name="report_delivery_once_per_person_week"
            ),
        ),
    ]
