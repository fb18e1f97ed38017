"""Writes on accounts: in-app notifications."""

from accounts.models import Notification, User


def notify(*, user: User | None, text: str, lead=None) -> None:
    """A line in the user's notifications (nobody to tell: nothing happens)."""
    if user is not None:
        Notification.objects.create(user=user, text=text[:300], lead=lead)
