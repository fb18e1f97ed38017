"""Signed one-click unsubscribe links: no login, no cookie, nothing guessable.

A token is bound to the address it was sent to: it carries the lead and that address, and an
unsubscribe suppresses that address (messaging.services.email_address_opt_out), never the lead's
current one. A lead whose address has since changed keeps receiving email at its new address.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import NoReverseMatch, reverse

from leads.models import Lead

SALT = "leadfollow.unsubscribe"


@dataclass(frozen=True)
class UnsubscribeTarget:
    lead_id: int | None
    email: str  # the address the link was sent to, lower-cased


def unsubscribe_token(*, lead) -> str:
    return signing.dumps({"lead": lead.pk, "email": lead.email.lower()}, salt=SALT, compress=True)


def unsubscribe_target(token: str) -> UnsubscribeTarget | None:
    """What a token was made for, or None if it was tampered with or names no address."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("email"), str) or not data["email"].strip():
        return None
    lead_id = data.get("lead")
    return UnsubscribeTarget(lead_id=lead_id if isinstance(lead_id, int) else None, email=data["email"].strip().lower())


def lead_id_from_unsubscribe_token(token: str) -> int | None:
    """The lead id a token was made for, or None if it was tampered with, or if the lead no longer
    has the address the token was issued for (the token then stands for the address alone)."""
    target = unsubscribe_target(token)
    return lead_id_for_target(target) if target is not None else None


def lead_id_for_target(target: UnsubscribeTarget) -> int | None:
    """The target's lead id while that lead still has the target's address, else None."""
    if target.lead_id is None:
        return None
    return target.lead_id if Lead.objects.filter(pk=target.lead_id).with_email(target.email).exists() else None


def unsubscribe_url(*, lead) -> str:
    token = unsubscribe_token(lead=lead)
    try:
        path = reverse("unsubscribe", args=[token])
    except NoReverseMatch:
        path = f"/unsubscribe/{token}/"
    return f"{settings.PUBLIC_BASE_URL}{path}"
