"""Reads on messages, scoped to the leads a user may see."""

from django.db.models import QuerySet

from accounts.models import Role, User
from leads.selectors import leads_visible_to
from messaging.models import Message


def outbox_messages_visible_to(user: User) -> QuerySet[Message]:
    """Outbox SMS (development, no Twilio) newest first: an admin all, others those of the leads they see."""
    messages = Message.objects.filter(
        direction=Message.Direction.OUTBOUND, channel="sms", status=Message.Status.OUTBOX
    ).select_related("lead")
    if not (user.is_superuser or user.role == Role.ADMIN):
        messages = messages.filter(lead__in=leads_visible_to(user))
    return messages.order_by("-created_at", "-id")
