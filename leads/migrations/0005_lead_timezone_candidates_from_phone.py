"""Existing leads: the zones each one's phone number may be in, and whether its zone was confirmed.

Before this, a lead kept one zone: the one given at intake (API/CSV `timezone`, the intake form) or
a guess from the phone: the organisation's zone when the number may be in it, else the
alphabetically first candidate. Nothing recorded which, so a lead counts as confirmed when its zone
cannot have been that guess: it is not the first candidate and not the organisation's zone (for a
number with one zone: it is not that zone). A zone
given explicitly that happens to equal the guess stays unconfirmed: the lead is then only contacted
inside the window in all of its candidate zones, the safe side, until a rep confirms it.

Self-contained (phonenumbers only, no app code), so later changes to leads.phones don't change what
this migration did.
"""

import phonenumbers
from django.conf import settings
from django.db import migrations
from phonenumbers import timezone as phone_timezone

BATCH = 2000


def _candidates(e164: str) -> list[str]:
    if not e164:
        return []
    try:
        zones = phone_timezone.time_zones_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return []
    return sorted(z for z in zones if z != phone_timezone.UNKNOWN_TIMEZONE)


def _confirmed(timezone: str, candidates: list[str]) -> bool:
    """Whether `timezone` cannot have been the guess from the phone (see the module docstring)."""
    if len(candidates) == 1:
        return timezone != candidates[0]
    # No candidates: the guess was the organisation's zone. Several: that zone when listed, else the first.
    return timezone not in {settings.TIME_ZONE, *candidates[:1]}


def candidates_from_phone(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    batch = []
    for lead in Lead.objects.only("pk", "phone", "timezone").order_by("pk").iterator(chunk_size=BATCH):
        lead.timezone_candidates = _candidates(lead.phone)
        lead.timezone_confirmed = _confirmed(lead.timezone, lead.timezone_candidates)
        batch.append(lead)
        if len(batch) >= BATCH:
            Lead.objects.bulk_update(batch, ["timezone_candidates", "timezone_confirmed"])
            batch = []
    if batch:
        Lead.objects.bulk_update(batch, ["timezone_candidates", "timezone_confirmed"])


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0004_lead_timezone_candidates_and_confirmed"),
    ]

    operations = [
        migrations.RunPython(candidates_from_phone, migrations.RunPython.noop, elidable=True),
    ]
