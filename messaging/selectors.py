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


CONVERSATION_PAGE = 30


def conversation_for(
    *, lead, before_id: int | None = None, limit: int = CONVERSATION_PAGE
) -> tuple[list[Message], bool]:
    """The lead's texts and emails, in and out, oldest at the top like a chat: the latest `limit`
    (older than message `before_id` for "older"), and whether there are older ones. One query."""
    messages = Message.objects.filter(lead=lead).only(
        "id", "direction", "channel", "subject", "body", "status", "created_at", "error_code", "touch_id"
    )
    if before_id is not None:
        messages = messages.filter(id__lt=before_id)
    page = list(messages.order_by("-id")[: limit + 1])
    return page[:limit][::-1], len(page) > limit


def conversation_latest_id(*, lead) -> int:
    """The id of the lead's latest message (0: none): what the live fragment compares to."""
    return Message.objects.filter(lead=lead).order_by("-id").values_list("id", flat=True).first() or 0
