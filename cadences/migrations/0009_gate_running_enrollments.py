"""Running enrolments become sequential (cadences.sequence): one open manual task each, the steps
after it waiting; automated touches still to send get their freshness deadline."""

from django.db import migrations


def gate_running(apps, schema_editor):
    from cadences import sequence

    Enrollment = apps.get_model("cadences", "Enrollment")
    Touch = apps.get_model("cadences", "Touch")
    running = Enrollment.objects.filter(state__in=["active", "paused"]).select_related("cadence")
    for enrollment in running.iterator(chunk_size=500):
        touches = list(
            Touch.objects.filter(enrollment=enrollment, status__in=["scheduled", "pending"]).select_related("step")
        )
        for touch in touches:
            if touch.automated:
                touch.expires_at = sequence.expires_at_for(due_at=touch.due_at, step=touch.step, automated=True)
        sequence.gate(touches, wait_for_rep=enrollment.cadence.wait_for_rep, initial=True)
        Touch.objects.bulk_update(touches, ["status", "expires_at"])


class Migration(migrations.Migration):
    dependencies = [("cadences", "0008_sequential_steps_freshness_appointments")]

    operations = [migrations.RunPython(gate_running, migrations.RunPython.noop)]
