"""Reads on leads. Every view, API and export scopes its leads through `leads_visible_to`."""

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Role, User
from leads.models import Lead


def leads_visible_to(user: User) -> QuerySet[Lead]:
    """The leads `user` may see: a rep their own, a manager their teams' (and their own), an admin all."""
    if not user.is_authenticated or not user.is_active:
        return Lead.objects.none()
    if user.is_superuser or user.role == Role.ADMIN:
        return Lead.objects.all()
    if user.role == Role.MANAGER:
        return Lead.objects.filter(Q(team__in=user.managed_teams.all()) | Q(owner=user))
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
