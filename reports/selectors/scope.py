"""Who may see what in the reports, and the ``?team=`` / ``?rep=`` filters.

- Scope: every report starts from ``leads.selectors.leads_visible_to(user)`` — a rep sees their own
  leads, a manager their teams' (and their own), an admin all — then narrows to the team or rep
  chosen in the filter (only among those the viewer may see: reports.forms offers no other, and
  the views answer any other with a 404). A rep's own reports ignore ``?team=`` and ``?rep=``.
"""

from django.db.models import Q, QuerySet

from accounts.models import Role, Team, User
from leads.models import Lead
from leads.selectors import leads_visible_to, users_visible_to


def may_filter_people(user: User) -> bool:
    return user.is_superuser or user.role in (Role.MANAGER, Role.ADMIN)


def teams_visible_to(user: User) -> QuerySet[Team]:
    if user.is_superuser or user.role == Role.ADMIN:
        return Team.objects.all()
    if user.role == Role.MANAGER:
        return user.managed_teams.all()
    return Team.objects.none()


def report_people_for(user: User) -> QuerySet[User]:
    """People a viewer may pick in a report's rep filter."""
    return users_visible_to(user).filter(is_active=True).order_by("first_name", "username")


def chosen_filter(*, user: User, team: Team | None, rep: User | None) -> tuple[Team | None, User | None]:
    """The team and rep that narrow `user`'s reports: none for a rep, whose reports are their own."""
    if not may_filter_people(user):
        return None, None
    return team, rep


def report_scope(*, user: User, team: Team | None = None, rep: User | None = None) -> QuerySet[Lead]:
    """The leads a report covers: what `user` may see, narrowed to a team or a rep.

    Callers pass only a team/rep the viewer may choose (see reports.forms); a rep's own
    report ignores both.
    """
    leads = leads_visible_to(user)
    team, rep = chosen_filter(user=user, team=team, rep=rep)
    if team is not None:
        leads = leads.filter(team=team)
    if rep is not None:
        leads = leads.filter(owner=rep)
    return leads


def people_in_scope(*, user: User, leads: QuerySet[Lead], team: Team | None, rep: User | None) -> QuerySet[User]:
    """Rows of the per-rep tables: the owners of the leads, plus the reps of the scope with no lead."""
    if not may_filter_people(user):
        members = User.objects.filter(pk=user.pk)
    elif rep is not None:
        members = User.objects.filter(pk=rep.pk)
    else:
        members = users_visible_to(user).filter(role=Role.REP, is_active=True)
        if team is not None:
            members = members.filter(team=team)
    return User.objects.filter(Q(pk__in=members.values("pk")) | Q(pk__in=leads.values("owner_id"))).order_by(
        "first_name", "username", "pk"
    )


def drill_down_rep(*, user: User, rep: User | None, rep_asked: bool) -> User | None:
    """Whose leads a drill-down lists: the rep chosen; a rep asking for any rep gets their own."""
    if rep is not None:
        return rep
    if rep_asked and not may_filter_people(user):
        return user
    return None
