"""The claim's lease on a touch (messaging/leases.py): `lease_expires_at` and `claimed_by`, and an
index on the touches sent but not recorded yet (they still hold a lease).

Claims made before this migration get the lease the old code gave them (120 s, counted from the
claim, or from the send start once started); touches committed as sent but never recorded in the
last day get one counted from their commit point, so the reconciler still finds them."""

import datetime as dt

from django.db import migrations, models
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

OLD_LEASE = dt.timedelta(seconds=120)
UNRECORDED_LOOKBACK = dt.timedelta(days=1)


def leases_for_existing_claims(apps, schema_editor):
    Touch = apps.get_model("cadences", "Touch")
    Message = apps.get_model("messaging", "Message")
    sending = Touch.objects.filter(status="sending")
    sending.filter(send_started_at__isnull=False).update(lease_expires_at=F("send_started_at") + OLD_LEASE)
    sending.filter(send_started_at__isnull=True, claimed_at__isnull=False).update(
        lease_expires_at=F("claimed_at") + OLD_LEASE
    )
    recorded = Message.objects.filter(touch_id=OuterRef("pk"), direction="out")
    Touch.objects.filter(
        ~Exists(recorded),
        status="sent",
        automated=True,
        claim_token__isnull=False,
        sent_at__gte=timezone.now() - UNRECORDED_LOOKBACK,
    ).update(lease_expires_at=F("sent_at") + OLD_LEASE)


class Migration(migrations.Migration):
    dependencies = [
        ("cadences", "0005_cadence_and_step_history"),
        ("messaging", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="touch",
            name="claimed_by",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="touch",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="touch",
            index=models.Index(
                condition=models.Q(("lease_expires_at__isnull", False), ("status", "sent")),
                fields=["lease_expires_at"],
                name="touch_sent_unrecorded",
            ),
        ),
        migrations.RunPython(leases_for_existing_claims, migrations.RunPython.noop),
    ]
