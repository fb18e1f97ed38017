"""The one way to write a line on a lead's timeline."""

from django.utils import timezone

from leads.models import LeadEvent


def lead_event_add(
    *, kind: str, text: str, lead=None, lead_id: int | None = None, actor=None, data=None, at=None
) -> LeadEvent:
    """Append an entry to the lead's timeline (pass the lead or only its id), dated `at` or now."""
    return LeadEvent.objects.create(
        lead=lead,
        lead_id=lead_id if lead is None else lead.pk,
        kind=kind,
        text=text,
        actor=actor,
        data=data or {},
        created_at=at or timezone.now(),
    )
