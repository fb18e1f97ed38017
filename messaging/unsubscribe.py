"""Signed one-click unsubscribe links: no login, no cookie, nothing guessable."""

from django.conf import settings
from django.core import signing
from django.urls import NoReverseMatch, reverse

SALT = "leadfollow.unsubscribe"


def unsubscribe_token(*, lead) -> str:
    return signing.dumps({"lead": lead.pk, "email": lead.email.lower()}, salt=SALT, compress=True)


def lead_id_from_unsubscribe_token(token: str) -> int | None:
    """The lead id a token was made for, or None if it was tampered with."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return data.get("lead") if isinstance(data, dict) else None


def unsubscribe_url(*, lead) -> str:
    token = unsubscribe_token(lead=lead)
    try:
        path = reverse("unsubscribe", args=[token])
    except NoReverseMatch:
        path = f"/unsubscribe/{token}/"
    return f"{settings.PUBLIC_BASE_URL}{path}"
