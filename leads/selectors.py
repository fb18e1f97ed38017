"""Reads on leads. Every view, API and export scopes its leads through `leads_visible_to`."""

import re

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Role, User
from leads.models import Lead, LeadEvent, LeadSource
from leads.phones import phone_normalize


def leads_visible_to(user: User) -> QuerySet[Lead]:
    """The leads `user` may see: a rep their own, a manager their teams' (and their own), an admin all."""
    if not user.is_authenticated or not user.is_active:
        return Lead.objects.none()
    if user.is_superuser or user.role == Role.ADMIN:
        return Lead.objects.all()
    if user.role == Role.MANAGER:
        # Unassigned leads of no team (a text from a new number, a source without a team) wait in
        # the admins' queue, which managers see too, so that someone assigns them.
        unassigned = Q(owner__isnull=True, team__isnull=True)
        return Lead.objects.filter(Q(team__in=user.managed_teams.all()) | Q(owner=user) | unassigned)
    return Lead.objects.filter(owner=user)


def lead_get_for(user: User, pk) -> Lead:
    """The lead `pk` if `user` may see it; 404 otherwise, so its existence is not revealed."""
    try:
        return leads_visible_to(user).select_related("owner", "source", "team").get(pk=pk)
    except (Lead.DoesNotExist, ValueError, TypeError):
        raise Http404("No such lead.") from None


def users_assignable_by(user: User) -> QuerySet[User]:
    """Who `user` may hand leads to: a manager their teams' reps, an admin any rep or manager."""
    reps = User.objects.filter(is_active=True, role__in=[Role.REP, Role.MANAGER])
    if user.is_superuser or user.role == Role.ADMIN:
        return reps
    if user.role == Role.MANAGER:
        return reps.filter(Q(team__in=user.managed_teams.all()) | Q(pk=user.pk))
    return User.objects.none()


def users_visible_to(user: User) -> QuerySet[User]:
    """People whose leads `user` may see, for owner filters: a rep themself, a manager their teams, an admin all."""
    if not user.is_authenticated or not user.is_active:
        return User.objects.none()
    if user.is_superuser or user.role == Role.ADMIN:
        return User.objects.filter(role__in=[Role.REP, Role.MANAGER])
    if user.role == Role.MANAGER:
        return User.objects.filter(Q(team__in=user.managed_teams.all()) | Q(pk=user.pk))
    return User.objects.filter(pk=user.pk)


# Input made only of digits and the punctuation people type in phone numbers: "(415) 555-0100", "+44 20 7946".
_PHONE_LIKE = re.compile(r"^[\d\s().+\-/]+$")


def _phone_query(text: str) -> Q | None:
    digits = re.sub(r"\D", "", text)
    if len(digits) < 3:
        return None
    query = Q(phone__contains=digits)
    try:
        normalized = phone_normalize(text)
    except ValidationError:
        normalized = ""
    if normalized:
        # "(415) 555-0100" is stored as "+14155550100": the digits are contained, but a national
        # number with a trunk prefix ("020 7946 0958") only matches once normalised.
        query |= Q(phone=normalized)
    return query


def leads_search(
    *, user: User, q: str = "", status: str = "", source: LeadSource | None = None, owner: User | None = None
) -> QuerySet[Lead]:
    """The leads `user` may see matching a free-text search and filters, newest first, ready to list.

    A phone-like query matches phone digits; otherwise every word must match the name, email,
    company or (for words with digits) the phone.
    """
    leads = leads_visible_to(user).select_related("owner", "source")
    # A NUL matches nothing stored (PostgreSQL text can't hold one) and PostgreSQL refuses it in a query.
    q = (q or "").replace("\x00", "").strip()[:200]
    if q:
        phone_query = _phone_query(q) if _PHONE_LIKE.match(q) else None
        if phone_query is not None:
            leads = leads.filter(phone_query)
        else:
            for term in q.split():
                term_query = (
                    Q(first_name__icontains=term)
                    | Q(last_name__icontains=term)
                    | Q(email__icontains=term)
                    | Q(company__icontains=term)
                )
                if re.search(r"\d", term):
                    term_query |= _phone_query(term) or Q(pk__in=[])
                leads = leads.filter(term_query)
    if status:
        leads = leads.filter(status=status)
    if source is not None:
        leads = leads.filter(source=source)
    if owner is not None:
        leads = leads.filter(owner=owner)
    return leads.order_by("-created_at", "-id")


def lead_timeline(*, lead: Lead, limit: int | None = 100) -> list[LeadEvent]:
    """The lead's timeline, newest first; `limit + 1` rows are fetched so callers can tell there is more."""
    events = LeadEvent.objects.filter(lead=lead).select_related("actor").order_by("-created_at", "-id")
    return list(events if limit is None else events[: limit + 1])


def leads_merge_candidates(*, user: User, lead: Lead, q: str = "", limit: int = 20) -> list[Lead]:
    """Leads `user` may fold into `lead`: by "#id" or a search; with no query, leads with the same name."""
    visible = leads_visible_to(user).exclude(pk=lead.pk).select_related("owner", "source")
    q = (q or "").replace("\x00", "").strip()
    if not q:
        return list(
            visible.filter(first_name__iexact=lead.first_name, last_name__iexact=lead.last_name).order_by(
                "-created_at"
            )[:limit]
        )
    ident = q.removeprefix("#")
    by_id = list(visible.filter(pk=int(ident))) if ident.isdigit() and len(ident) <= 9 else []
    if q.startswith("#"):
        return by_id
    found = [c for c in leads_search(user=user, q=q).exclude(pk=lead.pk)[:limit] if c not in by_id]
    return by_id + found
