"""Reads on inbound email: the "Unmatched replies" list managers work through."""

from django.db.models import QuerySet

from accounts.models import Role, User
from messaging.models import InboundEmail


def inbound_emails_unmatched_for(user: User) -> QuerySet[InboundEmail]:
    """Unmatched emails, newest first, for managers and admins (nobody else).

    All of them for every manager: an unmatched email has no lead, so no team yet. Attaching is
    what is scoped (only to a lead the manager may see). The raw bytes are left in the database.
    """
    if not user.is_authenticated or not (user.is_superuser or user.role in (Role.MANAGER, Role.ADMIN)):
        return InboundEmail.objects.none()
    return InboundEmail.objects.filter(state=InboundEmail.State.UNMATCHED).defer("raw").order_by("-received_at", "-id")


def inbound_emails_unmatched_count(user: User) -> int:
    return inbound_emails_unmatched_for(user).count()
