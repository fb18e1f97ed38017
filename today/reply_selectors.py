"""Today's "New reply": a lead wrote since the rep last answered or looked at the conversation."""

from django.db.models import Max, Q

from accounts.models import User
from leads.selectors import leads_visible_to
from messaging.conversation_seen import conversation_seen_ids
from messaging.models import Message

MAX_LEADS = 200


def leads_with_new_reply(*, user: User, lead_ids: list[int]) -> set[int]:
    """Of these leads (those on the user's Today), the ones whose latest inbound text or email is
    newer than both their latest outbound one and the last message the user saw. One query and one
    cache round trip, however many leads."""
    lead_ids = sorted(set(lead_ids))[:MAX_LEADS]
    if not lead_ids:
        return set()
    latest = (
        Message.objects.filter(lead_id__in=lead_ids, lead__in=leads_visible_to(user))
        .values("lead_id")
        .annotate(
            last_in=Max("id", filter=Q(direction=Message.Direction.INBOUND)),
            last_out=Max("id", filter=Q(direction=Message.Direction.OUTBOUND)),
        )
    )
    seen = conversation_seen_ids(user_id=user.pk, lead_ids=lead_ids)
    return {
        row["lead_id"]
        for row in latest
        if row["last_in"] and row["last_in"] > max(row["last_out"] or 0, seen.get(row["lead_id"], 0))
    }
